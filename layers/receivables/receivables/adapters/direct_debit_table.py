"""Direct-debit collections in the ledger table (docs/dynamodb.md, docs/direct-debit.md).

Records: ``DDRUN#<run date>`` / ``MSG#<message id>`` (a pain.008 message: its collections, compressed, and whether its
file is written), ``DD#<end-to-end id>`` / ``COLLECTION`` (one collection and its bank status), and on the item
``collection_e2e``/``collection_status``. Items of customers with a mandate carry sparse ``COLLECT#<due>#<shard>``
index keys until they are collected, so a run reads only what falls due.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from receivables.adapters.attributes import is_condition_failure as _is_condition_failure
from receivables.adapters.attributes import packed, unpacked
from receivables.adapters.attributes import string as _s
from receivables.adapters.dynamodb_batches import AttributeMap, batch_get, batch_put, paginated
from receivables.adapters.keys import (
    collection_key,
    collection_partitions,
    customer_key,
    item_key,
    message_key,
    run_partition,
)
from receivables.direct_debit.model import (
    END_TO_END_PREFIX,
    CollectableItem,
    Collection,
    CollectionMessage,
    CollectionRecord,
    CollectionStatus,
    Mandate,
    StatusUpdate,
)
from receivables.domain.money import format_money


def _message(record: AttributeMap) -> CollectionMessage:
    return CollectionMessage(
        message_id=record["message_id"]["S"],
        bank_id=record["bank_id"]["S"],
        run_date=date.fromisoformat(record["run_date"]["S"]),
        collections=unpacked(record["collections"]["B"], Collection),
        file_key=record.get("file_key", {}).get("S"),
    )


def run_date_of(message_id: str) -> date | None:
    """Our message ids carry their run date (see direct_debit.model.message_id): the key of the message record."""
    if not message_id.startswith(END_TO_END_PREFIX):
        return None
    digits = message_id[len(END_TO_END_PREFIX) : len(END_TO_END_PREFIX) + 8]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


class CollectionTable:
    def __init__(self, client: Any, table_name: str, *, workers: int = 8) -> None:
        self._client = client
        self._table = table_name
        self._workers = workers

    def items_falling_due(self, dates: Sequence[date]) -> list[CollectableItem]:
        partitions = [p for day in dates for p in collection_partitions(day)]

        def entries(partition: str) -> list[AttributeMap]:
            return list(
                paginated(
                    self._client.query,
                    {
                        "TableName": self._table,
                        "IndexName": "next_action",
                        "KeyConditionExpression": "gsi2pk = :p",
                        "ExpressionAttributeValues": {":p": _s(partition)},
                    },
                )
            )

        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            keys = [
                item_key(e["gsi2sk"]["S"].removeprefix("ITEM#"))
                for found in pool.map(entries, partitions)
                for e in found
            ]
        records = batch_get(
            self._client,
            self._table,
            keys,
            projection="item_id, account_id, customer_id, due_date, open_amount, currency, description, collection_e2e",
        )
        return [
            CollectableItem(
                item_id=r["item_id"]["S"],
                account_id=r["account_id"]["S"],
                customer_id=r["customer_id"]["S"],
                due_date=date.fromisoformat(r["due_date"]["S"]),
                open_amount=Decimal(r["open_amount"]["N"]),
                currency=r["currency"]["S"],
                description=r.get("description", {}).get("S"),
                collection=r.get("collection_e2e", {}).get("S"),
            )
            for r in records
        ]

    def mandates(self, customer_ids: Sequence[str]) -> dict[str, Mandate]:
        records = batch_get(
            self._client,
            self._table,
            (customer_key(c) for c in customer_ids),
            projection="customer_id, #n, iban, mandate_id, mandate_date, mandate_bank_id, autopay_method",
            names={"#n": "name"},
        )
        return {
            r["customer_id"]["S"]: Mandate(
                customer_id=r["customer_id"]["S"],
                debtor_name=r["name"]["S"],
                iban=r["iban"]["S"],
                mandate_id=r["mandate_id"]["S"],
                signed_on=date.fromisoformat(r["mandate_date"]["S"]),
                bank_id=r.get("mandate_bank_id", {}).get("S"),
            )
            for r in records
            # An auto-pay instruction by card or bank scheme takes precedence: that bank collects, not a pain.008.
            if "mandate_id" in r and "iban" in r and r.get("autopay_method", {}).get("S") in (None, "direct_debit")
        }

    # -- messages ------------------------------------------------------------------------------------------------
    def open_messages(self, run_date: date) -> list[CollectionMessage]:
        found = paginated(
            self._client.query,
            {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :p AND begins_with(sk, :m)",
                "FilterExpression": "#state = :open",
                "ExpressionAttributeNames": {"#state": "state"},
                "ExpressionAttributeValues": {
                    ":p": _s(run_partition(run_date)),
                    ":m": _s("MSG#"),
                    ":open": _s("open"),
                },
                "ConsistentRead": True,
            },
        )
        return [_message(r) for r in found]

    def record_message(self, message: CollectionMessage) -> CollectionMessage:
        record = {
            **message_key(message.run_date, message.message_id),
            "entity": _s("direct_debit_message"),
            "message_id": _s(message.message_id),
            "bank_id": _s(message.bank_id),
            "run_date": _s(message.run_date.isoformat()),
            "state": _s("open"),
            "transactions": {"N": str(len(message.collections))},
            "total": {"N": format_money(message.total)},
            "collections": {"B": packed(message.collections)},
        }
        try:
            self._client.put_item(TableName=self._table, Item=record, ConditionExpression="attribute_not_exists(pk)")
            return message
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
        stored = self.message(message.message_id)
        assert stored is not None  # it was there a moment ago, and messages are never deleted
        return stored

    def claim(self, message: CollectionMessage) -> CollectionMessage:
        def claim_one(collection: Collection) -> bool:
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=item_key(collection.item_id),
                    # Leaving the sparse index: a claimed item is never read by a collection run again.
                    UpdateExpression="SET collection_e2e = :e, collection_msg = :m, collection_status = :sent "
                    "REMOVE gsi2pk, gsi2sk",
                    ConditionExpression="attribute_exists(pk) AND open_amount = :amount AND "
                    "(attribute_not_exists(collection_msg) OR collection_msg = :m)",
                    ExpressionAttributeValues={
                        ":e": _s(collection.end_to_end_id),
                        ":m": _s(message.message_id),
                        ":sent": _s(CollectionStatus.SENT.value),
                        ":amount": {"N": format_money(collection.amount)},
                    },
                )
                return True
            except ClientError as error:
                if not _is_condition_failure(error):
                    raise
                return False  # paid meanwhile, or collected by another message

        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            claimed = tuple(
                c for c, ok in zip(message.collections, pool.map(claim_one, message.collections), strict=True) if ok
            )
        batch_put(
            self._client,
            self._table,
            [
                {
                    **collection_key(c.end_to_end_id),
                    "entity": _s("direct_debit"),
                    "end_to_end_id": _s(c.end_to_end_id),
                    "message_id": _s(message.message_id),
                    "bank_id": _s(message.bank_id),
                    "item_id": _s(c.item_id),
                    "account_id": _s(c.account_id),
                    "customer_id": _s(c.customer_id),
                    "amount": {"N": format_money(c.amount)},
                    "currency": _s(c.currency),
                    "collection_date": _s(c.collection_date.isoformat()),
                    "mandate_id": _s(c.mandate_id),
                    "status": _s(CollectionStatus.SENT.value),
                }
                for c in claimed
            ],
        )
        return message.model_copy(update={"collections": claimed})

    def mark_written(self, message: CollectionMessage) -> None:
        values: dict[str, Any] = {
            ":written": _s("written"),
            ":c": {"B": packed(message.collections)},
            ":n": {"N": str(len(message.collections))},
            ":t": {"N": format_money(message.total)},
        }
        update = "SET #state = :written, collections = :c, transactions = :n, #total = :t"
        if message.file_key:
            update += ", file_key = :f"
            values[":f"] = _s(message.file_key)
        self._client.update_item(
            TableName=self._table,
            Key=message_key(message.run_date, message.message_id),
            UpdateExpression=update,
            ExpressionAttributeNames={"#state": "state", "#total": "total"},
            ExpressionAttributeValues=values,
        )

    def message(self, message_id: str) -> CollectionMessage | None:
        run_date = run_date_of(message_id)
        if run_date is None:
            return None
        record = self._client.get_item(
            TableName=self._table, Key=message_key(run_date, message_id), ConsistentRead=True
        ).get("Item")
        return _message(record) if record else None

    def apply_status(self, update: StatusUpdate, source_file: str) -> bool:
        values = {
            ":s": _s(update.status.value),
            ":r": _s(update.reason),
            ":f": _s(source_file),
            ":c": _s(update.reason_code or ""),
        }
        try:
            self._client.update_item(
                TableName=self._table,
                Key=collection_key(update.end_to_end_id),
                UpdateExpression="SET #status = :s, status_reason = :r, status_code = :c, status_file = :f",
                ConditionExpression="attribute_exists(pk) AND #status <> :s",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            return False
        self._client.update_item(
            TableName=self._table,
            Key=item_key(update.item_id),
            UpdateExpression="SET collection_status = :s, collection_reason = :r",
            ConditionExpression="collection_e2e = :e",
            ExpressionAttributeValues={
                ":s": _s(update.status.value),
                ":r": _s(update.reason),
                ":e": _s(update.end_to_end_id),
            },
        )
        return True

    def collection(self, end_to_end_id: str) -> CollectionRecord | None:
        record = self._client.get_item(TableName=self._table, Key=collection_key(end_to_end_id)).get("Item")
        if record is None:
            return None
        return CollectionRecord(
            end_to_end_id=record["end_to_end_id"]["S"],
            message_id=record["message_id"]["S"],
            bank_id=record["bank_id"]["S"],
            item_id=record["item_id"]["S"],
            account_id=record["account_id"]["S"],
            amount=Decimal(record["amount"]["N"]),
            currency=record["currency"]["S"],
            collection_date=date.fromisoformat(record["collection_date"]["S"]),
            mandate_id=record["mandate_id"]["S"],
            status=record["status"]["S"],
            reason=record.get("status_reason", {}).get("S"),
        )
