"""The dunning decision for one account on one business date: pure, deterministic and explained.

Given the account's facts, its holds, promise and plan, and the state stored after the previous run, ``decide``
returns what to do today (at most one step), the new state, and the next date anything could happen. Running it
twice with the same inputs gives the same decision, so a worker that crashed after sending can re-run it safely: the
idempotency key of every step (account + cycle + step) tells the notifier it was already done.

The default semantics (the contract of the shipped configuration):

- An item is overdue on D when its open amount > 0 and its due date < D; items on hold are left out. The account's
  overdue amount is the sum of its overdue items; days overdue count from the oldest overdue item's due date.
- A cycle starts when the overdue amount reaches ``cycle_threshold`` and ends when it drops below; ending a cycle in
  which the account was suspended emits ``reconnect`` the same day. A later overdue starts a new cycle.
- Each step fires at most once per cycle, on the first run where it is due; when several are due at once only the
  latest fires and the others are recorded as skipped ("superseded").
- An account or customer hold stops steps and keeps a cycle from starting (a cycle may still end: reconnecting a
  customer who paid never waits for a hold). A promise to pay pauses steps until its date + grace days; an active,
  kept installment plan pauses them until an installment is missed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from receivables.domain.ledger import Money
from receivables.domain.money import ZERO, format_money
from receivables.dunning.calendar import add_days, days_overdue
from receivables.dunning.collectors import assign_collector_group, task_priority
from receivables.dunning.config import Action, Channel, DunningConfig, Segment, Step, Strategy
from receivables.dunning.records import Explanation, StageChange, hold_in_force
from receivables.dunning.rules import RuleEvaluationError

Arm = Literal["champion", "challenger"]
PromiseOutcome = Literal["kept", "broken"]
PlanOutcome = Literal["broken", "completed"]
CycleEvent = Literal["started", "ended"]

# Items in these states owe nothing to dunning, whatever their open amount says (restructured: moved into a plan).
CLOSED_STATUSES = frozenset({"paid", "restructured", "cancelled", "written_off"})
RECONNECT_ON_CYCLE_END = "cycle_end:reconnect"  # ':' cannot occur in a step name, so this key never collides
_ONE_DAY = dt.timedelta(days=1)


# ---------------------------------------------------------------- inputs


class ItemFacts(BaseModel):
    model_config = ConfigDict(frozen=True)
    item_id: str
    due_date: dt.date
    open_amount: Money
    amount: Money | None = None  # as billed (the case file shows what was paid of it)
    held: bool = False  # an item or subscription hold
    hold_start: dt.date | None = None  # first day of that hold; None: since before any date asked about
    hold_until: dt.date | None = None  # last day of that hold; None: until it is lifted
    status: str = "open"
    policy_id: str | None = None  # an insurance policy's installment (or other item of the policy)
    branch: str | None = None
    # A collection asked of the bank and not answered yet (a card or bank-scheme request, a direct debit sent or
    # accepted): the money may be on its way, so the item is not dunned until the answer.
    collection_pending: bool = False

    def held_on(self, day: dt.date) -> bool:
        return self.held and hold_in_force(day, start=self.hold_start, until=self.hold_until)

    @property
    def is_open(self) -> bool:
        return self.open_amount > 0 and self.status not in CLOSED_STATUSES

    def overdue_on(self, day: dt.date) -> bool:
        return self.is_open and self.due_date < day and not self.held_on(day) and not self.collection_pending


class CustomerFacts(BaseModel):
    model_config = ConfigDict(frozen=True)
    customer_id: str
    customer_type: str = "individual"
    city: str = ""
    language: str = "tr"
    vip: bool = False
    risk_score: int | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    email: str | None = None
    phone: str | None = None
    opted_out: frozenset[Channel] = frozenset()
    late_payments_12m: int = 0
    broken_promises_12m: int = 0
    autopay_method: str | None = None  # card | direct_debit | bank_scheme: an auto-pay instruction (talimat)
    has_mandate: bool = False  # a direct-debit mandate
    # Where letters go: the account's billing address, else the customer's (lines under the name). Known: the
    # master data said what the address is (empty means none) — data loaded before addresses existed says nothing.
    postal_address: tuple[str, ...] = ()
    postal_address_known: bool = False


class AccountFacts(BaseModel):
    model_config = ConfigDict(frozen=True)
    account_id: str
    customer: CustomerFacts
    account_type: str = "standard"
    currency: str = "TRY"
    items: tuple[ItemFacts, ...] = ()
    unapplied_credit: Money = ZERO

    @property
    def balance(self) -> Decimal:
        return sum((i.open_amount for i in self.items if i.is_open), ZERO) - self.unapplied_credit


class Hold(BaseModel):
    """A customer or account hold (item and subscription holds are marked on the items)."""

    model_config = ConfigDict(frozen=True)
    level: Literal["customer", "account"] = "account"
    reason: str
    start: dt.date | None = None  # first day held; None: since before any date asked about
    until: dt.date | None = None  # last day held; None: until it is lifted

    def active_on(self, day: dt.date) -> bool:
        return hold_in_force(day, start=self.start, until=self.until)


class PromiseFacts(BaseModel):
    model_config = ConfigDict(frozen=True)
    promise_id: str | None = None
    amount: Money = Field(gt=0)
    date: dt.date
    created_on: dt.date
    paid_since_promise: Money = ZERO


class PlanFacts(BaseModel):
    model_config = ConfigDict(frozen=True)
    plan_id: str | None = None
    status: Literal["active", "broken", "completed"] = "active"
    installment_item_ids: tuple[str, ...]


class Notice(BaseModel):
    """A legal notice (ihtar): its date, its deadline (a payment on that day still counts) and what it demanded."""

    model_config = ConfigDict(frozen=True)
    step: str
    date: dt.date
    deadline: dt.date
    items: dict[str, Money]  # item id → open amount demanded

    def expired(self, today: dt.date, open_now: Mapping[str, Decimal]) -> bool:
        """Past its deadline with any demanded item still open."""
        return today > self.deadline and any(open_now.get(i, ZERO) > 0 for i in self.items)


class DunningState(BaseModel):
    """What the engine remembers about an account between runs."""

    model_config = ConfigDict(frozen=True)
    cycle_started: dt.date | None = None
    cycle_number: int = 0
    segment: str | None = None
    strategy: str | None = None
    arm: Arm = "champion"
    config_version: int | None = None
    fired: tuple[str, ...] = ()  # step names fired in the current cycle
    skipped: tuple[str, ...] = ()  # step names skipped in the current cycle (superseded or unreachable)
    suspended_in_cycle: bool = False
    stage: str | None = None  # the last fired step of the current cycle
    notice: Notice | None = None  # this cycle's legal notice, when a step with notice_days fired

    @property
    def in_cycle(self) -> bool:
        return self.cycle_started is not None

    def summary(self) -> dict[str, Any]:
        """The ``accounts[].dunning`` shape of STATE.json."""
        return {
            "stage": self.stage,
            "strategy": self.strategy,
            "segment": self.segment,
            "cycle_started": self.cycle_started.isoformat() if self.cycle_started else None,
        }


# ---------------------------------------------------------------- outputs


class FiredStep(BaseModel):
    model_config = ConfigDict(frozen=True)
    step: str
    offset_days: int
    channel: Channel | None = None  # the channel actually used (the fallback when it was needed)
    action: Action | None = None
    template: str | None = None
    fallback_used: bool = False
    to: str | None = None  # e-mail address or phone number: personal data, never logged
    collector_group: str | None = None  # call tasks only
    priority: str | None = None  # call tasks only: task_priority key
    idempotency_key: str


class SkippedStep(BaseModel):
    model_config = ConfigDict(frozen=True)
    step: str
    reason: str


class EmittedAction(BaseModel):
    model_config = ConfigDict(frozen=True)
    action: Action
    step: str | None  # the step that fired it; None for the reconnect at the end of a cycle
    reason: str
    idempotency_key: str


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)
    account_id: str
    business_date: dt.date
    config_version: int
    state: DunningState
    overdue_amount: Money
    days_overdue: int  # in the strategy's count (business days when it says so), else calendar days
    cycle_event: CycleEvent | None = None
    fired: tuple[FiredStep, ...] = ()  # at most one
    skipped: tuple[SkippedStep, ...] = ()
    actions: tuple[EmittedAction, ...] = ()
    promise_outcome: PromiseOutcome | None = None
    plan_outcome: PlanOutcome | None = None
    next_review_on: dt.date | None = None
    next_review_reason: str | None = None
    explanation: str

    def explained(self) -> Explanation:
        """The explanation as stored with the account's dunning state (cut to a bounded length)."""
        return Explanation(business_date=self.business_date, config_version=self.config_version, text=self.explanation)

    def stage_change(self) -> StageChange | None:
        """The explanation as stored with the cycle record, when the decision changed the cycle's stage."""
        if self.cycle_event is None and not self.fired:
            return None
        return StageChange(
            business_date=self.business_date,
            config_version=self.config_version,
            text=self.explanation,
            event=self.cycle_event,
            step=self.fired[0].step if self.fired else None,
        )


