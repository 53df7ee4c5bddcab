"""Use cases: the payout run writes one pain.001 per paying bank for the approved payables due; the bank's pain.002
marks each transfer accepted or rejected; its debit booking (camt.053/054, MT940) pays the payable; a returned
transfer reopens it (docs/payables.md).

Exactly once, as the direct-debit run: the message is recorded before any payable is claimed for it; payables are
claimed one by one under a condition (still approved with the same open amount, or claimed by this very message:
``scheduled``); the file is written from what was claimed, then the payables are ``sent`` and the message closed. A
run that stops half-way leaves its message open; the next run on that date finishes it first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from receivables.banking.pain001 import CreditTransfer, Debtor, build_pain001, payment_information_ids
from receivables.banking.pain002 import PaymentStatusReport, StatusCode
from receivables.banking.statement import BankFileError, BankTransaction
from receivables.direct_debit.model import decided_statuses
from receivables.direct_debit.service import StatusReportResult
from receivables.disbursement.model import (
    Payee,
    PayingBank,
    PayoutCandidate,
    PayoutMessage,
    paying_bank,
    plan_payouts,
)
from receivables.domain.clock import Clock
from receivables.domain.journal import Cause
from receivables.loading.ports import EventPublisher, FileStore

EVENT_SOURCE = "receivables.disbursement"


class PayoutStore(Protocol):
    def approved_due(self, run_date: date) -> list[PayoutCandidate]:
        """Approved payables due on or before ``run_date`` (from the status index, never a scan)."""
        ...

    def payees(self, party_ids: Sequence[str]) -> dict[str, Payee]: ...

    def open_messages(self, run_date: date) -> list[PayoutMessage]: ...

    def record_message(self, message: PayoutMessage) -> PayoutMessage:
        """Store the message unless one with its id exists; return what is stored."""
        ...

    def claim(self, message: PayoutMessage) -> PayoutMessage:
        """Each transfer's payable ``scheduled`` by this message where it still can be; the message with just those."""
        ...

    def mark_sent(self, message: PayoutMessage, file_key: str) -> None:
        """Its payables ``sent``, then the message closed with its file."""
        ...

    def message(self, message_id: str) -> PayoutMessage | None: ...

    def transfer_states(self, end_to_end_ids: Sequence[str]) -> dict[str, str]:
        """Payable id → status, for those of ``end_to_end_ids`` that are payables."""
        ...

    def transfer_rejected(self, payable_id: str, reason: str, source: str) -> bool:
        """``sent``/``scheduled`` → ``rejected`` with the reason; False when it was not (already answered)."""
        ...

    def transfer_accepted(self, payable_id: str, source: str) -> bool: ...

    def transfer_paid(self, payable_id: str, amount: Decimal, cause: Cause, booked_on: date) -> str:
        """The bank debited it: its open amount to 0 through a posting. ``paid``, ``duplicate`` (paid before),
        ``amount_differs`` or ``not_sent``."""
        ...

    def transfer_returned(self, payable_id: str, reason: str, cause: Cause) -> str:
        """The transfer came back: what it paid is owed again (``rejected``, waiting for a person)."""
        ...

    def record_unmatched_debit(self, debit: UnmatchedDebit) -> bool:
        """Keep a debit none of our transfers explains on the debit suspense list; False when it is there."""
        ...


@dataclass(frozen=True, slots=True)
class UnmatchedDebit:
    payment_id: str  # the entry's identity, as for credits: the same entry reported twice is one record
    bank_id: str
    source_file: str
    position: str
    amount: Decimal
    currency: str
    booked_on: date | None
    end_to_end_id: str | None
    bank_reference: str | None
    remittance: str


class PayingBankSource(Protocol):
    def banks(self) -> dict[str, PayingBank]: ...


