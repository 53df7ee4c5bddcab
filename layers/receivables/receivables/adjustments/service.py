"""Applying billing adjustments, exactly once by ``adjustment_id``, each as one step of the account's ledger.

The adjustment's record is written in the same transaction as the postings and item changes it causes (an
attachment of the step), so a crash leaves either both or neither, and a redelivery finds the record and changes
nothing. The step's journal entry carries ``AdjustmentApplied``, on which dunning re-plans the account at once. An
adjustment above its kind's threshold is recorded ``pending_approval`` and moves nothing until a second person
approves it (four eyes: never the one who sent it); a refused one is recorded with its reason, so sending it again
answers the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Protocol

from receivables.adjustments.model import (
    Adjustment,
    AdjustmentRefusedError,
    AdjustmentRequest,
    AdjustmentRules,
    AdjustmentStatus,
    DebitNote,
    Effect,
    ItemFacts,
    credit_payment_id,
    effect_of,
)
from receivables.domain.clock import Clock
from receivables.domain.journal import Cause, PostingKind
from receivables.domain.money import format_money
from receivables.domain.outbox import Event
from receivables.payments.account_ledger import ItemState, Step
from receivables.payments.operations import AccountOperations, Planned
from receivables.payments.ports import Attachment, ItemUpdate, ItemValue, LoadedAccount, PaymentFacts

EVENT_SOURCE = "receivables.adjustments"


class UnknownItemError(LookupError):
    pass


class UnknownAdjustmentError(LookupError):
    pass


class AdjustmentConflictError(ValueError):
    """The id was used before for an adjustment with other contents."""


class AdjustmentStateError(ValueError):
    """Approving or declining an adjustment that is not waiting for approval."""


class FourEyesError(PermissionError):
    """The person who sent an adjustment cannot approve it."""


class AdjustmentStore(Protocol):
    def get(self, adjustment_id: str) -> Adjustment | None: ...

    def item_facts(self, item_id: str) -> ItemFacts | None: ...

    def save_alone(self, adjustment: Adjustment, *, previous: AdjustmentStatus | None) -> Adjustment:
        """Record an adjustment that moves no money (waiting, refused, declined); the stored one when it lost a
        race with another writer of the same id."""
        ...

    def record_write(self, adjustment: Adjustment, *, previous: AdjustmentStatus | None) -> Attachment: ...

    def debit_note_write(self, item: ItemFacts, note: DebitNote, source: str) -> Attachment: ...

    def moved_due_date(self, item: ItemFacts, new_due_date: date) -> dict[str, ItemValue]:
        """The item's attributes (its index keys among them) that place it at a new due date."""
        ...


class AdjustmentRulesSource(Protocol):
    def rules(self) -> AdjustmentRules: ...


