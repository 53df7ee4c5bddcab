"""Use case: review accounts for dunning — decide (``engine.decide``), then carry the decision out exactly once.

Accounts come from the daily run's fan-out (only those whose next action is due) and from real-time paths (a
payment, a promise, a hold, a plan). For each account: load what the engine needs, decide, and for the step that
fires claim its contact record (the idempotency key: account + cycle + step) before sending, so a redelivered message
or a second review on the same day never sends twice. The account's dunning state and next action date are written
under its dunning version; a concurrent review makes the write fail and the account is reviewed again from fresh
reads. The decision's explanation is stored with what it changed: the account's state (the latest decision), the
contact record of the step carried out (and the collector task it created), the cycle record (each stage change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from receivables.domain.clock import Clock
from receivables.domain.money import ZERO
from receivables.dunning.config import Action, Channel, Collector, DunningConfig
from receivables.dunning.engine import (
    AccountFacts,
    Decision,
    DunningState,
    FiredStep,
    Hold,
    PlanFacts,
    PromiseFacts,
    decide,
)
from receivables.dunning.records import (
    ContactRecord,
    PlanRecord,
    PromiseRecord,
    TaskRecord,
    task_id_of,
)
from receivables.loading.ports import EventPublisher, flush_events
from receivables.notifications import NoticeItem, NotificationContext, render_email, render_letter_pdf, render_sms

EVENT_SOURCE = "receivables.dunning"
MAX_ATTEMPTS = 5
REVIEW_THREADS = 8

# The event each action becomes, for the system that carries it out (network, policy admin, legal).
ACTION_EVENTS = {
    Action.SUSPEND: "ServiceSuspensionRequested",
    Action.RECONNECT: "ServiceReconnectionRequested",
    Action.LEGAL_HANDOFF: "LegalHandoffRequested",
    Action.CANCEL_POLICY: "PolicyCancellationRequested",
    Action.EXCEPTION_REPORT: "AgencyArrearsReported",
}


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Everything a review reads about one account, as of one moment."""

    facts: AccountFacts
    state: DunningState
    version: int  # the account's dunning version: the condition of the write
    customer_name: str
    holds: tuple[Hold, ...] = ()
    promise: PromiseRecord | None = None
    plan: PlanRecord | None = None
    late_payments: tuple[dt.date, ...] = ()
    next_action_on: dt.date | None = None
    promise_history: tuple[PromiseRecord, ...] = ()  # promises with an outcome, oldest first


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a review changes on the account besides the engine's state."""

    decision: Decision
    promise: PromiseRecord | None = None  # the promise with its outcome, when it got one
    plan: PlanRecord | None = None  # the plan with its outcome, when it got one
    late_payment: dt.date | None = None  # a cycle ended today by payment


class DunningStore(Protocol):
    def current_config(self) -> DunningConfig: ...

    def load(self, account_ids: Sequence[str], today: dt.date) -> dict[str, AccountSnapshot]: ...

    def claim_contact(self, record: ContactRecord) -> ContactRecord | None:
        """Store the record unless one exists for its account, cycle and step; the existing one otherwise."""
        ...

    def finish_contact(self, record: ContactRecord) -> None: ...

    def create_task(self, task: TaskRecord, collectors: Sequence[Collector] = (), cycle: int = 0) -> None:
        """Create the collector task unless it exists (its id is the step's idempotency key), given to one of the
        group's ``collectors`` when it has some (round-robin under capacity, sticky per account and cycle)."""
        ...

    def save(self, snapshot: AccountSnapshot, outcome: Outcome) -> bool:
        """Write the new state, next action and outcomes; False when the account's dunning version moved on."""
        ...

    def case_file(self, account_id: str) -> dict[str, Any]:
        """Contacts and promises of the account, for a legal hand-off."""
        ...


class Messenger(Protocol):
    def send_email(self, to: str, subject: str, html: str, text: str) -> str: ...

    def send_sms(self, to: str, text: str) -> str: ...


class LetterBox(Protocol):
    def post_letter(self, key: str, pdf: bytes) -> None: ...


@dataclass
class ReviewSummary:
    reviewed: int = 1
    fired: dict[str, int] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def merge(self, other: ReviewSummary) -> None:
        self.reviewed += other.reviewed
        for name, count in other.fired.items():
            self.fired[name] = self.fired.get(name, 0) + count
        for name, count in other.actions.items():
            self.actions[name] = self.actions.get(name, 0) + count


