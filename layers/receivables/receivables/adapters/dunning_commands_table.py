"""The dunning commands' storage in the ledger table (layout: ``receivables.dunning.records``, docs/dynamodb.md).

Every command is one TransactWriteItems with conditions, so it lands whole or not at all, and a race (a payment
settling an item being restructured, two collectors claiming one task, two editors publishing a configuration) fails
the transaction, which becomes ``DunningConflictError``. Records carry the model's JSON in ``doc``; a replace is
conditioned on the ``doc`` as read (optimistic concurrency without a version attribute). Attribute names always go
through placeholders: ``plan``, ``status`` and friends are DynamoDB reserved words.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from botocore.exceptions import ClientError

from receivables.adapters.attributes import string as _s
from receivables.adapters.attributes import text as _text
from receivables.adapters.attributes import transact_write
from receivables.adapters.dunning_table import _cycle_record, assigned_key, assignment_writes
from receivables.adapters.dynamodb_batches import AttributeMap, batch_get, paginated
from receivables.adapters.journal_table import OUTBOX_DAYS, entry_record, entry_ref, outbox_record
from receivables.adapters.keys import (
    account_key,
    account_partition,
    customer_holds_key,
    customer_key,
    customer_partition,
    cycle_key,
    dunning_config_key,
    hold_key,
    item_key,
    key,
    plan_key,
    promise_key,
    subscription_key,
    subscription_pointer_key,
    task_key,
    task_partition,
)
from receivables.adapters.ledger_table import account_item_entries
from receivables.domain.journal import JournalEntry
from receivables.domain.money import ZERO, format_money
from receivables.domain.outbox import Event
from receivables.dunning.commands import (
    DunningAccount,
    DunningConflictError,
    DunningItem,
    StoredConfig,
    UnknownRecordError,
)
from receivables.dunning.config import DunningConfig
from receivables.dunning.records import CycleRecord, HoldRecord, PlanRecord, PromiseRecord, TaskRecord
from receivables.payments.operations import new_entry_id


def _n(value: Decimal) -> dict[str, str]:
    return {"N": format_money(value)}


def holds_mirror_key(hold: HoldRecord) -> AttributeMap:
    """Where the daily run finds a hold: beside the customer record, or on the account record."""
    return customer_holds_key(hold.customer_id) if hold.level == "customer" else account_key(str(hold.account_id))


def _doc_record(key: AttributeMap, entity: str, model: Any) -> AttributeMap:
    return {**key, "entity": _s(entity), "doc": _s(model.model_dump_json())}


def installment_record(plan: PlanRecord, n: int) -> AttributeMap:
    """Installment ``n`` (1-based) as an item with the same attributes an invoice has (``ledger_table``)."""
    installment = plan.installments[n - 1]
    due = installment.due_date.isoformat()
    money = _n(installment.amount)
    source = f"plan:{plan.plan_id}"
    return {
        **item_key(installment.item_id),
        "kind": _s("installment"),
        "item_id": _s(installment.item_id),
        "account_id": _s(plan.account_id),
        "customer_id": _s(plan.customer_id),
        "issue_date": _s(plan.created_on.isoformat()),
        "due_date": _s(due),
        "amount": money,
        "open_amount": money,
        "currency": _s(plan.currency),
        "description": _s(f"Installment {n}/{len(plan.installments)} of plan {plan.plan_id}"),
        "source_file": _s(source),
        "source_file_id": _s(source),
        "source_line": {"N": str(n)},
        "loaded_on": _s(plan.created_on.isoformat()),
        "journal_key": _s(f"{plan.created_on.isoformat()}#{time.time_ns():019d}-item"),
        "gsi1pk": _s(account_partition(plan.account_id)),
        "gsi1sk": _s(f"ITEM#{due}#{installment.item_id}"),
    }


def _item(record: AttributeMap) -> DunningItem:
    return DunningItem(
        item_id=record["item_id"]["S"],
        account_id=record["account_id"]["S"],
        customer_id=record["customer_id"]["S"],
        kind=_text(record, "kind") or "invoice",
        due_date=dt.date.fromisoformat(record["due_date"]["S"]),
        open_amount=Decimal(record["open_amount"]["N"]),
        currency=record["currency"]["S"],
        subscription_id=_text(record, "subscription_id"),
        status=_text(record, "status"),
    )


def _stored_config(record: AttributeMap) -> StoredConfig:
    created_at = _text(record, "created_at")
    return StoredConfig(
        config=DunningConfig.model_validate_json(record["doc"]["S"]),
        created_by=_text(record, "created_by") or "unknown",
        created_at=dt.datetime.fromisoformat(created_at) if created_at else None,
    )


def _cancellations(error: ClientError) -> list[str] | None:
    """The per-write reason codes of a cancelled transaction ('None' for a write that was fine); None when the
    error is not a cancelled transaction."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]


