"""What people do with payments through the API: look at the suspense list, allocate or take back money by hand,
and enter a counter receipt paid with several tenders. Every change goes through the same account ledger and the
same versioned write as bank payments."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from receivables.domain.clock import Clock
from receivables.loading.ports import EventPublisher
from receivables.payments.account_ledger import LedgerRuleError, PaymentState
from receivables.payments.matching import MatchMethod
from receivables.payments.ports import LoadedAccount, PaymentFacts, PaymentStore
from receivables.payments.service import apply_to_account


class UnknownPaymentError(LookupError):
    pass


class ReceiptConflictError(ValueError):
    """A receipt id already used for a different receipt."""


def receipt_payment_id(receipt_id: str) -> str:
    return "R" + hashlib.sha256(receipt_id.encode()).hexdigest()[:23]


class ManualPayments:
    def __init__(self, *, store: PaymentStore, events: EventPublisher, clock: Clock) -> None:
        self._store = store
        self._events = events
        self._clock = clock

    def payment(self, payment_id: str) -> dict[str, Any]:
        record = self._store.get_payment(payment_id)
        if record is None:
            raise UnknownPaymentError(f"payment {payment_id} not found")
        return record

    def suspense(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._store.suspense(limit)

    def allocate(
        self, payment_id: str, allocations: Sequence[tuple[str, Decimal]], *, account_id: str | None, note: str
    ) -> dict[str, Any]:
        """Allocate by hand; a payment in suspense is first assigned to ``account_id``. Over-allocation is refused."""
        record = self.payment(payment_id)
        if record["status"]["S"] == "reversed":
            raise LedgerRuleError(f"payment {payment_id} was reversed; nothing to allocate")
        current = record.get("account_id", {}).get("S")
        if current and account_id and account_id != current:
            raise LedgerRuleError(f"payment {payment_id} is on account {current}, not {account_id}")
        target = current or account_id
        if target is None:
            raise LedgerRuleError(f"payment {payment_id} is unmatched: name the account_id to assign it to")

        def allocate(loaded: LoadedAccount) -> dict[tuple[str, str], str]:
            ledger = loaded.ledger
            if not current:
                if record["currency"]["S"] != ledger.currency:
                    raise LedgerRuleError(
                        f"payment {payment_id} is in {record['currency']['S']}; account {target} in {ledger.currency}"
                    )
                amount = Decimal(record["amount"]["N"])
                ledger.payments[payment_id] = PaymentState(
                    payment_id,
                    amount,
                    record["currency"]["S"],
                    date.fromisoformat(record["value_date"]["S"]),
                    unapplied=amount,
                )
            postings = [ledger.allocate_manually(payment_id, item_id, amount, note) for item_id, amount in allocations]
            return {(p.payment_id, p.item_id or ""): p.reason for p in postings}

        apply_to_account(
            self._store,
            self._clock,
            target,
            allocate,
            include=(payment_id,) if current else (),
            assigned_payment=None if current else payment_id,
        )
        self._events.publish(
            "PaymentAllocatedManually",
            {"payment_id": payment_id, "account_id": target, "allocations": {i: str(a) for i, a in allocations}},
        )
        return self.payment(payment_id)

    def unallocate(self, payment_id: str, item_id: str, *, note: str) -> dict[str, Any]:
        """Take back what a payment gave an item; the money stays on the account as the payment's credit."""
        record = self.payment(payment_id)
        account_id = record.get("account_id", {}).get("S")
        if account_id is None:
            raise LedgerRuleError(f"payment {payment_id} is unmatched; it has no allocations")

        def unallocate(loaded: LoadedAccount) -> dict[tuple[str, str], str]:
            amount = loaded.ledger.payments[payment_id].allocations.get(item_id)
            if amount is None:
                raise LedgerRuleError(f"payment {payment_id} gave nothing to item {item_id}")
            loaded.ledger.unallocate(payment_id, item_id, amount, note)
            return {}

        apply_to_account(self._store, self._clock, account_id, unallocate, include=(payment_id,))
        self._events.publish(
            "PaymentUnallocated", {"payment_id": payment_id, "item_id": item_id, "account_id": account_id}
        )
        return self.payment(payment_id)

    def receipt(
        self,
        receipt_id: str,
        *,
        account_id: str,
        currency: str,
        value_date: date,
        tenders: Sequence[tuple[str, Decimal, str | None]],
    ) -> dict[str, Any]:
        """One receipt paid with several tenders, posted as one payment: allocated together, all or nothing."""
        payment_id = receipt_payment_id(receipt_id)
        total = sum((amount for _, amount, _ in tenders), Decimal(0))
        existing = self._store.get_payment(payment_id)
        if existing is not None:  # the same receipt sent again: the first posting stands
            if Decimal(existing["amount"]["N"]) != total or existing.get("account_id", {}).get("S") != account_id:
                raise ReceiptConflictError(f"receipt {receipt_id} was already posted with other contents")
            return existing
        described = " + ".join(f"{kind} {amount:.2f}" for kind, amount, _ in tenders)
        facts = PaymentFacts(
            payment_id=payment_id,
            bank_id="counter",
            bank_reference=receipt_id,
            end_to_end_id=None,
            debtor_iban=None,
            source_file="api",
            position=f"receipt {receipt_id}",
            match_method=MatchMethod.MANUAL.value,
            match_reason=f"counter receipt {receipt_id}: {described}",
            tenders=tuple(tenders),
        )

        def receive(loaded: LoadedAccount) -> dict[tuple[str, str], str]:
            postings = loaded.ledger.receive(payment_id, total, currency, value_date)
            return {(p.payment_id, p.item_id or ""): p.reason for p in postings}

        apply_to_account(self._store, self._clock, account_id, receive, new_payment=facts)
        self._events.publish(
            "PaymentReceived",
            {
                "payment_id": payment_id,
                "account_id": account_id,
                "amount": str(total),
                "currency": currency,
                "method": "manual",
            },
        )
        return self.payment(payment_id)
