"""Endorsements, cancellations and reinstatements, run as operations on the payer's current account.

Each is one step of the payments machinery (payments/operations.py) on the account as just loaded: the postings of
:mod:`receivables.insurance.changes`, the items' new amounts, components and statuses, and — in the same transaction
— the policy record (guarded by its version), the event record, new items, refund payables and the channel's
commission. A step that lost a race is computed again from what is stored; free credit then pays what is open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol

from receivables.domain.clock import Clock
from receivables.domain.journal import Cause, JournalEntry, Posting, PostingKind, Side
from receivables.domain.outbox import Event
from receivables.insurance.changes import (
    AccountChange,
    NewPolicyItem,
    PolicyItem,
    plan_cancellation,
    plan_endorsement,
)
from receivables.insurance.config import InsuranceRules
from receivables.insurance.events import EndorsementIssued, PolicyCancelled
from receivables.insurance.premium import ZERO, CoverPremium, premium_components
from receivables.payments.account_ledger import ItemState, Step
from receivables.payments.operations import AccountOperations, Planned, new_entry_id
from receivables.payments.ports import Attachment, ItemUpdate, LoadedAccount

EVENT_SOURCE = "receivables.insurance"
CLOSED = frozenset({"cancelled"})


@dataclass(frozen=True, slots=True)
class PolicyFacts:
    policy_id: str
    customer_id: str
    branch: str
    status: str
    billing: str
    party_id: str | None
    payer_id: str
    account_id: str
    currency: str
    start_date: date
    end_date: date
    components: dict[str, Decimal]
    item_ids: tuple[str, ...]
    commission_rate: Decimal | None  # None without a channel
    commission_account_id: str | None
    version: int
    cancelled_on: date | None = None
    cancellation_reason: str | None = None
    overdue_at_cancellation: Decimal = ZERO
    notices: tuple[dict[str, Any], ...] = ()
    cancellation: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CommissionPayable:
    payable_id: str
    item_id: str
    open_amount: Decimal
    amount: Decimal
    status: str = "approved"


class PolicyChangeStore(Protocol):
    def policy_facts(self, policy_id: str) -> PolicyFacts | None: ...

    def policy_items(self, facts: PolicyFacts) -> list[PolicyItem]: ...

    def event_recorded(self, event_id: str) -> bool: ...

    def commission_payables(self, facts: PolicyFacts) -> list[CommissionPayable]:
        """The open commission payables of the policy's paid installments."""
        ...

    def clawed_back_payables(self, facts: PolicyFacts) -> list[CommissionPayable]:
        """Commission payables of the policy a cancellation reduced (open below their amount)."""
        ...

    def payable_open(self, payable_id: str) -> tuple[Decimal, Decimal] | None:
        """(amount, open amount) of a payable, or None."""
        ...

    def write_alone(self, attachment: Attachment) -> None:
        """Write records of no account's operation (a notice on the policy) in a transaction of their own."""
        ...


class PolicyWrites(Protocol):
    """The records an operation writes beside the account's: built by the adapter, written in the step's transaction."""

    def event_record(
        self, event_id: str, kind: str, policy_id: str, content: str, raw: Mapping[str, Any], source: str, on: date
    ) -> Attachment: ...

    def policy_update(self, facts: PolicyFacts, changes: Mapping[str, Any]) -> Attachment: ...

    def new_item(
        self, facts: PolicyFacts, item: NewPolicyItem, source: str, on: date, account_id: str | None = None
    ) -> Attachment:
        """The item's record (its own posting), on the payer's account or on ``account_id``."""
        ...

    def payable(
        self,
        payable_id: str,
        *,
        kind: str,
        account_id: str,
        party_id: str,
        amount: Decimal,
        currency: str,
        due_date: date,
        cause: Cause,
        policy_id: str,
        item_id: str | None = None,
    ) -> Attachment: ...

    def payable_adjusted(self, payable_id: str, old_open: Decimal, new_open: Decimal, status: str) -> Attachment: ...

    def entry(self, entry: JournalEntry) -> Attachment: ...


class RulesSource(Protocol):
    def rules(self) -> InsuranceRules: ...


