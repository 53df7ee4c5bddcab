"""Collection performance per segment, strategy and champion/challenger arm, with a significance test of each
challenger against its segment's champion. Pure: adds up the cycle records however they were read.

A cycle counts as *collected* when it ended with nothing overdue. The test is the two-proportion z-test of the
collected share (pooled standard error for the statistic, unpooled for the 95 % confidence interval of the
difference); the normal distribution is the standard library's ``statistics.NormalDist`` — scipy or statsmodels would
add over 100 MB to the Lambda layer for one CDF.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from statistics import NormalDist, median

from pydantic import BaseModel, ConfigDict

from receivables.domain.ledger import Money
from receivables.domain.money import ZERO
from receivables.dunning.reports import CycleRow

_RATE = Decimal("0.0001")


class ArmPerformance(BaseModel):
    model_config = ConfigDict(frozen=True)
    segment: str
    strategy: str
    arm: str
    cycles: int
    cycles_ended: int
    cycles_collected: int  # ended with nothing overdue
    collected_share: Decimal  # cycles collected / cycles
    overdue_at_start: Money
    amount_collected: Money
    collection_rate: Decimal  # amount collected / overdue at start
    median_days_to_pay: Decimal | None
    contacts: int
    contacts_per_1000_collected: Decimal | None  # contacts per 1,000 of money collected
    promises_kept: int
    promises_broken: int
    promise_kept_rate: Decimal | None


class ChallengerTest(BaseModel):
    """The challenger's collected share against the champion's, in the same segment."""

    model_config = ConfigDict(frozen=True)
    segment: str
    champion: str
    challenger: str
    champion_share: Decimal
    challenger_share: Decimal
    difference: Decimal  # challenger − champion
    z: Decimal | None
    p_value: Decimal | None  # two-sided
    ci_low: Decimal | None  # 95 % confidence interval of the difference
    ci_high: Decimal | None
    significant: bool  # p < 0.05
    note: str = ""


class PerformanceReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    arms: list[ArmPerformance]
    tests: list[ChallengerTest]


def _rate(part: Decimal | int, whole: Decimal | int) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(_RATE) if whole else Decimal(0)


def arm_performance(segment: str, strategy: str, arm: str, cycles: list[CycleRow]) -> ArmPerformance:
    ended = [c for c in cycles if c.ended is not None]
    collected_cycles = [c for c in ended if (c.overdue_at_end or ZERO) <= 0]
    exposure = sum((c.overdue_at_start for c in cycles), ZERO)
    collected = max(sum((c.overdue_at_start - (c.overdue_at_end or ZERO) for c in ended), ZERO), ZERO)
    kept = sum(c.promises_kept for c in cycles)
    broken = sum(c.promises_broken for c in cycles)
    contacts = sum(c.contacts for c in cycles)
    days = [(c.ended - c.started).days for c in collected_cycles if c.ended is not None]
    return ArmPerformance(
        segment=segment,
        strategy=strategy,
        arm=arm,
        cycles=len(cycles),
        cycles_ended=len(ended),
        cycles_collected=len(collected_cycles),
        collected_share=_rate(len(collected_cycles), len(cycles)),
        overdue_at_start=exposure,
        amount_collected=collected,
        collection_rate=_rate(collected, exposure),
        median_days_to_pay=Decimal(str(median(days))) if days else None,
        contacts=contacts,
        contacts_per_1000_collected=(Decimal(contacts) * 1000 / collected).quantize(Decimal("0.01"))
        if collected
        else None,
        promises_kept=kept,
        promises_broken=broken,
        promise_kept_rate=_rate(kept, kept + broken) if kept + broken else None,
    )


def two_proportion_test(
    segment: str, champion: ArmPerformance, challenger: ArmPerformance, *, alpha: float = 0.05
) -> ChallengerTest:
    n1, n2 = champion.cycles, challenger.cycles
    x1, x2 = champion.cycles_collected, challenger.cycles_collected
    p1, p2 = (x1 / n1 if n1 else 0.0), (x2 / n2 if n2 else 0.0)
    base = {
        "segment": segment,
        "champion": champion.strategy,
        "challenger": challenger.strategy,
        "champion_share": champion.collected_share,
        "challenger_share": challenger.collected_share,
        "difference": Decimal(str(round(p2 - p1, 4))),
    }
    pooled = (x1 + x2) / (n1 + n2) if n1 + n2 else 0.0
    standard_error = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2)) if n1 and n2 else 0.0
    if standard_error == 0:
        return ChallengerTest(
            **base,
            z=None,
            p_value=None,
            ci_low=None,
            ci_high=None,
            significant=False,
            note="not testable: an arm has no cycles, or both collected all or none",
        )
    normal = NormalDist()
    z = (p2 - p1) / standard_error
    p_value = 2 * (1 - normal.cdf(abs(z)))
    spread = normal.inv_cdf(1 - alpha / 2) * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    small = min(x1, n1 - x1, x2, n2 - x2) < 5
    return ChallengerTest(
        **base,
        z=Decimal(str(round(z, 4))),
        p_value=Decimal(str(round(p_value, 4))),
        ci_low=Decimal(str(round(p2 - p1 - spread, 4))),
        ci_high=Decimal(str(round(p2 - p1 + spread, 4))),
        significant=p_value < alpha,
        note="fewer than 5 collected or uncollected cycles in an arm: the normal approximation is rough"
        if small
        else "",
    )


def performance_report(rows: Iterable[CycleRow]) -> PerformanceReport:
    groups: dict[tuple[str, str, str], list[CycleRow]] = defaultdict(list)
    for row in rows:
        groups[(row.segment, row.strategy, row.arm)].append(row)
    arms = [arm_performance(seg, strategy, arm, cycles) for (seg, strategy, arm), cycles in sorted(groups.items())]
    tests = []
    for segment in sorted({a.segment for a in arms}):
        champions = [a for a in arms if a.segment == segment and a.arm == "champion"]
        challengers = [a for a in arms if a.segment == segment and a.arm == "challenger"]
        if len(champions) == 1:
            tests += [two_proportion_test(segment, champions[0], c) for c in challengers]
    return PerformanceReport(arms=arms, tests=tests)
