"""Applying policy events to the sub-ledger: what each event posts, exactly once per ``event_id``.

An event arrives from a line of a ``policy-events/`` file or a message of the ``policy-events`` queue; both end here.
The outcome is one of: ``applied``; ``duplicate`` (the same content again); ``waiting`` (its policy is not known yet —
the caller retries it later, and after the last attempt it is ``rejected`` with that reason); ``rejected`` (the
reason names the event id and the field). Nothing is dropped without one of these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol

from receivables.domain.billing import first_overdue_day
from receivables.domain.clock import Clock
from receivables.insurance.config import InsuranceRules
from receivables.insurance.events import (
    ClaimPaymentApproved,
    ClaimPaymentCancelled,
    ClaimRecoveryDue,
    EndorsementIssued,
    EventRejectedError,
    PolicyCancelled,
    PolicyIssued,
    ReinsuranceCession,
    canonical,
    changed_fields,
    parse_event,
)
from receivables.insurance.parties import Billing, PartyKind
from receivables.insurance.policy_changes import PolicyChanges
from receivables.insurance.premium import (
    PREMIUM,
    CoverPremium,
    commission_of,
    installment_bills,
    premium_components,
)

if TYPE_CHECKING:  # payables builds on this module's facts
    from receivables.insurance.payables import Payables
    from receivables.insurance.reinsurance import Reinsurance

CHANNEL_KINDS = frozenset({PartyKind.AGENCY, PartyKind.BROKER, PartyKind.BANK})
INSTALLMENT_KIND = "premium_installment"


def current_account_id(owner_id: str, currency: str) -> str:
    """The current account (cari hesap) of a customer or party in one currency: all its policies' installments."""
    return f"CARI-{owner_id}-{currency}"


def installment_id(policy_id: str, no: int) -> str:
    return f"{policy_id}-T{no}"


def commission_payable_id(item_id: str) -> str:
    """The payable a paid installment's commission becomes: ``<policy_id>-T<no>-K`` (komisyon)."""
    return f"{item_id}-K"


@dataclass(frozen=True, slots=True)
class EventSource:
    """Where an event came from: a file's key and line, or the queue (``line`` None)."""

    origin: str  # the file key, or "sqs:policy-events"
    line: int | None = None

    def describe(self) -> str:
        return self.origin + (f":{self.line}" if self.line is not None else "")


