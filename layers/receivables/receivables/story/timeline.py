"""An account's whole story, in time order: every item and its postings, payments and what they paid, adjustments,
contacts, promises and their outcomes, holds, plans, collector tasks and their outcomes, dunning cycles with their
stage changes and each decision's explanation, legal hand-offs — each with who did it.

Pure: built from the records the adapter read for one account (no table scan: one account's partitions)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from receivables.adjustments.model import Adjustment
from receivables.domain.journal import JournalEntry, Side
from receivables.domain.ledger import ItemView, Money
from receivables.dunning.records import ContactRecord, CycleRecord, HoldRecord, PlanRecord, PromiseRecord, TaskRecord

KINDS = (
    "item",
    "posting",
    "payment",
    "adjustment",
    "contact",
    "action",
    "promise",
    "hold",
    "plan",
    "task",
    "cycle",
)


class TimelineEvent(BaseModel):
    model_config = ConfigDict(frozen=True)
    date: dt.date = Field(description="The business date it happened on")
    at: str | None = Field(default=None, description="The moment it was recorded, when known (ISO 8601)")
    kind: str = Field(description=", ".join(KINDS))
    what: str = Field(description="What happened, in words")
    by: str | None = Field(default=None, description="Who did it: a person, a system (IAM), a file, a schedule")
    amount: Money | None = None
    ids: dict[str, str] = Field(default_factory=dict, description="The records it concerns (item, payment…)")
    detail: dict[str, Any] = Field(default_factory=dict)


class TimelinePage(BaseModel):
    account_id: str
    events: list[TimelineEvent]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last")


@dataclass(frozen=True, slots=True)
class AccountHead:
    """The account record's facts a summary needs."""

    account_id: str
    customer_id: str
    account_type: str
    currency: str
    unapplied_credit: Decimal
    dunning_state: str | None  # the DunningState JSON, when dunning has seen the account


@dataclass(slots=True)
class AccountRecords:
    """What the adapter read of one account."""

    account_id: str
    items: Sequence[ItemView] = ()
    item_recorded: dict[str, str] = field(default_factory=dict)  # item id → when its record was written
    entries: Sequence[JournalEntry] = ()
    adjustments: Sequence[Adjustment] = ()
    contacts: Sequence[ContactRecord] = ()
    cycles: Sequence[CycleRecord] = ()
    tasks: Sequence[TaskRecord] = ()
    promises: Sequence[PromiseRecord] = ()
    holds: Sequence[HoldRecord] = ()
    plans: Sequence[PlanRecord] = ()


def _by(entry: JournalEntry) -> str | None:
    cause = entry.cause
    return cause.actor or (cause.source if cause.kind in ("file", "bank_entry", "schedule") else None)


def _item_events(records: AccountRecords) -> Iterable[TimelineEvent]:
    for item in records.items:
        source = item.source.file if item.source else None
        yield TimelineEvent(
            date=item.issue_date,
            at=records.item_recorded.get(item.item_id),
            kind="item",
            what=f"{item.kind.value.replace('_', ' ')} {item.item_id} billed, due {item.due_date}",
            by=source,
            amount=item.amount,
            ids={"item_id": item.item_id, **({"policy_id": item.policy_id} if item.policy_id else {})},
            detail={"due_date": item.due_date.isoformat(), "status": item.status.value, "open": str(item.open_amount)},
        )


