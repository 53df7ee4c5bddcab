"""What dunning keeps between runs and what people create through the API: holds, promises, plans, collector tasks,
the contact history and the versioned configuration — as plain models, stored by ``adapters.dunning_table``.

Layout in the ledger table (docs/dynamodb.md):

- ``HOLD#<hold_id>`` / ``HOLD``: the hold and its audit trail. The active holds are mirrored, as a map keyed by hold
  id, onto the record the daily run reads anyway: the customer record (customer holds) or the account record
  (account, subscription and item holds).
- ``PROMISE#<promise_id>`` / ``PROMISE``: the promise and its outcome; the open one is mirrored onto the account.
- ``PLAN#<plan_id>`` / ``PLAN``: the plan, its installments and the items it restructured; mirrored while active.
- ``TASK#<task_id>`` / ``TASK``: a collector task; open and claimed tasks sit in sparse ``next_action`` index
  partitions ``TASKS#<group>#<status>`` sorted by priority.
- ``ACCT#<account_id>`` / ``CONTACT#<cycle>#<step>``: one executed step (notification or action): the idempotency
  record of account + cycle + step, and the contact history, with the explanation of the decision that took it.
- ``ACCT#<account_id>`` / ``CYCLE#<cycle>``: one dunning cycle, with the explanation of each change of its stage
  (``StageChange``: started, a step carried out, ended); the account record keeps the latest decision's
  ``Explanation`` beside its dunning state.
- ``CONFIG#dunning`` / ``CURRENT`` and ``V#<version>``: the configuration in force and every version ever written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from receivables.domain.ledger import Money

HoldLevel = Literal["customer", "account", "subscription", "item"]
# An explanation is a few hundred characters (what is overdue, one note per phase, the next review); hold reasons
# and rules that fail to evaluate can make it longer. Cut at this length, every record stays far below 400 KB.
MAX_EXPLANATION_CHARS = 1000
# A cycle record keeps one explanation per change of its stage: started, each step carried out, ended.
MAX_STAGE_CHANGES = 12


def bounded_explanation(text: str) -> str:
    """``text`` cut to ``MAX_EXPLANATION_CHARS``, ending in '…' when it was cut."""
    return text if len(text) <= MAX_EXPLANATION_CHARS else text[: MAX_EXPLANATION_CHARS - 1] + "…"


ExplanationText = Annotated[str, AfterValidator(bounded_explanation)]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AuditEntry(_Record):
    at: dt.datetime
    by: str
    what: str


def hold_in_force(day: dt.date, *, start: dt.date | None, until: dt.date | None) -> bool:
    """The one rule of when a hold is in force: from ``start`` (its first day) to ``until`` (its last day), both
    included; no ``until``: until it is released. Dunning's review and commands and the payments' ``not_held``
    allocation filter all ask this (through ``HoldRecord.active_on`` or the engine's ``Hold`` and ``ItemFacts``)."""
    return (start is None or start <= day) and (until is None or day <= until)


class HoldRecord(_Record):
    hold_id: str
    level: HoldLevel
    target_id: str  # the customer, account, subscription or item held
    customer_id: str
    account_id: str | None = None  # every level but customer
    reason: str
    start: dt.date
    until: dt.date | None = None  # last day held; None: until released
    created_by: str
    status: Literal["active", "released"] = "active"
    audit: tuple[AuditEntry, ...] = ()

    def active_on(self, day: dt.date) -> bool:
        return self.status == "active" and hold_in_force(day, start=self.start, until=self.until)


class Explanation(_Record):
    """Why dunning decided what it did for an account on one business date, under one configuration version: the
    engine's explanation (``Decision.explanation``), as stored with the decision."""

    business_date: dt.date
    config_version: int
    text: ExplanationText


class StageChange(Explanation):
    """One change of a cycle's stage and why: the cycle started or ended, or a step was carried out (or both, when a
    cycle starts with a step already due)."""

    event: Literal["started", "ended"] | None = None
    step: str | None = None  # the step carried out


class CycleRecord(_Record):
    """One dunning cycle of an account as stored: how it started, what it sent, promises kept and broken, how it
    ended, and why each stage changed (oldest first)."""

    account_id: str
    cycle: int
    segment: str
    strategy: str  # "exempt" for a segment without a strategy
    arm: str
    config_version: int | None = None  # the version in force when the cycle started
    started: dt.date
    overdue_at_start: Money
    contacts: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    ended: dt.date | None = None
    overdue_at_end: Money | None = None
    explanations: tuple[StageChange, ...] = ()


class PromiseRecord(_Record):
    promise_id: str
    account_id: str
    amount: Money = Field(gt=0)
    date: dt.date
    created_on: dt.date
    created_by: str
    # Open amount of each item at the time of the promise: what was paid since is how much these went down.
    open_at_promise: dict[str, Money]
    status: Literal["open", "kept", "broken"] = "open"
    outcome_on: dt.date | None = None


class Installment(_Record):
    item_id: str
    due_date: dt.date
    amount: Money


class PlanRecord(_Record):
    plan_id: str
    account_id: str
    customer_id: str
    currency: str
    total: Money
    installments: tuple[Installment, ...]
    restructured: dict[str, Money]  # original item id -> the open amount moved into the plan
    created_on: dt.date
    created_by: str
    status: Literal["active", "broken", "completed"] = "active"
    outcome_on: dt.date | None = None


TaskOutcome = Literal["promise", "dispute", "no_answer", "wrong_number", "paid"]


class TaskRecord(_Record):
    task_id: str  # "T" + a digest of the step's idempotency key (account#cycle#step): safe in a URL path
    account_id: str
    customer_id: str
    group: str
    priority: str  # sorts ascending = most urgent first (dunning.collectors.task_priority)
    overdue_amount: Money
    days_overdue: int
    step: str
    created_on: dt.date
    status: Literal["open", "claimed", "done"] = "open"
    claimed_by: str | None = None
    assigned_to: str | None = None  # the collector of the group it was given to (round-robin, sticky per cycle)
    outcome: TaskOutcome | None = None
    promise_id: str | None = None  # the promise a promise outcome recorded (whether it was kept: the report)
    cycle: int | None = None  # the account's dunning cycle the task belongs to
    note: str | None = None
    closed_on: dt.date | None = None
    closed_by: str | None = None  # who recorded the outcome (the claimer, or whoever closed it for them)
    explanation: ExplanationText | None = None  # why the call task was created (the decision's explanation)


class ContactRecord(_Record):
    account_id: str
    cycle: int
    step: str
    channel: str | None = None  # email | sms | letter | call_task | ivr
    action: str | None = None  # suspend | reconnect | legal_handoff | cancel_policy | exception_report
    policy_id: str | None = None  # a policy action (cancel_policy) or notice: the policy it concerns
    template: str | None = None
    to: str | None = None
    date: dt.date  # the business date the step fired
    status: Literal["pending", "sent", "deferred", "failed"] = "pending"
    send_at: dt.datetime | None = None  # a deferred SMS: when quiet hours end
    detail: str | None = None  # message id, letter key, task id or the failure
    message: str | None = None  # a deferred SMS's rendered text, sent as it was decided
    config_version: int
    segment: str | None = None
    strategy: str | None = None
    arm: str | None = None
    explanation: ExplanationText | None = None  # why the step was taken (the decision's explanation)


def task_id_of(idempotency_key: str) -> str:
    """A collector task's id: its step's idempotency key, made safe for URL paths ('#' is not)."""
    return "T" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20].upper()