@dataclass
class PayoutRun:
    run_date: date
    files: list[dict[str, object]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    problem: str | None = None


def outbound_key(bank_id: str, message_id: str) -> str:
    return f"banks/{bank_id}/pain.001-{message_id}.xml"


class PayoutService:
    def __init__(
        self,
        *,
        store: PayoutStore,
        banks: PayingBankSource,
        files: FileStore,
        outbound_bucket: str,
        events: EventPublisher,
        clock: Clock,
    ) -> None:
        self._store = store
        self._banks = banks
        self._files = files
        self._outbound = outbound_bucket
        self._events = events
        self._clock = clock

    def pay(self, run_date: date | None = None) -> PayoutRun:
        run_date = run_date or self._clock.today()
        run = PayoutRun(run_date=run_date)
        banks = self._banks.banks()
        bank = paying_bank(banks)
        if bank is None:
            run.problem = (
                "no paying bank: configure config/disbursement/<bank_id>.json (one bank, or one marked default)"
                if not banks
                else f"{len(banks)} paying banks and not exactly one marked default"
            )
            return run
        for message in self._store.open_messages(run_date):  # a run that stopped before its file: finish it first
            self._send(message, banks.get(message.bank_id, bank), run)
        candidates = self._store.approved_due(run_date)
        payees = self._store.payees(sorted({c.party_id for c in candidates}))
        plan = plan_payouts(run_date, candidates, payees, bank)
        for message in plan.messages:
            self._send(self._store.record_message(message), bank, run)
        run.skipped = [{"payable_id": s.payable_id, "reason": s.reason} for s in plan.skipped]
        for skipped in plan.skipped:
            self._events.publish("PayoutSkipped", {"payable_id": skipped.payable_id, "reason": skipped.reason})
        return run

    def _send(self, message: PayoutMessage, bank: PayingBank, run: PayoutRun) -> None:
        claimed = self._store.claim(message)
        key = outbound_key(bank.bank_id, claimed.message_id)
        if claimed.transfers:
            xml = build_pain001(
                message_id=claimed.message_id,
                created_at=self._clock.now(),
                debtor=Debtor(name=bank.name, iban=bank.iban, bic=bank.bic),
                execution_date=max(claimed.run_date, self._clock.today()),
                transfers=[
                    CreditTransfer(
                        end_to_end_id=t.payable_id,
                        amount=t.amount,
                        currency=t.currency,
                        creditor_name=t.creditor_name,
                        creditor_iban=t.creditor_iban,
                        creditor_bic=t.creditor_bic,
                        remittance=t.remittance,
                    )
                    for t in claimed.transfers
                ],
                version=bank.pain001_version,
            )
            self._files.write_text(self._outbound, key, xml.decode("utf-8"))
            run.files.append(
                {
                    "bank_id": bank.bank_id,
                    "message_id": claimed.message_id,
                    "file": key,
                    "transactions": len(claimed.transfers),
                    "total": str(claimed.total),
                }
            )
            self._events.publish("PayoutFileCreated", dict(run.files[-1]))
        self._store.mark_sent(claimed, key)


@dataclass
class PayoutReportResult:
    outcomes: dict[str, int] = field(default_factory=dict)


class PayoutStatusReports:
    """pain.002 in, for our pain.001: matched by ``OrgnlEndToEndId`` (the payable id). Banks often report only the
    rejections, and some name a message id we do not recognise: the transactions it names are what counts."""

    def __init__(self, *, store: PayoutStore, events: EventPublisher) -> None:
        self._store = store
        self._events = events

    def knows(self, report: PaymentStatusReport) -> bool:
        if self._store.message(report.original_message_id) is not None:
            return True
        return bool(self._store.transfer_states([t.original_end_to_end_id for t in report.transactions]))

    def apply_status_report(self, report: PaymentStatusReport, bank_id: str, source_file: str) -> PayoutReportResult:
        message = self._store.message(report.original_message_id)
        if message is not None:
            batch_of = _payment_information_ids(message)
        else:
            batch_of = {
                t.original_end_to_end_id: b.original_payment_information_id
                for b in report.batches
                for t in b.transactions
            }
        states = self._store.transfer_states(sorted(batch_of))
        if not states:
            raise BankFileError(
                f"pain.002 reports on message {report.original_message_id!r}: none of its transactions is a payout "
                f"we sent to bank {bank_id!r}"
            )
        result = PayoutReportResult()
        for e2e, (status, _code, why) in sorted(decided_statuses(report, batch_of).items()):
            if e2e not in states:
                outcome = "unknown_transaction"
            elif status is StatusCode.REJECTED:
                changed = self._store.transfer_rejected(e2e, why, source_file)
                outcome = "rejected" if changed else "unchanged"
                if changed:
                    self._events.publish(
                        "PayoutRejected", {"payable_id": e2e, "end_to_end_id": e2e, "bank_id": bank_id, "reason": why}
                    )
            elif status is StatusCode.ACCEPTED:
                outcome = "accepted" if self._store.transfer_accepted(e2e, source_file) else "unchanged"
            else:
                outcome = status.value
            result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
        return result


def _payment_information_ids(message: PayoutMessage) -> dict[str, str]:
    return payment_information_ids(message.message_id, {t.payable_id: t.currency for t in message.transfers})


class PayoutBookings:
    """The bank's statement, for money going out: a debit naming one of our transfers pays it; a credit returning
    one reopens it. Debits that name none of ours are recorded for a person (the debit suspense list)."""

    def __init__(self, *, store: PayoutStore, events: EventPublisher) -> None:
        self._store = store
        self._events = events

    def transfer_named(self, references: Sequence[str]) -> str | None:
        states = self._store.transfer_states(references)
        return next((r for r in references if r in states), None)

    def unmatched_debit(self, payment_id: str, bank_id: str, transaction: BankTransaction, source: str) -> str:
        debit = UnmatchedDebit(
            payment_id=payment_id,
            bank_id=bank_id,
            source_file=source,
            position=transaction.position,
            amount=transaction.amount,
            currency=transaction.currency,
            booked_on=transaction.booking_date or transaction.value_date,
            end_to_end_id=transaction.end_to_end_id,
            bank_reference=transaction.bank_reference,
            remittance=" ".join(transaction.remittance_lines)[:500],
        )
        if not self._store.record_unmatched_debit(debit):
            return "duplicate"
        self._events.publish(
            "DebitUnmatched",
            {"payment_id": payment_id, "bank_id": bank_id, "file": source, "amount": str(transaction.amount)},
        )
        return "debit_unmatched"

    def debit_booked(self, end_to_end_id: str, amount: Decimal, cause: Cause, booked_on: date) -> str:
        outcome = self._store.transfer_paid(end_to_end_id, amount, cause, booked_on)
        if outcome == "paid":
            self._events.publish("PayoutPaid", {"payable_id": end_to_end_id, "amount": str(amount)})
        return f"payout_{outcome}"

    def returned(self, end_to_end_id: str, reason: str, cause: Cause) -> str:
        outcome = self._store.transfer_returned(end_to_end_id, reason, cause)
        if outcome == "returned":
            self._events.publish("PayoutReturned", {"payable_id": end_to_end_id, "reason": reason})
        return f"payout_{outcome}"


class StatusReportRouter:
    """pain.002 answers both our direct debits (pain.008) and our payouts (pain.001): the direct-debit side knows its
    messages by id; what it does not know goes to the payouts, matched by end-to-end id. Neither → quarantined."""

    def __init__(self, *, direct_debits: Any, payouts: PayoutStatusReports) -> None:
        self._direct_debits = direct_debits
        self._payouts = payouts

    def apply_status_report(self, report: PaymentStatusReport, bank_id: str, source_file: str) -> StatusReportResult:
        try:
            return self._direct_debits.apply_status_report(report, bank_id, source_file)
        except BankFileError as not_a_collection:
            if not self._payouts.knows(report):
                raise BankFileError(
                    f"{not_a_collection.reason}; nor does it name a payout of ours (pain.001)"
                ) from not_a_collection
        return StatusReportResult(outcomes=self._payouts.apply_status_report(report, bank_id, source_file).outcomes)
