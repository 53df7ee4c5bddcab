"""What people do with payments through the API: look at the suspense list, allocate or take back money by hand,
enter a counter receipt paid with several tenders, and return a receipt's bounced cheque or promissory note. Every
change goes through the same account ledger, the same bounded steps and the same journal as bank payments; the
journal records who did it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from receivables.domain.clock import Clock
from receivables.domain.journal import Cause, JournalEntry, PostingKind, on_payment
from receivables.payments.account_ledger import LedgerRuleError, Step
from receivables.payments.matching import MatchMethod
from receivables.payments.operations import SUSPENSE_ACCOUNT, AccountOperations, FirstStep, Planned, journal_entry
from receivables.payments.ports import LoadedAccount, PaymentFacts, PaymentRecord, PaymentStore, Tender, tender_part
from receivables.payments.service import payment_events


class UnknownPaymentError(LookupError):
    pass


class UnknownAccountError(LookupError):
    pass


class ReceiptConflictError(ValueError):
    """A receipt id already used for a different receipt."""


class UnknownTenderError(LookupError):
    pass


# Instruments that can come back unpaid after they were booked: a cheque bounces (karşılıksız çek), a promissory note
# is not paid at maturity (protestolu senet). Cash, card and transfers are settled when taken (a card's chargeback
# comes from the card's files, not from the till).
RETURNABLE_TENDERS = frozenset({"cheque", "promissory_note"})


def receipt_payment_id(receipt_id: str) -> str:
    return "R" + hashlib.sha256(receipt_id.encode()).hexdigest()[:23]


def api_cause(route: str, actor: str) -> Cause:
    return Cause(kind="api", source=route, actor=actor)


class ManualPayments:
    def __init__(self, *, store: PaymentStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._operations = AccountOperations(store=store, clock=clock, completion=payment_events)

    def payment(self, payment_id: str) -> PaymentRecord:
        record = self._store.get_payment(payment_id)
        if record is None:
            raise UnknownPaymentError(f"payment {payment_id} not found")
        return record

    def postings(self, record: PaymentRecord) -> list[JournalEntry]:
        """The journal entries that moved the payment's money, oldest first."""
        return self._store.journal_entries(record.journal)

    def suspense(self, limit: int = 100) -> list[PaymentRecord]:
        return self._store.suspense(limit)

    def _run(self, account_id: str, first: FirstStep, **kwargs: Any) -> LoadedAccount:
        try:
            return self._operations.run(account_id, first, **kwargs)
        except LookupError as exc:
            raise UnknownAccountError(f"account {account_id} not found") from exc

    def allocate(
        self,
        payment_id: str,
        allocations: Sequence[tuple[str, Decimal]],
        *,
        account_id: str | None,
        note: str,
        actor: str,
    ) -> PaymentRecord:
        """Allocate by hand; a payment in suspense is first assigned to ``account_id``. Over-allocation is refused."""
        record = self.payment(payment_id)
        if record.reversed:
            raise LedgerRuleError(f"payment {payment_id} was reversed; nothing to allocate")
        if record.outgoing:
            raise LedgerRuleError(
                f"payment {payment_id} is money going out ({record.match_reason}); it cannot pay an item"
            )
        current = record.account_id
        if current and account_id and account_id != current:
            raise LedgerRuleError(f"payment {payment_id} is on account {current}, not {account_id}")
        target = current or account_id
        if target is None:
            raise LedgerRuleError(f"payment {payment_id} is unmatched: name the account_id to assign it to")
        cause = api_cause(f"POST /payments/{payment_id}/allocations", actor)

        def allocate(loaded: LoadedAccount, limit: int) -> Planned:
            ledger = loaded.ledger
            extra: tuple[JournalEntry, ...] = ()
            postings = []
            if not current:  # out of suspense: the suspense account gives it up, the account takes it
                stored = loaded.records[payment_id]
                postings.append(ledger.assign(stored.state(), f"assigned from suspense by {actor}"))
                given_up = on_payment(
                    PostingKind.PAYMENT_ASSIGNED, payment_id, stored.unapplied, f"assigned to account {target}"
                )
                extra = (journal_entry(self._clock, SUSPENSE_ACCOUNT, stored.currency, "assign", cause, [given_up]),)
            step = ledger.allocate_manually(payment_id, allocations, note, cause=cause, limit=limit)
            return Planned("allocate", cause, Step(postings + step.postings, step.done), payment_id, extra)

        # What the bank said stays on the payment; the person's decision is the journal's assignment posting.
        self._run(target, allocate, include=(payment_id,), assigned_payment=None if current else payment_id)
        return self.payment(payment_id)

    def unallocate(self, payment_id: str, item_id: str, *, note: str, actor: str) -> PaymentRecord:
        """Take back what a payment gave an item; the money stays on the account as the payment's credit."""
        record = self.payment(payment_id)
        account_id = record.account_id
        if account_id is None:
            raise LedgerRuleError(f"payment {payment_id} is unmatched; it has no allocations")
        cause = api_cause(f"DELETE /payments/{payment_id}/allocations/{item_id}", actor)

        def unallocate(loaded: LoadedAccount, _limit: int) -> Planned:
            amount = loaded.ledger.payments[payment_id].allocations.get(item_id)
            if amount is None:
                raise LedgerRuleError(f"payment {payment_id} gave nothing to item {item_id}")
            return Planned("unallocate", cause, loaded.ledger.unallocate(payment_id, item_id, amount, note), payment_id)

        self._run(account_id, unallocate, include=(payment_id,))
        return self.payment(payment_id)

    def receipt(
        self,
        receipt_id: str,
        *,
        account_id: str,
        currency: str,
        value_date: date,
        tenders: Sequence[Tender],
        actor: str,
        first: Sequence[str] = (),
    ) -> PaymentRecord:
        """One receipt paid with several tenders, posted as one payment: allocated together (``first``: the items
        the receipt names, paid before the policy's order). Cheques and promissory notes count when booked, whatever
        their maturity; one that bounces is returned later (:meth:`return_tender`)."""
        payment_id = receipt_payment_id(receipt_id)
        total = sum((t.amount for t in tenders), Decimal(0))
        existing = self._store.get_payment(payment_id)
        if existing is not None:  # the same receipt sent again: the first posting stands (and is finished)
            if existing.amount != total or existing.account_id != account_id or existing.tenders != tuple(tenders):
                raise ReceiptConflictError(f"receipt {receipt_id} was already posted with other contents")
            if existing.pending is not None:
                self._run(account_id, lambda _l, _n: None, include=(payment_id,))
            return self.payment(payment_id)
        described = " + ".join(_described(t) for t in tenders)
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
        cause = api_cause("POST /receipts", actor)

        def receive(loaded: LoadedAccount, limit: int) -> Planned:
            step = loaded.ledger.receive(payment_id, total, currency, value_date, cause=cause, first=first, limit=limit)
            return Planned("receive", cause, step, payment_id)

        self._run(account_id, receive, new_payment=facts)
        return self.payment(payment_id)

    def return_tender(self, receipt_id: str, tender: str, *, reason: str, actor: str) -> PaymentRecord:
        """A receipt's cheque bounced, or its promissory note was not paid at maturity: that tender's money leaves
        the account — out of the receipt's credit first, then out of the items it paid last — and dunning sees the
        items open again. ``tender``: its number on the receipt (from 1) or its reference. Returned twice, the
        first return stands."""
        record = self.payment(receipt_payment_id(receipt_id))
        number = _tender_number(record, tender)
        chosen = record.tenders[number - 1]
        if chosen.type not in RETURNABLE_TENDERS:
            raise LedgerRuleError(
                f"tender {number} of receipt {receipt_id} is {chosen.type}: only a cheque or a promissory note can "
                "come back unpaid"
            )
        account_id = record.account_id
        assert account_id is not None  # a receipt is posted to its account, never to suspense
        part = tender_part(number)
        what = f"{chosen.type.replace('_', ' ')} {chosen.reference or ''}".strip()
        cause = api_cause(f"POST /receipts/{receipt_id}/tenders/{tender}/return", actor)

        def give_back(loaded: LoadedAccount, limit: int) -> Planned | None:
            payment = loaded.ledger.payments[record.payment_id]
            if part in payment.returned:
                return None  # returned before: the first return stands
            step = loaded.ledger.return_part(
                record.payment_id, part, chosen.amount, f"{what} returned: {reason}", cause=cause, limit=limit
            )
            return Planned("return_part", cause, step, record.payment_id)

        self._run(account_id, give_back, include=(record.payment_id,))
        return self.payment(record.payment_id)


def _described(tender: Tender) -> str:
    text = f"{tender.type} {tender.amount:.2f}"
    if tender.maturity_date:
        text += f" due {tender.maturity_date.isoformat()}"
    return text


def _tender_number(record: PaymentRecord, tender: str) -> int:
    """A tender named by its number on the receipt (from 1) or by its reference (a cheque's serial number)."""
    if tender.isdigit() and 1 <= int(tender) <= len(record.tenders):
        return int(tender)
    matching = [n for n, t in enumerate(record.tenders, start=1) if t.reference == tender]
    if len(matching) == 1:
        return matching[0]
    if not record.tenders:
        raise UnknownTenderError(f"payment {record.payment_id} is not a counter receipt; it has no tenders")
    if matching:
        raise UnknownTenderError(f"several tenders of receipt {record.bank_reference} carry reference {tender}")
    raise UnknownTenderError(
        f"receipt {record.bank_reference} has no tender {tender} (tenders 1–{len(record.tenders)}, or a reference)"
    )
