"""The operational reports, pure: stage distribution of open cycles, days-waiting buckets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from receivables.dunning.records import CycleRecord, StageChange
from receivables.reporting.operational import bucket_of, stage_distribution, waiting_aging

DAY = dt.date(2026, 11, 24)


def cycle(account: str, number: int, steps: list[str], ended: dt.date | None = None) -> CycleRecord:
    changes = [StageChange(business_date=DAY, config_version=1, text="started", event="started")]
    changes += [StageChange(business_date=DAY, config_version=1, text=f"fired {s}", step=s) for s in steps]
    return CycleRecord(
        account_id=account,
        cycle=number,
        segment="standard",
        strategy="standard",
        arm="champion",
        started=DAY,
        overdue_at_start=Decimal("10.00"),
        ended=ended,
        explanations=tuple(changes),
    )


def test_each_account_counts_once_at_the_last_step_of_its_open_cycle():
    lines = stage_distribution(
        [
            cycle("A1", 1, ["email"], ended=DAY),  # over: not counted
            cycle("A1", 2, ["email", "sms"]),
            cycle("A2", 1, []),
            cycle("A3", 1, ["email", "sms"]),
        ]
    )
    assert [(line.stage, line.accounts, line.overdue_at_start) for line in lines] == [
        ("sms", 2, Decimal("20.00")),
        ("started", 1, Decimal("10.00")),
    ]


def test_waiting_items_fall_into_day_buckets():
    assert [bucket_of(d) for d in (0, 7, 8, 30, 31, 60, 61, 90, 91, -2)] == [
        "0-7",
        "0-7",
        "8-30",
        "8-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        ">90",
        "0-7",
    ]
    lines = waiting_aging(
        DAY,
        [
            ("suspense", "TRY", DAY, Decimal("40.00")),
            ("suspense", "TRY", DAY - dt.timedelta(days=100), Decimal("5.00")),
            ("suspense", "TRY", DAY - dt.timedelta(days=3), Decimal("1.00")),
            ("exceptions", "TRY", DAY - dt.timedelta(days=45), Decimal("12.50")),
        ],
    )
    assert [(w.what, w.bucket, w.count, w.amount) for w in lines] == [
        ("exceptions", "31-60", 1, Decimal("12.50")),
        ("suspense", "0-7", 2, Decimal("41.00")),
        ("suspense", ">90", 1, Decimal("5.00")),
    ]