class DunningCommandsTable:
    """``receivables.dunning.commands.DunningCommandStore`` over the ledger table."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # -- reads ----------------------------------------------------------------------------------------------------
    def _get(self, key: AttributeMap, projection: str | None = None) -> AttributeMap | None:
        request: dict[str, Any] = {"TableName": self._table, "Key": key, "ConsistentRead": True}
        if projection:
            request["ProjectionExpression"] = projection
        return self._client.get_item(**request).get("Item")

    def _doc(self, key: AttributeMap) -> str | None:
        record = self._get(key, "doc")
        return record["doc"]["S"] if record else None

    def customer_exists(self, customer_id: str) -> bool:
        return self._get(customer_key(customer_id), "pk") is not None

    def account(self, account_id: str) -> DunningAccount | None:
        record = self._get(account_key(account_id))
        if record is None:
            return None
        promise, plan = _text(record, "promise"), _text(record, "plan")
        return DunningAccount(
            account_id=record["account_id"]["S"],
            customer_id=record["customer_id"]["S"],
            currency=record["currency"]["S"],
            holds={k: HoldRecord.model_validate_json(v["S"]) for k, v in record.get("holds", {}).get("M", {}).items()},
            promise=PromiseRecord.model_validate_json(promise) if promise else None,
            plan=PlanRecord.model_validate_json(plan) if plan else None,
        )

    def item(self, item_id: str) -> DunningItem | None:
        record = self._get(item_key(item_id))
        return _item(record) if record else None

    def account_items(self, account_id: str) -> list[DunningItem]:
        keys = [
            item_key(entry["pk"]["S"].removeprefix("ITEM#"))
            for entry in account_item_entries(self._client, self._table, account_id)
        ]
        return sorted(
            (_item(r) for r in batch_get(self._client, self._table, keys)), key=lambda i: (i.due_date, i.item_id)
        )

    def customer_account_ids(self, customer_id: str) -> list[str]:
        entries = paginated(
            self._client.query,
            {
                "TableName": self._table,
                "IndexName": "by_account",
                "KeyConditionExpression": "gsi1pk = :p AND begins_with(gsi1sk, :a)",
                "ExpressionAttributeValues": {":p": _s(customer_partition(customer_id)), ":a": _s("ACCT#")},
            },
        )
        return [entry["gsi1sk"]["S"].removeprefix("ACCT#") for entry in entries]

    def subscription_exists(self, account_id: str, subscription_id: str) -> bool:
        return self._get(subscription_key(account_id, subscription_id), "pk") is not None

    def subscription_account(self, subscription_id: str) -> str | None:
        record = self._get(subscription_pointer_key(subscription_id), "account_id")
        return _text(record, "account_id") if record else None

    def hold(self, hold_id: str) -> HoldRecord | None:
        doc = self._doc(hold_key(hold_id))
        return HoldRecord.model_validate_json(doc) if doc else None

    def promise(self, promise_id: str) -> PromiseRecord | None:
        doc = self._doc(promise_key(promise_id))
        return PromiseRecord.model_validate_json(doc) if doc else None

    def plan(self, plan_id: str) -> PlanRecord | None:
        doc = self._doc(plan_key(plan_id))
        return PlanRecord.model_validate_json(doc) if doc else None

    def task(self, task_id: str) -> TaskRecord | None:
        doc = self._doc(task_key(task_id))
        return TaskRecord.model_validate_json(doc) if doc else None

    def tasks(self, group: str, status: Literal["open", "claimed"], limit: int) -> list[TaskRecord]:
        """The sparse ``next_action`` partition of the group and status, most urgent first; the index is eventually
        consistent, so each task is read back and kept only if it is still in ``status``."""
        response = self._client.query(
            TableName=self._table,
            IndexName="next_action",
            KeyConditionExpression="gsi2pk = :p",
            ExpressionAttributeValues={":p": _s(task_partition(group, status))},
            Limit=limit,
        )
        keys = [{"pk": r["pk"], "sk": r["sk"]} for r in response.get("Items", [])]
        found = {
            r["pk"]["S"]: TaskRecord.model_validate_json(r["doc"]["S"])
            for r in batch_get(self._client, self._table, keys)
        }
        ordered = (found.get(k["pk"]["S"]) for k in keys)
        return [task for task in ordered if task is not None and task.status == status]

    def done_tasks(self, group: str, since: dt.date) -> list[TaskRecord]:
        """The group's tasks closed on or after ``since`` (the done partition, by the day each closed)."""
        keys = [
            {"pk": r["pk"], "sk": r["sk"]}
            for r in paginated(
                self._client.query,
                {
                    "TableName": self._table,
                    "IndexName": "next_action",
                    "KeyConditionExpression": "gsi2pk = :p AND gsi2sk >= :since",
                    "ExpressionAttributeValues": {
                        ":p": _s(task_partition(group, "done")),
                        ":since": _s(since.isoformat()),
                    },
                },
            )
        ]
        found = batch_get(self._client, self._table, keys) if keys else []
        return sorted((TaskRecord.model_validate_json(r["doc"]["S"]) for r in found), key=lambda t: t.task_id)

    def promise_records(self, promise_ids: Sequence[str]) -> list[PromiseRecord]:
        found = batch_get(self._client, self._table, [promise_key(p) for p in promise_ids]) if promise_ids else []
        return [PromiseRecord.model_validate_json(r["doc"]["S"]) for r in found]

    def cycle_records(self, keys: Sequence[tuple[str, int]]) -> list[CycleRecord]:
        found = batch_get(self._client, self._table, [cycle_key(a, c) for a, c in keys]) if keys else []
        return [_cycle_record(r) for r in found]

    def current_config(self) -> StoredConfig | None:
        record = self._get(dunning_config_key(None))
        if record is None:
            return None
        if "doc" in record:  # CURRENT carries its version's document: one read for the config in force
            return _stored_config(record)
        return self.config_version(int(record["version"]["N"]))

    def config_version(self, version: int) -> StoredConfig | None:
        record = self._get(dunning_config_key(version))
        return _stored_config(record) if record else None

    # -- holds ----------------------------------------------------------------------------------------------------
    def create_hold(self, hold: HoldRecord, *, events: Sequence[Event] = ()) -> None:
        mirror = holds_mirror_key(hold)
        target = f"customer {hold.customer_id}" if hold.level == "customer" else f"account {hold.account_id}"
        # The customer's holds live beside the customer record, which every customer file rewrites whole.
        self._ensure_holds_map(mirror, create=hold.level == "customer")
        self._transact(
            [
                {"Put": self._put_new(hold_key(hold.hold_id), "hold", hold)},
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": mirror,
                        "UpdateExpression": "SET #holds.#id = :hold",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": {"#holds": "holds", "#id": hold.hold_id},
                        "ExpressionAttributeValues": {":hold": _s(hold.model_dump_json())},
                    }
                },
            ],
            [f"hold id {hold.hold_id} is taken", UnknownRecordError(f"{target} not found")],
            events,
        )

    def _ensure_holds_map(self, key: AttributeMap, *, create: bool = False) -> None:
        # A nested SET needs the map to exist, and one expression cannot both create it and set an entry in it.
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET #holds = :empty",
                ConditionExpression=("" if create else "attribute_exists(pk) AND ") + "attribute_not_exists(#holds)",
                ExpressionAttributeNames={"#holds": "holds"},
                ExpressionAttributeValues={":empty": {"M": {}}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def release_hold(self, before: HoldRecord, after: HoldRecord, *, events: Sequence[Event] = ()) -> None:
        mirror = holds_mirror_key(before)
        self._transact(
            [
                {"Update": self._replace_doc(hold_key(before.hold_id), before, after)},
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": mirror,
                        "UpdateExpression": "REMOVE #holds.#id",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": {"#holds": "holds", "#id": before.hold_id},
                    }
                },
            ],
            [
                f"hold {before.hold_id} changed meanwhile; read it again",
                f"the record hold {before.hold_id} is on is gone",
            ],
            events,
        )

    # -- promises -------------------------------------------------------------------------------------------------
    def _promise_writes(self, promise: PromiseRecord) -> list[dict[str, Any]]:
        return [
            {"Put": self._put_new(promise_key(promise.promise_id), "promise", promise)},
            {
                "Update": {
                    "TableName": self._table,
                    "Key": account_key(promise.account_id),
                    "UpdateExpression": "SET #promise = :promise",
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#promise)",
                    "ExpressionAttributeNames": {"#promise": "promise"},
                    "ExpressionAttributeValues": {":promise": _s(promise.model_dump_json())},
                }
            },
        ]

    def _promise_failures(self, promise: PromiseRecord) -> list[str | Exception]:
        return [
            f"promise id {promise.promise_id} is taken",
            f"account {promise.account_id} got an open promise meanwhile",
        ]

    def create_promise(self, promise: PromiseRecord, *, events: Sequence[Event] = ()) -> None:
        self._transact(self._promise_writes(promise), self._promise_failures(promise), events)

    # -- plans ----------------------------------------------------------------------------------------------------
    def create_plan(self, plan: PlanRecord, entry: JournalEntry, *, events: Sequence[Event] = ()) -> None:
        writes: list[dict[str, Any]] = [{"Put": self._put_new(plan_key(plan.plan_id), "plan", plan)}]
        failures: list[str | Exception] = [f"plan id {plan.plan_id} is taken"]
        ref = entry_ref(entry)
        for item_id, open_amount in sorted(plan.restructured.items()):
            writes.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": item_key(item_id),
                        "UpdateExpression": (
                            "SET open_amount = :zero, #status = :restructured, restructured_into = :plan, "
                            "journal = list_append(if_not_exists(journal, :none), :ref)"
                        ),
                        # A payment or allocation since the plan was worked out fails the whole plan.
                        "ConditionExpression": "open_amount = :old",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {
                            ":zero": _n(ZERO),
                            ":restructured": _s("restructured"),
                            ":plan": _s(plan.plan_id),
                            ":old": _n(open_amount),
                            ":none": {"L": []},
                            ":ref": {"L": [_s(ref)]},
                        },
                    }
                }
            )
            failures.append(f"item {item_id} changed meanwhile (a payment?); nothing was restructured, try again")
        for n, installment in enumerate(plan.installments, start=1):
            writes.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": installment_record(plan, n),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            failures.append(f"item id {installment.item_id} is taken")
        writes.append(
            {
                "Update": {
                    "TableName": self._table,
                    "Key": account_key(plan.account_id),
                    "UpdateExpression": "SET #plan = :plan",
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#plan)",
                    "ExpressionAttributeNames": {"#plan": "plan"},
                    "ExpressionAttributeValues": {":plan": _s(plan.model_dump_json())},
                }
            }
        )
        failures.append(f"account {plan.account_id} got an active plan meanwhile")
        writes.append(
            {
                "Put": {
                    "TableName": self._table,
                    # The review rides in the entry (its outbox): a plan of 100 records has no room for a 101st.
                    "Item": entry_record(entry, events),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )
        failures.append(f"journal entry {entry.entry_id} exists")
        self._transact(writes, failures)

    # -- tasks ----------------------------------------------------------------------------------------------------
    def update_task(
        self,
        before: TaskRecord,
        after: TaskRecord,
        *,
        promise: PromiseRecord | None = None,
        holds: Sequence[HoldRecord] = (),
        new_tasks: Sequence[TaskRecord] = (),
        events: Sequence[Event] = (),
    ) -> None:
        update = self._replace_doc(task_key(before.task_id), before, after)
        if after.status in ("open", "claimed"):
            update["UpdateExpression"] += ", gsi2pk = :gp, gsi2sk = :gs"
            update["ExpressionAttributeValues"] |= {
                ":gp": _s(task_partition(after.group, after.status)),
                ":gs": _s(f"{after.priority}#{after.task_id}"),
            }
        else:  # done: out of the work queues, into the group's done partition by the day it closed (reports)
            update["UpdateExpression"] += ", gsi2pk = :gp, gsi2sk = :gs"
            update["ExpressionAttributeValues"] |= {
                ":gp": _s(task_partition(after.group, "done")),
                ":gs": _s(f"{(after.closed_on or dt.date.min).isoformat()}#{after.task_id}"),
            }
        writes: list[dict[str, Any]] = [{"Update": update}]
        failures: list[str | Exception] = [f"task {before.task_id} changed meanwhile; read it again"]
        # A collector's count of open tasks: down when theirs is done or given to another, up for the one given it.
        changes: dict[str, int] = {}
        if before.assigned_to and (after.status == "done" or after.assigned_to != before.assigned_to):
            changes[before.assigned_to] = changes.get(before.assigned_to, 0) - 1
        if after.assigned_to and after.status != "done" and after.assigned_to != before.assigned_to:
            changes[after.assigned_to] = changes.get(after.assigned_to, 0) + 1
        counted = assignment_writes(self._table, after.group, changes)
        writes += counted
        failures += ["the collector counts changed meanwhile"] * len(counted)
        moved_to = after.assigned_to if after.status != "done" and after.assigned_to != before.assigned_to else None
        if moved_to and after.cycle is not None:  # the account keeps its new collector for the rest of the cycle
            writes.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            **assigned_key(after.account_id, after.cycle),
                            "entity": _s("assignment"),
                            "collector": _s(moved_to),
                        },
                    }
                }
            )
            failures.append("the account's assignment changed meanwhile")
        if promise is not None:
            writes += self._promise_writes(promise)
            failures += self._promise_failures(promise)
        if holds:
            # All on the task's account: one update of its holds map (a transaction touches an item once).
            mirror = holds_mirror_key(holds[0])
            self._ensure_holds_map(mirror)
            names = {"#holds": "holds"} | {f"#h{n}": h.hold_id for n, h in enumerate(holds)}
            values = {f":h{n}": _s(h.model_dump_json()) for n, h in enumerate(holds)}
            writes += [{"Put": self._put_new(hold_key(h.hold_id), "hold", h)} for h in holds]
            failures += [f"hold id {h.hold_id} is taken" for h in holds]
            writes.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": mirror,
                        "UpdateExpression": "SET " + ", ".join(f"#holds.#h{n} = :h{n}" for n in range(len(holds))),
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                    }
                }
            )
            failures.append(UnknownRecordError(f"account {holds[0].account_id} not found"))
        for task in new_tasks:
            writes.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            **task_key(task.task_id),
                            "entity": _s("task"),
                            "doc": _s(task.model_dump_json()),
                            "gsi2pk": _s(task_partition(task.group, "open")),
                            "gsi2sk": _s(f"{task.priority}#{task.task_id}"),
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            failures.append(f"task {task.task_id} exists already")
        self._transact(writes, failures, events)

    # -- configuration --------------------------------------------------------------------------------------------
    def save_config(self, stored: StoredConfig, *, replaces: int | None) -> None:
        version = stored.config.version
        attributes: AttributeMap = {
            "doc": _s(stored.config.model_dump_json()),
            "version": {"N": str(version)},
            "created_by": _s(stored.created_by),
        }
        if stored.created_at is not None:
            attributes["created_at"] = _s(stored.created_at.isoformat())
        # CURRENT repeats its version's document, so the config in force is one read; its own entity name keeps
        # exports by entity from counting that version twice.
        current: dict[str, Any] = {
            "TableName": self._table,
            "Item": {**dunning_config_key(None), **attributes, "entity": _s("dunning_config_current")},
        }
        if replaces is None:
            current["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            current["ConditionExpression"] = "version = :read"
            current["ExpressionAttributeValues"] = {":read": {"N": str(replaces)}}
        raced = f"another configuration version was published meanwhile (expected to replace {replaces or 1})"
        self._transact(
            [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {**dunning_config_key(version), **attributes, "entity": _s("dunning_config")},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {"Put": current},
            ],
            [f"configuration version {version} exists already", raced],
        )

    # -- helpers --------------------------------------------------------------------------------------------------
    def _put_new(self, key: AttributeMap, entity: str, model: Any) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Item": _doc_record(key, entity, model),
            "ConditionExpression": "attribute_not_exists(pk)",
        }

    def _replace_doc(self, key: AttributeMap, before: Any, after: Any) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Key": key,
            "UpdateExpression": "SET #doc = :new",
            "ConditionExpression": "#doc = :old",
            "ExpressionAttributeNames": {"#doc": "doc"},
            "ExpressionAttributeValues": {":new": _s(after.model_dump_json()), ":old": _s(before.model_dump_json())},
        }

    def _transact(
        self, writes: list[dict[str, Any]], failures: list[str | Exception], events: Sequence[Event] = ()
    ) -> None:
        """Write all or nothing; a failed condition becomes the matching entry of ``failures`` (an exception to
        raise, or the message of a ``DunningConflictError``). ``events`` go in the same transaction (the outbox)."""
        if events:
            origin = new_entry_id()
            expires = int(time.time()) + OUTBOX_DAYS * 86_400
            writes = [
                *writes,
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": outbox_record(origin, events, expires),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
            failures = [*failures, f"outbox record {origin} exists"]
        try:
            transact_write(self._client, writes)
        except ClientError as error:
            codes = _cancellations(error)
            if codes is None:
                raise
            failed = [n for n, code in enumerate(codes) if code == "ConditionalCheckFailed"]
            if not failed:  # a transaction conflict (another transaction on the same records): a race all the same
                raise DunningConflictError("the records changed meanwhile; try again") from error
            problem = failures[failed[0]]
            if isinstance(problem, Exception):
                raise problem from error
            raise DunningConflictError(problem) from error


class TableSequence:
    """Readable, gap-free ids per prefix (HL000001, PR000002…) from an atomic counter: one write per id, which is
    nothing next to the hold, promise or plan it names, and a replayed scenario numbers them the same way."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def __call__(self, prefix: str) -> str:
        response = self._client.update_item(
            TableName=self._table,
            Key=key(f"SEQ#{prefix}", "SEQ"),
            UpdateExpression="ADD #n :one",
            ExpressionAttributeNames={"#n": "n"},
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return f"{prefix}{int(response['Attributes']['n']['N']):06d}"
