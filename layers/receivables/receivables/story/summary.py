"""A customer on one screen: its accounts with balance, overdue amount and dunning stage, when it last paid, what it
paid in the last 24 months and how late, and the promises still open. Pure: built from the records the adapter read
for each of the customer's accounts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from receivables.domain.journal import PostingKind, Side
from receivables.domain.ledger import Money
from receivables.domain.money import ZERO
from receivables.dunning.records import PromiseRecord
from receivables.story.timeline import AccountRecords

PAYING = frozenset(
    {PostingKind.ALLOCATION, PostingKind.CREDIT_APPLIED, PostingKind.OFFSET, PostingKind.NETTED}
)  # money reaching an item (a credit note or write-off is not a payment)
HISTORY_MONTHS = 24


class PaymentLine(BaseModel):
    model_config = ConfigDict(frozen=True)
    date: dt.date = Field(description="When the money reached the item")
    account_id: str
    item_id: str
    payment_id: str | None
    amount: Money
    due_date: dt.date
    days_late: int = Field(description="Days after the item's due date (0: on time or early)")


class AccountSummary(BaseModel):
    model_config = ConfigDict(frozen=True)
    account_id: str
    account_type: str
    currency: str
    balance: Money
    overdue_amount: Money
    open_items: int
    stage: str | None = Field(description="The dunning stage: the last step taken in the cycle, none outside one")
    strategy: str | None
    last_payment_date: dt.date | None


class CustomerSummary(BaseModel):
    customer_id: str
    name: str
    accounts: list[AccountSummary]
    balance: dict[str, Money] = Field(description="By currency")
    overdue_amount: dict[str, Money] = Field(description="By currency")
    last_payment_date: dt.date | None
    payment_history: list[PaymentLine] = Field(description=f"The last {HISTORY_MONTHS} months, newest first")
    open_promises: list[PromiseRecord]


def _months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def account_summary(
    records: AccountRecords,
    *,
    account_type: str,
    currency: str,
    credit: Decimal,
    stage: str | None,
    strategy: str | None,
    today: dt.date,
) -> tuple[AccountSummary, list[PaymentLine]]:
    open_items = [i for i in records.items if i.open_amount > 0]
    overdue = sum((i.open_amount for i in open_items if i.due_date < today), ZERO)
    due = {i.item_id: i.due_date for i in records.items}
    since = _months_before(today, HISTORY_MONTHS)
    lines = [
        PaymentLine(
            date=entry.business_date,
            account_id=records.account_id,
            item_id=p.item_id,
            payment_id=p.payment_id,
            amount=-p.amount,
            due_date=due[p.item_id],
            days_late=max(0, (entry.business_date - due[p.item_id]).days),
        )
        for entry in records.entries
        for p in entry.postings
        if p.side is Side.ITEM
        and p.kind in PAYING
        and p.amount < 0
        and p.item_id in due
        and entry.business_date >= since
    ]
    received = [
        e.business_date for e in records.entries if any(p.kind is PostingKind.PAYMENT_RECEIVED for p in e.postings)
    ]
    summary = AccountSummary(
        account_id=records.account_id,
        account_type=account_type,
        currency=currency,
        balance=sum((i.open_amount for i in open_items), ZERO) - credit,
        overdue_amount=overdue,
        open_items=len(open_items),
        stage=stage,
        strategy=strategy,
        last_payment_date=max(received, default=None) or max((line.date for line in lines), default=None),
    )
    return summary, lines


def customer_summary(
    customer_id: str,
    name: str,
    accounts: Sequence[tuple[AccountSummary, list[PaymentLine], Sequence[PromiseRecord]]],
) -> CustomerSummary:
    balance: dict[str, Decimal] = defaultdict(lambda: ZERO)
    overdue: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for account, _lines, _promises in accounts:
        balance[account.currency] += account.balance
        overdue[account.currency] += account.overdue_amount
    history = sorted(
        (line for _a, lines, _p in accounts for line in lines), key=lambda line: (line.date, line.item_id), reverse=True
    )
    paid_on = [a.last_payment_date for a, _l, _p in accounts if a.last_payment_date]
    return CustomerSummary(
        customer_id=customer_id,
        name=name,
        accounts=[a for a, _l, _p in accounts],
        balance=dict(balance),
        overdue_amount=dict(overdue),
        last_payment_date=max(paid_on, default=None),
        payment_history=history,
        open_promises=[p for _a, _l, promises in accounts for p in promises if p.status == "open"],
    )
