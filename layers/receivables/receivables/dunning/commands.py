"""What people do to dunning through the API: hold and release, record a promise to pay, restructure overdue debt
into an installment plan, work collector tasks, and publish a new configuration version.

Pure of AWS: storage is the ``DunningCommandStore`` port below (``adapters.dunning_commands_table`` over DynamoDB, an
in-memory fake in the unit tests). Every change is written in one conditional transaction, so a concurrent payment,
a second collector or a second editor makes the request fail with a conflict instead of being overwritten, and it
is followed by a ``DunningReviewRequested`` event: the worker re-decides the touched accounts at once instead of on
their next scheduled date. Records and their layout: ``receivables.dunning.records``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from receivables.domain.clock import Clock
from receivables.domain.journal import Cause, JournalEntry, Posting, PostingKind, Side
from receivables.domain.money import CENT, MAX_INTEGER_DIGITS, ZERO, format_money
from receivables.domain.outbox import Event
from receivables.dunning.config import DEFAULT_CONFIG, DunningConfig, FieldDefinition
from receivables.dunning.engine import CLOSED_STATUSES
from receivables.dunning.plans import PlanError, split_installments
from receivables.dunning.records import (
    AuditEntry,
    CycleRecord,
    HoldLevel,
    HoldRecord,
    Installment,
    PlanRecord,
    PromiseRecord,
    TaskOutcome,
    TaskRecord,
    task_id_of,
)
from receivables.payments.operations import new_entry_id
from receivables.reporting.collectors import CollectorLine, collectors_report, cycle_of

REVIEW_REQUESTED = "DunningReviewRequested"
EVENT_SOURCE = "receivables.dunning"
HOLD_LEVELS: tuple[HoldLevel, ...] = ("customer", "account", "subscription", "item")
MAX_TEXT = 500  # reasons and notes: the same cap as every free-text field (keeps records far below 400 KB)
MAX_WHO = 128
PROMISE_HORIZON_DAYS = 90  # a promise further out is a plan, not a promise
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit: a plan is written all at once or not at all
RESTRUCTURABLE_KINDS = frozenset({"invoice", "installment"})
TASK_OUTCOMES: tuple[TaskOutcome, ...] = ("promise", "dispute", "no_answer", "wrong_number", "paid")
SHIPPED_BY = "shipped"  # created_by of the built-in configuration (version 1), which is never stored


# ---------------------------------------------------------------- errors (the API maps them to 404 / 409 / 422)


class DunningCommandError(Exception):
    """A dunning command that cannot be carried out; the message says why."""


class UnknownRecordError(DunningCommandError, LookupError):
    """The customer, account, item, subscription, hold, promise, plan, task or configuration version is unknown."""


class DunningConflictError(DunningCommandError):
    """The request clashes with the current state (an open promise, an active plan, a task already claimed) or
    the state changed while it was written (a payment arrived meanwhile): nothing was changed."""


class DunningRequestError(DunningCommandError, ValueError):
    """The request breaks a rule; ``field`` names the request field at fault (None: the request as a whole)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidConfigError(DunningRequestError):
    """A configuration that does not validate; ``problems`` are pydantic's, each with its location."""

    def __init__(self, message: str, problems: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.problems = problems


# ---------------------------------------------------------------- what the use cases read


@dataclass(frozen=True, slots=True)
class DunningAccount:
    account_id: str
    customer_id: str
    currency: str
    holds: Mapping[str, HoldRecord] = field(default_factory=dict)  # holds mirrored on the account, by hold id
    promise: PromiseRecord | None = None  # the open promise, if any
    plan: PlanRecord | None = None  # the active plan, if any


@dataclass(frozen=True, slots=True)
class DunningItem:
    item_id: str
    account_id: str
    customer_id: str
    kind: str
    due_date: dt.date
    open_amount: Decimal
    currency: str
    subscription_id: str | None = None
    status: str | None = None  # stored only when it is not derived from the amounts (restructured)

    @property
    def is_open(self) -> bool:
        return self.open_amount > 0 and (self.status or "open") not in CLOSED_STATUSES


@dataclass(frozen=True, slots=True)
class StoredConfig:
    config: DunningConfig
    created_by: str
    created_at: dt.datetime | None = None  # None for the shipped default


@dataclass(frozen=True, slots=True)
class PromiseTerms:
    amount: Decimal
    date: dt.date


# ---------------------------------------------------------------- the port


class DunningCommandStore(Protocol):
    """Storage for the dunning commands. Every write is conditional: a write that finds the state changed since it
    was read raises ``DunningConflictError``; one whose target record vanished raises ``UnknownRecordError``."""

    # -- reads
    def customer_exists(self, customer_id: str) -> bool: ...

    def account(self, account_id: str) -> DunningAccount | None: ...

    def item(self, item_id: str) -> DunningItem | None: ...

    def account_items(self, account_id: str) -> list[DunningItem]: ...

    def customer_account_ids(self, customer_id: str) -> list[str]: ...

    def subscription_exists(self, account_id: str, subscription_id: str) -> bool: ...

    def subscription_account(self, subscription_id: str) -> str | None:
        """The account a subscription bills to, from the loader's pointer; None when there is no pointer."""
        ...

    def hold(self, hold_id: str) -> HoldRecord | None: ...

    def promise(self, promise_id: str) -> PromiseRecord | None: ...

    def plan(self, plan_id: str) -> PlanRecord | None: ...

    def task(self, task_id: str) -> TaskRecord | None: ...

    def tasks(self, group: str, status: Literal["open", "claimed"], limit: int) -> list[TaskRecord]:
        """A group's tasks in ``status``, most urgent first."""
        ...

    def done_tasks(self, group: str, since: dt.date) -> list[TaskRecord]:
        """A group's tasks closed on or after ``since``."""
        ...

    def promise_records(self, promise_ids: Sequence[str]) -> list[PromiseRecord]: ...

    def cycle_records(self, keys: Sequence[tuple[str, int]]) -> list[CycleRecord]: ...

    def current_config(self) -> StoredConfig | None:
        """The stored configuration in force; None when none was ever stored (the shipped default is in force)."""
        ...

    def config_version(self, version: int) -> StoredConfig | None: ...

    # -- writes
    def create_hold(self, hold: HoldRecord, *, events: Sequence[Event] = ()) -> None:
        """Store the hold and mirror it onto its customer (customer level) or account record, together."""
        ...

    def release_hold(self, before: HoldRecord, after: HoldRecord, *, events: Sequence[Event] = ()) -> None:
        """Replace ``before`` (as read) by ``after`` and take the hold off its mirror, together."""
        ...

    def create_promise(self, promise: PromiseRecord, *, events: Sequence[Event] = ()) -> None:
        """Store the promise and mirror it onto the account, unless the account has an open promise."""
        ...

    def create_plan(self, plan: PlanRecord, entry: JournalEntry, *, events: Sequence[Event] = ()) -> None:
        """Store the plan; close each restructured item, provided its open amount is still the one in
        ``plan.restructured``; create the installment items; mirror the plan onto the account unless one is active;
        post ``entry`` (the restructured amounts) to the journal. All or nothing."""
        ...

    def update_task(
        self,
        before: TaskRecord,
        after: TaskRecord,
        *,
        promise: PromiseRecord | None = None,
        holds: Sequence[HoldRecord] = (),
        new_tasks: Sequence[TaskRecord] = (),
        events: Sequence[Event] = (),
    ) -> None:
        """Replace ``before`` (as read) by ``after``, with ``create_promise(promise)``, the ``holds`` (all on the
        task's account) and the ``new_tasks`` in the same transaction. ``events`` (every write method's): written in
        the same transaction, published once it committed."""
        ...

    def save_config(self, stored: StoredConfig, *, replaces: int | None) -> None:
        """Store a new version and make it current, provided the current version is still ``replaces`` (None: no
        version was ever stored)."""
        ...


SUPERVISOR_GROUP = "supervisors"  # the work queue of disputes and escalations (GET /collectors/supervisors/tasks)


def random_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


# ---------------------------------------------------------------- the use cases


class DunningCommands:
    def __init__(
        self,
        *,
        store: DunningCommandStore,
        clock: Clock,
        new_id: Callable[[str], str] = random_id,
    ) -> None:
        self._store = store
        self._clock = clock
        self._new_id = new_id

    # -- holds ------------------------------------------------------------------------------------------------
    def create_hold(
        self,
        level: str,
        target_id: str,
        reason: str,
        *,
        until: dt.date | None = None,
        account_id: str | None = None,
        created_by: str,
    ) -> HoldRecord:
        """Leave a customer, account, subscription or item out of dunning from today, until ``until`` (the last day
        held) or until released. A subscription is found through the loader's pointer unless ``account_id`` names
        its account."""
        today = self._clock.today()
        if level not in HOLD_LEVELS:
            raise DunningRequestError(f"level must be one of {', '.join(HOLD_LEVELS)}, got {level!r}", "level")
        reason = _text(reason, "reason")
        created_by = _who(created_by, "created_by")
        if until is not None and until < today:
            raise DunningRequestError(
                f"until {until.isoformat()} is in the past (today is {today.isoformat()}); it is the last day held",
                "until",
            )
        if account_id is not None and level != "subscription":
            raise DunningRequestError("account_id is only given for subscription holds", "account_id")
        customer_id, held_account = self._hold_target(level, target_id, account_id)
        what = f"held: {reason}" + (f" (until {until.isoformat()})" if until else "")
        hold = HoldRecord(
            hold_id=self._new_id("HL"),
            level=level,  # checked against HOLD_LEVELS above
            target_id=target_id,
            customer_id=customer_id,
            account_id=held_account,
            reason=reason,
            start=today,
            until=until,
            created_by=created_by,
            audit=(AuditEntry(at=self._clock.now(), by=created_by, what=what),),
        )
        self._store.create_hold(
            hold, events=_review(self._held_accounts(hold), f"{level} hold {hold.hold_id} on {target_id}")
        )
        return hold

    def release_hold(self, hold_id: str, *, by: str) -> HoldRecord:
        by = _who(by, "by")
        hold = self.hold(hold_id)
        if hold.status == "released":
            last = hold.audit[-1] if hold.audit else None
            when = f" on {last.at.date().isoformat()} by {last.by}" if last else ""
            raise DunningConflictError(f"hold {hold_id} was already released{when}")
        released = hold.model_copy(
            update={
                "status": "released",
                "audit": (*hold.audit, AuditEntry(at=self._clock.now(), by=by, what="released")),
            }
        )
        reason = f"{hold.level} hold {hold_id} on {hold.target_id} released"
        self._store.release_hold(hold, released, events=_review(self._held_accounts(hold), reason))
        return released

    def hold(self, hold_id: str) -> HoldRecord:
        return _found(self._store.hold(hold_id), f"hold {hold_id}")

    def _hold_target(self, level: str, target_id: str, account_id: str | None) -> tuple[str, str | None]:
        """(customer id, account id) of what is held; the account is where the hold is mirrored (None: customer)."""
        if level == "customer":
            if not self._store.customer_exists(target_id):
                raise UnknownRecordError(f"customer {target_id} not found")
            return target_id, None
        if level == "account":
            account = _found(self._store.account(target_id), f"account {target_id}")
            return account.customer_id, account.account_id
        if level == "item":
            item = _found(self._store.item(target_id), f"item {target_id}")
            return item.customer_id, item.account_id
        owner = account_id or self._store.subscription_account(target_id)
        if owner is None:
            raise DunningRequestError(
                f"subscription {target_id}: its account is not known here; give account_id", "account_id"
            )
        if not self._store.subscription_exists(owner, target_id):
            raise UnknownRecordError(f"subscription {target_id} not found on account {owner}")
        account = _found(self._store.account(owner), f"account {owner}")
        return account.customer_id, account.account_id

    def _held_accounts(self, hold: HoldRecord) -> list[str]:
        if hold.level == "customer":
            return self._store.customer_account_ids(hold.customer_id)
        return [hold.account_id] if hold.account_id else []

    # -- promises ---------------------------------------------------------------------------------------------
    def create_promise(self, account_id: str, amount: Decimal, date: dt.date, *, created_by: str) -> PromiseRecord:
        """A promise to pay ``amount`` by ``date``: dunning pauses until then (+ the configured grace days)."""
        promise = self._new_promise(account_id, amount, date, _who(created_by, "created_by"))
        reason = f"promise {promise.promise_id} to pay {format_money(amount)} by {date.isoformat()}"
        self._store.create_promise(promise, events=_review([account_id], reason))
        return promise

    def promise(self, promise_id: str) -> PromiseRecord:
        return _found(self._store.promise(promise_id), f"promise {promise_id}")

    def _new_promise(self, account_id: str, amount: Decimal, date: dt.date, created_by: str) -> PromiseRecord:
        today = self._clock.today()
        amount = _money(amount, "amount")
        horizon = today + dt.timedelta(days=PROMISE_HORIZON_DAYS)
        if not today <= date <= horizon:
            raise DunningRequestError(
                f"date {date.isoformat()} must be from today ({today.isoformat()}) to {horizon.isoformat()} "
                f"({PROMISE_HORIZON_DAYS} days); a longer arrangement is an installment plan",
                "date",
            )
        account = _found(self._store.account(account_id), f"account {account_id}")
        if account.promise is not None:
            raise DunningConflictError(
                f"account {account_id}: an open promise exists until {account.promise.date.isoformat()} "
                f"({account.promise.promise_id})"
            )
        open_items = {i.item_id: i.open_amount for i in self._store.account_items(account_id) if i.is_open}
        if not open_items:
            raise DunningRequestError(f"account {account_id} owes nothing: there is nothing to promise")
        return PromiseRecord(
            promise_id=self._new_id("PR"),
            account_id=account_id,
            amount=amount,
            date=date,
            created_on=today,
            created_by=created_by,
            open_at_promise=open_items,
        )

    # -- installment plans ------------------------------------------------------------------------------------
    def create_plan(
        self,
        account_id: str,
        installments: int,
        first_due_date: dt.date,
        interval_days: int,
        *,
        created_by: str,
    ) -> PlanRecord:
        """Restructure the account's overdue debt into ``installments`` new items (split to the cent, the remainder
        on the first); the overdue items are closed as restructured. Items on hold are left out of the plan."""
        today = self._clock.today()
        created_by = _who(created_by, "created_by")
        bounds = self.current_config().config.plans
        if not 1 <= installments <= bounds.max_installments:
            raise DunningRequestError(
                f"installments must be from 1 to {bounds.max_installments}, got {installments}", "installments"
            )
        if not bounds.min_interval_days <= interval_days <= bounds.max_interval_days:
            raise DunningRequestError(
                f"interval_days must be from {bounds.min_interval_days} to {bounds.max_interval_days}, "
                f"got {interval_days}",
                "interval_days",
            )
        if first_due_date < today:
            raise DunningRequestError(
                f"first_due_date {first_due_date.isoformat()} is in the past (today is {today.isoformat()})",
                "first_due_date",
            )
        account = _found(self._store.account(account_id), f"account {account_id}")
        if account.plan is not None:
            raise DunningConflictError(f"account {account_id}: plan {account.plan.plan_id} is active")
        if account.promise is not None:
            # Restructuring lowers open amounts without a payment: the promise would read as kept.
            raise DunningConflictError(
                f"account {account_id}: an open promise exists until {account.promise.date.isoformat()} "
                f"({account.promise.promise_id}); a plan can follow once it is kept or broken"
            )
        overdue = [
            item
            for item in self._store.account_items(account_id)
            if item.is_open
            and item.due_date < today
            and item.kind in RESTRUCTURABLE_KINDS
            and not _held(item, account.holds.values(), today)
        ]
        if not overdue:
            raise DunningRequestError(
                f"account {account_id} has nothing overdue on {today.isoformat()} to restructure "
                "(items on hold are left out)"
            )
        writes = len(overdue) + installments + 3  # + the plan record, the account's mirror, the journal entry
        if writes > MAX_TRANSACTION_ITEMS:
            room = MAX_TRANSACTION_ITEMS - 3 - len(overdue)
            advice = f"at most {room} installments" if room >= 1 else "settle some items first"
            raise DunningRequestError(
                f"a plan is written in one transaction of at most {MAX_TRANSACTION_ITEMS} records: "
                f"{len(overdue)} overdue items + {installments} installments + 3 is {writes}; {advice}",
                "installments",
            )
        total = sum((item.open_amount for item in overdue), ZERO)
        try:
            schedule = split_installments(total, installments, first_due_date, interval_days)
        except PlanError as exc:
            raise DunningRequestError(str(exc), "installments") from exc
        plan_id = self._new_id("PL")
        plan = PlanRecord(
            plan_id=plan_id,
            account_id=account_id,
            customer_id=account.customer_id,
            currency=account.currency,
            total=total,
            installments=tuple(
                Installment(item_id=f"{plan_id}-{n}", due_date=due, amount=amount)
                for n, (due, amount) in enumerate(schedule, start=1)
            ),
            restructured={item.item_id: item.open_amount for item in overdue},
            created_on=today,
            created_by=created_by,
        )
        restructured = [
            Posting(
                kind=PostingKind.RESTRUCTURED,
                side=Side.ITEM,
                amount=-item.open_amount,
                item_id=item.item_id,
                reason=f"moved into plan {plan_id} ({installments} installments from {first_due_date.isoformat()})",
            )
            for item in overdue
        ]
        entry = JournalEntry(
            entry_id=new_entry_id(),
            account_id=account_id,
            currency=account.currency,
            business_date=today,
            recorded_at=self._clock.now(),
            operation="restructure",
            cause=Cause(kind="api", source=f"POST /accounts/{account_id}/plans", actor=created_by),
            postings=tuple(restructured),
        )
        reason = f"plan {plan_id}: {format_money(total)} in {installments} installments"
        self._store.create_plan(plan, entry, events=_review([account_id], reason))
        return plan

    def plan(self, plan_id: str) -> PlanRecord:
        return _found(self._store.plan(plan_id), f"plan {plan_id}")

    # -- collector tasks --------------------------------------------------------------------------------------
    def tasks(self, group: str, status: Literal["open", "claimed"] = "open", limit: int = 50) -> list[TaskRecord]:
        return self._store.tasks(group, status, limit)

    def task(self, task_id: str) -> TaskRecord:
        return _found(self._store.task(task_id), f"task {task_id}")

    def claim_task(self, task_id: str, collector: str) -> TaskRecord:
        collector = _who(collector, "collector")
        task = self.task(task_id)
        if task.status != "open":
            raise DunningConflictError(f"task {task_id} is {task.status}" + _by(task))
        claimed = task.model_copy(update={"status": "claimed", "claimed_by": collector})
        self._store.update_task(task, claimed)
        return claimed

    def reassign_task(self, task_id: str, collector: str, *, by: str) -> TaskRecord:
        """A supervisor gives an open or claimed task to another collector of its group (it is theirs to claim)."""
        by = _who(by, "by")
        collector = _who(collector, "to")
        task = self.task(task_id)
        if task.status == "done":
            raise DunningConflictError(f"task {task_id} is done" + _by(task))
        group = next((g for g in self.current_config().config.collector_groups if g.name == task.group), None)
        members = [c.name for c in group.collectors] if group else []
        if members and collector not in members:
            raise DunningRequestError(
                f"{collector} is not a collector of group {task.group} ({', '.join(members)})", "to"
            )
        moved = task.model_copy(update={"assigned_to": collector, "status": "open", "claimed_by": None})
        self._store.update_task(task, moved, events=())
        return moved

    def record_outcome(
        self,
        task_id: str,
        outcome: TaskOutcome,
        *,
        note: str | None = None,
        promise: PromiseTerms | None = None,
        items: Sequence[str] = (),
        by: str,
    ) -> tuple[TaskRecord, PromiseRecord | None]:
        """Close a claimed task with what the call achieved; a ``promise`` outcome records the promise (the same
        rules as ``create_promise``), made by ``by``, in the same transaction."""
        by = _who(by, "by")
        if outcome not in TASK_OUTCOMES:
            raise DunningRequestError(f"outcome must be one of {', '.join(TASK_OUTCOMES)}, got {outcome!r}", "outcome")
        if note is not None:
            note = _text(note, "note")
        if outcome == "promise" and promise is None:
            raise DunningRequestError("a promise outcome needs the promise: its amount and date", "promise")
        if outcome != "promise" and promise is not None:
            raise DunningRequestError(f"a promise is only given with the promise outcome, not {outcome}", "promise")
        if items and outcome != "dispute":
            raise DunningRequestError(f"items are named only with the dispute outcome, not {outcome}", "items")
        task = self.task(task_id)
        if task.status != "claimed":
            claim_first = ": claim it first" if task.status == "open" else ""
            raise DunningConflictError(f"task {task_id} is {task.status}{claim_first}" + _by(task))
        made = None if promise is None else self._new_promise(task.account_id, promise.amount, promise.date, by)
        holds, review = self._dispute(task, items, note, by) if outcome == "dispute" else ((), ())
        done = task.model_copy(
            update={
                "status": "done",
                "outcome": outcome,
                "note": note,
                "closed_on": self._clock.today(),
                "closed_by": by,
                "promise_id": made.promise_id if made else None,
            }
        )
        reason = f"task {task_id}: {outcome}" + (f" ({made.promise_id})" if made else "")
        self._store.update_task(
            task, done, promise=made, holds=holds, new_tasks=review, events=_review([task.account_id], reason)
        )
        return done, made

    def _dispute(
        self, task: TaskRecord, items: Sequence[str], note: str | None, by: str
    ) -> tuple[tuple[HoldRecord, ...], tuple[TaskRecord, ...]]:
        """A dispute holds the items named (else the account) with reason ``dispute`` from today, and gives the
        supervisors a task to settle it — written with the task's outcome, all or nothing."""
        today, now = self._clock.today(), self._clock.now()
        account = _found(self._store.account(task.account_id), f"account {task.account_id}")
        targets: list[tuple[str, str]] = [("item", i) for i in dict.fromkeys(items)] or [("account", task.account_id)]
        for level, target in targets:
            if level == "item" and self._hold_target("item", target, None)[1] != task.account_id:
                raise DunningRequestError(f"item {target} is not on account {task.account_id}", "items")
        what = "held: dispute" + (f" ({note})" if note else "") + f" — raised on task {task.task_id}"
        holds = tuple(
            HoldRecord(
                hold_id=self._new_id("HL"),
                level=level,
                target_id=target,
                customer_id=account.customer_id,
                account_id=task.account_id,
                reason="dispute",
                start=today,
                created_by=by,
                audit=(AuditEntry(at=now, by=by, what=what),),
            )
            for level, target in targets
        )
        review = TaskRecord(
            task_id=task_id_of(f"{task.task_id}#dispute"),
            cycle=task.cycle,
            account_id=task.account_id,
            customer_id=task.customer_id,
            group=SUPERVISOR_GROUP,
            priority=task.priority,
            overdue_amount=task.overdue_amount,
            days_overdue=task.days_overdue,
            step="dispute",
            created_on=today,
            explanation=f"{by} recorded a dispute on task {task.task_id}"
            + (f": {note}" if note else "")
            + f"; held: {', '.join(t for _l, t in targets)}",
        )
        return holds, (review,)

    def collectors_report(self, since: dt.date) -> list[CollectorLine]:
        """Per group and collector: tasks in hand and closed since ``since``, outcomes, promises and their fate,
        what the calls' cycles collected — from the work-queue index, no scan."""
        config = self.current_config().config
        groups = sorted({g.name for g in config.collector_groups} | {SUPERVISOR_GROUP})
        tasks = [
            *(t for g in groups for status in ("open", "claimed") for t in self._store.tasks(g, status, 1000)),
            *(t for g in groups for t in self._store.done_tasks(g, since)),
        ]
        promise_ids = sorted({t.promise_id for t in tasks if t.promise_id})
        promises = {p.promise_id: p for p in self._store.promise_records(promise_ids)}
        cycle_keys = sorted({where for t in tasks if t.status == "done" and (where := cycle_of(t)) is not None})
        cycles = {(c.account_id, c.cycle): c for c in self._store.cycle_records(cycle_keys)}
        return collectors_report(tasks, promises, cycles)

    # -- configuration ----------------------------------------------------------------------------------------
    def current_config(self) -> StoredConfig:
        return self._store.current_config() or StoredConfig(DEFAULT_CONFIG, created_by=SHIPPED_BY)

    def config_version(self, version: int) -> StoredConfig:
        if version == DEFAULT_CONFIG.version:  # the shipped version is never stored: versions written start at 2
            return StoredConfig(DEFAULT_CONFIG, created_by=SHIPPED_BY)
        return _found(self._store.config_version(version), f"configuration version {version}")

    def dictionary(self) -> tuple[int, tuple[FieldDefinition, ...]]:
        config = self.current_config().config
        return config.version, config.dictionary

    def publish_config(self, document: Mapping[str, Any], *, by: str) -> StoredConfig:
        """Validate ``document`` as a whole configuration and make it the next version; a ``version`` in it is
        ignored (the store numbers versions). Takes effect on the next run, without a deploy."""
        by = _who(by, "by")
        stored = self._store.current_config()
        current = stored.config.version if stored else DEFAULT_CONFIG.version
        try:
            config = DunningConfig.model_validate({**document, "version": current + 1})
        except ValidationError as exc:
            problems: list[dict[str, Any]] = [
                {"location": ["body", *e.get("loc", ())], "message": e.get("msg", ""), "type": e.get("type", "")}
                for e in exc.errors(include_url=False)
            ]
            raise InvalidConfigError(
                f"the configuration is not valid ({len(problems)} problem{'s' if len(problems) != 1 else ''}): "
                + "; ".join(p["message"] for p in problems),
                problems,
            ) from None
        new = StoredConfig(config, created_by=by, created_at=self._clock.now())
        self._store.save_config(new, replaces=stored.config.version if stored else None)
        return new

    def promote_challenger(self, segment_name: str, *, by: str) -> StoredConfig:
        """The segment's challenger becomes its champion: a new configuration version whose segment runs the
        challenger's strategy for everyone, the experiment over. Cycles under way keep the strategy they started
        with; new cycles take the new champion."""
        config = self.current_config().config
        segment = next((s for s in config.segments if s.name == segment_name), None)
        if segment is None:
            raise UnknownRecordError(f"segment {segment_name} not found")
        if segment.challenger is None:
            raise DunningConflictError(f"segment {segment_name} has no challenger to promote")
        document = config.model_dump(mode="json")
        for stored in document["segments"]:
            if stored["name"] == segment_name:
                stored["strategy"] = segment.challenger.strategy
                stored["challenger"] = None
        return self.publish_config(document, by=by)


def _review(account_ids: Sequence[str], reason: str) -> list[Event]:
    """The review a command asks for, as an event written with the command's own change (the outbox): a function
    that dies after the write still has the account reviewed at once, not at the next daily run."""
    if not account_ids:
        return []
    return [Event(REVIEW_REQUESTED, {"account_ids": sorted(set(account_ids)), "reason": reason}, source=EVENT_SOURCE)]


# ---------------------------------------------------------------- rules


def _found[T](record: T | None, what: str) -> T:
    if record is None:
        raise UnknownRecordError(f"{what} not found")
    return record


def _text(value: str, name: str) -> str:
    text = value.strip()
    if not 1 <= len(text) <= MAX_TEXT:
        raise DunningRequestError(f"{name} must have 1 to {MAX_TEXT} characters, got {len(text)}", name)
    return text


def _who(value: str, name: str) -> str:
    who = value.strip()
    if not 1 <= len(who) <= MAX_WHO:
        raise DunningRequestError(f"{name} must have 1 to {MAX_WHO} characters, got {len(who)}", name)
    return who


def _money(amount: Decimal, name: str) -> Decimal:
    """``amount`` with exactly 2 decimals, or a refusal naming the field: money is never rounded."""
    if not amount.is_finite() or amount <= 0:
        raise DunningRequestError(f"{name} must be greater than 0, got {amount}", name)
    if len(format(amount.normalize(), "f").partition(".")[2]) > 2:
        raise DunningRequestError(f"{name} {amount} has more than 2 decimals", name)
    if amount.adjusted() >= MAX_INTEGER_DIGITS:
        raise DunningRequestError(f"{name} {amount} has more than {MAX_INTEGER_DIGITS} integer digits", name)
    return amount.quantize(CENT)


def _by(task: TaskRecord) -> str:
    return f" (claimed by {task.claimed_by})" if task.claimed_by else ""


def _held(item: DunningItem, holds: Iterable[HoldRecord], today: dt.date) -> bool:
    """Whether an item or subscription hold mirrored on the account covers ``item`` today."""
    for hold in holds:
        if not hold.active_on(today):
            continue
        if hold.level == "item" and hold.target_id == item.item_id:
            return True
        if hold.level == "subscription" and item.subscription_id and hold.target_id == item.subscription_id:
            return True
    return False
