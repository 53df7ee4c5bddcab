from datetime import date
from decimal import Decimal

from receivables.dunning.reports import CycleRow, strategy_report


def row(account, strategy, arm, started, overdue, ended=None, left=None, contacts=0, kept=0, broken=0):
    return CycleRow(
        account_id=account,
        cycle=1,
        strategy=strategy,
        arm=arm,
        segment="standard",
        started=started,
        overdue_at_start=Decimal(overdue),
        contacts=contacts,
        promises_kept=kept,
        promises_broken=broken,
        ended=ended,
        overdue_at_end=Decimal(left) if left is not None else None,
    )


def test_the_report_adds_up_each_strategy_and_arm_on_its_own():
    rows = [
        row("A1", "standard", "champion", date(2027, 1, 1), "100.00", date(2027, 1, 11), "0.00", contacts=2, kept=1),
        row("A2", "standard", "champion", date(2027, 1, 1), "300.00", contacts=5, broken=1),
        row("A3", "soft", "challenger", date(2027, 1, 2), "50.00", date(2027, 1, 5), "5.00", contacts=1),
    ]
    champion, challenger = sorted(strategy_report(rows), key=lambda r: r.arm, reverse=True)
    assert (champion.strategy, champion.accounts, champion.cycles, champion.cycles_ended) == ("standard", 2, 2, 1)
    assert champion.collected == Decimal("100.00") and champion.collection_rate == Decimal("0.2500")
    assert champion.median_days_to_pay == Decimal("10") and champion.contacts == 7
    assert champion.promise_kept_rate == Decimal("0.5000")
    assert challenger.collected == Decimal("45.00") and challenger.collection_rate == Decimal("0.9000")
    assert challenger.promise_kept_rate is None
