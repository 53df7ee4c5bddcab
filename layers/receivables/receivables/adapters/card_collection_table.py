"""Card and bank-scheme collections in the ledger table (docs/card-collections.md; the CardStore and CardPayments of
card_collection/service.py).

Records: ``CCRUN#<run date>`` / ``FILE#<bank>#<sequence>`` (a request file: its requests, compressed, and whether it
was written), ``CCREQ#<reference>`` / ``REQUEST`` (one attempt and the bank's answer). The item carries its current
attempt (``card_reference``, ``card_attempt``, ``card_status`` requested | approved | declined, ``card_reason``): a
requested item is not dunned. Items of customers with an auto-pay instruction carry the sparse
``COLLECT#<due>#<shard>`` keys (shared with direct debit) until asked for, and again for the day of a retry.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from receivables.adapters.attributes import string as _s
from receivables.adapters.attributes import text as _text
from receivables.adapters.attributes import transact_write
from receivables.adapters.dynamodb_batches import AttributeMap, batch_get, paginated
from receivables.adapters.keys import collection_partition, collection_partitions, customer_key, item_key, key
from receivables.banking.collection_files import CollectionAnswer, CollectionRequest
from receivables.card_collection.model import CardCandidate, RequestFile
from receivables.domain.journal import Cause
from receivables.payments.matching import MatchMethod
from receivables.payments.operations import AccountOperations, Planned
from receivables.payments.ports import LoadedAccount, PaymentFacts
from receivables.payments.service import payment_events

CLOSED = frozenset({"cancelled", "written_off", "restructured"})


def _n(value: Decimal | int) -> dict[str, str]:
    return {"N": str(value)}


def file_key(run_date: date, bank_id: str, sequence: int) -> AttributeMap:
    return key(f"CCRUN#{run_date.isoformat()}", f"FILE#{bank_id}#{sequence:03d}")


def request_key(reference: str) -> AttributeMap:
    return key(f"CCREQ#{reference}", "REQUEST")


def _pack(file: RequestFile) -> bytes:
    rows = [
        {
            "reference": r.reference,
            "item_id": r.item_id,
            "customer_id": r.customer_id,
            "account_id": r.account_id,
            "token": r.token,
            "amount": str(r.amount),
            "currency": r.currency,
            "due_date": r.due_date.isoformat(),
            "attempt": r.attempt,
            "installments": r.installments,
        }
        for r in file.requests
    ]
    return zlib.compress(json.dumps(rows, sort_keys=True).encode(), 6)


def _unpack(blob: bytes) -> tuple[CollectionRequest, ...]:
    return tuple(
        CollectionRequest(
            reference=r["reference"],
            item_id=r["item_id"],
            customer_id=r["customer_id"],
            account_id=r["account_id"],
            token=r["token"],
            amount=Decimal(r["amount"]),
            currency=r["currency"],
            due_date=date.fromisoformat(r["due_date"]),
            attempt=int(r["attempt"]),
            installments=int(r["installments"]),
        )
        for r in json.loads(zlib.decompress(blob))
    )


def _file(record: AttributeMap) -> RequestFile:
    return RequestFile(
        bank_id=record["bank_id"]["S"],
        run_date=date.fromisoformat(record["run_date"]["S"]),
        sequence=int(record["sequence"]["N"]),
        requests=_unpack(record["requests"]["B"]),
        file_key=_text(record, "file_key") if record.get("written", {}).get("BOOL") else None,
    )


def request_view(record: AttributeMap) -> dict[str, Any]:
    return {
        "reference": record["reference"]["S"],
        "item_id": record["item_id"]["S"],
        "account_id": record["account_id"]["S"],
        "customer_id": record["customer_id"]["S"],
        "bank_id": record["bank_id"]["S"],
        "attempt": int(record["attempt"]["N"]),
        "amount": Decimal(record["amount"]["N"]),
        "currency": record["currency"]["S"],
        "requested_on": record["requested_on"]["S"],
        "status": record["status"]["S"],
        "reason": _text(record, "reason"),
        "auth_code": _text(record, "auth_code"),
        "answered_on": _text(record, "answered_on"),
        "retry_on": _text(record, "retry_on"),
    }


class CardCollectionTable:
    def __init__(self, client: Any, table_name: str, *, clock: Any, workers: int = 8) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock
        self._workers = workers

    # -- the run -----------------------------------------------------------------------------------------------------
    def candidates(self, day: date) -> list[CardCandidate]:
        def entries(partition: str) -> list[AttributeMap]:
            request = {
                "TableName": self._table,
                "IndexName": "next_action",
                "KeyConditionExpression": "gsi2pk = :p",
                "ExpressionAttributeValues": {":p": _s(partition)},
            }
            return list(paginated(self._client.query, request))

        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            keys = [
                item_key(e["gsi2sk"]["S"].removeprefix("ITEM#"))
                for found in pool.map(entries, collection_partitions(day))
                for e in found
            ]
        if not keys:
            return []
        items = batch_get(
            self._client,
            self._table,
            keys,
            projection="item_id, account_id, customer_id, due_date, open_amount, currency, #s, card_status, "
            "card_attempt",
            names={"#s": "status"},
        )
        customers = {
            r["customer_id"]["S"]: r
            for r in batch_get(
                self._client,
                self._table,
                [customer_key(c) for c in {i["customer_id"]["S"] for i in items}],
                projection="customer_id, autopay_method, autopay_bank_id, autopay_token",
            )
        }
        found = []
        for item in items:
            customer = customers.get(item["customer_id"]["S"], {})
            method = _text(customer, "autopay_method")
            if method not in ("card", "bank_scheme") or _text(item, "status") in CLOSED:
                continue
            found.append(
                CardCandidate(
                    item_id=item["item_id"]["S"],
                    account_id=item["account_id"]["S"],
                    customer_id=item["customer_id"]["S"],
                    open_amount=Decimal(item["open_amount"]["N"]),
                    currency=item["currency"]["S"],
                    due_date=date.fromisoformat(item["due_date"]["S"]),
                    method=method,
                    bank_id=_text(customer, "autopay_bank_id") or "",
                    token=_text(customer, "autopay_token") or "",
                    attempts=int(item["card_attempt"]["N"]) if "card_attempt" in item else 0,
                    pending=_text(item, "card_status") == "requested",
                )
            )
        return found

    def files_of(self, day: date) -> list[RequestFile]:
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :p AND begins_with(sk, :f)",
            "ExpressionAttributeValues": {":p": _s(f"CCRUN#{day.isoformat()}"), ":f": _s("FILE#")},
            "ConsistentRead": True,
        }
        return [_file(r) for r in paginated(self._client.query, request)]

    def record_file(self, file: RequestFile) -> RequestFile:
        record = {
            **file_key(file.run_date, file.bank_id, file.sequence),
            "entity": _s("card_collection_file"),
            "bank_id": _s(file.bank_id),
            "run_date": _s(file.run_date.isoformat()),
            "sequence": _n(file.sequence),
            "requests": {"B": _pack(file)},
            "written": {"BOOL": False},
        }
        try:
            self._client.put_item(TableName=self._table, Item=record, ConditionExpression="attribute_not_exists(pk)")
            return file
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        stored = self._client.get_item(
            TableName=self._table, Key=file_key(file.run_date, file.bank_id, file.sequence), ConsistentRead=True
        )["Item"]
        return _file(stored)

    def claim(self, file: RequestFile) -> RequestFile:
        claimed = []
        today = self._clock.today().isoformat()
        for r in file.requests:
            writes = [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": item_key(r.item_id),
                        "UpdateExpression": "SET card_reference = :ref, card_attempt = :n, card_status = :requested, "
                        "card_bank = :bank REMOVE gsi2pk, gsi2sk, card_reason",
                        "ConditionExpression": "(card_reference = :ref AND card_status = :requested) OR "
                        "(open_amount = :amount AND (attribute_not_exists(card_status) OR card_status = :declined) "
                        "AND (attribute_not_exists(card_attempt) OR card_attempt < :n))",
                        "ExpressionAttributeValues": {
                            ":ref": _s(r.reference),
                            ":n": _n(r.attempt),
                            ":requested": _s("requested"),
                            ":declined": _s("declined"),
                            ":bank": _s(file.bank_id),
                            ":amount": _n(r.amount),
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            **request_key(r.reference),
                            "entity": _s("card_collection"),
                            "reference": _s(r.reference),
                            "item_id": _s(r.item_id),
                            "account_id": _s(r.account_id),
                            "customer_id": _s(r.customer_id),
                            "bank_id": _s(file.bank_id),
                            "attempt": _n(r.attempt),
                            "amount": _n(r.amount),
                            "currency": _s(r.currency),
                            "due_date": _s(r.due_date.isoformat()),
                            "requested_on": _s(today),
                            "status": _s("requested"),
                            "file": _s(file.file_id),
                        },
                        "ConditionExpression": "attribute_not_exists(pk) OR #s = :requested",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":requested": _s("requested")},
                    }
                },
            ]
            try:
                transact_write(self._client, writes)
                claimed.append(r)
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise  # a condition failed: paid, changed or asked for meanwhile — not this file's to ask
        return replace(file, requests=tuple(claimed))

    def mark_written(self, file: RequestFile, key: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=file_key(file.run_date, file.bank_id, file.sequence),
            UpdateExpression="SET written = :yes, file_key = :f, sent = :n",
            ExpressionAttributeValues={":yes": {"BOOL": True}, ":f": _s(key), ":n": _n(len(file.requests))},
        )

    # -- the answers -------------------------------------------------------------------------------------------------
    def request(self, reference: str) -> dict[str, Any] | None:
        found = self._client.get_item(TableName=self._table, Key=request_key(reference), ConsistentRead=True)
        return request_view(found["Item"]) if "Item" in found else None

    def answered(
        self, answer: CollectionAnswer, request: Mapping[str, Any], retry_on: date | None, source: str
    ) -> bool:
        status = "approved" if answer.approved else "declined"
        values: dict[str, Any] = {
            ":s": _s(status),
            ":requested": _s("requested"),
            ":on": _s(self._clock.today().isoformat()),
            ":file": _s(source),
            ":ref": _s(answer.reference),
        }
        sets = ["#s = :s", "answered_on = :on", "response_file = :file"]
        item_sets = ["card_status = :s"]
        if answer.auth_code:
            values[":auth"] = _s(answer.auth_code)
            sets.append("auth_code = :auth")
        if not answer.approved:
            values[":why"] = _s(answer.reason or "declined")
            sets.append("reason = :why")
            item_sets.append("card_reason = :why")
        if retry_on is not None:
            values[":retry"] = _s(retry_on.isoformat())
            values[":g1"] = _s(collection_partition(retry_on, request["item_id"]))
            values[":g2"] = _s(f"ITEM#{request['item_id']}")
            sets.append("retry_on = :retry")
            item_sets += ["gsi2pk = :g1", "gsi2sk = :g2"]
        try:
            transact_write(
                self._client,
                [
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": request_key(answer.reference),
                            "UpdateExpression": "SET " + ", ".join(sets),
                            "ConditionExpression": "#s = :requested",
                            "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": {
                                k: v for k, v in values.items() if k not in (":g1", ":g2", ":ref")
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": item_key(request["item_id"]),
                            "UpdateExpression": "SET " + ", ".join(item_sets),
                            "ConditionExpression": "card_reference = :ref",
                            "ExpressionAttributeValues": {
                                k: v for k, v in values.items() if k in (":s", ":why", ":g1", ":g2", ":ref")
                            },
                        }
                    },
                ],
            )
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            return False

    def attempts(self) -> list[dict[str, Any]]:
        """Every attempt (STATE.json ``collections``): a scan, for the local replay only."""
        from receivables.adapters.ledger_table import scan_entities

        return [request_view(r) for r in scan_entities(self._client, self._table, "CCREQ#", "REQUEST")]


class CardPaymentWriter:
    """An approved attempt as a payment on the item's account, allocated to that item first (the rest, if the item
    owed less by then, by the account's policy): named by bank and reference, so it is made once."""

    def __init__(self, operations: AccountOperations, store: Any) -> None:
        self._operations = operations
        self._store = store

    def collected(self, request: Mapping[str, Any], answer: CollectionAnswer, bank_id: str, cause: Cause) -> str:
        payment_id = f"CC-{bank_id}-{answer.reference}"
        if self._store.get_payment(payment_id) is not None:
            return payment_id
        amount = Decimal(request["amount"])
        facts = PaymentFacts(
            payment_id=payment_id,
            bank_id=bank_id,
            bank_reference=answer.auth_code or answer.reference,
            end_to_end_id=None,
            debtor_iban=None,
            source_file=cause.source,
            position=cause.position or "",
            match_method=MatchMethod.COLLECTION.value,
            match_reason=f"{bank_id} collected attempt {request['attempt']} of {request['item_id']} "
            f"(reference {answer.reference}" + (f", authorisation {answer.auth_code})" if answer.auth_code else ")"),
        )
        value_date = date.fromisoformat(request["requested_on"])

        def receive(loaded: LoadedAccount, limit: int) -> Planned:
            step = loaded.ledger.receive(
                payment_id,
                amount,
                request["currency"],
                value_date,
                cause=cause,
                first=[request["item_id"]],
                limit=limit,
            )
            return Planned("receive", cause, step, payment_id)

        self._operations.run(request["account_id"], receive, new_payment=facts)
        return payment_id


def card_payment_writer(client: Any, table: str, store: Any, clock: Any) -> CardPaymentWriter:
    return CardPaymentWriter(AccountOperations(store=store, clock=clock, completion=payment_events), store)