class Adjustments:
    def __init__(
        self, *, store: AdjustmentStore, operations: AccountOperations, rules: AdjustmentRulesSource, clock: Clock
    ) -> None:
        self._store = store
        self._operations = operations
        self._rules = rules
        self._clock = clock

    def get(self, adjustment_id: str) -> Adjustment:
        adjustment = self._store.get(adjustment_id)
        if adjustment is None:
            raise UnknownAdjustmentError(f"adjustment {adjustment_id} not found")
        return adjustment

    def recorded(self, adjustment_id: str) -> bool:
        return self._store.get(adjustment_id) is not None

    def submit(self, request: AdjustmentRequest, *, cause: Cause, actor: str) -> Adjustment:
        """Apply (or hold for approval, or refuse) an adjustment; the same one sent again answers as the first."""
        existing = self._store.get(request.adjustment_id)
        if existing is not None:
            if existing.fingerprint != request.fingerprint():
                raise AdjustmentConflictError(
                    f"adjustment {request.adjustment_id} was already received with other contents "
                    f"({existing.request.kind.value} of {existing.request.item_id}, {existing.status.value})"
                )
            return existing
        item = self._store.item_facts(request.item_id)
        if item is None:
            raise UnknownItemError(f"item_id: item {request.item_id} not found")
        adjustment = Adjustment(
            request=request,
            account_id=item.account_id,
            status=AdjustmentStatus.APPLIED,
            created_by=actor,
            created_at=self._clock.now().isoformat(),
            source=cause.describe(),
            fingerprint=request.fingerprint(),
        )
        if self._rules.rules().needs_approval(request.kind, request.amount):
            assert request.amount is not None
            waiting = replace(
                adjustment,
                status=AdjustmentStatus.PENDING_APPROVAL,
                explanation=f"{request.kind.value.replace('_', ' ')} of {format_money(request.amount)} is above the "
                "approval threshold: waiting for a second person's approval",
            )
            return self._store.save_alone(waiting, previous=None)
        return self._apply(adjustment, item, cause, previous=None)

    def approve(self, adjustment_id: str, *, actor: str, cause: Cause) -> Adjustment:
        adjustment = self._waiting(adjustment_id, actor, "approve")
        item = self._store.item_facts(adjustment.request.item_id)
        assert item is not None, "an adjustment is recorded only for an item that exists"
        decided = replace(adjustment, decided_by=actor, decided_at=self._clock.now().isoformat())
        return self._apply(decided, item, cause, previous=AdjustmentStatus.PENDING_APPROVAL)

    def decline(self, adjustment_id: str, *, actor: str, note: str) -> Adjustment:
        adjustment = self._waiting(adjustment_id, actor, "decline")
        declined = replace(
            adjustment,
            status=AdjustmentStatus.DECLINED,
            explanation=f"declined by {actor}: {note}" if note else f"declined by {actor}",
            decided_by=actor,
            decided_at=self._clock.now().isoformat(),
        )
        return self._store.save_alone(declined, previous=AdjustmentStatus.PENDING_APPROVAL)

    def _waiting(self, adjustment_id: str, actor: str, doing: str) -> Adjustment:
        adjustment = self.get(adjustment_id)
        if adjustment.status is not AdjustmentStatus.PENDING_APPROVAL:
            raise AdjustmentStateError(
                f"adjustment {adjustment_id} is {adjustment.status.value.replace('_', ' ')}: nothing to {doing}"
            )
        if actor == adjustment.created_by:
            raise FourEyesError(f"adjustment {adjustment_id} was sent by {actor}: a second person must {doing} it")
        return adjustment

    # -- the step --------------------------------------------------------------------------------------------------
    def _apply(
        self, adjustment: Adjustment, item: ItemFacts, cause: Cause, *, previous: AdjustmentStatus | None
    ) -> Adjustment:
        request = adjustment.request
        today = self._clock.today()
        applied: list[Adjustment] = []
        credit_id = credit_payment_id(request.adjustment_id)

        def first(loaded: LoadedAccount, limit: int) -> Planned:
            ledger = loaded.ledger
            state = ledger.items.get(item.item_id)
            open_amount = state.open_amount if state is not None else Decimal(0)
            effect = effect_of(request, item, open_amount, today)
            done = replace(adjustment, status=AdjustmentStatus.APPLIED, explanation=effect.explanation)
            applied[:] = [done]
            attachments = [self._store.record_write(done, previous=previous)]
            if state is not None and effect.open_after is not None:
                state.open_amount = effect.open_after
            if state is not None and effect.new_due_date is not None:
                state.due_date = effect.new_due_date
            new_items: tuple[str, ...] = ()
            if effect.debit_note is not None:
                note = effect.debit_note
                attachments.append(self._store.debit_note_write(item, note, adjustment.source))
                ledger.items[note.item_id] = ItemState(
                    item_id=note.item_id,
                    kind="debit_note",
                    issue_date=note.issue_date,
                    due_date=note.due_date,
                    amount=note.amount,
                    open_amount=note.amount,
                    currency=item.currency,
                )
                new_items = (note.item_id,)
            step = Step(list(effect.postings))
            attributes = self._attributes(effect, item)
            if effect.excess_credit > 0:
                # What the item cannot absorb is credit on the account, spent by the policy on other open items
                # in this same step where it can be (the rest waits for items to come).
                received = ledger.receive(
                    credit_id,
                    effect.excess_credit,
                    item.currency,
                    today,
                    cause=cause,
                    limit=limit - 1,
                    reason=effect.explanation,
                    received_as=PostingKind.CREDIT_NOTE,
                )
                step = Step(step.postings + received.postings, received.done)
            return Planned(
                f"adjustment_{request.kind.value}",
                cause,
                step,
                credit_id if effect.excess_credit > 0 else None,
                item_updates={item.item_id: ItemUpdate(attributes=attributes)} if attributes else {},
                attachments=tuple(attachments),
                new_items=new_items,
                events=(self._event(done, effect),),
            )

        facts = PaymentFacts(
            payment_id=credit_id,
            bank_id="adjustment",
            bank_reference="",  # a credit note is found by its adjustment, never by a bank reference
            end_to_end_id=None,
            debtor_iban=None,
            source_file=adjustment.source,
            position=f"adjustment {request.adjustment_id}",
            match_method="credit_note",
            match_reason=f"credit note {request.adjustment_id} beyond what item {item.item_id} still owed",
        )
        try:
            self._operations.run(item.account_id, first, new_payment=facts)
        except AdjustmentRefusedError as refusal:
            refused = replace(adjustment, status=AdjustmentStatus.REFUSED, explanation=refusal.reason)
            return self._store.save_alone(refused, previous=previous)
        return applied[-1]

    def _attributes(self, effect: Effect, item: ItemFacts) -> dict[str, ItemValue]:
        attributes: dict[str, ItemValue] = dict(effect.attributes)
        if effect.new_due_date is not None:
            attributes.update(self._store.moved_due_date(item, effect.new_due_date))
        return attributes

    @staticmethod
    def _event(adjustment: Adjustment, effect: Effect) -> Event:
        request = adjustment.request
        return Event(
            "AdjustmentApplied",
            {
                "adjustment_id": request.adjustment_id,
                "item_id": request.item_id,
                "account_id": adjustment.account_id,
                "kind": request.kind.value,
                "amount": None if request.amount is None else format_money(request.amount),
                "new_due_date": effect.new_due_date.isoformat() if effect.new_due_date else None,
                "debit_note_item_id": effect.debit_note.item_id if effect.debit_note else None,
                "credit": format_money(effect.excess_credit) if effect.excess_credit else None,
                "explanation": effect.explanation,
            },
            source=EVENT_SOURCE,
        )
