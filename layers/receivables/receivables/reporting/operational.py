"""The operational reports, pure: the daily cash report from the day's postings, the dunning stage distribution
from the open cycles, and the suspense and exceptions aging."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from receivables.accounting.gl import PostingFact
from receivables.domain.ledger import Money
from receivables.domain.money import ZERO
from receivables.dunning.records import CycleRecord

SUSPENSE_ACCOUNT = "#suspense"
ALLOCATING = frozenset({"allocation", "credit_applied", "unallocation", "offset", "netted", "refund_applied"})
RETURNING = frozenset({"payment_returned", "payment_part_returned"})
BILLING = frozenset(
    {"item_posted", "payable_posted", "premium_adjusted", "item_cancelled", "credit_note", "written_off"}
)
AGE_BUCKETS = ((0, 7, "0-7"), (8, 30, "8-30"), (31, 60, "31-60"), (61, 90, "61-90"), (91, None, ">90"))


class CashLine(BaseModel):
    model_config = ConfigDict(frozen=True)
    date: dt.date
    currency: str
    received: Money  # money in, on accounts and into suspense
    into_suspense: Money  # of it, what no account could take
    allocated: Money  # money reaching items (less what was taken back)
    returned: Money  # money that left again (returned payments, bounced cheques)
    reopened: Money  # what reversals reopened on items
    unapplied_change: Money  # credit held on payments: received − allocated − returned (+ reversed back to credit)
    postings: int


def cash_report(day: dt.date, facts: Iterable[PostingFact]) -> list[CashLine]:
    unique = {f.line_id: f for f in facts}  # the daybook stages a redelivered batch again: one fact per line
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    counts: dict[str, int] = defaultdict(int)
    for fact in unique.values():
        if fact.kind in BILLING:
            continue  # what was billed or owed, not money
        t = totals[fact.currency]
        counts[fact.currency] += 1
        if fact.target == "payment":
            t["unapplied_change"] -= fact.amount
            if fact.kind == "payment_received":
                t["received"] -= fact.amount
                if fact.account_id == SUSPENSE_ACCOUNT:
                    t["into_suspense"] -= fact.amount
            elif fact.kind in RETURNING:
                t["returned"] += fact.amount
        elif fact.target == "item":
            if fact.kind in ALLOCATING:
                t["allocated"] -= fact.amount
            elif fact.kind == "reversal":
                t["reopened"] += fact.amount
    return [
        CashLine(
            date=day,
            currency=currency,
            received=t["received"],
            into_suspense=t["into_suspense"],
            allocated=t["allocated"],
            returned=t["returned"],
            reopened=t["reopened"],
            unapplied_change=t["unapplied_change"],
            postings=counts[currency],
        )
        for currency, t in sorted(totals.items())
    ]


class StageLine(BaseModel):
    model_config = ConfigDict(frozen=True)
    segment: str
    strategy: str
    arm: str
    stage: str  # the last step taken in the cycle ("started": none yet)
    accounts: int
    overdue_at_start: Money


def current_stage(cycle: CycleRecord) -> str:
    steps = [change.step for change in cycle.explanations if change.step]
    return steps[-1] if steps else "started"


def stage_distribution(cycles: Iterable[CycleRecord]) -> list[StageLine]:
    """Accounts in an open cycle, by segment, strategy, arm and stage (one cycle per account is open at most)."""
    groups: dict[tuple[str, str, str, str], list[CycleRecord]] = defaultdict(list)
    latest: dict[str, CycleRecord] = {}
    for cycle in cycles:
        if cycle.ended is None and (cycle.account_id not in latest or cycle.cycle > latest[cycle.account_id].cycle):
            latest[cycle.account_id] = cycle
    for cycle in latest.values():
        groups[(cycle.segment, cycle.strategy, cycle.arm, current_stage(cycle))].append(cycle)
    return [
        StageLine(
            segment=segment,
            strategy=strategy,
            arm=arm,
            stage=stage,
            accounts=len(rows),
            overdue_at_start=sum((r.overdue_at_start for r in rows), ZERO),
        )
        for (segment, strategy, arm, stage), rows in sorted(groups.items())
    ]


class AgingLine(BaseModel):
    model_config = ConfigDict(frozen=True)
    what: str  # suspense (payments no account took) | exceptions (insurance statement differences)
    currency: str
    bucket: str  # days waiting
    count: int
    amount: Money


def bucket_of(days: int) -> str:
    for low, high, label in AGE_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return AGE_BUCKETS[0][2]  # dated in the future: as fresh as today


def waiting_aging(as_of: dt.date, waiting: Sequence[tuple[str, str, dt.date, Decimal]]) -> list[AgingLine]:
    """(what, currency, since, amount) → count and amount per bucket of days waiting."""
    cells: dict[tuple[str, str, str], list[Decimal]] = defaultdict(list)
    for what, currency, since, amount in waiting:
        cells[(what, currency, bucket_of((as_of - since).days))].append(amount)
    order = {label: n for n, (_l, _h, label) in enumerate(AGE_BUCKETS)}
    return [
        AgingLine(what=what, currency=currency, bucket=bucket, count=len(amounts), amount=sum(amounts, ZERO))
        for (what, currency, bucket), amounts in sorted(cells.items(), key=lambda c: (c[0][0], c[0][1], order[c[0][2]]))
    ]
