"""Billing adjustments in the single table: ``ADJ#<adjustment_id>`` / ``ADJUSTMENT``, listed under the account in
``by_account`` (``gsi1sk`` ``ADJ#<recorded at>#<id>``) for its timeline; the debit notes they bill are items like
any other (``ITEM#DN-<adjustment_id>``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from receivables.adapters.attributes import is_condition_failure
from receivables.adapters.attributes import string as _s
from receivables.adapters.attributes import text as _text
from receivables.adapters.dynamodb_batches import AttributeMap, batch_get, paginated
from receivables.adapters.insurance_table import TableWrites
from receivables.adapters.keys import account_partition, collection_partition, item_key, key
from receivables.adapters.ledger_table import invoice_record, scan_entities
from receivables.adjustments.model import (
    CLOSED,
    RULES_FILE,
    Adjustment,
    AdjustmentKind,
    AdjustmentRequest,
    AdjustmentRules,
    AdjustmentStatus,
    DebitNote,
    ItemFacts,
    default_rules,
    load_rules,
)
from receivables.domain.records import Invoice
from receivables.payments.ports import ItemValue

SORT_KEY = "ADJUSTMENT"


def adjustments_partition(day: str) -> str:
    return f"ADJUSTMENTS#{day}"


def adjustment_key(adjustment_id: str) -> AttributeMap:
    return key(f"ADJ#{adjustment_id}", SORT_KEY)


def adjustment_record(adjustment: Adjustment) -> AttributeMap:
    r = adjustment.request
    record: AttributeMap = {
        **adjustment_key(r.adjustment_id),
        "adjustment_id": _s(r.adjustment_id),
        "item_id": _s(r.item_id),
        "account_id": _s(adjustment.account_id),
        "kind": _s(r.kind.value),
        "reason": _s(r.reason),
        "status": _s(adjustment.status.value),
        "created_by": _s(adjustment.created_by),
        "created_at": _s(adjustment.created_at),
        "source": _s(adjustment.source),
        "fingerprint": _s(adjustment.fingerprint),
        "gsi1pk": _s(account_partition(adjustment.account_id)),
        "gsi1sk": _s(f"ADJ#{adjustment.created_at}#{r.adjustment_id}"),
        # By the day it came: the BI export finds the items adjusted without a posting (a due-date change).
        "gsi2pk": _s(adjustments_partition(adjustment.created_at[:10])),
        "gsi2sk": _s(r.adjustment_id),
    }
    optional = {
        "amount": None if r.amount is None else {"N": str(r.amount)},
        "new_due_date": _s(r.new_due_date.isoformat()) if r.new_due_date else None,
        "date": _s(r.date.isoformat()) if r.date else None,
        "explanation": _s(adjustment.explanation) if adjustment.explanation else None,
        "decided_by": _s(adjustment.decided_by) if adjustment.decided_by else None,
        "decided_at": _s(adjustment.decided_at) if adjustment.decided_at else None,
    }
    record.update({name: value for name, value in optional.items() if value is not None})
    return record


def adjustment_from_record(record: AttributeMap) -> Adjustment:
    def day(name: str) -> date | None:
        value = _text(record, name)
        return date.fromisoformat(value) if value else None

    request = AdjustmentRequest(
        adjustment_id=record["adjustment_id"]["S"],
        item_id=record["item_id"]["S"],
        kind=AdjustmentKind(record["kind"]["S"]),
        reason=record["reason"]["S"],
        amount=Decimal(record["amount"]["N"]) if "amount" in record else None,
        new_due_date=day("new_due_date"),
        date=day("date"),
    )
    return Adjustment(
        request=request,
        account_id=record["account_id"]["S"],
        status=AdjustmentStatus(record["status"]["S"]),
        created_by=record["created_by"]["S"],
        created_at=record["created_at"]["S"],
        source=record["source"]["S"],
        explanation=_text(record, "explanation") or "",
        decided_by=_text(record, "decided_by"),
        decided_at=_text(record, "decided_at"),
        fingerprint=record["fingerprint"]["S"],
    )


def _record_put(adjustment: Adjustment, previous: AdjustmentStatus | None) -> dict[str, Any]:
    """The record's put, guarded: a new id only once; a waiting one only while it still waits."""
    put: dict[str, Any] = {"Item": adjustment_record(adjustment)}
    if previous is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "#status = :previous"
        put["ExpressionAttributeNames"] = {"#status": "status"}
        put["ExpressionAttributeValues"] = {":previous": _s(previous.value)}
    return put


class AdjustmentsTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, adjustment_id: str) -> Adjustment | None:
        record = self._client.get_item(
            TableName=self._table, Key=adjustment_key(adjustment_id), ConsistentRead=True
        ).get("Item")
        return adjustment_from_record(record) if record else None

    def item_facts(self, item_id: str) -> ItemFacts | None:
        record = self._client.get_item(TableName=self._table, Key=item_key(item_id), ConsistentRead=True).get("Item")
        if record is None or "account_id" not in record:
            return None
        status = _text(record, "status")
        return ItemFacts(
            item_id=item_id,
            account_id=record["account_id"]["S"],
            customer_id=_text(record, "customer_id") or "",
            kind=_text(record, "kind") or "invoice",
            status=status if status in CLOSED else None,
            amount=Decimal(record["amount"]["N"]),
            issue_date=date.fromisoformat(record["issue_date"]["S"]),
            due_date=date.fromisoformat(record["due_date"]["S"]),
            currency=record["currency"]["S"],
            policy_id=_text(record, "policy_id"),
            subscription_id=_text(record, "subscription_id"),
            credited=Decimal(record["credited"]["N"]) if "credited" in record else Decimal(0),
            collected=(_text(record, "gsi2pk") or "").startswith("COLLECT#"),
        )

    def save_alone(self, adjustment: Adjustment, *, previous: AdjustmentStatus | None) -> Adjustment:
        try:
            self._client.put_item(TableName=self._table, **_record_put(adjustment, previous))
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            stored = self.get(adjustment.adjustment_id)
            assert stored is not None
            return stored
        return adjustment

    def record_write(self, adjustment: Adjustment, *, previous: AdjustmentStatus | None) -> TableWrites:
        return TableWrites(({"Put": _record_put(adjustment, previous)},))

    def debit_note_write(self, item: ItemFacts, note: DebitNote, source: str) -> TableWrites:
        invoice = Invoice(
            note.item_id,
            item.customer_id,
            item.account_id,
            note.issue_date,
            note.due_date,
            note.amount,
            item.currency,
            item.subscription_id,
            note.description[:500],
        )
        record = invoice_record(invoice, "adjustment", 0, note.issue_date.isoformat(), source)
        for name in ("source_file_id", "source_line"):
            record.pop(name)
        record["kind"] = _s("debit_note")
        record["linked_item_id"] = _s(note.linked_item_id)
        if item.policy_id:
            record["policy_id"] = _s(item.policy_id)
        if item.collected:
            record["gsi2pk"] = _s(collection_partition(note.due_date, note.item_id))
            record["gsi2sk"] = _s(f"ITEM#{note.item_id}")
        return TableWrites(({"Put": {"Item": record, "ConditionExpression": "attribute_not_exists(pk)"}},))

    def moved_due_date(self, item: ItemFacts, new_due_date: date) -> dict[str, ItemValue]:
        moved: dict[str, ItemValue] = {"gsi1sk": f"ITEM#{new_due_date.isoformat()}#{item.item_id}"}
        if item.collected:
            moved["gsi2pk"] = collection_partition(new_due_date, item.item_id)
        return moved

    def of_account(self, account_id: str) -> list[Adjustment]:
        records = paginated(
            self._client.query,
            {
                "TableName": self._table,
                "IndexName": "by_account",
                "KeyConditionExpression": "gsi1pk = :p AND begins_with(gsi1sk, :a)",
                "ExpressionAttributeValues": {":p": _s(account_partition(account_id)), ":a": _s("ADJ#")},
            },
        )
        keys = [key(r["pk"]["S"], SORT_KEY) for r in records]  # the index holds keys only
        found = {r["pk"]["S"]: r for r in batch_get(self._client, self._table, keys)} if keys else {}
        return [adjustment_from_record(found[k["pk"]["S"]]) for k in keys if k["pk"]["S"] in found]

    def of_day(self, day: date) -> list[Adjustment]:
        """The adjustments that came on a business day (the next-action index's sparse day partition)."""
        keys = [
            {"pk": r["pk"], "sk": r["sk"]}
            for r in paginated(
                self._client.query,
                {
                    "TableName": self._table,
                    "IndexName": "next_action",
                    "KeyConditionExpression": "gsi2pk = :p",
                    "ExpressionAttributeValues": {":p": _s(adjustments_partition(day.isoformat()))},
                },
            )
        ]
        found = batch_get(self._client, self._table, keys) if keys else []
        return sorted(map(adjustment_from_record, found), key=lambda a: a.adjustment_id)

    def all(self) -> Iterator[Adjustment]:
        return map(adjustment_from_record, scan_entities(self._client, self._table, "ADJ#", SORT_KEY))


class S3AdjustmentRules:
    """``config/adjustments.json`` in the inbound bucket (the approval thresholds), else the shipped defaults; a warm
    function re-reads it at most once a minute, so a change applies without a deploy."""

    def __init__(self, client: Any, bucket: str, *, cache_seconds: float = 60.0) -> None:
        self._client = client
        self._bucket = bucket
        self._cache_seconds = cache_seconds
        self._cached: tuple[float, AdjustmentRules] | None = None

    def rules(self) -> AdjustmentRules:
        if self._cached and time.monotonic() - self._cached[0] < self._cache_seconds:
            return self._cached[1]
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=RULES_FILE)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise
            rules = default_rules()
        else:
            rules = load_rules(body)
        self._cached = (time.monotonic(), rules)
        return rules
