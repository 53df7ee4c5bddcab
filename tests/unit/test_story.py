"""The account's timeline (ordering, filters, pages) and the customer summary's payment history, pure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from receivables.domain.journal import Cause, JournalEntry, Posting, PostingKind, Side
from receivables.domain.ledger import ItemStatus, ItemView
from receivables.story.summary import _months_before, account_summary
from receivables.story.timeline import AccountRecords, page, timeline

DAY = dt.date(2026, 11, 24)


def item(item_id: str, due: dt.date, amount: str, open_amount: str) -> ItemView:
    return ItemView(
        item_id=item_id,
        account_id="A1",
        customer_id="C1",
        issue_date=due - dt.timedelta(days=14),
        due_date=due,
        amount=Decimal(amount),
        open_amount=Decimal(open_amount),
        currency="TRY",
        status=ItemStatus.OPEN,
    )


def entry(day: dt.date, *postings: Posting, operation: str = "receive", actor: str | None = "till.7") -> JournalEntry:
    return JournalEntry(
        entry_id=f"E-{day}",
        account_id="A1",
        currency="TRY",
        business_date=day,
        recorded_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
        operation=operation,
        cause=Cause(kind="api", source="POST /receipts", actor=actor),
        postings=postings,
    )


def paid(day: dt.date, item_id: str, amount: str) -> JournalEntry:
    money = Decimal(amount)
    return entry(
        day,
        Posting(kind=PostingKind.PAYMENT_RECEIVED, side=Side.PAYMENT, amount=-money, payment_id=f"P-{day}"),
        Posting(kind=PostingKind.ALLOCATION, side=Side.ITEM, amount=-money, item_id=item_id, payment_id=f"P-{day}"),
        Posting(kind=PostingKind.ALLOCATION, side=Side.PAYMENT, amount=money, item_id=item_id, payment_id=f"P-{day}"),
    )


RECORDS = AccountRecords(
    account_id="A1",
    items=[
        item("INV-1", dt.date(2026, 10, 15), "100.00", "40.00"),
        item("INV-2", dt.date(2026, 12, 15), "50.00", "50.00"),
    ],
    entries=[paid(DAY, "INV-1", "60.00"), paid(dt.date(2024, 1, 5), "INV-1", "0.01")],
)


def test_the_timeline_is_in_time_order_and_pages_by_a_cursor_after_its_filters():
    events = timeline(RECORDS)
    assert [(e.kind, e.date) for e in events] == [
        ("payment", dt.date(2024, 1, 5)),
        ("item", dt.date(2026, 10, 1)),
        ("payment", DAY),
        ("item", dt.date(2026, 12, 1)),
    ]
    assert events[2].what == "payment P-2026-11-24 of 60.00 received: paid INV-1 60.00" and events[2].by == "till.7"
    first, cursor = page(events, kinds=frozenset({"item"}), limit=1)
    assert [e.ids["item_id"] for e in first] == ["INV-1"] and cursor
    second, cursor = page(events, kinds=frozenset({"item"}), limit=1, cursor=cursor)
    assert [e.ids["item_id"] for e in second] == ["INV-2"] and cursor is None
    assert page(events, since=DAY, until=DAY)[0] == [events[2]]


def test_the_payment_history_covers_24_months_with_days_late():
    summary, lines = account_summary(
        RECORDS, account_type="standard", currency="TRY", credit=Decimal(0), stage="sms", strategy="standard", today=DAY
    )
    assert [(line.item_id, line.amount, line.days_late) for line in lines] == [("INV-1", Decimal("60.00"), 40)]
    assert summary.balance == Decimal("90.00") and summary.overdue_amount == Decimal("40.00")
    assert summary.last_payment_date == dt.date(2026, 11, 24) and summary.open_items == 2
    assert _months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert _months_before(DAY, 24) == dt.date(2024, 11, 24)