def _entry_events(entries: Iterable[JournalEntry]) -> Iterable[TimelineEvent]:
    for entry in entries:
        postings = [
            {
                "kind": p.kind.value,
                "side": p.side.value,
                "amount": str(p.amount),
                **({"item_id": p.item_id} if p.item_id else {}),
                **({"payment_id": p.payment_id} if p.payment_id else {}),
                "reason": p.reason,
            }
            for p in entry.postings
        ]
        received = [p for p in entry.postings if p.kind.value == "payment_received"]
        paid = {p.item_id: -p.amount for p in entry.postings if p.side is Side.ITEM and p.item_id and p.amount < 0}
        if received:
            payment_id = received[0].payment_id or ""
            amount = -sum((p.amount for p in received), Decimal(0))
            what = f"payment {payment_id} of {amount} received" + (
                ": paid " + ", ".join(f"{i} {a}" for i, a in paid.items()) if paid else ", held as credit"
            )
            yield TimelineEvent(
                date=entry.business_date,
                at=entry.recorded_at.isoformat(),
                kind="payment",
                what=what,
                by=_by(entry),
                amount=amount,
                ids={"payment_id": payment_id, "entry_id": entry.entry_id},
                detail={"cause": entry.cause.describe(), "postings": postings},
            )
            continue
        if entry.operation.startswith("adjustment_"):
            continue  # told by the adjustment's own event, with its status and explanation
        reasons = sorted({p.reason for p in entry.postings if p.reason})
        yield TimelineEvent(
            date=entry.business_date,
            at=entry.recorded_at.isoformat(),
            kind="posting",
            what=f"{entry.operation.replace('_', ' ')}" + (f": {'; '.join(reasons)}" if reasons else ""),
            by=_by(entry),
            amount=sum((p.amount for p in entry.postings if p.side is Side.ITEM), Decimal(0)) or None,
            ids={"entry_id": entry.entry_id},
            detail={"cause": entry.cause.describe(), "postings": postings},
        )


def _adjustment_events(adjustments: Iterable[Adjustment]) -> Iterable[TimelineEvent]:
    for a in adjustments:
        r = a.request
        yield TimelineEvent(
            date=dt.date.fromisoformat(a.created_at[:10]),
            at=a.created_at,
            kind="adjustment",
            what=f"{r.kind.value.replace('_', ' ')} {r.adjustment_id} of {r.item_id}: {a.status.value}"
            + (f" — {a.explanation}" if a.explanation else ""),
            by=a.created_by,
            amount=r.amount,
            ids={"adjustment_id": r.adjustment_id, "item_id": r.item_id},
            detail={"status": a.status.value, "reason": r.reason, "decided_by": a.decided_by},
        )


def _contact_events(contacts: Iterable[ContactRecord]) -> Iterable[TimelineEvent]:
    for c in contacts:
        if c.action:
            what = f"{c.action.replace('_', ' ')} (step {c.step}, cycle {c.cycle})"
            if c.action == "legal_handoff":
                what = f"handed to legal (step {c.step}, cycle {c.cycle})"
            kind = "action"
        else:
            what = f"{c.channel} {c.template or ''} to {c.to or 'the customer'}: {c.status}".replace("  ", " ")
            if c.status == "deferred" and c.send_at:
                what += f" until {c.send_at.isoformat()}"
            kind = "contact"
        yield TimelineEvent(
            date=c.date,
            kind=kind,
            what=what,
            by="dunning",
            ids={"cycle": str(c.cycle), "step": c.step, **({"policy_id": c.policy_id} if c.policy_id else {})},
            detail={
                "channel": c.channel,
                "action": c.action,
                "template": c.template,
                "to": c.to,
                "status": c.status,
                "send_at": c.send_at.isoformat() if c.send_at else None,
                "detail": c.detail,
                "strategy": c.strategy,
                "arm": c.arm,
                "explanation": c.explanation,
            },
        )


def _cycle_events(cycles: Iterable[CycleRecord]) -> Iterable[TimelineEvent]:
    for cycle in cycles:
        for change in cycle.explanations:
            label = change.event or (f"step {change.step}" if change.step else "decision")
            yield TimelineEvent(
                date=change.business_date,
                kind="cycle",
                what=f"dunning cycle {cycle.cycle} ({cycle.strategy}, {cycle.arm}): {label}",
                by="dunning",
                ids={"cycle": str(cycle.cycle)},
                detail={"explanation": change.text, "config_version": change.config_version, "segment": cycle.segment},
            )


def _promise_events(promises: Iterable[PromiseRecord]) -> Iterable[TimelineEvent]:
    for p in promises:
        yield TimelineEvent(
            date=p.created_on,
            kind="promise",
            what=f"promise {p.promise_id} to pay {p.amount} by {p.date}",
            by=p.created_by,
            amount=p.amount,
            ids={"promise_id": p.promise_id},
            detail={"status": p.status},
        )
        if p.status != "open" and p.outcome_on:
            yield TimelineEvent(
                date=p.outcome_on,
                kind="promise",
                what=f"promise {p.promise_id} {p.status}",
                by="dunning",
                amount=p.amount,
                ids={"promise_id": p.promise_id},
                detail={"status": p.status},
            )


