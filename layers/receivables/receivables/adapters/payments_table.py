"""Payments in the ledger table: an account's money loaded as an AccountLedger, and each operation step written
back in one transaction with its journal entry, guarded by the old amounts of the items it changes, the revision of
each payment and (when its credit moves) the account's version (docs/payments.md).

Records: ``PAY#<payment_id>`` (the payment: what it paid now, its pending operation, the keys of its journal
entries), ``REF#<bank_id>#<reference>`` (end-to-end id or bank reference → payment, for reversals), on the account
record ``version`` and ``credit_payments`` (payment id → unapplied amount), and the journal (adapters/journal_table).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from botocore.exceptions import ClientError

from receivables.adapters.attributes import text as _text
from receivables.adapters.dynamodb_batches import AttributeMap, batch_get, paginated
from receivables.adapters.journal_table import JournalReader, entry_record, entry_ref
from receivables.adapters.keys import (
    account_key,
    collection_key,
    customer_key,
    customer_partition,
    iban_partition,
    item_key,
    key,
    payment_key,
    policy_key,
    reference_key,
    remittance_partition,
)
from receivables.adapters.ledger_table import account_item_entries
from receivables.domain.iban import normalise_iban
from receivables.domain.journal import JournalEntry, PostingKind, Side
from receivables.domain.money import format_money
from receivables.domain.outbox import Event
from receivables.domain.text import fold
from receivables.dunning.records import HoldRecord
from receivables.payments.account_ledger import AccountLedger, ItemState, PaymentState, PendingOperation
from receivables.payments.allocation import FIFO, AllocationPolicy
from receivables.payments.matching import AccountRef, ItemRef, PolicyRef
from receivables.payments.operations import StepWrite
from receivables.payments.ports import (
    AllocationRecord,
    ConcurrentUpdateError,
    ItemUpdate,
    LoadedAccount,
    PaymentFacts,
    PaymentRecord,
    ReturnedPart,
    Tender,
    snapshot,
)

POLICY_KEY = {"pk": {"S": "CONFIG#allocation"}, "sk": {"S": "CURRENT"}}
_POLICY_PREFIX = "policy:"


class PolicySource(Protocol):
    def policy_for(self, account_type: str) -> AllocationPolicy: ...


class DefaultPolicies:
    def policy_for(self, account_type: str) -> AllocationPolicy:
        return FIFO


class AllocationPolicyTable:
    """Allocation policies per account type, stored as configuration (``CONFIG#allocation``); FIFO for a type with
    none. Read at most once a minute per warm function, so a change through the API applies within a minute."""

    TTL_SECONDS = 60.0

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name
        self._cached: tuple[float, dict[str, AllocationPolicy], int, str | None] | None = None

    def policies(self) -> tuple[dict[str, AllocationPolicy], int]:
        policies, version, _ = self.policies_with_author()
        return policies, version

    def policies_with_author(self) -> tuple[dict[str, AllocationPolicy], int, str | None]:
        """The policies, their version and who set that version (None: never changed)."""
        if self._cached is None or time.monotonic() - self._cached[0] > self.TTL_SECONDS:
            record = self._client.get_item(TableName=self._table, Key=POLICY_KEY, ConsistentRead=True).get("Item")
            policies = {
                name.removeprefix(_POLICY_PREFIX): AllocationPolicy.model_validate_json(value["S"])
                for name, value in (record or {}).items()
                if name.startswith(_POLICY_PREFIX)
            }
            version = int(record["version"]["N"]) if record else 0
            changed_by = record["changed_by"]["S"] if record and "changed_by" in record else None
            self._cached = (time.monotonic(), policies, version, changed_by)
        return self._cached[1], self._cached[2], self._cached[3]

    def policy_for(self, account_type: str) -> AllocationPolicy:
        return self.policies()[0].get(account_type, FIFO)

    def put(self, account_type: str, policy: AllocationPolicy, *, changed_by: str) -> int:
        """Set the policy of one account type; the configuration's version goes up by one, recording who set it."""
        _, version = self.policies()
        self._cached = None
        try:
            # One attribute per account type, so one conditional update sets a policy and the version together.
            self._client.update_item(
                TableName=self._table,
                Key=POLICY_KEY,
                UpdateExpression="SET #policy = :policy, version = :next, changed_by = :by",
                ConditionExpression="attribute_not_exists(version) OR version = :read",
                ExpressionAttributeNames={"#policy": _POLICY_PREFIX + account_type},
                ExpressionAttributeValues={
                    ":policy": {"S": policy.model_dump_json()},
                    ":next": {"N": str(version + 1)},
                    ":read": {"N": str(version)},
                    ":by": {"S": changed_by},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConcurrentUpdateError("allocation policies changed meanwhile; read them again") from error
            raise
        return version + 1


# A step's writes besides its items: the payment(s), the account, one or two journal entries; DynamoDB allows 100.
DEFAULT_ITEMS_PER_STEP = 50


def _n(value: Decimal) -> dict[str, str]:
    return {"N": format_money(value)}


def _attribute(value: str | Decimal | dict[str, Decimal]) -> dict[str, Any]:
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, Decimal):
        return _n(value)
    return {"M": {k: _n(v) for k, v in value.items()}}


def _strings(values: Iterable[str]) -> dict[str, Any]:
    return {"L": [{"S": v} for v in values]}


def _held(account: AttributeMap, on: date) -> tuple[set[str], set[str]]:
    """Items and subscriptions under a hold in force on ``on`` (dunning's mirror on the account record, judged by
    dunning's one rule, ``HoldRecord.active_on``): allocation policies with the ``not_held`` filter leave their money
    alone."""
    items, subscriptions = set(), set()
    for value in account.get("holds", {}).get("M", {}).values():
        hold = HoldRecord.model_validate_json(value["S"])
        if not hold.active_on(on):
            continue
        if hold.level == "item":
            items.add(hold.target_id)
        elif hold.level == "subscription":
            subscriptions.add(hold.target_id)
    return items, subscriptions


# -- the payment record's codec: the only place that knows its attributes -------------------------------------------
def payment_from_record(r: AttributeMap) -> PaymentRecord:
    def strings(name: str) -> tuple[str, ...]:
        return tuple(v["S"] for v in r.get(name, {}).get("L", []))

    return PaymentRecord(
        payment_id=r["payment_id"]["S"],
        amount=Decimal(r["amount"]["N"]),
        currency=r["currency"]["S"],
        value_date=date.fromisoformat(r["value_date"]["S"]),
        unapplied=Decimal(r["unapplied_amount"]["N"]),
        status=r["status"]["S"],
        account_id=_text(r, "account_id"),
        allocations=tuple(
            AllocationRecord(
                a["M"]["item_id"]["S"], Decimal(a["M"]["amount"]["N"]), a["M"].get("reason", {}).get("S", "")
            )
            for a in r.get("allocations", {}).get("L", [])
        ),
        held=r.get("held", {}).get("BOOL", False),
        pending=PendingOperation.model_validate_json(r["pending"]["S"]) if "pending" in r else None,
        revision=int(r.get("revision", {}).get("N", "0")),
        received_on=date.fromisoformat(r["received_on"]["S"]) if "received_on" in r else None,
        bank_id=_text(r, "bank_id"),
        bank_reference=_text(r, "bank_reference"),
        end_to_end_id=_text(r, "end_to_end_id"),
        debtor_iban=_text(r, "debtor_iban"),
        source_file=_text(r, "source_file"),
        position=_text(r, "position"),
        match_method=_text(r, "match_method"),
        match_reason=_text(r, "match_reason"),
        tenders=tuple(_tender(t["M"]) for t in r.get("tenders", {}).get("L", [])),
        returned=tuple(
            ReturnedPart(
                t["M"]["part"]["S"],
                Decimal(t["M"]["amount"]["N"]),
                t["M"]["reason"]["S"],
                date.fromisoformat(t["M"]["on"]["S"]) if "on" in t["M"] else None,
            )
            for t in r.get("returned", {}).get("L", [])
        ),
        reversal_reason=_text(r, "reversal_reason"),
        first_account=_text(r, "first_account"),
        notes=strings("notes"),
        outgoing=r.get("outgoing", {}).get("BOOL", False),
        manual=strings("manual"),
        journal=strings("journal"),
    )


def _tender(m: AttributeMap) -> Tender:
    maturity = _text(m, "maturity_date")
    return Tender(
        m["type"]["S"],
        Decimal(m["amount"]["N"]),
        _text(m, "reference"),
        date.fromisoformat(maturity) if maturity else None,
        _text(m, "drawer"),
    )


def _tender_map(t: Tender) -> AttributeMap:
    optional = {
        "reference": t.reference,
        "maturity_date": t.maturity_date.isoformat() if t.maturity_date else None,
        "drawer": t.drawer,
    }
    return {
        "M": {
            "type": {"S": t.type},
            "amount": _n(t.amount),
            **{name: {"S": value} for name, value in optional.items() if value is not None},
        }
    }


def payment_item(p: PaymentRecord) -> AttributeMap:
    record: AttributeMap = {
        **payment_key(p.payment_id),
        "entity": {"S": "payment"},
        "payment_id": {"S": p.payment_id},
        "amount": _n(p.amount),
        "currency": {"S": p.currency},
        "value_date": {"S": p.value_date.isoformat()},
        "unapplied_amount": _n(p.unapplied),
        "status": {"S": p.status},
        "held": {"BOOL": p.held},
        "revision": {"N": str(p.revision)},
        "allocations": {
            "L": [
                {"M": {"item_id": {"S": a.item_id}, "amount": _n(a.amount), "reason": {"S": a.reason}}}
                for a in p.allocations
            ]
        },
    }
    optional = {
        "account_id": p.account_id,
        "bank_id": p.bank_id,
        "bank_reference": p.bank_reference,
        "end_to_end_id": p.end_to_end_id,
        "debtor_iban": p.debtor_iban,
        "source_file": p.source_file,
        "position": p.position,
        "match_method": p.match_method,
        "match_reason": p.match_reason,
        "reversal_reason": p.reversal_reason,
        "first_account": p.first_account,
        "received_on": p.received_on.isoformat() if p.received_on else None,
        "pending": p.pending.model_dump_json() if p.pending else None,
    }
    record |= {name: {"S": value} for name, value in optional.items() if value is not None}
    if p.tenders:
        record["tenders"] = {"L": [_tender_map(t) for t in p.tenders]}
    if p.returned:
        record["returned"] = {
            "L": [
                {
                    "M": {
                        "part": {"S": r.part},
                        "amount": _n(r.amount),
                        "reason": {"S": r.reason},
                        **({"on": {"S": r.on.isoformat()}} if r.on else {}),
                    }
                }
                for r in p.returned
            ]
        }
    for name, values in (("notes", p.notes), ("manual", p.manual), ("journal", p.journal)):
        if values:
            record[name] = _strings(values)
    if p.outgoing:
        record["outgoing"] = {"BOOL": True}
    if p.account_id is None:  # waiting for a person: listed in the suspense partition, oldest first
        record |= {"gsi2pk": {"S": "SUSPENSE"}, "gsi2sk": {"S": f"{p.value_date.isoformat()}#{p.payment_id}"}}
    return record


def with_facts(record: PaymentRecord, facts: PaymentFacts) -> PaymentRecord:
    """What the bank (or the till) said of a payment, on its record."""
    return replace(
        record,
        bank_id=facts.bank_id,
        bank_reference=facts.bank_reference,
        end_to_end_id=facts.end_to_end_id,
        debtor_iban=facts.debtor_iban,
        source_file=facts.source_file,
        position=facts.position,
        match_method=facts.match_method,
        match_reason=facts.match_reason,
        tenders=facts.tenders,
        first_account=facts.first_account,
        notes=facts.notes,
        outgoing=facts.outgoing,
    )


def _returned_parts(
    payment: PaymentState, stored: PaymentRecord, reason: str, today: date | None
) -> tuple[ReturnedPart, ...]:
    """The parts returned so far: those already recorded keep their reason and date, a new one takes the step's."""
    kept = {r.part: r for r in stored.returned}
    return tuple(
        kept.get(part) or ReturnedPart(part, amount, reason, today) for part, amount in payment.returned.items()
    )


def _step_reasons(entries: Iterable[JournalEntry]) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """Per (payment, item), the reason of the step's last allocation; per payment, why it (or a part of it) was
    returned."""
    allocations: dict[tuple[str, str], str] = {}
    returned: dict[str, str] = {}
    for entry in entries:
        for posting in entry.postings:
            if posting.side is Side.ITEM and posting.payment_id and posting.item_id and posting.amount < 0:
                allocations[(posting.payment_id, posting.item_id)] = posting.reason
            elif posting.kind in (PostingKind.PAYMENT_RETURNED, PostingKind.PART_RETURNED) and posting.payment_id:
                returned[posting.payment_id] = posting.reason
    return allocations, returned


class PaymentsTable:
    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        policies: PolicySource | None = None,
        items_per_step: int = DEFAULT_ITEMS_PER_STEP,
    ) -> None:
        self._client = client
        self._table = table_name
        self._policies = policies or DefaultPolicies()
        self._items_per_step = items_per_step
        self._journal = JournalReader(client, table_name)

    @property
    def items_per_step(self) -> int:
        return self._items_per_step

    # -- reads ---------------------------------------------------------------------------------------------------
    def payment_exists(self, payment_id: str) -> bool:
        response = self._client.get_item(TableName=self._table, Key=payment_key(payment_id), ProjectionExpression="pk")
        return "Item" in response

    def payment_by_reference(self, bank_id: str, reference: str) -> PaymentRecord | None:
        """The payment a reversal refers to, by its end-to-end id or bank reference."""
        pointer = self._client.get_item(TableName=self._table, Key=reference_key(bank_id, reference)).get("Item")
        if pointer is None:
            return None
        return self.get_payment(pointer["payment_id"]["S"])

    def get_payment(self, payment_id: str) -> PaymentRecord | None:
        record = self._client.get_item(TableName=self._table, Key=payment_key(payment_id), ConsistentRead=True).get(
            "Item"
        )
        return payment_from_record(record) if record else None

    def suspense(self, limit: int) -> list[PaymentRecord]:
        """Payments waiting for a person, oldest first (a sparse partition of the next-action index)."""
        keys: list[AttributeMap] = []
        for r in paginated(
            self._client.query,
            {
                "TableName": self._table,
                "IndexName": "next_action",
                "KeyConditionExpression": "gsi2pk = :s",
                "ExpressionAttributeValues": {":s": {"S": "SUSPENSE"}},
                "Limit": min(limit, 1000),
            },
        ):
            keys.append({"pk": r["pk"], "sk": r["sk"]})
            if len(keys) == limit:
                break
        found = {r["payment_id"]["S"]: r for r in batch_get(self._client, self._table, keys)}
        ids = [k["pk"]["S"].removeprefix("PAY#") for k in keys]
        return [payment_from_record(found[i]) for i in ids if i in found]

    def journal_entries(self, refs: Iterable[str]) -> list[JournalEntry]:
        return self._journal.entries(refs)

    def load(self, account_id: str, *, on: date, include_payments: Iterable[str] = ()) -> LoadedAccount | None:
        """The account's money; ``on``: the business date whose holds count (the ``not_held`` filter)."""
        account = self._client.get_item(TableName=self._table, Key=account_key(account_id), ConsistentRead=True).get(
            "Item"
        )
        if account is None:
            return None
        item_keys = [
            item_key(r["pk"]["S"].removeprefix("ITEM#"))
            for r in account_item_entries(self._client, self._table, account_id)
        ]
        held_items, held_subscriptions = _held(account, on)
        items = [
            ItemState(
                item_id=r["item_id"]["S"],
                kind=r.get("kind", {}).get("S", "invoice"),
                issue_date=date.fromisoformat(r["issue_date"]["S"]),
                due_date=date.fromisoformat(r["due_date"]["S"]),
                amount=Decimal(r["amount"]["N"]),
                open_amount=Decimal(r["open_amount"]["N"]),
                currency=r["currency"]["S"],
                held=r["item_id"]["S"] in held_items or r.get("subscription_id", {}).get("S") in held_subscriptions,
            )
            for r in batch_get(self._client, self._table, item_keys)
        ]
        credit = account.get("credit_payments", {}).get("M", {})
        wanted = [payment_key(p) for p in {*credit, *include_payments}]
        records = [payment_from_record(r) for r in (batch_get(self._client, self._table, wanted) if wanted else [])]
        # A payment named by the caller but not (yet) on this account — one waiting in suspense — is loaded for its
        # facts only; the operation brings it onto the ledger.
        payments = [r.state() for r in records if r.account_id == account_id]
        policy = self._policies.policy_for(account.get("account_type", {}).get("S", "standard"))
        ledger = AccountLedger(account_id, account["currency"]["S"], items=items, payments=payments, policy=policy)
        return LoadedAccount(
            ledger=ledger,
            version=int(account.get("version", {}).get("N", "0")),
            open_at_load={i.item_id: i.open_amount for i in items},
            payments_at_load={p.payment_id: snapshot(p) for p in payments},
            records={r.payment_id: r for r in records},
        )

    # -- writes --------------------------------------------------------------------------------------------------
    def save(self, write: StepWrite) -> None:  # noqa: C901 (listed in pyproject: to split by record kind)
        """One step, all or nothing: changed items, changed payments, the account's credit, the journal entries
        (with the step's events). On success ``write.loaded`` is brought up to what was committed."""
        loaded, ledger = write.loaded, write.loaded.ledger
        today = write.entries[-1].business_date if write.entries else None
        refs_of_item: dict[str, list[str]] = {}
        refs_of_payment: dict[str, list[str]] = {}
        for entry in write.entries:
            ref = entry_ref(entry)
            for posting in entry.postings:
                if posting.side is Side.ITEM and posting.item_id:
                    refs_of_item.setdefault(posting.item_id, [])
                    if ref not in refs_of_item[posting.item_id]:
                        refs_of_item[posting.item_id].append(ref)
                if posting.payment_id:
                    refs_of_payment.setdefault(posting.payment_id, [])
                    if ref not in refs_of_payment[posting.payment_id]:
                        refs_of_payment[posting.payment_id].append(ref)
        writes: list[dict[str, Any]] = []
        for item in ledger.items.values():
            before = loaded.open_at_load.get(item.item_id)
            update = write.item_updates.get(item.item_id)
            if before is None or (before == item.open_amount and item.item_id not in refs_of_item and not update):
                continue
            writes.append(self._item_update(item.item_id, before, item.open_amount, refs_of_item, update))
        for attachment in write.attachments:
            writes += attachment.transaction_items(self._table)
        reasons, returned = _step_reasons(write.entries)
        written: dict[str, PaymentRecord] = {}
        for payment in ledger.payments.values():
            is_new = write.new_payment is not None and payment.payment_id == write.new_payment.payment_id
            changed = loaded.payments_at_load.get(payment.payment_id) != snapshot(payment)
            if not (is_new or changed or payment.payment_id in refs_of_payment):
                continue
            stored = loaded.records.get(payment.payment_id)
            record = self._next_record(
                payment, ledger.account_id, stored, write, reasons, returned, refs_of_payment, today
            )
            written[payment.payment_id] = record
            put: dict[str, Any] = {"TableName": self._table, "Item": payment_item(record)}
            if stored is None:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            elif payment.payment_id == write.assigned_payment:  # out of suspense: only if nobody assigned it meanwhile
                put["ConditionExpression"] = "attribute_not_exists(account_id) AND revision = :r"
                put["ExpressionAttributeValues"] = {":r": {"N": str(stored.revision)}}
            else:  # nobody else moved this payment since it was read
                put["ConditionExpression"] = "revision = :r" if stored.revision else "attribute_not_exists(revision)"
                if stored.revision:
                    put["ExpressionAttributeValues"] = {":r": {"N": str(stored.revision)}}
            writes.append({"Put": put})
        credit = {p.payment_id: _n(p.unapplied) for p in ledger.payments.values() if p.unapplied > 0 and not p.reversed}
        credit_at_load = {
            pid: _n(unapplied)
            for pid, (_, unapplied, gone, _held_by_person, _pending, _returned) in loaded.payments_at_load.items()
            if unapplied > 0 and not gone
        }
        # The account record holds only the credit map; items are guarded by their own old amounts. A payment that
        # leaves no credit need not touch (or lock) the account: two units saved per payment, no false conflicts.
        account_changed = credit != credit_at_load or write.assigned_payment is not None
        if account_changed:
            writes.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": account_key(ledger.account_id),
                        "UpdateExpression": "SET credit_payments = :credit, unapplied_credit = :total, version = :next",
                        # The version guards the credit map: a writer that read an older one lost, and redoes its work.
                        "ConditionExpression": "version = :current"
                        if loaded.version
                        else "attribute_not_exists(version)",
                        "ExpressionAttributeValues": {
                            ":credit": {"M": credit},
                            ":total": _n(ledger.unapplied_credit),
                            ":next": {"N": str(loaded.version + 1)},
                            **({":current": {"N": str(loaded.version)}} if loaded.version else {}),
                        },
                    }
                }
            )
        events = list(write.events)
        for n, entry in enumerate(write.entries):
            last = n == len(write.entries) - 1
            writes.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": entry_record(entry, events if last else ()),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        if events and not write.entries:
            raise ValueError("a step with events needs a journal entry to carry them")
        if not writes:
            return
        self._transact(writes, ledger.account_id)
        # Committed: the loaded account now is what is stored.
        for item in ledger.items.values():
            if item.item_id in loaded.open_at_load or item.item_id in write.new_items:
                loaded.open_at_load[item.item_id] = item.open_amount
        for payment in ledger.payments.values():
            loaded.payments_at_load[payment.payment_id] = snapshot(payment)
        loaded.records.update(written)
        if account_changed:
            loaded.version += 1
        if write.new_payment is not None:
            self.ensure_references(write.new_payment)

    def _item_update(
        self,
        item_id: str,
        before: Decimal,
        after: Decimal,
        refs_of_item: dict[str, list[str]],
        update: ItemUpdate | None,
    ) -> dict[str, Any]:
        """The item's conditional update: its open amount and journal references, and what an operation sets beside
        them (guarded by the amount it read, when the amount changes)."""
        sets = ["open_amount = :new", "journal = list_append(if_not_exists(journal, :none), :refs)"]
        removes: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {
            ":new": _n(after),
            ":old": _n(before),
            ":none": {"L": []},
            ":refs": _strings(refs_of_item.get(item_id, [])),
        }
        condition = "open_amount = :old"
        if update is not None:
            if update.amount is not None:
                sets += ["posted_amount = if_not_exists(posted_amount, amount)", "amount = :amount"]
                values[":amount"] = _n(update.amount)
            for n, (name, value) in enumerate(sorted(update.attributes.items())):
                names[f"#a{n}"] = name
                if value is None:
                    removes.append(f"#a{n}")
                else:
                    sets.append(f"#a{n} = :a{n}")
                    values[f":a{n}"] = _attribute(value)
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": item_key(item_id),
            "UpdateExpression": "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""),
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if names:
            request["ExpressionAttributeNames"] = names
        return {"Update": request}

    def _next_record(
        self,
        payment: PaymentState,
        account_id: str,
        stored: PaymentRecord | None,
        write: StepWrite,
        reasons: dict[tuple[str, str], str],
        returned: dict[str, str],
        refs: dict[str, list[str]],
        today: date | None,
    ) -> PaymentRecord:
        kept = {a.item_id: a.reason for a in stored.allocations} if stored else {}
        base = stored or PaymentRecord(
            payment_id=payment.payment_id,
            amount=payment.amount,
            currency=payment.currency,
            value_date=payment.value_date,
            unapplied=payment.unapplied,
            status=payment.status.value,
            received_on=today,
        )
        if write.new_payment is not None and write.new_payment.payment_id == payment.payment_id:
            base = with_facts(base, write.new_payment)
        return replace(
            base,
            account_id=account_id,
            unapplied=payment.unapplied,
            status=payment.status.value,
            held=payment.held,
            pending=payment.pending,
            revision=base.revision + 1,
            allocations=tuple(
                AllocationRecord(item_id, amount, reasons.get((payment.payment_id, item_id), kept.get(item_id, "")))
                for item_id, amount in sorted(payment.allocations.items())
            ),
            # Only the payment the bank returned carries the reason; others the step touched keep theirs.
            reversal_reason=returned.get(payment.payment_id, base.reversal_reason) if payment.reversed else None,
            returned=_returned_parts(payment, base, returned.get(payment.payment_id, ""), today),
            journal=base.journal + tuple(refs.get(payment.payment_id, [])),
        )

    def _transact(self, writes: list[dict[str, Any]], account_id: str) -> None:
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("TransactionCanceledException", "TransactionConflictException"):
                raise ConcurrentUpdateError(f"account {account_id} changed meanwhile") from error
            raise

    def ensure_references(self, facts: PaymentFacts) -> None:
        """Where a reversal will look the payment up: by end-to-end id and bank reference, or (for a payment
        without an end-to-end id) by its content. Plain idempotent puts after the payment (half the cost of
        putting them in its transaction); a message redelivered after a crash in between writes them again."""
        for reference in dict.fromkeys(r for r in (facts.end_to_end_id, facts.bank_reference) if r):
            self._client.put_item(
                TableName=self._table,
                Item={**reference_key(facts.bank_id, reference), "payment_id": {"S": facts.payment_id}},
            )
        if facts.content_reference:
            # One entry per payment under the content key: equal payments (same amount and text every month) stay
            # distinguishable, and a return that fits several is left for a person rather than guessed.
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": remittance_partition(facts.content_reference)},
                    "sk": {"S": f"PAY#{facts.payment_id}"},
                    "payment_id": {"S": facts.payment_id},
                },
            )

    def payments_by_content(self, content_reference: str) -> list[PaymentRecord]:
        pointers = paginated(
            self._client.query,
            {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": remittance_partition(content_reference)}},
            },
        )
        keys = [payment_key(p["payment_id"]["S"]) for p in pointers]
        return [payment_from_record(r) for r in batch_get(self._client, self._table, keys)]

    def save_unmatched(
        self,
        facts: PaymentFacts,
        amount: Decimal,
        currency: str,
        value_date: date,
        entry: JournalEntry,
        events: Sequence[Event] = (),
    ) -> bool:
        """A payment no account could take: kept whole, with the reason, for a person — and posted to the
        suspense account's journal in the same transaction. False when it was already there."""
        record = with_facts(
            PaymentRecord(
                payment_id=facts.payment_id,
                amount=amount,
                currency=currency,
                value_date=value_date,
                unapplied=amount,
                status="unapplied",
                received_on=entry.business_date,
                revision=1,
                journal=(entry_ref(entry),),
            ),
            facts,
        )
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": payment_item(record),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": entry_record(entry, list(events)),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException" and self.payment_exists(
                facts.payment_id
            ):
                self.ensure_references(facts)
                return False
            raise
        self.ensure_references(facts)
        return True