# ---------------------------------------------------------------- helpers


def step_key(account_id: str, cycle_number: int, step: str) -> str:
    """The idempotency key of one step in one cycle of one account."""
    return f"{account_id}#{cycle_number}#{step}"


def challenger_bucket(account_id: str, segment: str, experiment: str = "") -> int:
    """0–99, stable across processes, releases and configuration publishes (sha256, not Python's salted ``hash``):
    an account stays in its arm while its segment's experiment lasts, whatever else the configuration changes.
    Raising the challenger's percent keeps the accounts it had; a new ``experiment`` name draws the arms afresh."""
    digest = hashlib.sha256(f"{account_id}\x1f{segment}\x1f{experiment}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def assign_arm(account_id: str, segment: Segment) -> Arm:
    if segment.challenger is None or segment.challenger.percent == 0:
        return "champion"
    bucket = challenger_bucket(account_id, segment.name, segment.challenger.experiment)
    return "challenger" if bucket < segment.challenger.percent else "champion"


def build_facts(
    account: AccountFacts,
    *,
    overdue_amount: Decimal,
    days_overdue: int,
    open_promise: bool,
    today: dt.date | None = None,
    notice: Notice | None = None,
) -> dict[str, Any]:
    """The dictionary's facts for one account (see ``dictionary.DEFAULT_DICTIONARY``)."""
    customer = account.customer
    policy_items = [i for i in account.items if i.policy_id]
    overdue_policy = sorted(
        (i for i in policy_items if today is not None and i.overdue_on(today)), key=lambda i: i.due_date
    )
    branch_from = overdue_policy or policy_items
    open_now = {i.item_id: i.open_amount if i.is_open else ZERO for i in account.items}
    return {
        "customer_id": customer.customer_id,
        "customer_type": customer.customer_type,
        "city": customer.city,
        "language": customer.language,
        "vip": customer.vip,
        "risk_score": customer.risk_score,
        "attributes": dict(customer.attributes),
        "account_id": account.account_id,
        "account_type": account.account_type,
        "currency": account.currency,
        "balance": account.balance,
        "overdue_amount": overdue_amount,
        "days_overdue": days_overdue,
        "late_payments_12m": customer.late_payments_12m,
        "open_promise": open_promise,
        "broken_promises_12m": customer.broken_promises_12m,
        "autopay_method": customer.autopay_method,
        "has_mandate": customer.has_mandate,
        "collection_pending": any(i.collection_pending and i.is_open for i in account.items),
        "has_policies": bool(policy_items),
        "policy_branch": branch_from[0].branch if branch_from else None,
        "notice_expired": bool(notice and today and notice.expired(today, open_now)),
    }


def _matches(config: DunningConfig, expression: str, facts: Mapping[str, Any], what: str, notes: list[str]) -> bool:
    try:
        return config.rule(expression).matches(facts)
    except RuleEvaluationError as exc:
        notes.append(f"{what} could not be evaluated ({exc.reason}): taken as not matching")
        return False


def match_segment(config: DunningConfig, facts: Mapping[str, Any], notes: list[str]) -> Segment | None:
    for segment in config.segments:
        if _matches(config, segment.rule, facts, f"segment {segment.name} rule", notes):
            return segment
    return None


def _reach(channel: Channel, customer: CustomerFacts) -> tuple[str | None, str | None]:
    """(address, None) when the customer can be reached on ``channel``, else (None, why not)."""
    if channel in customer.opted_out:
        return None, f"customer opted out of {channel}"
    if channel is Channel.EMAIL:
        return (customer.email, None) if customer.email else (None, "customer has no e-mail address")
    if channel in (Channel.SMS, Channel.IVR, Channel.CALL_TASK):
        return (customer.phone, None) if customer.phone else (None, "customer has no phone number")
    if channel is Channel.LETTER:
        if customer.postal_address:
            return ", ".join(customer.postal_address), None
        if customer.postal_address_known:
            return None, "customer has no postal address"
    return None, None  # master data that never carried addresses: the letter is printed for the mail room


def _judge_promise(
    promise: PromiseFacts | None, today: dt.date, grace_days: int
) -> tuple[PromiseOutcome | None, str | None]:
    if promise is None:
        return None, None
    deadline = promise.date + dt.timedelta(days=grace_days)
    said = f"promise of {format_money(promise.amount)} for {promise.date.isoformat()}"
    paid = format_money(promise.paid_since_promise)
    if promise.paid_since_promise >= promise.amount:
        return "kept", f"{said} kept ({paid} paid since {promise.created_on.isoformat()})"
    if today > deadline:
        return "broken", f"{said} broken (only {paid} paid by {deadline.isoformat()}): dunning resumes"
    return None, f"{said} open: dunning paused until {deadline.isoformat()}"


def _judge_plan(
    plan: PlanFacts | None, items: Sequence[ItemFacts], today: dt.date
) -> tuple[PlanOutcome | None, str | None]:
    if plan is None or plan.status != "active":
        return None, None
    wanted = set(plan.installment_item_ids)
    installments = [item for item in items if item.item_id in wanted]
    missed = [item for item in installments if item.overdue_on(today)]
    if missed:
        first = min(missed, key=lambda item: item.due_date)
        return "broken", (
            f"installment plan broken: {first.item_id} due {first.due_date.isoformat()} is unpaid; "
            "dunning resumes on what is still open"
        )
    # Installments the caller did not pass are taken as settled: a caller that lists open items only still sees
    # the plan complete.
    if not any(item.is_open for item in installments):
        return "completed", "installment plan completed"
    return None, "installment plan active and kept: dunning paused"


# ---------------------------------------------------------------- the decision


@dataclass(frozen=True, slots=True)
class _Overdue:
    """What is overdue on the business date: the items, their sum, the oldest due date and its age in calendar days."""

    items: tuple[ItemFacts, ...]
    amount: Decimal
    oldest: dt.date | None
    calendar_days: int


@dataclass(frozen=True, slots=True)
class _CycleTurn:
    """The cycle after today's overdue amount is weighed: started, ended or carried on."""

    event: CycleEvent | None
    in_cycle: bool
    number: int
    update: dict[str, Any]  # the state fields it changes
    actions: tuple[EmittedAction, ...] = ()  # the reconnect of a cycle that ended after a suspension


@dataclass(frozen=True, slots=True)
class _Steps:
    """What today's steps did: at most one fired, those skipped, the actions, the state fields changed, and whether
    the passing of time alone can make a later step happen (in a cycle, not held, not paused)."""

    fired: FiredStep | None = None
    skipped: tuple[SkippedStep, ...] = ()
    actions: tuple[EmittedAction, ...] = ()
    update: dict[str, Any] = field(default_factory=dict)
    running: bool = False


def decide(
    config: DunningConfig,
    account: AccountFacts,
    state: DunningState,
    today: dt.date,
    *,
    holds: Iterable[Hold] = (),
    promise: PromiseFacts | None = None,
    plan: PlanFacts | None = None,
) -> Decision:
    """What dunning does for ``account`` on business date ``today``, given the state stored after the last run.

    The phases, in order: what is overdue and which holds are in force; the promise's and the plan's outcome; the
    cycle (start, end, reconnect); segment, arm and strategy; the steps; the next review; the explanation."""
    notes: list[str] = []
    overdue = _overdue(account, today)
    active_holds = [hold for hold in holds if hold.active_on(today)]
    plan_outcome, plan_note = _judge_plan(plan, account.items, today)
    plan_pauses = plan is not None and plan.status == "active" and plan_outcome is None
    promise_outcome, promise_note = _judge_promise(promise, today, config.promise_grace_days)
    promise_pauses = promise is not None and promise_outcome is None
    facts = build_facts(
        account,
        overdue_amount=overdue.amount,
        days_overdue=overdue.calendar_days,
        open_promise=promise_pauses,
        today=today,
        notice=state.notice if state.in_cycle else None,
    )

    cycle = _turn_cycle(config, account.account_id, state, today, overdue.amount, held=bool(active_holds), notes=notes)
    update: dict[str, Any] = {"config_version": config.version, **cycle.update}
    if not active_holds:  # while on hold the stored segment, arm and strategy stay: the cycle does not advance
        update |= _assign_strategy(config, account.account_id, state, facts, cycle, notes)
    strategy = config.strategy(update.get("strategy", state.strategy))
    days = _days_overdue(overdue, today, strategy)
    notes += [note for note in (plan_note, promise_note) if note]  # reported whatever else happens today

    steps = _take_steps(
        config,
        strategy,
        state,
        cycle,
        account=account,
        days=days,
        overdue_amount=overdue.amount,
        facts=facts,
        active_holds=active_holds,
        paused=plan_pauses or promise_pauses,
        notes=notes,
        today=today,
    )
    new_state = state.model_copy(update=update | steps.update)
    review_on, review_reason = _next_review(
        config,
        account,
        new_state,
        today,
        active_holds=active_holds,
        promise=promise if promise_pauses else None,
        running=steps.running,
        strategy=strategy,
        oldest=overdue.oldest,
        days=days,
    )
    return Decision(
        account_id=account.account_id,
        business_date=today,
        config_version=config.version,
        state=new_state,
        overdue_amount=overdue.amount,
        days_overdue=days,
        cycle_event=cycle.event,
        fired=(steps.fired,) if steps.fired else (),
        skipped=steps.skipped,
        actions=(*cycle.actions, *steps.actions),
        promise_outcome=promise_outcome,
        plan_outcome=plan_outcome,
        next_review_on=review_on,
        next_review_reason=review_reason,
        explanation=_explain(config, account, today, overdue, strategy, days, notes, review_on, review_reason),
    )


# ---------------------------------------------------------------- the phases of a decision


def _overdue(account: AccountFacts, today: dt.date) -> _Overdue:
    items = tuple(item for item in account.items if item.overdue_on(today))
    oldest = min((item.due_date for item in items), default=None)
    return _Overdue(
        items=items,
        amount=sum((item.open_amount for item in items), ZERO),
        oldest=oldest,
        calendar_days=days_overdue(oldest, today, False) if oldest else 0,
    )


def _days_overdue(overdue: _Overdue, today: dt.date, strategy: Strategy | None) -> int:
    """Days overdue in the strategy's count (business days when it says so), else calendar days."""
    if strategy is None or overdue.oldest is None:
        return overdue.calendar_days
    return days_overdue(overdue.oldest, today, strategy.business_days)


def _turn_cycle(
    config: DunningConfig,
    account_id: str,
    state: DunningState,
    today: dt.date,
    overdue_amount: Decimal,
    *,
    held: bool,
    notes: list[str],
) -> _CycleTurn:
    """A cycle ends when the overdue amount drops below the threshold (reconnecting after a suspension) and starts
    when it reaches it, unless the account is on hold; a cycle may end on hold."""
    threshold = config.cycle_threshold
    number = state.cycle_number
    fresh = {"fired": (), "skipped": (), "suspended_in_cycle": False, "stage": None, "notice": None}
    if state.in_cycle and overdue_amount < threshold:
        notes.append(f"cycle {number} ended: overdue is below {format_money(threshold)}")
        reconnect = EmittedAction(
            action=Action.RECONNECT,
            step=None,
            reason=f"cycle {number} ended after a suspension",
            idempotency_key=step_key(account_id, number, RECONNECT_ON_CYCLE_END),
        )
        actions: tuple[EmittedAction, ...] = ()
        if state.suspended_in_cycle:
            notes.append(f"reconnect: the account was suspended in cycle {number}")
            actions = (reconnect,)
        return _CycleTurn("ended", False, number, {"cycle_started": None, **fresh}, actions)
    if not state.in_cycle and overdue_amount >= threshold:
        if held:
            notes.append(f"overdue reached {format_money(threshold)} but no cycle starts while on hold")
            return _CycleTurn(None, False, number, {})
        notes.append(f"cycle {number + 1} started: overdue reached {format_money(threshold)}")
        return _CycleTurn("started", True, number + 1, {"cycle_started": today, "cycle_number": number + 1, **fresh})
    if state.in_cycle:
        assert state.cycle_started is not None
        notes.append(f"cycle {number} running since {state.cycle_started.isoformat()}")
    return _CycleTurn(None, state.in_cycle, number, {})


def _assign_strategy(
    config: DunningConfig,
    account_id: str,
    state: DunningState,
    facts: Mapping[str, Any],
    cycle: _CycleTurn,
    notes: list[str],
) -> dict[str, Any]:
    """The segment the facts match, the arm (kept for the whole cycle while the segment stays) and its strategy."""
    segment = match_segment(config, facts, notes)
    if segment is None:
        notes.append("no segment matches: no strategy")
        return {"segment": None, "strategy": None, "arm": "champion"}
    keep = cycle.in_cycle and cycle.event is None and segment.name == state.segment
    arm = state.arm if keep else assign_arm(account_id, segment)
    if arm == "challenger" and segment.challenger is None:
        arm = "champion"  # the challenger was withdrawn mid-cycle
    challenger = segment.challenger if arm == "challenger" else None
    strategy_id = challenger.strategy if challenger else segment.strategy
    notes.append(f"segment {segment.name} → {f'strategy {strategy_id}' if strategy_id else 'exempt'} ({arm})")
    return {"segment": segment.name, "strategy": strategy_id, "arm": arm}


def _take_steps(
    config: DunningConfig,
    strategy: Strategy | None,
    state: DunningState,
    cycle: _CycleTurn,
    *,
    account: AccountFacts,
    days: int,
    overdue_amount: Decimal,
    facts: Mapping[str, Any],
    active_holds: Sequence[Hold],
    paused: bool,
    notes: list[str],
    today: dt.date,
) -> _Steps:
    """Today's step, if any: none out of a cycle, on hold, or paused by a promise or plan (their notes say why)."""
    if not cycle.in_cycle:
        return _Steps()
    if active_holds:
        notes.append("on hold (" + "; ".join(_describe_hold(h) for h in active_holds) + "): no steps")
        return _Steps()
    if paused:
        return _Steps()
    if strategy is None:
        notes.append("exempt: no steps")
        return _Steps(running=True)
    # What this cycle already did (nothing when the cycle started today).
    carried_fired = state.fired if cycle.event is None else ()
    carried_skipped = state.skipped if cycle.event is None else ()
    fired, skipped, step_notes = _advance(
        config, strategy, {*carried_fired, *carried_skipped}, days, overdue_amount, facts, account, cycle.number
    )
    notes += step_notes
    update: dict[str, Any] = {"skipped": (*carried_skipped, *(s.step for s in skipped))}
    if fired is None:
        return _Steps(skipped=tuple(skipped), update=update, running=True)
    update |= {"fired": (*carried_fired, fired.step), "stage": fired.step}
    chosen = strategy.step(fired.step)
    if chosen is not None and chosen.notice_days is not None:
        # The notice demands what is overdue today, by a deadline a payment on which still counts.
        deadline = today + dt.timedelta(days=chosen.notice_days)
        update["notice"] = Notice(
            step=chosen.name,
            date=today,
            deadline=deadline,
            items={i.item_id: i.open_amount for i in account.items if i.overdue_on(today)},
        )
        notes.append(f"notice {chosen.name}: deadline {deadline.isoformat()} ({chosen.notice_days} days)")
    actions: tuple[EmittedAction, ...] = ()
    if fired.action is not None:
        reason = f"step {fired.step} (day {fired.offset_days})"
        actions = (
            EmittedAction(action=fired.action, step=fired.step, reason=reason, idempotency_key=fired.idempotency_key),
        )
        if fired.action is Action.SUSPEND:
            update["suspended_in_cycle"] = True
        elif fired.action is Action.RECONNECT:
            update["suspended_in_cycle"] = False
    return _Steps(fired=fired, skipped=tuple(skipped), actions=actions, update=update, running=True)


def _explain(
    config: DunningConfig,
    account: AccountFacts,
    today: dt.date,
    overdue: _Overdue,
    strategy: Strategy | None,
    days: int,
    notes: Sequence[str],
    review_on: dt.date | None,
    review_reason: str | None,
) -> str:
    """One line: what is overdue, then every phase's note in order, then when the account is reviewed next and why."""
    headline = (
        f"{account.account_id} on {today.isoformat()} (config v{config.version}): overdue "
        f"{format_money(overdue.amount)} {account.currency} in {len(overdue.items)} item(s)"
        + (
            f", oldest due {overdue.oldest.isoformat()}, {days} {_unit(strategy, days)} overdue"
            if overdue.oldest
            else ""
        )
    )
    review = f"next review {review_on.isoformat()}: {review_reason}" if review_on else "nothing further scheduled"
    return "; ".join([headline, *notes, review])


def _unit(strategy: Strategy | None, days: int) -> str:
    unit = "business day" if strategy and strategy.business_days else "day"
    return unit if days == 1 else f"{unit}s"


def _describe_hold(hold: Hold) -> str:
    until = f" until {hold.until.isoformat()}" if hold.until else ""
    return f"{hold.level} hold: {hold.reason}{until}"


def _advance(
    config: DunningConfig,
    strategy: Strategy,
    done: set[str],
    days: int,
    overdue_amount: Decimal,
    facts: Mapping[str, Any],
    account: AccountFacts,
    cycle_number: int,
) -> tuple[FiredStep | None, list[SkippedStep], list[str]]:
    """Fire the latest due step not yet done in this cycle; the earlier pending ones are superseded by it."""
    notes: list[str] = []
    pending = [(n, step) for n, step in enumerate(strategy.steps) if step.name not in done]
    ready: list[tuple[int, Step]] = []
    for n, step in pending:
        if days < step.offset_days:
            continue
        if overdue_amount < step.min_overdue_amount:
            notes.append(f"step {step.name} waits: overdue is below {format_money(step.min_overdue_amount)}")
            continue
        if step.condition and not _matches(config, step.condition, facts, f"step {step.name} condition", notes):
            notes.append(f"step {step.name} waits: its condition is not met")
            continue
        ready.append((n, step))
    if not ready:
        if not notes:
            notes.append("no step due")
        return None, [], notes
    position, chosen = ready[-1]
    skipped = [
        SkippedStep(step=step.name, reason=f"superseded by {chosen.name}") for n, step in pending if n < position
    ]
    if skipped:
        notes.append(f"{', '.join(s.step for s in skipped)} superseded by {chosen.name}")
    key = step_key(account.account_id, cycle_number, chosen.name)
    if chosen.action is not None:
        notes.append(f"fired {chosen.name} (day {chosen.offset_days}, action {chosen.action})")
        fired_action = FiredStep(
            step=chosen.name, offset_days=chosen.offset_days, action=chosen.action, idempotency_key=key
        )
        return fired_action, skipped, notes
    assert chosen.channel is not None
    channel, fallback_used = chosen.channel, False
    to, problem = _reach(channel, account.customer)
    if problem and chosen.fallback_channel is not None:
        fallback_to, fallback_problem = _reach(chosen.fallback_channel, account.customer)
        if fallback_problem is None:
            notes.append(f"{problem}: {chosen.name} goes by {chosen.fallback_channel}")
            channel, to, problem, fallback_used = chosen.fallback_channel, fallback_to, None, True
        else:
            problem = f"{problem}; fallback {chosen.fallback_channel}: {fallback_problem}"
    if problem:
        skipped.append(SkippedStep(step=chosen.name, reason=f"cannot reach the customer: {problem}"))
        notes.append(f"step {chosen.name} skipped: cannot reach the customer ({problem})")
        return None, skipped, notes
    group = priority = None
    if channel is Channel.CALL_TASK:
        group = assign_collector_group(config, facts)
        priority = task_priority(overdue_amount, days)
    notes.append(
        f"fired {chosen.name} (day {chosen.offset_days}, {channel}"
        + (f", template {chosen.template}" if chosen.template and channel is not Channel.CALL_TASK else "")
        + (f", group {group}" if group else "")
        + ")"
    )
    fired = FiredStep(
        step=chosen.name,
        offset_days=chosen.offset_days,
        channel=channel,
        template=chosen.template,
        fallback_used=fallback_used,
        to=to,
        collector_group=group,
        priority=priority,
        idempotency_key=key,
    )
    return fired, skipped, notes


def _next_review(
    config: DunningConfig,
    account: AccountFacts,
    state: DunningState,
    today: dt.date,
    *,
    active_holds: Sequence[Hold],
    promise: PromiseFacts | None,
    running: bool,
    strategy: Strategy | None,
    oldest: dt.date | None,
    days: int,
) -> tuple[dt.date | None, str | None]:
    """The earliest later date on which a run could do something the passing of time alone brings about.

    Events (a payment, a new invoice, a hold lifted, a promise or plan created) re-plan the account themselves.
    ``running``: in a cycle, not held and not paused, so steps (or a change of segment) can follow from time alone.
    """
    candidates = _hold_and_item_dates(account, today, active_holds)
    if promise is not None:
        deadline = promise.date + dt.timedelta(days=config.promise_grace_days)
        candidates.append((deadline + _ONE_DAY, "the promise to pay is checked"))
    if running and strategy is not None and oldest is not None:
        candidates += _step_dates(config, strategy, state, today, oldest, days)
    if running and any("days_overdue" in config.rule(s.rule).fields for s in config.segments):
        candidates.append((today + _ONE_DAY, "segment rules depend on days_overdue"))
    if not candidates:
        return None, None
    return min(candidates, key=lambda candidate: candidate[0])


def _hold_and_item_dates(
    account: AccountFacts, today: dt.date, active_holds: Sequence[Hold]
) -> list[tuple[dt.date, str]]:
    """The day after a hold ends and the day after a not-yet-overdue item falls due."""
    candidates: list[tuple[dt.date, str]] = []
    for item in account.items:
        if not item.is_open:
            continue
        if item.held_on(today):
            if item.hold_until is not None:
                candidates.append((max(item.hold_until, item.due_date) + _ONE_DAY, f"hold on {item.item_id} ends"))
        elif item.due_date >= today:
            candidates.append((item.due_date + _ONE_DAY, f"{item.item_id} becomes overdue"))
    for hold in active_holds:
        if hold.until is not None:
            candidates.append((hold.until + _ONE_DAY, f"{hold.level} hold ends"))
    return candidates


def _step_dates(
    config: DunningConfig, strategy: Strategy, state: DunningState, today: dt.date, oldest: dt.date, days: int
) -> list[tuple[dt.date, str]]:
    """When each step not yet done in this cycle comes due (tomorrow for one waiting on days_overdue)."""
    candidates: list[tuple[dt.date, str]] = []
    done = set(state.fired) | set(state.skipped)
    for step in strategy.steps:
        if step.name in done:
            continue
        if step.offset_days > days:
            due = add_days(oldest, step.offset_days, strategy.business_days)
            candidates.append((due, f"step {step.name} comes due"))
        elif step.condition and "days_overdue" in config.rule(step.condition).fields:
            candidates.append((today + _ONE_DAY, f"step {step.name} waits on a condition over days_overdue"))
        elif step.condition and "notice_expired" in config.rule(step.condition).fields and state.notice:
            after = max(state.notice.deadline + _ONE_DAY, today + _ONE_DAY)
            candidates.append((after, f"step {step.name} waits for the notice's deadline to pass"))
    return candidates
