"""Collection performance per arm, and the two-proportion test of a challenger against its champion."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from receivables.dunning.performance import performance_report
from receivables.dunning.reports import CycleRow

START = dt.date(2026, 11, 1)


def cycles(arm: str, strategy: str, total: int, collected: int, *, segment: str = "standard") -> list[CycleRow]:
    rows = []
    for n in range(total):
        paid = n < collected
        rows.append(
            CycleRow(
                account_id=f"{arm}-{n}",
                cycle=1,
                strategy=strategy,
                arm=arm,
                segment=segment,
                started=START,
                overdue_at_start=Decimal("100.00"),
                contacts=2,
                promises_kept=1 if paid else 0,
                promises_broken=0 if paid else 1,
                ended=START + dt.timedelta(days=10 + n % 5) if paid else None,
                overdue_at_end=Decimal("0.00") if paid else None,
            )
        )
    return rows


def test_each_arm_reports_its_rates_and_the_challenger_is_tested_against_the_champion():
    report = performance_report(cycles("champion", "standard", 100, 40) + cycles("challenger", "gentle", 100, 55))
    champion, challenger = sorted(report.arms, key=lambda a: a.arm, reverse=True)
    assert (champion.cycles, champion.cycles_collected, champion.collected_share) == (100, 40, Decimal("0.4000"))
    assert champion.amount_collected == Decimal("4000.00") and champion.collection_rate == Decimal("0.4000")
    assert champion.contacts == 200 and champion.contacts_per_1000_collected == Decimal("50.00")
    assert champion.promise_kept_rate == Decimal("0.4000") and champion.median_days_to_pay == Decimal("12")
    assert (challenger.strategy, challenger.cycles_collected, challenger.collected_share) == (
        "gentle",
        55,
        Decimal("0.5500"),
    )
    (test,) = report.tests
    # As statsmodels' proportions_ztest([55, 40], [100, 100]) gives: z 2.1240, p 0.0337.
    assert (test.champion, test.challenger, test.difference) == ("standard", "gentle", Decimal("0.15"))
    assert (test.z, test.p_value, test.significant) == (Decimal("2.124"), Decimal("0.0337"), True)
    assert (test.ci_low, test.ci_high) == (Decimal("0.0132"), Decimal("0.2868"))


def test_a_difference_within_chance_is_not_significant_and_untestable_arms_say_so():
    (test,) = performance_report(cycles("champion", "a", 50, 20) + cycles("challenger", "b", 50, 22)).tests
    assert not test.significant and test.p_value is not None and test.p_value > Decimal("0.5")
    (test,) = performance_report(cycles("champion", "a", 10, 10) + cycles("challenger", "b", 10, 10)).tests
    assert test.p_value is None and not test.significant and test.note.startswith("not testable")
    assert performance_report(cycles("champion", "a", 10, 3)).tests == []