def _hold_events(holds: Iterable[HoldRecord]) -> Iterable[TimelineEvent]:
    for h in holds:
        yield TimelineEvent(
            date=h.start,
            kind="hold",
            what=f"{h.level} hold {h.hold_id} on {h.target_id}: {h.reason}" + (f", until {h.until}" if h.until else ""),
            by=h.created_by,
            ids={"hold_id": h.hold_id},
            detail={"status": h.status},
        )
        for audit in h.audit[1:]:  # the first entry is the hold's creation, told above
            yield TimelineEvent(
                date=audit.at.date(),
                at=audit.at.isoformat(),
                kind="hold",
                what=f"hold {h.hold_id}: {audit.what}",
                by=audit.by,
                ids={"hold_id": h.hold_id},
            )


def _plan_events(plans: Iterable[PlanRecord]) -> Iterable[TimelineEvent]:
    for plan in plans:
        yield TimelineEvent(
            date=plan.created_on,
            kind="plan",
            what=f"plan {plan.plan_id}: {plan.total} in {len(plan.installments)} installments",
            by=plan.created_by,
            amount=plan.total,
            ids={"plan_id": plan.plan_id},
            detail={"status": plan.status, "restructured": {k: str(v) for k, v in plan.restructured.items()}},
        )
        if plan.status != "active" and plan.outcome_on:
            yield TimelineEvent(
                date=plan.outcome_on,
                kind="plan",
                what=f"plan {plan.plan_id} {plan.status}",
                by="dunning",
                ids={"plan_id": plan.plan_id},
            )


def _task_events(tasks: Iterable[TaskRecord]) -> Iterable[TimelineEvent]:
    for t in tasks:
        yield TimelineEvent(
            date=t.created_on,
            kind="task",
            what=f"collector task for group {t.group} ({t.step}): {t.overdue_amount} overdue {t.days_overdue} days",
            by="dunning",
            amount=t.overdue_amount,
            ids={"task_id": t.task_id},
            detail={"status": t.status, "claimed_by": t.claimed_by, "explanation": t.explanation},
        )
        if t.outcome and t.closed_on:
            yield TimelineEvent(
                date=t.closed_on,
                kind="task",
                what=f"task {t.task_id}: {t.outcome}" + (f" — {t.note}" if t.note else ""),
                by=t.closed_by,
                ids={"task_id": t.task_id},
                detail={"outcome": str(t.outcome)},
            )


def timeline(records: AccountRecords) -> list[TimelineEvent]:
    """Every event of the account, oldest first (by business date, then the moment recorded where known)."""
    events = [
        *_item_events(records),
        *_entry_events(records.entries),
        *_adjustment_events(records.adjustments),
        *_contact_events(records.contacts),
        *_cycle_events(records.cycles),
        *_promise_events(records.promises),
        *_hold_events(records.holds),
        *_plan_events(records.plans),
        *_task_events(records.tasks),
    ]
    return sorted(events, key=lambda e: (e.date, _rank(e), e.at or ""))


# Within a day: what was billed, a cycle starting, then what people and money did, then dunning's steps and a cycle
# ending (a payment ends the cycle it pays off, so the end follows it).
_RANKS = {"item": 0, "posting": 2, "payment": 2, "adjustment": 2, "promise": 3, "hold": 3, "plan": 3, "task": 5}


def _rank(event: TimelineEvent) -> int:
    if event.kind == "cycle":
        return 1 if event.what.endswith("started") else 9
    return _RANKS.get(event.kind, 4)


def page(
    events: Sequence[TimelineEvent],
    *,
    kinds: frozenset[str] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[TimelineEvent], str | None]:
    """The events that pass the filters, ``limit`` at a time; the cursor is the position after the page."""
    chosen = [
        e
        for e in events
        if (kinds is None or e.kind in kinds)
        and (since is None or e.date >= since)
        and (until is None or e.date <= until)
    ]
    start = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
    shown = chosen[start : start + limit]
    more = start + limit < len(chosen)
    return shown, base64.urlsafe_b64encode(str(start + limit).encode()).decode() if more else None
