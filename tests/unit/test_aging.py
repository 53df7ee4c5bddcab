"""Aging buckets and grouping, pure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from receivables.reporting.aging import aging, bucket_of

AS_OF = dt.date(2026, 12, 31)


def test_days_past_due_fall_into_the_contract_buckets():
    days = [-5, 0, 1, 30, 31, 60, 61, 90, 91, 180, 181, 360, 361, 5000]
    assert [bucket_of(d) for d in days] == [
        "not_due", "not_due", "1-30", "1-30", "31-60", "31-60", "61-90", "61-90",
        "91-180", "91-180", "181-360", "181-360", ">360", ">360",
    ]  # fmt: skip


def test_open_items_are_summed_by_value_currency_and_bucket_in_bucket_order():
    rows = [
        {
            "item_id": "1",
            "open_amount": Decimal("10.00"),
            "due_date": dt.date(2026, 12, 1),
            "currency": "TRY",
            "city": "İzmir",
        },
        {
            "item_id": "2",
            "open_amount": Decimal("5.50"),
            "due_date": dt.date(2026, 12, 20),
            "currency": "TRY",
            "city": "İzmir",
        },
        {
            "item_id": "3",
            "open_amount": Decimal("7.00"),
            "due_date": dt.date(2027, 1, 5),
            "currency": "TRY",
            "city": "İzmir",
        },
        {
            "item_id": "4",
            "open_amount": Decimal("0.00"),
            "due_date": dt.date(2026, 1, 5),
            "currency": "TRY",
            "city": "İzmir",
        },
        {
            "item_id": "5",
            "open_amount": Decimal("1.00"),
            "due_date": dt.date(2025, 1, 5),
            "currency": "EUR",
            "city": None,
        },
    ]
    lines = aging(rows, AS_OF, "city")
    assert [(line.value, line.currency, line.bucket, line.items, line.open_amount) for line in lines] == [
        ("(none)", "EUR", ">360", 1, Decimal("1.00")),
        ("İzmir", "TRY", "not_due", 1, Decimal("7.00")),
        ("İzmir", "TRY", "1-30", 2, Decimal("15.50")),
    ]
