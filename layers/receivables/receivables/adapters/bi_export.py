"""The daily BI export: what changed on a business day, as Parquet by table and date in the analytics bucket, once.

Incremental from the journal and the stream: the general-ledger daybook (filled from the table's stream) holds the
day's postings; the items, accounts, payments and customers they touched are read by key, as they are now; the
dunning cycles that changed that day come from the cycle index, their contacts from their accounts' partitions, the
collector tasks from the work-queue index. No table scan. A control record ``BI#<date>`` makes the export exactly
once per day; a re-run of a day already exported answers its control and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from receivables.accounting.gl import PostingFact
from receivables.adapters.adjustments_table import AdjustmentsTable
from receivables.adapters.attributes import is_condition_failure
from receivables.adapters.attributes import string as _s
from receivables.adapters.attributes import text as _text
from receivables.adapters.dunning_commands_table import DunningCommandsTable
from receivables.adapters.dunning_table import CycleReader, DunningTable
from receivables.adapters.dynamodb_batches import AttributeMap, batch_get, paginated
from receivables.adapters.general_ledger import S3Daybook
from receivables.adapters.keys import account_key, account_partition, customer_key, item_key, key, payment_key
from receivables.dunning.engine import DunningState
from receivables.dunning.records import ContactRecord, CycleRecord, TaskRecord
from receivables.reporting.bi import PREFIX, TABLES, partition_key, snapshot_key
from receivables.reporting.operational import SUSPENSE_ACCOUNT, current_stage

EARLIEST = dt.date(2000, 1, 1)
SUPERVISORS = "supervisors"


def bi_key(day: dt.date) -> AttributeMap:
    return key(f"BI#{day.isoformat()}", "EXPORT")


@dataclass(slots=True)
class BiControl:
    business_date: dt.date
    rows: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    already: bool = False  # exported before: nothing written now

    def as_json(self) -> str:
        return json.dumps(
            {"business_date": self.business_date.isoformat(), "rows": self.rows, "files": self.files},
            indent=2,
            sort_keys=True,
        )


def parquet(table: str, rows: Sequence[dict[str, Any]]) -> bytes:
    # pyarrow comes from the analytics layer: only the export loads it.
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {
        "string": pa.string(),
        "date": pa.date32(),
        "money": pa.decimal128(18, 2),
        "int": pa.int64(),
        "bool": pa.bool_(),
    }
    schema = pa.schema([(name, types[kind]) for name, kind in TABLES[table]])
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pydict(columns, schema=schema), sink, compression="snappy")
    return sink.getvalue()


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def _money(record: AttributeMap, name: str) -> Decimal | None:
    return Decimal(record[name]["N"]).quantize(Decimal("0.01")) if name in record else None


class BiExport:
    def __init__(self, *, dynamodb: Any, s3: Any, table: str, outbound_bucket: str, analytics_bucket: str) -> None:
        self._dynamodb = dynamodb
        self._s3 = s3
        self._table = table
        self._bucket = analytics_bucket
        self._daybook = S3Daybook(s3, outbound_bucket, dynamodb, table)
        self._cycles = CycleReader(dynamodb, table)
        self._dunning = DunningTable(dynamodb, table)
        self._tasks = DunningCommandsTable(dynamodb, table)
        self._adjustments = AdjustmentsTable(dynamodb, table)

    def export(self, day: dt.date) -> BiControl:
        stored = self._dynamodb.get_item(TableName=self._table, Key=bi_key(day), ConsistentRead=True).get("Item")
        if stored is not None:
            done = json.loads(stored["control"]["S"])
            return BiControl(day, rows=done["rows"], files=done["files"], already=True)
        facts = list({f.line_id: f for f in self._daybook.staged(day)}.values())
        tables = self._tables(day, facts)
        control = BiControl(day)
        for name, rows in tables.items():
            object_key = partition_key(name, day.isoformat())
            self._s3.put_object(Bucket=self._bucket, Key=object_key, Body=parquet(name, rows))
            control.rows[name] = len(rows)
            control.files.append(object_key)
        control.files.append(self._write_snapshot(day, tables["items"]))
        control_key = f"bi/_control/date={day.isoformat()}/control.json"
        self._s3.put_object(Bucket=self._bucket, Key=control_key, Body=control.as_json().encode())
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={**bi_key(day), "entity": _s("bi_export"), "control": _s(control.as_json())},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise  # another run recorded the day first: it wrote the same files
        return control

    # -- open items as of a day: the aging report's rows ------------------------------------------------------------
    def open_items(self, as_of: dt.date, today: dt.date) -> list[dict[str, Any]]:
        """Every item open at the end of ``as_of`` (as exported), or — for today — open now: the last snapshot with
        what today's postings touched read as it is now. Reads one snapshot and today's activity, not the history."""
        if as_of < today:
            rows = self._snapshot_rows(as_of)
            if rows is None:
                raise LookupError(f"no BI export for {as_of} yet (the export of a day runs the night after)")
            return rows
        rows = self._snapshot_rows(today)  # exported already (a re-run, a test): the newest base there is
        if rows is None:
            rows = self._snapshot_rows(today - dt.timedelta(days=1))
        if rows is None:
            rows = self._rebuilt(today + dt.timedelta(days=1))
        facts = list({f.line_id: f for f in self._daybook.staged(today)}.values())
        touched = sorted({f.target_id for f in facts if f.target == "item"} | self._adjusted(today))
        if not touched:
            return rows
        current = self._items_now(touched)
        merged = {r["item_id"]: r for r in rows} | {r["item_id"]: r for r in current}
        return sorted((r for r in merged.values() if r["open_amount"] > 0), key=lambda r: r["item_id"])

    def _adjusted(self, day: dt.date) -> set[str]:
        """Items the day's adjustments changed: a due-date change posts nothing, yet moves the item."""
        return {a.request.item_id for a in self._adjustments.of_day(day) if a.status.value == "applied"}

    def _items_now(self, item_ids: Sequence[str]) -> list[dict[str, Any]]:
        items = self._get([item_key(i) for i in item_ids])
        accounts = self._get([account_key(a) for a in sorted({r["account_id"]["S"] for r in items})])
        customers = self._get([customer_key(c) for c in sorted({r["customer_id"]["S"] for r in accounts})])
        by_account = {r["account_id"]["S"]: r for r in accounts}
        by_customer = {r["customer_id"]["S"]: r for r in customers}
        return [self._item(r, by_account, by_customer) for r in items]

    def _write_snapshot(self, day: dt.date, changed: Sequence[dict[str, Any]]) -> str:
        """The items open at the end of ``day``: the day before's snapshot with the day's changed items put in."""
        previous = self._snapshot_rows(day - dt.timedelta(days=1))
        if previous is None:
            previous = self._rebuilt(day)
        merged = {r["item_id"]: r for r in previous} | {r["item_id"]: r for r in changed}
        rows = sorted((r for r in merged.values() if r["open_amount"] > 0), key=lambda r: r["item_id"])
        object_key = snapshot_key(day)
        self._s3.put_object(Bucket=self._bucket, Key=object_key, Body=parquet("items", rows))
        return object_key

    def _snapshot_rows(self, day: dt.date) -> list[dict[str, Any]] | None:
        return self._read(snapshot_key(day))

    def _read(self, object_key: str) -> list[dict[str, Any]] | None:
        import pyarrow.parquet as pq

        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=object_key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return list(pq.read_table(io.BytesIO(body)).to_pylist())

    def _rebuilt(self, before: dt.date) -> list[dict[str, Any]]:
        """No snapshot of the day before (the first export, or a day skipped): the newest row of each item from
        every partition exported before ``before`` — once; the snapshots carry on from there."""
        newest: dict[str, tuple[str, dict[str, Any]]] = {}
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=f"{PREFIX}/items/")
        for page in pages:
            for obj in page.get("Contents", []):
                day = obj["Key"].split("date=", 1)[1].split("/", 1)[0]
                if day >= before.isoformat():
                    continue
                for row in self._read(obj["Key"]) or []:
                    if row["item_id"] not in newest or newest[row["item_id"]][0] < day:
                        newest[row["item_id"]] = (day, row)
        return [row for _day, row in newest.values()]

    # -- the day's rows ----------------------------------------------------------------------------------------
    def _tables(self, day: dt.date, facts: Sequence[PostingFact]) -> dict[str, list[dict[str, Any]]]:
        item_ids = sorted({f.target_id for f in facts if f.target == "item"} | self._adjusted(day))
        payment_ids = sorted({f.target_id for f in facts if f.target == "payment"})
        cycles = [c for c in self._cycles.cycle_records(self._strategies(), EARLIEST) if _changed_on(c, day)]
        account_ids = sorted(({f.account_id for f in facts} | {c.account_id for c in cycles}) - {SUSPENSE_ACCOUNT})
        accounts = self._get([account_key(a) for a in account_ids])
        customers = self._get([customer_key(c) for c in sorted({r["customer_id"]["S"] for r in accounts})])
        by_customer = {r["customer_id"]["S"]: r for r in customers}
        by_account = {r["account_id"]["S"]: r for r in accounts}
        items = self._get([item_key(i) for i in item_ids])
        payments = self._get([payment_key(p) for p in payment_ids])
        contacts = self._contacts(sorted({c.account_id for c in cycles}), day)
        return {
            "postings": [self._posting(f) for f in sorted(facts, key=lambda f: f.line_id)],
            "items": [self._item(r, by_account, by_customer) for r in items],
            "accounts": [self._account(r, by_customer) for r in accounts],
            "customers": [self._customer(r) for r in customers],
            "payments": [self._payment(r) for r in payments],
            "cycles": [self._cycle(c) for c in cycles],
            "contacts": [self._contact(c) for c in contacts],
            "tasks": [self._task(t) for t in self._tasks_of(day)],
        }

    def _strategies(self) -> list[str]:
        return [s.id for s in self._dunning.current_config().strategies]

    def _get(self, keys: Sequence[AttributeMap]) -> list[AttributeMap]:
        found = batch_get(self._dynamodb, self._table, keys) if keys else []
        return sorted(found, key=lambda r: (r["pk"]["S"], r["sk"]["S"]))

    def _contacts(self, account_ids: Iterable[str], day: dt.date) -> list[ContactRecord]:
        contacts = []
        for account_id in account_ids:
            records = paginated(
                self._dynamodb.query,
                {
                    "TableName": self._table,
                    "KeyConditionExpression": "pk = :p AND begins_with(sk, :c)",
                    "ExpressionAttributeValues": {":p": _s(account_partition(account_id)), ":c": _s("CONTACT#")},
                },
            )
            contacts += [c for r in records if (c := ContactRecord.model_validate_json(r["doc"]["S"])).date == day]
        return contacts

    def _tasks_of(self, day: dt.date) -> list[TaskRecord]:
        """The tasks in hand at the export, and those closed on the day (they leave the work queues)."""
        groups = sorted({g.name for g in self._dunning.current_config().collector_groups} | {SUPERVISORS})
        in_hand = [t for g in groups for status in ("open", "claimed") for t in self._tasks.tasks(g, status, 1000)]
        closed = [t for g in groups for t in self._tasks.done_tasks(g, day) if t.closed_on == day]
        return in_hand + closed

    # -- row shapes ------------------------------------------------------------------------------------------------
    @staticmethod
    def _posting(f: PostingFact) -> dict[str, Any]:
        return {
            "line_id": f.line_id,
            "business_date": f.business_date,
            "account_id": f.account_id,
            "currency": f.currency,
            "kind": f.kind,
            "operation": f.operation,
            "target": f.target,
            "target_id": f.target_id,
            "amount": f.amount,
            "entry_id": f.entry_id,
            "cause": f.cause,
            "item_kind": f.item_kind,
            "payable_kind": f.payable_kind,
            "party": f.party,
        }

    @staticmethod
    def _state(account: AttributeMap | None) -> DunningState:
        state = _text(account, "dunning_state") if account else None
        return DunningState.model_validate_json(state) if state else DunningState()

    def _item(self, r: AttributeMap, accounts: dict[str, AttributeMap], customers: dict[str, AttributeMap]) -> dict:
        account = accounts.get(r["account_id"]["S"])
        customer = customers.get(_text(r, "customer_id") or "")
        stored = _text(r, "status")
        open_amount = _money(r, "open_amount") or Decimal("0.00")
        amount = _money(r, "amount") or Decimal("0.00")
        status = stored or ("paid" if open_amount <= 0 else "partially_paid" if open_amount < amount else "open")
        return {
            "item_id": r["item_id"]["S"],
            "account_id": r["account_id"]["S"],
            "customer_id": _text(r, "customer_id"),
            "kind": _text(r, "kind") or "invoice",
            "issue_date": _day(_text(r, "issue_date")),
            "due_date": _day(_text(r, "due_date")),
            "amount": amount,
            "open_amount": open_amount,
            "currency": _text(r, "currency"),
            "status": status,
            "policy_id": _text(r, "policy_id"),
            "branch": _text(r, "branch"),
            "subscription_id": _text(r, "subscription_id"),
            "account_type": (_text(account, "account_type") if account else None) or "standard",
            "customer_type": _text(customer, "type") if customer else None,
            "city": (_text(account, "billing_city") if account else None)
            or (_text(customer, "city") if customer else None),
            "segment": self._state(account).segment,
        }

    def _account(self, r: AttributeMap, customers: dict[str, AttributeMap]) -> dict[str, Any]:
        customer = customers.get(r["customer_id"]["S"])
        state = self._state(r)
        return {
            "account_id": r["account_id"]["S"],
            "customer_id": r["customer_id"]["S"],
            "currency": _text(r, "currency"),
            "account_type": _text(r, "account_type") or "standard",
            "unapplied_credit": _money(r, "unapplied_credit") or Decimal("0.00"),
            "segment": state.segment,
            "strategy": state.strategy,
            "stage": state.stage,
            "city": _text(r, "billing_city") or (_text(customer, "city") if customer else None),
            "customer_type": _text(customer, "type") if customer else None,
        }

    @staticmethod
    def _customer(r: AttributeMap) -> dict[str, Any]:
        return {
            "customer_id": r["customer_id"]["S"],
            "type": _text(r, "type"),
            "city": _text(r, "city"),
            "district": _text(r, "district"),
            "vip": r.get("vip", {}).get("BOOL", False),
            "risk_score": int(r["risk_score"]["N"]) if "risk_score" in r else None,
        }

    @staticmethod
    def _payment(r: AttributeMap) -> dict[str, Any]:
        return {
            "payment_id": r["payment_id"]["S"],
            "account_id": _text(r, "account_id"),
            "bank_id": _text(r, "bank_id"),
            "amount": _money(r, "amount"),
            "currency": _text(r, "currency"),
            "value_date": _day(_text(r, "value_date")),
            "unapplied": _money(r, "unapplied_amount") or _money(r, "unapplied"),
            "status": _text(r, "status"),
            "match_method": _text(r, "match_method"),
        }

    @staticmethod
    def _cycle(c: CycleRecord) -> dict[str, Any]:
        return {
            "account_id": c.account_id,
            "cycle": c.cycle,
            "segment": c.segment,
            "strategy": c.strategy,
            "arm": c.arm,
            "started": c.started,
            "ended": c.ended,
            "overdue_at_start": c.overdue_at_start,
            "overdue_at_end": c.overdue_at_end,
            "contacts": c.contacts,
            "stage": current_stage(c),
        }

    @staticmethod
    def _contact(c: ContactRecord) -> dict[str, Any]:
        return {
            "account_id": c.account_id,
            "cycle": c.cycle,
            "step": c.step,
            "channel": c.channel,
            "action": c.action,
            "template": c.template,
            "status": c.status,
            "contact_date": c.date,
            "strategy": c.strategy,
            "arm": c.arm,
        }

    @staticmethod
    def _task(t: TaskRecord) -> dict[str, Any]:
        return {
            "task_id": t.task_id,
            "account_id": t.account_id,
            "group": t.group,
            "status": t.status,
            "outcome": t.outcome,
            "claimed_by": t.claimed_by,
            "closed_by": t.closed_by,
            "created_on": t.created_on,
            "closed_on": t.closed_on,
            "overdue_amount": t.overdue_amount,
            "days_overdue": t.days_overdue,
        }


def _changed_on(cycle: CycleRecord, day: dt.date) -> bool:
    return cycle.started == day or cycle.ended == day or any(c.business_date == day for c in cycle.explanations)