@dataclass(frozen=True, slots=True)
class EventOutcome:
    status: Literal["applied", "duplicate", "waiting", "rejected"]
    event_id: str | None
    reason: str = ""
    policy_id: str | None = None
    # Accounts that gained items, each with the first day one of them is overdue: dunning's next action, and the
    # account's unapplied credit to apply.
    follow_ups: dict[str, date] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PartyFacts:
    party_id: str
    kind: PartyKind
    commission_plan: str | None
    billing: Billing | None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event_id: str
    content: str  # canonical JSON
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewInstallment:
    item_id: str
    no: int
    due_date: date
    components: dict[str, Decimal]
    commission: Decimal  # 0 without a channel
    commission_payable: bool  # on_issue plans: payable at once

    @property
    def amount(self) -> Decimal:
        return sum(self.components.values(), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class NewPolicy:
    policy_id: str
    customer_id: str
    branch: str
    start_date: date
    end_date: date
    currency: str
    billing: Billing
    party_id: str | None
    payer_id: str  # who owes the premium: the customer (direct) or the channel (agency)
    payer_is_party: bool
    account_id: str
    components: dict[str, Decimal]
    commission_rate: Decimal
    commission_plan: str | None
    commission_account_id: str | None  # the channel's current account, where commission becomes payable
    installments: tuple[NewInstallment, ...]
    issued_on: date
    event_id: str
    source: EventSource
    raw: dict[str, Any] = field(default_factory=dict)
    # The payer collects by mandate or auto-pay instruction: its installments are indexed by due date for the
    # collection runs (direct debit, card and bank-scheme collections).
    collected: bool = False

    @property
    def gross_premium(self) -> Decimal:
        return sum(self.components.values(), Decimal("0.00"))


class PolicyAlreadyExistsError(Exception):
    """Another event issued this policy id first."""


class PolicyStore(Protocol):
    def stored_event(self, event_id: str) -> StoredEvent | None: ...

    def customer_exists(self, customer_id: str) -> bool: ...

    def collects_from(self, customer_id: str) -> bool:
        """The customer has a mandate or an auto-pay instruction."""
        ...

    def party(self, party_id: str) -> PartyFacts | None: ...

    def policy_exists(self, policy_id: str) -> bool: ...

    def issue(self, policy: NewPolicy, content: str) -> None:
        """Write the policy, its installments, its current account, the commissions payable at once and the event
        record, all or nothing. :class:`PolicyAlreadyExistsError` when the policy id is taken; an
        :class:`EventRecordedError` when the event id was recorded meanwhile."""
        ...


class EventRecordedError(Exception):
    """The event id was recorded by another delivery between our read and our write."""


class RulesSource(Protocol):
    def rules(self) -> InsuranceRules: ...


class PolicyEventService:
    def __init__(
        self,
        *,
        store: PolicyStore,
        rules: RulesSource,
        clock: Clock,
        changes: PolicyChanges,
        claims: Payables | None = None,
        reinsurance: Reinsurance | None = None,
    ) -> None:
        self._store = store
        self._rules = rules
        self._clock = clock
        self._changes = changes
        self._claims = claims
        self._reinsurance = reinsurance

    def handle(
        self, raw: Mapping[str, Any], source: EventSource, *, attempt: int = 1, max_attempts: int = 1
    ) -> EventOutcome:
        raw = dict(raw)
        event_id = raw.get("event_id") if isinstance(raw.get("event_id"), str) else None
        try:
            event = parse_event(raw)
        except EventRejectedError as rejection:
            return EventOutcome("rejected", event_id, _named(event_id, rejection.reason))
        content = canonical(raw)
        stored = self._store.stored_event(event.event_id)
        if stored is not None:
            return self._again(stored, raw, content)
        match event:
            case PolicyIssued():
                outcome = self._issue(event, raw, content, source)
            case ClaimPaymentApproved() | ClaimPaymentCancelled():
                return self._claim(event, raw, content, source, attempt, max_attempts)
            case ReinsuranceCession() | ClaimRecoveryDue():
                return self._reinsured(event, raw, content, source, attempt, max_attempts)
            case EndorsementIssued() | PolicyCancelled():
                if not self._store.policy_exists(event.policy_id):
                    return self._unknown_policy(event.event_id, event.policy_id, event.type, attempt, max_attempts)
                if isinstance(event, EndorsementIssued):
                    change = self._changes.endorse(event, content, raw, source.describe())
                else:
                    change = self._changes.cancel(
                        event.policy_id,
                        effective_date=event.effective_date,
                        basis=event.basis,
                        reason_kind="request",
                        reason=event.reason,
                        source=source.describe(),
                        event=event,
                        content=content,
                        raw=raw,
                    )
                if change.status == "duplicate":
                    stored = self._store.stored_event(event.event_id)
                    assert stored is not None
                    return self._again(stored, raw, content)
                outcome = EventOutcome(
                    change.status,
                    event.event_id,
                    _named(event.event_id, change.reason) if change.reason else "",
                    event.policy_id,
                    follow_ups=change.follow_ups,
                )
        return outcome

    def _claim(
        self,
        event: ClaimPaymentApproved | ClaimPaymentCancelled,
        raw: dict[str, Any],
        content: str,
        source: EventSource,
        attempt: int,
        max_attempts: int,
    ) -> EventOutcome:
        """Claims' payables (insurance/payables.py). A payment for a policy not known yet, or a cancellation whose
        payment has not arrived, waits like an endorsement that overtook its policy."""
        from receivables.insurance.payables import claim_payable_id

        claims = self._claims
        if claims is None:
            return EventOutcome("rejected", event.event_id, _named(event.event_id, "type: claims are not handled here"))
        if isinstance(event, ClaimPaymentApproved):
            facts = claims.policy_facts(event.policy_id)
            if facts is None:
                return self._unknown_policy(event.event_id, event.policy_id, event.type, attempt, max_attempts)
            change = claims.approved(event, facts, content, raw, source.describe())
        else:
            claim = claims.payable(claim_payable_id(event.claim_id))
            if claim is None:
                if attempt < max_attempts:
                    return EventOutcome("waiting", event.event_id, f"claim {event.claim_id} is not known yet")
                return EventOutcome(
                    "rejected",
                    event.event_id,
                    _named(event.event_id, f"claim_id: unknown claim {event.claim_id} after {max_attempts} attempts"),
                )
            change = claims.cancelled(event, claim, content, raw, source.describe())
        if change.status == "duplicate":
            stored = self._store.stored_event(event.event_id)
            assert stored is not None
            return self._again(stored, raw, content)
        return EventOutcome(
            change.status,
            event.event_id,
            _named(event.event_id, change.reason) if change.reason else "",
            getattr(event, "policy_id", None),
            follow_ups=change.follow_ups,
        )

    def _reinsured(
        self,
        event: ReinsuranceCession | ClaimRecoveryDue,
        raw: dict[str, Any],
        content: str,
        source: EventSource,
        attempt: int,
        max_attempts: int,
    ) -> EventOutcome:
        """Reinsurers' accounts (insurance/reinsurance.py). A cession of a policy not known yet, or a recovery whose
        currency nothing names yet (no claim payment, no policy), waits and retries."""
        reinsurance = self._reinsurance
        if reinsurance is None:
            return EventOutcome(
                "rejected", event.event_id, _named(event.event_id, "type: reinsurance is not handled here")
            )
        if isinstance(event, ReinsuranceCession):
            change = reinsurance.ceded(event, content, raw, source.describe())
            if change is None:
                return self._unknown_policy(event.event_id, event.policy_id, event.type, attempt, max_attempts)
        else:
            change = reinsurance.recovery_due(event, content, raw, source.describe())
            if change is None:
                if attempt < max_attempts:
                    return EventOutcome("waiting", event.event_id, f"claim {event.claim_id} is not known yet")
                return EventOutcome(
                    "rejected",
                    event.event_id,
                    _named(
                        event.event_id,
                        f"currency: claim {event.claim_id} is not known after {max_attempts} attempts; "
                        "send the currency (or the policy_id)",
                    ),
                )
        if change.status == "duplicate":
            stored = self._store.stored_event(event.event_id)
            assert stored is not None
            return self._again(stored, raw, content)
        return EventOutcome(
            change.status,
            event.event_id,
            _named(event.event_id, change.reason) if change.reason else "",
            event.policy_id,
        )

    def _again(self, stored: StoredEvent, raw: dict[str, Any], content: str) -> EventOutcome:
        if stored.content == content:
            return EventOutcome("duplicate", stored.event_id, "the same event was already applied")
        fields = ", ".join(changed_fields(stored.raw, raw)) or "content"
        return EventOutcome(
            "rejected",
            stored.event_id,
            _named(stored.event_id, f"conflict: already received with different content ({fields}); never applied"),
        )

    @staticmethod
    def _unknown_policy(event_id: str, policy_id: str, kind: str, attempt: int, max_attempts: int) -> EventOutcome:
        if attempt < max_attempts:
            return EventOutcome("waiting", event_id, f"policy {policy_id} is not known yet", policy_id)
        return EventOutcome(
            "rejected",
            event_id,
            _named(
                event_id,
                f"policy_id: unknown policy {policy_id} after {max_attempts} attempts "
                f"({kind} for a policy never issued)",
            ),
            policy_id,
        )

    def _issue(self, event: PolicyIssued, raw: dict[str, Any], content: str, source: EventSource) -> EventOutcome:
        problems = []
        if not self._store.customer_exists(event.customer_id):
            problems.append(f"customer_id: unknown customer {event.customer_id}")
        party = self._store.party(event.channel.party_id) if event.channel else None
        if event.channel and party is None:
            problems.append(f"channel.party_id: unknown party {event.channel.party_id}")
        elif party is not None and party.kind not in CHANNEL_KINDS:
            problems.append(
                f"channel.party_id: party {party.party_id} is a {party.kind.value}, not a sales channel "
                "(agency, broker or bank)"
            )
        if self._store.policy_exists(event.policy_id):
            problems.append(f"policy_id: policy {event.policy_id} was already issued by another event")
        if problems:
            return EventOutcome("rejected", event.event_id, _named(event.event_id, "; ".join(problems)))
        policy = self.price(event, party, source, raw)
        try:
            self._store.issue(policy, content)
        except PolicyAlreadyExistsError:
            return EventOutcome(
                "rejected",
                event.event_id,
                _named(event.event_id, f"policy_id: policy {event.policy_id} was already issued by another event"),
            )
        except EventRecordedError:
            stored = self._store.stored_event(event.event_id)
            assert stored is not None
            return self._again(stored, raw, content)
        first_due = min(i.due_date for i in policy.installments)
        return EventOutcome(
            "applied",
            event.event_id,
            policy_id=event.policy_id,
            follow_ups={policy.account_id: first_overdue_day(first_due)},
        )

    def price(
        self, event: PolicyIssued, party: PartyFacts | None, source: EventSource, raw: dict[str, Any]
    ) -> NewPolicy:
        """The policy as §3 of the insurance contract bills it (pure: no store, no clock)."""
        rules = self._rules.rules()
        components = premium_components(
            event.branch, [CoverPremium(c.cover, c.net_premium) for c in event.covers], rules.levies
        )
        plan_id = party.commission_plan if party else None
        plan = rules.plan(plan_id)
        rate = plan.rate_for(event.branch) if party else Decimal(0)
        billing = event.billing
        payer_is_party = billing is Billing.AGENCY and party is not None
        payer = party.party_id if payer_is_party and party else event.customer_id
        bills = installment_bills(
            components,
            installments=event.payment_plan.installments,
            first_due_date=event.payment_plan.first_due_date,
            interval_months=event.payment_plan.interval_months,
            down_payment_percent=event.payment_plan.down_payment_percent,
        )
        installments = tuple(
            NewInstallment(
                item_id=installment_id(event.policy_id, bill.no),
                no=bill.no,
                due_date=bill.due_date,
                components=bill.components,
                commission=commission_of(plan, event.branch, bill.components[PREMIUM]) if party else Decimal(0),
                commission_payable=party is not None and plan.payable == "on_issue",
            )
            for bill in bills
        )
        return NewPolicy(
            policy_id=event.policy_id,
            customer_id=event.customer_id,
            branch=event.branch,
            start_date=event.start_date,
            end_date=event.end_date,
            currency=event.currency,
            billing=billing,
            party_id=party.party_id if party else None,
            payer_id=payer,
            payer_is_party=payer_is_party,
            account_id=current_account_id(payer, event.currency),
            components=components,
            commission_rate=rate,
            commission_plan=plan_id,
            commission_account_id=current_account_id(party.party_id, event.currency) if party else None,
            installments=installments,
            issued_on=self._clock.today(),
            event_id=event.event_id,
            source=source,
            raw=raw,
            collected=not payer_is_party and self._store.collects_from(payer),
        )


def _named(event_id: str | None, reason: str) -> str:
    return f"event {event_id}: {reason}" if event_id else reason