class PayerDirectoryTable:
    """Payer matching's lookups. Ids are stored as billing sent them; a reference typed in other case is found by
    also trying its upper- and lower-case forms."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    @staticmethod
    def _variants(candidate: str) -> list[str]:
        return list(dict.fromkeys((candidate, candidate.upper(), candidate.lower(), fold(candidate).upper())))

    def _lookup(self, candidates: Sequence[str], key: Any, id_attribute: str) -> dict[str, tuple[str, AttributeMap]]:
        """Each candidate's stored record (under whichever case variant exists), with the id as stored."""
        keys = [key(v) for c in candidates for v in self._variants(c)]
        found = {r[id_attribute]["S"]: r for r in batch_get(self._client, self._table, keys)}
        result = {}
        for candidate in candidates:
            variant = next((v for v in self._variants(candidate) if v in found), None)
            if variant is not None:
                result[candidate] = (variant, found[variant])
        return result

    def open_items(self, candidates: Sequence[str]) -> dict[str, ItemRef]:
        return {
            candidate: ItemRef(item_id=item_id, account_id=r["account_id"]["S"], currency=r["currency"]["S"])
            for candidate, (item_id, r) in self._lookup(candidates, item_key, "item_id").items()
            if Decimal(r["open_amount"]["N"]) > 0
        }

    def accounts(self, candidates: Sequence[str]) -> dict[str, AccountRef]:
        return {
            candidate: AccountRef(account_id=account_id, customer_id=r["customer_id"]["S"], currency=r["currency"]["S"])
            for candidate, (account_id, r) in self._lookup(candidates, account_key, "account_id").items()
        }

    def policies(self, candidates: Sequence[str]) -> dict[str, PolicyRef]:
        found = self._lookup(candidates, policy_key, "policy_id")
        installments = {
            r["item_id"]["S"]: r
            for r in batch_get(
                self._client,
                self._table,
                [item_key(v["S"]) for _, r in found.values() for v in r.get("installment_ids", {}).get("L", [])],
                projection="item_id, open_amount, due_date",
            )
        }
        policies = {}
        for candidate, (policy_id, r) in found.items():
            ids = [v["S"] for v in r.get("installment_ids", {}).get("L", [])]
            open_ids = sorted(
                (i for i in ids if i in installments and Decimal(installments[i]["open_amount"]["N"]) > 0),
                key=lambda i: (installments[i]["due_date"]["S"], i),
            )
            policies[candidate] = PolicyRef(
                policy_id=policy_id,
                account_id=r["account_id"]["S"],
                currency=r["currency"]["S"],
                open_items=tuple(open_ids),
                status=r["status"]["S"],
            )
        return policies

    def statements(self, candidates: Sequence[str]) -> dict[str, PolicyRef]:
        found = self._lookup(candidates, lambda s: key(f"STMT#{s}", "STATEMENT"), "statement_id")
        refs = {}
        for candidate, (statement_id, r) in found.items():
            ids = [line["item_id"] for line in json.loads(r["lines"]["S"])]
            items = {
                i["item_id"]["S"]: i
                for i in batch_get(
                    self._client, self._table, [item_key(x) for x in ids], projection="item_id, open_amount"
                )
            }
            refs[candidate] = PolicyRef(
                policy_id=statement_id,
                account_id=r["account_id"]["S"],
                currency=r["currency"]["S"],
                open_items=tuple(i for i in ids if i in items and Decimal(items[i]["open_amount"]["N"]) > 0),
                status="statement",
            )
        return refs

    def collected_item(self, end_to_end_id: str) -> ItemRef | None:
        record = self._client.get_item(TableName=self._table, Key=collection_key(end_to_end_id)).get("Item")
        if record is None:
            return None
        return ItemRef(
            item_id=record["item_id"]["S"], account_id=record["account_id"]["S"], currency=record["currency"]["S"]
        )

    def accounts_of_iban(self, iban: str) -> list[AccountRef]:
        compact = normalise_iban(iban)
        # Every page: a shared IBAN (a company's, a family's) can name more customers than one page holds.
        pointers = paginated(
            self._client.query,
            {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": iban_partition(compact)}},
            },
        )
        customers = [r["customer_id"]["S"] for r in pointers]
        current = batch_get(
            self._client,
            self._table,
            [customer_key(c) for c in customers],
            projection="customer_id, iban",
        )
        owners = [r["customer_id"]["S"] for r in current if r.get("iban", {}).get("S") == compact]
        accounts: list[AccountRef] = []
        for customer_id in owners:
            request = {
                "TableName": self._table,
                "IndexName": "by_account",
                "KeyConditionExpression": "gsi1pk = :p AND begins_with(gsi1sk, :a)",
                "ExpressionAttributeValues": {":p": {"S": customer_partition(customer_id)}, ":a": {"S": "ACCT#"}},
            }
            ids = [r["gsi1sk"]["S"].removeprefix("ACCT#") for r in paginated(self._client.query, request)]
            for r in batch_get(self._client, self._table, [account_key(a) for a in ids]):
                accounts.append(
                    AccountRef(account_id=r["account_id"]["S"], customer_id=customer_id, currency=r["currency"]["S"])
                )
        return accounts
