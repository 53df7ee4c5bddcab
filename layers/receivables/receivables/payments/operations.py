"""Running money operations on an account: one bounded step per transaction, each with its journal entry, until the
operation — and whatever another writer left unfinished on the account — is done.

A step is computed on a freshly loaded account by the pure ledger (``account_ledger.py``) and written by the store
in one transaction with its postings and the events it causes (the outbox: they are published from what was
committed, never after it). A step that lost a race with another writer is recomputed from the new state. What a
step leaves pending is finished by whoever loads the account next, first thing, so a crash between steps — or a
redelivered message — completes the operation and never repeats a step.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from receivables.domain.clock import Clock
from receivables.domain.journal import Cause, JournalEntry, Posting
from receivables.domain.outbox import Event
from receivables.payments.account_ledger import AccountLedger, PaymentState, Step
from receivables.payments.ports import (
    Attachment,
    ConcurrentUpdateError,
    ItemUpdate,
    LoadedAccount,
    PaymentFacts,
    PaymentStore,
)

MAX_ATTEMPTS = 5  # optimistic retries of one step when another writer changed the account meanwhile
SUSPENSE_ACCOUNT = "#suspense"  # the journal's account for money no account has taken yet ('#' is in no real id)


@dataclass(slots=True)
class StepWrite:
    """Everything one transaction writes: the account's new state (diffed against ``loaded``'s snapshots), the
    step's journal entries and the events it causes."""

    loaded: LoadedAccount
    entries: list[JournalEntry] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    new_payment: PaymentFacts | None = None
    assigned_payment: str | None = None  # taken out of suspense by this step: written only if still unassigned
    item_updates: dict[str, ItemUpdate] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    new_items: tuple[str, ...] = ()  # items the attachments create, already on ``loaded.ledger``


def new_entry_id() -> str:
    # Wall-clock nanoseconds order entries as they were written (a replay's business clock stands still at noon);
    # the random tail keeps two writers apart within a nanosecond.
    return f"{time.time_ns():019d}-{secrets.token_hex(3)}"


def journal_entry(
    clock: Clock, account_id: str, currency: str, operation: str, cause: Cause, postings: list[Posting]
) -> JournalEntry:
    return JournalEntry(
        entry_id=new_entry_id(),
        account_id=account_id,
        currency=currency,
        business_date=clock.today(),
        recorded_at=clock.now(),
        operation=operation,
        cause=cause,
        postings=tuple(postings),
    )


@dataclass(frozen=True, slots=True)
class Planned:
    """The first step of an operation, as its caller computed it on the loaded account."""

    operation: str
    cause: Cause
    step: Step
    payment_id: str | None = None  # the payment the operation is about (pending work continues on it)
    extra_entries: tuple[JournalEntry, ...] = ()  # e.g. the suspense account's side of an assignment
    item_updates: dict[str, ItemUpdate] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    new_items: tuple[str, ...] = ()
    events: tuple[Event, ...] = ()  # announced with the step, beside what its completion announces


FirstStep = Callable[[LoadedAccount, int], Planned | None]
# (loaded account after the step, operation, payment id, the new payment's facts) → the events of its completion
Completion = Callable[[LoadedAccount, str, str, PaymentFacts | None], list[Event]]


class AccountOperations:
    """Runs operations on accounts of one store, step by step."""

    def __init__(self, *, store: PaymentStore, clock: Clock, completion: Completion) -> None:
        self._store = store
        self._clock = clock
        self._completion = completion

    @property
    def limit(self) -> int:
        return self._store.items_per_step

    def run(
        self,
        account_id: str,
        first: FirstStep,
        *,
        include: tuple[str, ...] = (),
        new_payment: PaymentFacts | None = None,
        assigned_payment: str | None = None,
    ) -> LoadedAccount:
        """Finish what is pending on the account, apply ``first``, then every step it and free credit need.

        After a successful write the store brings ``loaded`` up to what it committed, so the next step is computed
        without reading the account again; only a lost race reads it afresh."""
        started = False
        failures = 0
        loaded = self._load(account_id, include)
        while True:
            write = self._continuation(loaded)
            taking_first = write is None and not started
            if taking_first:
                planned = first(loaded, self.limit)
                started = True
                if planned is not None:
                    write = self._write(loaded, planned, new_payment)
                    write.new_payment, write.assigned_payment = new_payment, assigned_payment
            if write is None:
                write = self._credit_step(loaded)
            if write is None:
                return loaded
            try:
                self._store.save(write)
                failures = 0
            except ConcurrentUpdateError:
                failures += 1
                if failures >= MAX_ATTEMPTS:
                    raise ConcurrentUpdateError(
                        f"account {account_id} kept changing; the message will be retried", account_id=account_id
                    ) from None
                if taking_first:
                    started = False  # nothing of it was written: compute it again on the new state
                loaded = self._load(account_id, include)

    def _load(self, account_id: str, include: tuple[str, ...]) -> LoadedAccount:
        loaded = self._store.load(account_id, on=self._clock.today(), include_payments=include)
        if loaded is None:
            raise LookupError(f"account {account_id} not found")
        return loaded

    # -- steps -----------------------------------------------------------------------------------------------------
    def _write(self, loaded: LoadedAccount, planned: Planned, facts: PaymentFacts | None = None) -> StepWrite:
        ledger = loaded.ledger
        entries = list(planned.extra_entries)
        events = (
            self._completion(loaded, planned.operation, planned.payment_id or "", facts) if planned.step.done else []
        ) + list(planned.events)
        if planned.step.postings or events:
            entries.append(
                journal_entry(
                    self._clock,
                    ledger.account_id,
                    ledger.currency,
                    planned.operation,
                    planned.cause,
                    planned.step.postings,
                )
            )
        return StepWrite(
            loaded,
            entries,
            events,
            item_updates=dict(planned.item_updates),
            attachments=planned.attachments,
            new_items=planned.new_items,
        )

    def _continuation(self, loaded: LoadedAccount) -> StepWrite | None:
        """The next step of an operation left pending on one of the account's payments."""
        for payment in loaded.ledger.pending_payments():
            pending = payment.pending
            assert pending is not None
            step = loaded.ledger.continue_pending(payment.payment_id, self.limit)
            planned = Planned(pending.kind, pending.cause, step, payment.payment_id)
            return self._write(loaded, planned)
        return None

    def _credit_step(self, loaded: LoadedAccount) -> StepWrite | None:
        step = loaded.ledger.apply_credit(self.limit)
        if not step.postings:
            return None
        cause = Cause(kind="system", source="credit applied to open items")
        return self._write(loaded, Planned("apply_credit", cause, step))


def credit_of(ledger: AccountLedger) -> dict[str, Decimal]:
    return {p.payment_id: p.unapplied for p in ledger.payments.values() if p.unapplied > 0 and not p.reversed}


def suspense_state(facts: PaymentFacts, amount: Decimal, currency: str, value_date: Any) -> PaymentState:
    return PaymentState(facts.payment_id, amount, currency, value_date, unapplied=amount)