def promise_facts(promise: PromiseRecord, items: Iterable[Any]) -> PromiseFacts:
    """What was paid since the promise: how far the open amounts of the items it covered went down."""
    current = {item.item_id: item.open_amount for item in items}
    paid = sum(
        (max(ZERO, before - current.get(item_id, ZERO)) for item_id, before in promise.open_at_promise.items()), ZERO
    )
    return PromiseFacts(
        promise_id=promise.promise_id,
        amount=promise.amount,
        date=promise.date,
        created_on=promise.created_on,
        paid_since_promise=paid,
    )


def plan_facts(plan: PlanRecord) -> PlanFacts:
    return PlanFacts(
        plan_id=plan.plan_id, status=plan.status, installment_item_ids=tuple(i.item_id for i in plan.installments)
    )


class DunningReview:
    def __init__(
        self,
        *,
        store: DunningStore,
        messenger: Messenger,
        letters: LetterBox,
        events: EventPublisher,
        clock: Clock,
        company_name: str,
        threads: int = REVIEW_THREADS,
    ) -> None:
        self._threads = threads
        self._store = store
        self._messenger = messenger
        self._letters = letters
        self._events = events
        self._clock = clock
        self._company = company_name

    def review(
        self, account_ids: Sequence[str], *, today: dt.date | None = None, run_at: dt.datetime | None = None
    ) -> ReviewSummary:
        today = today or self._clock.today()
        run_at = run_at or self._clock.now()
        config = self._store.current_config()
        summary = ReviewSummary(reviewed=0)
        pending = list(dict.fromkeys(account_ids))
        for _attempt in range(MAX_ATTEMPTS):
            if not pending:
                break
            snapshots = self._store.load(pending, today)
            summary.missing += [a for a in pending if a not in snapshots]

            # Accounts are independent: their sends (SES, SNS, S3, EventBridge) overlap instead of queueing.
            with ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="review") as pool:
                results = list(
                    pool.map(
                        lambda account_id, found=snapshots: (
                            account_id,
                            self._review_one(config, found[account_id], today, run_at),
                        ),
                        [a for a in pending if a in snapshots],
                    )
                )
            pending = [account_id for account_id, done in results if done is None]
            for _, done in results:
                if done is not None:
                    summary.merge(done)
        flush_events(self._events)
        if pending:
            raise RuntimeError(f"accounts kept changing during review: {', '.join(pending)}; will be retried")
        return summary

    def _review_one(
        self, config: DunningConfig, snapshot: AccountSnapshot, today: dt.date, run_at: dt.datetime
    ) -> ReviewSummary | None:
        """Decide and carry out for one account; None when its write lost a race (its contacts are claimed, so the
        next attempt, from fresh reads, sends nothing twice)."""
        done = ReviewSummary()
        outcome = self._decide(config, snapshot, today)
        self._carry_out(config, snapshot, outcome.decision, today, run_at, done)
        return done if self._store.save(snapshot, outcome) else None

    # -- deciding ---------------------------------------------------------------------------------------------------
    def _decide(self, config: DunningConfig, snapshot: AccountSnapshot, today: dt.date) -> Outcome:
        items = snapshot.facts.items
        promise = promise_facts(snapshot.promise, items) if snapshot.promise else None
        plan = plan_facts(snapshot.plan) if snapshot.plan else None
        late_payments = sum(1 for d in snapshot.late_payments if d > today - dt.timedelta(days=365))
        facts = snapshot.facts.model_copy(
            update={"customer": snapshot.facts.customer.model_copy(update={"late_payments_12m": late_payments})}
        )
        decision = decide(config, facts, snapshot.state, today, holds=snapshot.holds, promise=promise, plan=plan)
        promise_record = plan_record = None
        if decision.promise_outcome and snapshot.promise:
            promise_record = snapshot.promise.model_copy(
                update={"status": decision.promise_outcome, "outcome_on": today}
            )
        if decision.plan_outcome and snapshot.plan:
            plan_record = snapshot.plan.model_copy(update={"status": decision.plan_outcome, "outcome_on": today})
        late = today if decision.cycle_event == "ended" else None
        return Outcome(decision=decision, promise=promise_record, plan=plan_record, late_payment=late)

    # -- carrying out ---------------------------------------------------------------------------------------------
    def _contact(self, decision: Decision, step: str, today: dt.date, **fields: Any) -> ContactRecord:
        state = decision.state
        return ContactRecord(
            account_id=decision.account_id,
            cycle=state.cycle_number,
            step=step,
            date=today,
            config_version=decision.config_version,
            segment=state.segment,
            strategy=state.strategy,
            arm=state.arm,
            explanation=decision.explanation,
            **fields,
        )

    def _carry_out(
        self,
        config: DunningConfig,
        snapshot: AccountSnapshot,
        decision: Decision,
        today: dt.date,
        run_at: dt.datetime,
        summary: ReviewSummary,
    ) -> None:
        for fired in decision.fired:
            if fired.channel is None:
                continue  # an action step: carried out with the actions below
            record = self._contact(decision, fired.step, today, channel=fired.channel.value, template=fired.template)
            record = record.model_copy(update={"to": fired.to})
            existing = self._store.claim_contact(record)
            if existing is not None and existing.status != "pending":
                continue  # already sent (or deferred) for this cycle
            notice = (
                decision.state.notice if decision.state.notice and decision.state.notice.step == fired.step else None
            )
            if notice is not None:
                record = record.model_copy(update={"policy_id": _policy_of(snapshot, notice.items) or None})
            done = self._send(config, snapshot, decision, fired, record, run_at)
            self._store.finish_contact(done)
            if notice is not None and done.status in ("sent", "deferred"):
                # Recorded on the policies it names (the insurance sub-ledger listens), with its deadline.
                self._events.publish(
                    "PolicyNoticeSent",
                    {
                        "account_id": decision.account_id,
                        "step": notice.step,
                        "date": notice.date.isoformat(),
                        "deadline": notice.deadline.isoformat(),
                        "items": {k: str(v) for k, v in notice.items.items()},
                        "letter": done.detail,
                    },
                )
            summary.fired[fired.channel.value] = summary.fired.get(fired.channel.value, 0) + 1
        for action in decision.actions:
            step = action.step or "reconnect"
            record = self._contact(decision, step, today, action=action.action.value)
            if action.step is None:  # the reconnect at a cycle's end belongs to the cycle that ended
                record = record.model_copy(update={"cycle": snapshot.state.cycle_number})
            existing = self._store.claim_contact(record)
            if existing is not None and existing.status != "pending":
                continue
            detail: dict[str, Any] = {
                "account_id": decision.account_id,
                "customer_id": snapshot.facts.customer.customer_id,
                "action": action.action.value,
                "reason": action.reason,
                "business_date": today.isoformat(),
                "overdue_amount": str(decision.overdue_amount),
                "currency": snapshot.facts.currency,
                "idempotency_key": action.idempotency_key,
            }
            if action.action is Action.LEGAL_HANDOFF:
                detail["case_file"] = self._case_file(snapshot, decision)
            if action.action is Action.CANCEL_POLICY and decision.state.notice is not None:
                notice = decision.state.notice
                # What the notice demanded and by when: the sub-ledger cancels the policies still owing it.
                detail["notice"] = {
                    "date": notice.date.isoformat(),
                    "deadline": notice.deadline.isoformat(),
                    "items": {k: str(v) for k, v in notice.items.items()},
                }
                record = record.model_copy(update={"policy_id": _policy_of(snapshot, notice.items) or None})
            self._events.publish(ACTION_EVENTS[action.action], detail)
            self._store.finish_contact(record.model_copy(update={"status": "sent"}))
            summary.actions[action.action.value] = summary.actions.get(action.action.value, 0) + 1

    def _case_file(self, snapshot: AccountSnapshot, decision: Decision) -> dict[str, Any]:
        items = [
            {
                "item_id": i.item_id,
                "due_date": i.due_date.isoformat(),
                "amount": str(i.amount) if i.amount is not None else None,
                "open_amount": str(i.open_amount),
                "status": i.status,
            }
            for i in snapshot.facts.items
        ]
        paid = [
            {"item_id": i.item_id, "paid": str(i.amount - i.open_amount)}
            for i in snapshot.facts.items
            if i.amount is not None and i.amount > i.open_amount and i.status != "restructured"
        ]
        promises = [*snapshot.promise_history, *([snapshot.promise] if snapshot.promise else [])]
        return {
            "customer": {"customer_id": snapshot.facts.customer.customer_id, "name": snapshot.customer_name},
            "items": items,
            # What each item has received (the payments' own records stay in the ledger, by payment id).
            "payments": paid,
            "unapplied_credit": str(snapshot.facts.unapplied_credit),
            "promises": [p.model_dump(mode="json", exclude={"open_at_promise"}) for p in promises],
            "dunning": decision.state.summary(),
            **self._store.case_file(decision.account_id),
        }

    def _notice(self, snapshot: AccountSnapshot, decision: Decision, today: dt.date) -> NotificationContext:
        overdue = [i for i in snapshot.facts.items if i.overdue_on(today)]
        notice = decision.state.notice if decision.state.notice and decision.state.notice.date == today else None
        return NotificationContext(
            deadline=notice.deadline if notice else None,
            policy_ids=sorted({i.policy_id for i in overdue if i.policy_id}),
            customer_name=snapshot.customer_name,
            account_id=decision.account_id,
            overdue_amount=decision.overdue_amount,
            currency=snapshot.facts.currency,
            oldest_due_date=min((i.due_date for i in overdue), default=today),
            days_overdue=decision.days_overdue,
            items=[NoticeItem(i.item_id, i.due_date, i.open_amount) for i in overdue],
            company_name=self._company,
            letter_date=today,
            customer_address=snapshot.facts.customer.postal_address,
        )

    def _send(
        self,
        config: DunningConfig,
        snapshot: AccountSnapshot,
        decision: Decision,
        fired: FiredStep,
        record: ContactRecord,
        run_at: dt.datetime,
    ) -> ContactRecord:
        language = snapshot.facts.customer.language
        today = record.date
        channel = fired.channel
        template = fired.template or ""
        if channel is Channel.EMAIL:
            email = render_email(template, language, self._notice(snapshot, decision, today))
            message_id = self._messenger.send_email(fired.to or "", email.subject, email.html, email.text)
            return record.model_copy(update={"status": "sent", "detail": message_id})
        if channel is Channel.SMS:
            sms = render_sms(template, language, self._notice(snapshot, decision, today))
            send_at = config.quiet_hours.send_time(run_at)
            if send_at > run_at:  # quiet hours: deferred to their end, never dropped
                return record.model_copy(update={"status": "deferred", "send_at": send_at, "message": sms.text})
            message_id = self._messenger.send_sms(fired.to or "", sms.text)
            return record.model_copy(update={"status": "sent", "detail": message_id})
        if channel is Channel.LETTER:
            pdf = render_letter_pdf(template, language, self._notice(snapshot, decision, today), created_at=run_at)
            key = f"letters/{today.isoformat()}/{decision.account_id}-{record.cycle}-{record.step}.pdf"
            self._letters.post_letter(key, pdf)
            return record.model_copy(update={"status": "sent", "detail": key})
        if channel is Channel.CALL_TASK:
            group = next((g for g in config.collector_groups if g.name == fired.collector_group), None)
            self._store.create_task(
                TaskRecord(
                    task_id=task_id_of(fired.idempotency_key),
                    account_id=decision.account_id,
                    customer_id=snapshot.facts.customer.customer_id,
                    group=fired.collector_group or "unassigned",
                    priority=fired.priority or "",
                    overdue_amount=decision.overdue_amount,
                    days_overdue=decision.days_overdue,
                    step=fired.step,
                    created_on=today,
                    explanation=decision.explanation,
                    cycle=record.cycle,
                ),
                group.collectors if group else (),
                record.cycle,
            )
            return record.model_copy(update={"status": "sent", "detail": task_id_of(fired.idempotency_key)})
        # IVR: the platform calls the customer; we announce who and why.
        self._events.publish(
            "IvrCallRequested",
            {
                "account_id": decision.account_id,
                "phone": fired.to,
                "template": template,
                "language": language,
                "overdue_amount": str(decision.overdue_amount),
                "currency": snapshot.facts.currency,
                "idempotency_key": fired.idempotency_key,
            },
        )
        return record.model_copy(update={"status": "sent"})


def _policy_of(snapshot: AccountSnapshot, item_ids: Iterable[str]) -> str:
    """The policies of the items (comma-separated when a notice names several)."""
    wanted = set(item_ids)
    return ",".join(sorted({i.policy_id for i in snapshot.facts.items if i.item_id in wanted and i.policy_id}))


class DeferredMessages(Protocol):
    def deferred_until(self, moment: dt.datetime) -> list[ContactRecord]: ...

    def finish_contact(self, record: ContactRecord) -> None: ...


def send_deferred(store: DeferredMessages, messenger: Messenger, moment: dt.datetime) -> int:
    """Send the SMS that waited for quiet hours to end, up to ``moment``."""
    sent = 0
    for record in store.deferred_until(moment):
        message_id = messenger.send_sms(record.to or "", record.message or "")
        store.finish_contact(record.model_copy(update={"status": "sent", "detail": message_id}))
        sent += 1
    return sent
