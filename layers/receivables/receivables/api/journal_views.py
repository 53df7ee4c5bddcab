"""How the journal reads in API responses: entries with their postings, or one item's or payment's postings."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from receivables.domain.journal import JournalEntry
from receivables.domain.ledger import Money


class CauseView(BaseModel):
    kind: str = Field(description="file | bank_entry | api | schedule | event | system")
    source: str
    line: int | None = None
    position: str | None = None
    actor: str | None = None


class PostingView(BaseModel):
    """One posting: ``amount`` (signed: + adds to what is owed, − reduces it) lands on the item or the payment
    named by ``side``."""

    entry_id: str
    business_date: date
    recorded_at: datetime
    operation: str
    cause: CauseView
    kind: str
    side: str
    item_id: str | None = None
    payment_id: str | None = None
    amount: Money
    currency: str
    reason: str


class EntryPostingView(BaseModel):
    kind: str
    side: str
    item_id: str | None = None
    payment_id: str | None = None
    amount: Money
    reason: str


class EntryView(BaseModel):
    entry_id: str
    account_id: str
    business_date: date
    recorded_at: datetime
    operation: str
    cause: CauseView
    currency: str
    postings: list[EntryPostingView]


class JournalPageView(BaseModel):
    account_id: str
    entries: list[EntryView]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at the end")


def entry_view(entry: JournalEntry) -> EntryView:
    return EntryView(
        entry_id=entry.entry_id,
        account_id=entry.account_id,
        business_date=entry.business_date,
        recorded_at=entry.recorded_at,
        operation=entry.operation,
        cause=CauseView.model_validate(entry.cause.model_dump()),
        currency=entry.currency,
        postings=[
            EntryPostingView(
                kind=p.kind.value,
                side=p.side.value,
                item_id=p.item_id,
                payment_id=p.payment_id,
                amount=p.amount,
                reason=p.reason,
            )
            for p in entry.postings
        ],
    )


def posting_views(
    entries: list[JournalEntry], *, payment_id: str | None = None, item_id: str | None = None
) -> list[PostingView]:
    """The postings of ``entries`` on one payment's money or one item (either side of each movement)."""
    views = []
    for entry in entries:
        for p in entry.postings:
            if payment_id is not None and (p.payment_id != payment_id or p.side.value != "payment"):
                continue
            if item_id is not None and (p.item_id != item_id or p.side.value != "item"):
                continue
            views.append(
                PostingView(
                    entry_id=entry.entry_id,
                    business_date=entry.business_date,
                    recorded_at=entry.recorded_at,
                    operation=entry.operation,
                    cause=CauseView.model_validate(entry.cause.model_dump()),
                    kind=p.kind.value,
                    side=p.side.value,
                    item_id=p.item_id,
                    payment_id=p.payment_id,
                    amount=p.amount,
                    currency=entry.currency,
                    reason=p.reason,
                )
            )
    return views
