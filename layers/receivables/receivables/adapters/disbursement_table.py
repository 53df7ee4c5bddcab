"""Payouts in the ledger table (docs/dynamodb.md; the PayoutStore of disbursement/service.py).

Records: ``PORUN#<run date>`` / ``MSG#<message id>`` (a pain.001 message: its transfers, compressed, and whether its
file was written). A payable's own record carries its payout: ``message_id``, ``status`` (scheduled → sent → paid,
or rejected with ``rejection_reason`` and the IBAN it was rejected for), kept in the ``next_action`` index as
``PAYABLES#<status>``. The bank's debit pays it through a posting (``payable_paid``) written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from receivables.adapters.attributes import packed, transact_write, unpacked
from receivables.adapters.attributes import string as _s
from receivables.adapters.attributes import text as _text
from receivables.adapters.dynamodb_batches import AttributeMap, batch_get, paginated
from receivables.adapters.insurance_table import payable_facts, payables_partition
from receivables.adapters.journal_table import entry_record
from receivables.adapters.keys import customer_key, key, party_key, payable_key
from receivables.disbursement.model import NOT_PAID_OUT, Payee, PayoutCandidate, PayoutMessage, Transfer
from receivables.disbursement.service import UnmatchedDebit
from receivables.domain.journal import Cause, JournalEntry, Posting, PostingKind, Side
from receivables.payments.operations import new_entry_id

TRANSFER_STATES = frozenset({"scheduled", "sent", "paid", "rejected"})


def _n(value: Decimal | int) -> dict[str, str]:
    return {"N": str(value)}


def message_key(run_date: date, message_id: str) -> AttributeMap:
    return key(f"PORUN#{run_date.isoformat()}", f"MSG#{message_id}")


def run_date_of(message_id: str) -> date | None:
    """``PO<yyyymmdd>…``: the run date is in the id, so a pain.002 finds the message in one read."""
    if not message_id.startswith("PO") or len(message_id) < 10 or not message_id[2:10].isdigit():
        return None
    try:
        return date(int(message_id[2:6]), int(message_id[6:8]), int(message_id[8:10]))
    except ValueError:
        return None


def _message(record: AttributeMap) -> PayoutMessage:
    return PayoutMessage(
        message_id=record["message_id"]["S"],
        bank_id=record["bank_id"]["S"],
        run_date=date.fromisoformat(record["run_date"]["S"]),
        transfers=unpacked(record["transfers"]["B"], Transfer),
        file_key=_text(record, "file_key"),
    )


def transfer_view(record: AttributeMap) -> dict[str, Any] | None:
    """The latest transfer of a payable (``GET /transfers/{end_to_end_id}``, STATE.json ``transfers``): None for one
    never sent. Its status is the transfer's, not the payable's: ``scheduled`` · ``sent`` · ``accepted`` (pain.002) ·
    ``paid`` (the debit booked) · ``rejected`` (pain.002) · ``returned`` (the bank sent the money back)."""
    if "message_id" not in record:
        return None
    payable_status = _text(record, "status") or ""
    if payable_status in ("scheduled", "paid"):
        status = payable_status
    elif payable_status == "sent":
        status = "accepted" if _text(record, "bank_status") == "accepted" else "sent"
    else:  # the payable is open again (rejected, re-approved, netted or cancelled since): how its transfer ended
        status = "returned" if "returned_on" in record else "rejected"
    amount = record.get("sent_amount") or record.get("paid_amount") or record["open_amount"]
    return {
        "end_to_end_id": record["payable_id"]["S"],
        "payable_id": record["payable_id"]["S"],
        "bank_id": _text(record, "bank_id"),
        "message_id": record["message_id"]["S"],
        "file": _text(record, "file_key"),
        "amount": Decimal(amount["N"]),
        "currency": record["currency"]["S"],
        "creditor_iban": _text(record, "sent_iban"),
        "status": status,
        "sent_on": _text(record, "sent_on"),
        "paid_on": _text(record, "paid_on"),
        "returned_on": _text(record, "returned_on"),
        "reason": _text(record, "rejection_reason") if status in ("rejected", "returned") else None,
    }


class PayoutTable:
    def __init__(self, client: Any, table_name: str, *, clock: Any) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    # -- the run -----------------------------------------------------------------------------------------------------
    def approved_due(self, run_date: date) -> list[PayoutCandidate]:
        found: list[PayoutCandidate] = []
        for status in ("approved", "rejected"):
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": "next_action",
                "KeyConditionExpression": "gsi2pk = :p AND gsi2sk <= :last",
                "ExpressionAttributeValues": {
                    ":p": _s(payables_partition(status)),
                    ":last": _s(f"{run_date.isoformat()}#\uffff"),
                },
            }
            keys = [{"pk": r["pk"], "sk": r["sk"]} for r in paginated(self._client.query, request)]
            for record in batch_get(self._client, self._table, keys) if keys else []:
                facts = payable_facts(record)
                settlement = "settlement" in record
                if (facts.kind in NOT_PAID_OUT and not settlement) or facts.status != status:
                    continue
                found.append(
                    PayoutCandidate(
                        payable_id=facts.payable_id,
                        kind=facts.kind,
                        party_id=facts.party_id,
                        account_id=facts.account_id,
                        amount=facts.open_amount,
                        currency=facts.currency,
                        due_date=facts.due_date,
                        policy_id=facts.policy_id,
                        claim_id=facts.claim_id,
                        rejected_iban=_text(record, "rejected_iban") if status == "rejected" else None,
                        settlement=settlement,
                    )
                )
        return sorted(found, key=lambda c: (c.due_date, c.payable_id))

    def payees(self, party_ids: Sequence[str]) -> dict[str, Payee]:
        """A payee is a party, else a customer (a claim or refund paid to the policyholder)."""
        if not party_ids:
            return {}
        keys = [party_key(p) for p in party_ids] + [customer_key(p) for p in party_ids]
        payees: dict[str, Payee] = {}
        for record in sorted(
            batch_get(self._client, self._table, keys), key=lambda r: r["pk"]["S"].startswith("CUST#")
        ):
            owner = _text(record, "party_id") or _text(record, "customer_id") or ""
            if owner and owner not in payees:
                payees[owner] = Payee(owner, record["name"]["S"], _text(record, "iban"), _text(record, "bic"))
        return payees

    def open_messages(self, run_date: date) -> list[PayoutMessage]:
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :p AND begins_with(sk, :m)",
            "FilterExpression": "written = :no",
            "ExpressionAttributeValues": {
                ":p": _s(f"PORUN#{run_date.isoformat()}"),
                ":m": _s("MSG#"),
                ":no": {"BOOL": False},
            },
            "ConsistentRead": True,
        }
        return [_message(r) for r in paginated(self._client.query, request)]

    def record_message(self, message: PayoutMessage) -> PayoutMessage:
        record = {
            **message_key(message.run_date, message.message_id),
            "entity": _s("payout_message"),
            "message_id": _s(message.message_id),
            "bank_id": _s(message.bank_id),
            "run_date": _s(message.run_date.isoformat()),
            "transfers": {"B": packed(message.transfers)},
            "total": _n(message.total),
            "written": {"BOOL": False},
        }
        try:
            self._client.put_item(TableName=self._table, Item=record, ConditionExpression="attribute_not_exists(pk)")
            return message
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        stored = self.message(message.message_id)
        assert stored is not None
        return stored

    def claim(self, message: PayoutMessage) -> PayoutMessage:
        claimed = []
        for transfer in message.transfers:
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=payable_key(transfer.payable_id),
                    UpdateExpression="SET #s = :scheduled, gsi2pk = :g, message_id = :m, sent_iban = :iban, "
                    "bank_id = :bank, sent_amount = :amount REMOVE bank_status, returned_on",
                    ConditionExpression="(message_id = :m AND #s = :scheduled) OR (open_amount = :amount AND "
                    "(#s = :approved OR (#s = :rejected AND rejected_iban <> :iban)))",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={
                        ":scheduled": _s("scheduled"),
                        ":approved": _s("approved"),
                        ":rejected": _s("rejected"),
                        ":g": _s(payables_partition("scheduled")),
                        ":m": _s(message.message_id),
                        ":iban": _s(transfer.creditor_iban),
                        ":bank": _s(message.bank_id),
                        ":amount": _n(transfer.amount),
                    },
                )
                claimed.append(transfer)
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        return message.model_copy(update={"transfers": tuple(claimed)})

    def mark_sent(self, message: PayoutMessage, file_key: str) -> None:
        for transfer in message.transfers:
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=payable_key(transfer.payable_id),
                    UpdateExpression="SET #s = :sent, gsi2pk = :g, file_key = :f, sent_on = :d",
                    ConditionExpression="message_id = :m AND #s = :scheduled",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={
                        ":sent": _s("sent"),
                        ":scheduled": _s("scheduled"),
                        ":g": _s(payables_partition("sent")),
                        ":m": _s(message.message_id),
                        ":f": _s(file_key),
                        ":d": _s(max(message.run_date, self._clock.today()).isoformat()),
                    },
                )
            except ClientError as error:  # answered by the bank already, or sent by a run that finished first
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        self._client.update_item(
            TableName=self._table,
            Key=message_key(message.run_date, message.message_id),
            UpdateExpression="SET written = :yes, file_key = :f, sent = :n",
            ExpressionAttributeValues={":yes": {"BOOL": True}, ":f": _s(file_key), ":n": _n(len(message.transfers))},
        )

    def message(self, message_id: str) -> PayoutMessage | None:
        run_date = run_date_of(message_id)
        if run_date is None:
            return None
        record = self._client.get_item(
            TableName=self._table, Key=message_key(run_date, message_id), ConsistentRead=True
        ).get("Item")
        return _message(record) if record else None

    def transfer(self, end_to_end_id: str) -> dict[str, Any] | None:
        record = self._payable(end_to_end_id)
        return transfer_view(record) if record is not None else None

    # -- the bank's answers ------------------------------------------------------------------------------------------
    def transfer_states(self, end_to_end_ids: Sequence[str]) -> dict[str, str]:
        ids = sorted({e for e in end_to_end_ids if e})
        if not ids:
            return {}
        found = batch_get(
            self._client,
            self._table,
            [payable_key(i) for i in ids],
            projection="payable_id, #s, message_id",
            names={"#s": "status"},
        )
        return {
            r["payable_id"]["S"]: r["status"]["S"]
            for r in found
            if "message_id" in r and r.get("status", {}).get("S") in TRANSFER_STATES
        }

    def _update(self, payable_id: str, **request: Any) -> bool:
        try:
            self._client.update_item(TableName=self._table, Key=payable_key(payable_id), **request)
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False

    def transfer_rejected(self, payable_id: str, reason: str, source: str) -> bool:
        return self._update(
            payable_id,
            UpdateExpression="SET #s = :rejected, gsi2pk = :g, rejection_reason = :r, rejected_iban = sent_iban, "
            "changed_by = :by",
            ConditionExpression="#s IN (:sent, :scheduled)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":rejected": _s("rejected"),
                ":sent": _s("sent"),
                ":scheduled": _s("scheduled"),
                ":g": _s(payables_partition("rejected")),
                ":r": _s(reason),
                ":by": _s(source),
            },
        )

    def transfer_accepted(self, payable_id: str, source: str) -> bool:
        return self._update(
            payable_id,
            UpdateExpression="SET bank_status = :a, bank_status_file = :f",
            ConditionExpression="#s IN (:sent, :scheduled) AND attribute_not_exists(bank_status)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":a": _s("accepted"),
                ":f": _s(source),
                ":sent": _s("sent"),
                ":scheduled": _s("scheduled"),
            },
        )

    def _payable(self, payable_id: str) -> AttributeMap | None:
        return self._client.get_item(TableName=self._table, Key=payable_key(payable_id), ConsistentRead=True).get(
            "Item"
        )

    def _money_moved(
        self,
        record: AttributeMap,
        *,
        status: str,
        open_amount: Decimal,
        posting: Posting,
        cause: Cause,
        extra: str,
        values: dict[str, Any],
    ) -> bool:
        """The payable's new status and open amount, and the posting that proves it, in one transaction."""
        facts = payable_facts(record)
        entry = JournalEntry(
            entry_id=new_entry_id(),
            account_id=facts.account_id,
            currency=facts.currency,
            business_date=self._clock.today(),
            recorded_at=self._clock.now(),
            operation="transfer_paid" if status == "paid" else "transfer_returned",
            cause=cause,
            postings=(posting,),
        )
        writes = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": payable_key(facts.payable_id),
                    "UpdateExpression": f"SET #s = :new, gsi2pk = :g, open_amount = :open{extra}",
                    "ConditionExpression": "#s = :old AND open_amount = :was",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {
                        ":new": _s(status),
                        ":old": _s(facts.status),
                        ":g": _s(payables_partition(status)),
                        ":open": _n(open_amount),
                        ":was": _n(facts.open_amount),
                        **values,
                    },
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": entry_record(entry),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        try:
            transact_write(self._client, writes)
            return True
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                return False
            raise

    def transfer_paid(self, payable_id: str, amount: Decimal, cause: Cause, booked_on: date) -> str:
        for _ in range(3):
            record = self._payable(payable_id)
            if record is None or "message_id" not in record:
                return "not_sent"
            facts = payable_facts(record)
            if facts.status == "paid":
                return "duplicate"
            if facts.status not in ("sent", "scheduled"):
                return "not_sent"
            if amount != facts.open_amount:
                return "amount_differs"
            posting = Posting(
                kind=PostingKind.PAYABLE_PAID,
                side=Side.ITEM,
                amount=facts.open_amount,
                item_id=payable_id,
                reason=f"transfer {payable_id} debited by the bank on {booked_on.isoformat()}",
            )
            values = {":on": _s(booked_on.isoformat()), ":paid": _n(facts.open_amount)}
            if self._money_moved(
                record,
                status="paid",
                open_amount=Decimal(0),
                posting=posting,
                cause=cause,
                extra=", paid_on = :on, paid_amount = :paid",
                values=values,
            ):
                return "paid"
        return "duplicate"

    def transfer_returned(self, payable_id: str, reason: str, cause: Cause) -> str:
        for _ in range(3):
            record = self._payable(payable_id)
            if record is None or "message_id" not in record:
                return "not_sent"
            facts = payable_facts(record)
            if facts.status in ("sent", "scheduled"):  # back before its debit was booked: nothing was paid
                return (
                    "returned"
                    if self.transfer_rejected(payable_id, f"returned: {reason}", cause.source)
                    else "duplicate"
                )
            if facts.status != "paid":
                return "duplicate"
            paid = Decimal(record.get("paid_amount", {}).get("N", str(facts.amount)))
            posting = Posting(
                kind=PostingKind.PAYABLE_ADJUSTED,
                side=Side.ITEM,
                amount=-paid,
                item_id=payable_id,
                reason=f"transfer {payable_id} returned by the bank: {reason}",
            )
            values = {":why": _s(f"returned: {reason}"), ":on": _s(self._clock.today().isoformat())}
            if self._money_moved(
                record,
                status="rejected",
                open_amount=paid,
                posting=posting,
                cause=cause,
                extra=", rejection_reason = :why, rejected_iban = sent_iban, returned_on = :on",
                values=values,
            ):
                return "returned"
        return "duplicate"

    # -- debits none of our transfers explains -----------------------------------------------------------------
    def record_unmatched_debit(self, debit: UnmatchedDebit) -> bool:
        day = (debit.booked_on or self._clock.today()).isoformat()
        record: AttributeMap = {
            **key(f"DEBIT#{debit.payment_id}", "DEBIT"),
            "entity": _s("unmatched_debit"),
            "payment_id": _s(debit.payment_id),
            "bank_id": _s(debit.bank_id),
            "source_file": _s(debit.source_file),
            "position": _s(debit.position),
            "amount": _n(debit.amount),
            "currency": _s(debit.currency),
            "booked_on": _s(day),
            "remittance": _s(debit.remittance),
            "gsi2pk": _s("DEBITS#open"),
            "gsi2sk": _s(f"{day}#{debit.payment_id}"),
        }
        for name, value in (("end_to_end_id", debit.end_to_end_id), ("bank_reference", debit.bank_reference)):
            if value:
                record[name] = _s(value)
        try:
            self._client.put_item(TableName=self._table, Item=record, ConditionExpression="attribute_not_exists(pk)")
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False

    def unmatched_debits(self) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "next_action",
            "KeyConditionExpression": "gsi2pk = :p",
            "ExpressionAttributeValues": {":p": _s("DEBITS#open")},
        }
        keys = [{"pk": r["pk"], "sk": r["sk"]} for r in paginated(self._client.query, request)]
        found = batch_get(self._client, self._table, keys) if keys else []
        return sorted(
            (
                {
                    "payment_id": r["payment_id"]["S"],
                    "bank_id": r["bank_id"]["S"],
                    "file": r["source_file"]["S"],
                    "position": r["position"]["S"],
                    "amount": Decimal(r["amount"]["N"]),
                    "currency": r["currency"]["S"],
                    "booked_on": r["booked_on"]["S"],
                    "end_to_end_id": _text(r, "end_to_end_id"),
                    "remittance": _text(r, "remittance") or "",
                }
                for r in found
            ),
            key=lambda d: (d["booked_on"], d["payment_id"]),
        )
