"""Champion–challenger, in numbers: per strategy and arm, what its cycles cost and what they brought in.

Pure: adds up cycle records (one per account and dunning cycle, written by the review) however they were read.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from statistics import median

from pydantic import BaseModel, ConfigDict

from receivables.domain.ledger import Money
from receivables.domain.money import ZERO


class CycleRow(BaseModel):
    model_config = ConfigDict(frozen=True)
    account_id: str
    cycle: int
    strategy: str  # "exempt" for a segment without a strategy
    arm: str
    segment: str
    started: dt.date
    overdue_at_start: Money
    contacts: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    ended: dt.date | None = None
    overdue_at_end: Money | None = None


class StrategyReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    strategy: str
    arm: str
    accounts: int
    cycles: int
    cycles_ended: int
    overdue_at_start: Money  # what the cycles had to collect
    collected: Money  # what ended cycles brought the overdue down by
    collection_rate: Decimal  # collected / overdue at start, 4 decimals
    median_days_to_pay: Decimal | None  # over ended cycles
    contacts: int  # notices and actions sent: the cost side
    promises_kept: int
    promises_broken: int
    promise_kept_rate: Decimal | None


def strategy_report(rows: Iterable[CycleRow]) -> list[StrategyReport]:
    groups: dict[tuple[str, str], list[CycleRow]] = defaultdict(list)
    for row in rows:
        groups[(row.strategy, row.arm)].append(row)
    reports = []
    for (strategy, arm), cycles in sorted(groups.items()):
        ended = [c for c in cycles if c.ended is not None]
        exposure = sum((c.overdue_at_start for c in cycles), ZERO)
        collected = sum((c.overdue_at_start - (c.overdue_at_end or ZERO) for c in ended), ZERO)
        kept = sum(c.promises_kept for c in cycles)
        broken = sum(c.promises_broken for c in cycles)
        days = [(c.ended - c.started).days for c in ended if c.ended is not None]
        decided = kept + broken
        reports.append(
            StrategyReport(
                strategy=strategy,
                arm=arm,
                accounts=len({c.account_id for c in cycles}),
                cycles=len(cycles),
                cycles_ended=len(ended),
                overdue_at_start=exposure,
                collected=max(collected, ZERO),
                collection_rate=(collected / exposure).quantize(Decimal("0.0001")) if exposure else Decimal(0),
                median_days_to_pay=Decimal(str(median(days))) if days else None,
                contacts=sum(c.contacts for c in cycles),
                promises_kept=kept,
                promises_broken=broken,
                promise_kept_rate=(Decimal(kept) / decided).quantize(Decimal("0.0001")) if decided else None,
            )
        )
    return reports
