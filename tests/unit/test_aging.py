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


def test_roll_rates_follow_each_item_from_its_bucket_at_the_start_to_the_end_or_paid():
    from receivables.reporting.aging import roll_rates

    start_day, end_day = dt.date(2026, 10, 31), dt.date(2026, 11, 30)

    def row(item_id, due, amount):
        return {"item_id": item_id, "open_amount": Decimal(amount), "due_date": due, "currency": "TRY"}

    start = [row("A", dt.date(2026, 10, 20), "100.00"), row("B", dt.date(2026, 10, 25), "50.00"),
             row("C", dt.date(2026, 11, 10), "30.00")]  # fmt: skip
    end = [row("A", dt.date(2026, 10, 20), "100.00"), row("C", dt.date(2026, 11, 10), "30.00"),
           row("N", dt.date(2026, 11, 20), "9.00")]  # fmt: skip
    lines = roll_rates(start, start_day, end, end_day)
    assert [(line.from_bucket, line.to_bucket, line.amount, line.rate) for line in lines] == [
        ("not_due", "1-30", Decimal("30.00"), Decimal("1.0000")),
        ("1-30", "paid", Decimal("50.00"), Decimal("0.3333")),  # B paid
        ("1-30", "31-60", Decimal("100.00"), Decimal("0.6667")),  # A rolled
    ]


def test_dso_is_receivables_over_billing_times_the_days():
    from receivables.reporting.aging import days_sales_outstanding

    rows = [{"open_amount": Decimal("300.00"), "currency": "TRY"}, {"open_amount": Decimal("50.00"), "currency": "EUR"}]
    lines = days_sales_outstanding(rows, {"TRY": Decimal("900.00")}, 90)
    assert [(line.currency, line.receivables, line.billed, line.dso) for line in lines] == [
        ("EUR", Decimal("50.00"), Decimal("0"), None),
        ("TRY", Decimal("300.00"), Decimal("900.00"), Decimal("30.0")),
    ]