@dataclass(frozen=True, slots=True)
class ChangeOutcome:
    status: Literal["applied", "duplicate", "rejected"]
    reason: str = ""
    follow_ups: dict[str, date] = field(default_factory=dict)


def item_updates(change: AccountChange) -> dict[str, ItemUpdate]:
    updates: dict[str, ItemUpdate] = {}
    for item_id, item in change.items.items():
        attributes: dict[str, Any] = {}
        if item.components is not None:
            attributes["components"] = item.components
        if item.status is not None:
            attributes["status"] = item.status
        if item.commission is not None:
            attributes["commission"] = item.commission
        if item.commission_status is not None:
            attributes["commission_status"] = item.commission_status
        if item.cancelled_open is not None:
            attributes["cancelled_open"] = item.cancelled_open
        if attributes or item.amount is not None:
            updates[item_id] = ItemUpdate(amount=item.amount, attributes=attributes)
    return updates


class PolicyChanges:
    def __init__(
        self,
        *,
        store: PolicyChangeStore,
        writes: PolicyWrites,
        operations: AccountOperations,
        rules: RulesSource,
        clock: Clock,
    ) -> None:
        self._store = store
        self._writes = writes
        self._operations = operations
        self._rules = rules
        self._clock = clock

    # -- endorsements ------------------------------------------------------------------------------------------------
    def endorse(self, event: EndorsementIssued, content: str, raw: Mapping[str, Any], source: str) -> ChangeOutcome:
        facts = self._store.policy_facts(event.policy_id)
        assert facts is not None, "the caller checked the policy exists"
        if facts.status in CLOSED:
            return ChangeOutcome(
                "rejected", f"policy_id: policy {facts.policy_id} is cancelled (on {facts.cancelled_on}): not endorsed"
            )
        rules = self._rules.rules()
        change_components = premium_components(
            facts.branch, [CoverPremium(c.cover, c.net_premium_change) for c in event.covers], rules.levies
        )
        today = self._clock.today()
        cause = Cause(kind="event", source=source, position=f"event {event.event_id}")
        applied = {"done": False}

        def first(loaded: LoadedAccount, _limit: int) -> Planned | None:
            if self._store.event_recorded(event.event_id):
                return None
            current = self._store.policy_facts(event.policy_id)
            assert current is not None
            items = self._store.policy_items(current)
            ledger = loaded.ledger
            change = plan_endorsement(
                endorsement_id=event.endorsement_id,
                policy_id=current.policy_id,
                branch=current.branch,
                components_change=change_components,
                items=items,
                open_now={i.item_id: ledger.items[i.item_id].open_amount for i in items if i.item_id in ledger.items},
                other_open=ledger.open_items(),
                allocation_policy=ledger.policy,
                effective_date=event.effective_date,
                billing=event.billing,
                separate_due_date=event.effective_date + timedelta(days=rules.cancellation.separate_item_due_days),
                commission_rate=current.commission_rate,
                today=today,
                currency=current.currency,
            )
            components = {
                code: current.components.get(code, ZERO) + change_components.get(code, ZERO)
                for code in dict.fromkeys([*current.components, *change_components])
            }
            attachments: list[Attachment] = [
                self._writes.event_record(event.event_id, event.type, current.policy_id, content, raw, source, today),
                self._writes.policy_update(
                    current,
                    {
                        "components": components,
                        "endorsement": {
                            "endorsement_id": event.endorsement_id,
                            "event_id": event.event_id,
                            "effective_date": event.effective_date.isoformat(),
                            "billing": event.billing,
                            "change": {k: str(v) for k, v in change_components.items()},
                        },
                        "new_items": [i.item_id for i in change.new_items],
                    },
                ),
            ]
            endorsed = Event(
                "PolicyEndorsed",
                {
                    "policy_id": current.policy_id,
                    "account_id": current.account_id,
                    "endorsement_id": event.endorsement_id,
                    "effective_date": event.effective_date.isoformat(),
                    "change": {k: str(v) for k, v in change_components.items()},
                    "refund": str(change.refund_payable),
                },
                EVENT_SOURCE,
            )
            planned = self._planned("endorse", cause, loaded, current, change, attachments, source, events=(endorsed,))
            applied["done"] = True
            return planned

        self._operations.run(facts.account_id, first)
        if not applied["done"]:
            return ChangeOutcome("duplicate", "the same event was already applied")
        return ChangeOutcome("applied", follow_ups={facts.account_id: today})

    # -- cancellation ------------------------------------------------------------------------------------------------
    def cancel(
        self,
        policy_id: str,
        *,
        effective_date: date,
        basis: Literal["pro_rata", "short_rate"],
        reason_kind: Literal["request", "non_payment"],
        reason: str,
        source: str,
        event: PolicyCancelled | None = None,
        content: str = "",
        raw: Mapping[str, Any] | None = None,
        events: Sequence[Event] = (),
    ) -> ChangeOutcome:
        facts = self._store.policy_facts(policy_id)
        assert facts is not None, "the caller checked the policy exists"
        if facts.status in CLOSED:
            return ChangeOutcome(
                "rejected", f"policy_id: policy {policy_id} is already cancelled (on {facts.cancelled_on})"
            )
        if not facts.start_date <= effective_date <= facts.end_date:
            return ChangeOutcome(
                "rejected",
                f"effective_date: {effective_date} is outside the policy's term {facts.start_date}–{facts.end_date}",
            )
        rules = self._rules.rules()
        today = self._clock.today()
        cause = Cause(kind="event", source=source, position=f"event {event.event_id}" if event else None)
        applied = {"done": False}

        def first(loaded: LoadedAccount, _limit: int) -> Planned | None:
            if event is not None and self._store.event_recorded(event.event_id):
                return None
            current = self._store.policy_facts(policy_id)
            assert current is not None
            if current.status in CLOSED:
                return None
            items = self._store.policy_items(current)
            ledger = loaded.ledger
            change = plan_cancellation(
                policy_id=policy_id,
                components=current.components,
                items=items,
                open_now={i.item_id: ledger.items[i.item_id].open_amount for i in items if i.item_id in ledger.items},
                other_open=ledger.open_items(),
                allocation_policy=ledger.policy,
                start_date=current.start_date,
                end_date=current.end_date,
                effective_date=effective_date,
                short_rate_percent=rules.cancellation.short_rate_percent if basis == "short_rate" else None,
                balance_due_days=rules.cancellation.balance_due_days,
                commission_rate=current.commission_rate,
                today=today,
                currency=current.currency,
                reason=reason_kind,
            )
            attachments: list[Attachment] = []
            if event is not None:
                attachments.append(
                    self._writes.event_record(event.event_id, event.type, policy_id, content, raw or {}, source, today)
                )
            attachments.append(
                self._writes.policy_update(
                    current,
                    {
                        "status": "cancelled",
                        "cancelled_on": effective_date.isoformat(),
                        "cancellation_reason": reason_kind,
                        "cancellation": {
                            **change.summary,
                            "basis": basis,
                            "reason": reason,
                            "refund_payable": refund_payable_id(current) if change.refund_payable > 0 else None,
                        },
                        "overdue_at_cancellation": Decimal(str(change.summary.get("overdue", "0"))),
                        "new_items": [i.item_id for i in change.new_items],
                    },
                )
            )
            extra = self._clawback(current, change, cause, today, attachments)
            posted = [
                Event(
                    "PolicyCancellationPosted",
                    {
                        "policy_id": policy_id,
                        "account_id": current.account_id,
                        "effective_date": effective_date.isoformat(),
                        "reason": reason_kind,
                        **{k: v for k, v in change.summary.items() if k != "earned"},
                    },
                    EVENT_SOURCE,
                ),
                *events,
            ]
            planned = self._planned(
                "cancel_policy", cause, loaded, current, change, attachments, source, extra=extra, events=posted
            )
            applied["done"] = True
            return planned

        self._operations.run(facts.account_id, first)
        if not applied["done"]:
            return ChangeOutcome("duplicate", "the same event was already applied")
        return ChangeOutcome("applied", follow_ups={facts.account_id: today})

    def _clawback(
        self,
        facts: PolicyFacts,
        change: AccountChange,
        cause: Cause,
        today: date,
        attachments: list[Attachment],
    ) -> tuple[JournalEntry, ...]:
        """Commission on unearned premium taken back from the channel: its open commission payables of the policy
        reduced, newest first; what they cannot absorb (already paid out) a receivable on its account."""
        if change.commission is None or facts.commission_account_id is None or facts.party_id is None:
            return ()
        to_claw = -change.commission.amount
        postings: list[Posting] = []
        lines = sorted(self._store.commission_payables(facts), key=lambda p: p.item_id, reverse=True)
        for payable in lines:
            if to_claw <= 0:
                break
            take = min(to_claw, payable.open_amount)
            if take <= 0:
                continue
            to_claw -= take
            attachments.append(
                self._writes.payable_adjusted(
                    payable.payable_id,
                    payable.open_amount,
                    payable.open_amount - take,
                    "cancelled" if take == payable.open_amount else "approved",
                )
            )
            postings.append(
                Posting(
                    kind=PostingKind.PAYABLE_ADJUSTED,
                    side=Side.ITEM,
                    amount=take,
                    item_id=payable.payable_id,
                    reason=change.commission.reason,
                )
            )
            update = change.change(payable.item_id)
            update.commission_status = "clawed_back" if take == payable.amount else None
            if take != payable.amount:
                update.commission = payable.amount - take
        if to_claw > 0:
            attachments.append(
                self._writes.new_item(
                    facts,
                    NewPolicyItem(
                        item_id=f"{facts.policy_id}-KC",
                        kind="commission_clawback",
                        due_date=today + timedelta(days=30),
                        components={"commission": to_claw},
                    ),
                    cause.describe(),
                    today,
                    account_id=facts.commission_account_id,
                )
            )
        if not postings:
            return ()
        return (
            JournalEntry(
                entry_id=new_entry_id(),
                account_id=facts.commission_account_id,
                currency=facts.currency,
                business_date=today,
                recorded_at=self._clock.now(),
                operation="commission_clawback",
                cause=cause,
                postings=tuple(postings),
            ),
        )

    # -- shared ------------------------------------------------------------------------------------------------------
    def _planned(
        self,
        operation: str,
        cause: Cause,
        loaded: LoadedAccount,
        facts: PolicyFacts,
        change: AccountChange,
        attachments: list[Attachment],
        source: str,
        *,
        extra: tuple[JournalEntry, ...] = (),
        events: Sequence[Event] = (),
    ) -> Planned:
        ledger = loaded.ledger
        today = self._clock.today()
        for item_id, open_amount in change.open_after.items():
            ledger.items[item_id].open_amount = open_amount
        for item_id, update in change.items.items():
            if update.amount is not None and item_id in ledger.items:
                ledger.items[item_id].amount = update.amount
        new_ids = []
        for item in change.new_items:
            attachments.append(self._writes.new_item(facts, item, source, today))
            if item.kind != "commission_clawback":
                ledger.items[item.item_id] = ItemState(
                    item_id=item.item_id,
                    kind=item.kind,
                    issue_date=today,
                    due_date=item.due_date,
                    amount=item.amount,
                    open_amount=item.amount,
                    currency=facts.currency,
                )
                new_ids.append(item.item_id)
        if change.refund_payable > 0:
            attachments.append(
                self._writes.payable(
                    refund_payable_id(facts),
                    kind="refund",
                    account_id=facts.account_id,
                    party_id=facts.payer_id,
                    amount=change.refund_payable,
                    currency=facts.currency,
                    due_date=today,
                    cause=cause,
                    policy_id=facts.policy_id,
                )
            )
        return Planned(
            operation,
            cause,
            Step(change.postings),
            extra_entries=extra,
            item_updates=item_updates(change),
            attachments=tuple(attachments),
            new_items=tuple(new_ids),
            events=tuple(events),
        )


def refund_payable_id(facts: PolicyFacts) -> str:
    """``<policy_id>-R<n>``: one refund payable per change of the policy, named by the version that owed it."""
    return f"{facts.policy_id}-R{facts.version + 1}"
