"""Use cases: a direct-debit run writes one pain.008 file per creditor bank for the items falling due, and a bank's
pain.002 status report marks those collections accepted or rejected (docs/direct-debit.md).

A run is safe to repeat and to interrupt. A message is recorded before any item is claimed for it; items are claimed
one by one under a condition (not collected yet, or by this very message; open amount unchanged), and the file is
written from what was claimed. A run that stops half-way leaves its message open, and the next run for that date
finishes it first, so an item is never collected twice and never claimed without a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from receivables.banking.pain002 import PaymentStatusReport
from receivables.banking.pain008 import Creditor, build_pain008
from receivables.banking.statement import BankFileError
from receivables.direct_debit.model import (
    CollectableItem,
    CollectionMessage,
    CollectionStatus,
    CreditorBank,
    Mandate,
    StatusUpdate,
    collection_dates,
    instructions,
    plan_collections,
    status_updates,
)
from receivables.domain.clock import Clock
from receivables.loading.ports import EventPublisher, FileStore

EVENT_SOURCE = "receivables.direct_debit"


class CollectionStore(Protocol):
    def items_falling_due(self, dates: Sequence[date]) -> list[CollectableItem]:
        """Items of customers with a mandate whose due date is one of ``dates`` (via the sparse collection index)."""
        ...

    def mandates(self, customer_ids: Sequence[str]) -> dict[str, Mandate]: ...

    def open_messages(self, run_date: date) -> list[CollectionMessage]:
        """Messages of the run on ``run_date`` that were recorded but whose file was not written."""
        ...

    def record_message(self, message: CollectionMessage) -> CollectionMessage:
        """Store the message unless one with its id exists; return what is stored."""
        ...

    def claim(self, message: CollectionMessage) -> CollectionMessage:
        """Mark each collection's item as collected by this message, where it still can be; the message with just
        the collections that were claimed."""
        ...

    def mark_written(self, message: CollectionMessage) -> None: ...

    def message(self, message_id: str) -> CollectionMessage | None: ...

    def apply_status(self, update: StatusUpdate, source_file: str) -> bool:
        """Record the status on the collection and its item; False when it already had it."""
        ...


class CreditorSource(Protocol):
    def creditors(self) -> dict[str, CreditorBank]: ...


@dataclass
class StatusReportResult:
    outcomes: dict[str, int] = field(default_factory=dict)
    rejected: list[StatusUpdate] = field(default_factory=list)  # newly rejected: a booking of theirs is undone


@dataclass
class CollectionRun:
    run_date: date
    files: list[dict[str, object]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    problem: str | None = None


def outbound_key(bank_id: str, message_id: str) -> str:
    return f"banks/{bank_id}/pain.008-{message_id}.xml"


class DirectDebitService:
    def __init__(
        self,
        *,
        store: CollectionStore,
        creditors: CreditorSource,
        files: FileStore,
        outbound_bucket: str,
        events: EventPublisher,
        clock: Clock,
    ) -> None:
        self._store = store
        self._creditors = creditors
        self._files = files
        self._outbound = outbound_bucket
        self._events = events
        self._clock = clock

    def collect(self, run_date: date | None = None, bank_id: str | None = None) -> CollectionRun:
        run_date = run_date or self._clock.today()
        run = CollectionRun(run_date=run_date)
        creditors = self._creditors.creditors()
        if bank_id is not None:
            if bank_id not in creditors:
                run.problem = f"no direct-debit configuration for bank {bank_id!r} (config/direct-debit/{bank_id}.json)"
                return run
            creditors = {bank_id: creditors[bank_id]}
        if not creditors:
            run.problem = "no creditor bank is configured for direct debit (config/direct-debit/<bank_id>.json)"
            return run
        for message in self._store.open_messages(run_date):
            if message.bank_id in creditors:  # a run that stopped before writing its file: finish it first
                self._send(message, creditors[message.bank_id], run)
        lead = max(c.lead_days for c in creditors.values())
        candidates = self._store.items_falling_due(collection_dates(run_date, lead))
        mandates = self._store.mandates(sorted({i.customer_id for i in candidates}))
        plan = plan_collections(run_date, candidates, mandates, creditors)
        for message in plan.messages:
            self._send(self._store.record_message(message), creditors[message.bank_id], run)
        run.skipped = [{"item_id": s.item_id, "reason": s.reason} for s in plan.skipped]
        return run

    def _send(self, message: CollectionMessage, creditor: CreditorBank, run: CollectionRun) -> None:
        claimed = self._store.claim(message)
        if claimed.collections:
            key = outbound_key(creditor.bank_id, claimed.message_id)
            xml = build_pain008(
                claimed.message_id,
                self._clock.now(),
                Creditor(
                    name=creditor.creditor_name,
                    iban=creditor.iban,
                    bic=creditor.bic,
                    creditor_scheme_id=creditor.creditor_scheme_id,
                ),
                instructions(claimed),
                version=creditor.pain_version,
                local_instrument=creditor.local_instrument,
            )
            self._files.write_text(self._outbound, key, xml.decode("utf-8"))
            claimed = claimed.model_copy(update={"file_key": key})
            run.files.append(
                {
                    "bank_id": creditor.bank_id,
                    "message_id": claimed.message_id,
                    "file": key,
                    "transactions": len(claimed.collections),
                    "total": str(claimed.total),
                }
            )
            self._events.publish(
                "DirectDebitFileCreated",
                {"bank_id": creditor.bank_id, "message_id": claimed.message_id, "file": key, **run.files[-1]},
            )
        self._store.mark_written(claimed)


class CollectionStatusReports:
    """pain.002 in: each collection of the original message takes the status the bank gave it."""

    def __init__(self, *, store: CollectionStore, events: EventPublisher) -> None:
        self._store = store
        self._events = events

    def apply_status_report(self, report: PaymentStatusReport, bank_id: str, source_file: str) -> StatusReportResult:
        message = self._store.message(report.original_message_id)
        if message is None or message.bank_id != bank_id:
            raise BankFileError(
                f"pain.002 reports on message {report.original_message_id!r}, which is not a direct-debit file we "
                f"sent to bank {bank_id!r}"
            )
        result = StatusReportResult()
        outcomes = result.outcomes
        for update in status_updates(report, message):
            changed = self._store.apply_status(update, source_file)
            outcome = update.status.value if changed else "unchanged"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if changed and update.status is CollectionStatus.REJECTED:
                result.rejected.append(update)
                # The item stays open: dunning and the next payment see it as unpaid.
                self._events.publish(
                    "DirectDebitRejected",
                    {
                        "end_to_end_id": update.end_to_end_id,
                        "item_id": update.item_id,
                        "account_id": update.account_id,
                        "reason_code": update.reason_code,
                        "reason": update.reason,
                    },
                )
        return result
