"""Aging: open amount and count by days past due (not due, 1–30, 31–60, 61–90, 91–180, 181–360, > 360) and one
dimension (segment, city, customer type, account type, insurance branch). Pure: over the open items' rows, as the BI
export's snapshot and today's activity give them — the same buckets the shipped SQL (``sql/aging.sql``) draws."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from receivables.domain.ledger import Money
from receivables.domain.money import ZERO
from receivables.reporting.bi import AGING_BUCKETS, NOT_DUE

ORDER = {NOT_DUE: 0, **{label: n for n, (_low, _high, label) in enumerate(AGING_BUCKETS, start=1)}}


class AgingLine(BaseModel):
    model_config = ConfigDict(frozen=True)
    dimension: str
    value: str
    currency: str
    bucket: str
    items: int
    open_amount: Money


def bucket_of(days_past_due: int) -> str:
    if days_past_due <= 0:
        return NOT_DUE
    for low, high, label in AGING_BUCKETS:
        if days_past_due >= low and (high is None or days_past_due <= high):
            return label
    return AGING_BUCKETS[-1][2]


def aging(rows: Iterable[Mapping[str, Any]], as_of: dt.date, by: str) -> list[AgingLine]:
    cells: dict[tuple[str, str, str], list[Decimal]] = defaultdict(list)
    for row in rows:
        open_amount = Decimal(row["open_amount"])
        if open_amount <= 0:
            continue
        value = row.get(by)
        bucket = bucket_of((as_of - row["due_date"]).days)
        cells[("(none)" if value is None else str(value), str(row["currency"]), bucket)].append(open_amount)
    return [
        AgingLine(dimension=by, value=value, currency=currency, bucket=bucket, items=len(a), open_amount=sum(a, ZERO))
        for (value, currency, bucket), a in sorted(cells.items(), key=lambda c: (c[0][0], c[0][1], ORDER[c[0][2]]))
    ]


class RollLine(BaseModel):
    """Of what sat in ``from_bucket`` at the start of the month, how much is in ``to_bucket`` at its end (paid:
    no longer open)."""

    model_config = ConfigDict(frozen=True)
    currency: str
    from_bucket: str
    to_bucket: str
    items: int
    amount: Money  # the amount at the start of the month that made the move
    rate: Decimal  # amount / what the from-bucket held, 4 decimals


PAID = "paid"


def roll_rates(
    start: Iterable[Mapping[str, Any]], start_day: dt.date, end: Iterable[Mapping[str, Any]], end_day: dt.date
) -> list[RollLine]:
    """Month over month: each item open at ``start_day`` by its bucket then and its bucket at ``end_day`` (or paid).
    Items billed during the month are not in a roll rate (they had no bucket to roll from)."""
    later = {row["item_id"]: row for row in end if Decimal(row["open_amount"]) > 0}
    moves: dict[tuple[str, str, str], list[Decimal]] = defaultdict(list)
    held: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for row in start:
        amount = Decimal(row["open_amount"])
        if amount <= 0:
            continue
        was = bucket_of((start_day - row["due_date"]).days)
        now_row = later.get(row["item_id"])
        now = bucket_of((end_day - now_row["due_date"]).days) if now_row is not None else PAID
        moves[(str(row["currency"]), was, now)].append(amount)
        held[(str(row["currency"]), was)] += amount
    order = {**ORDER, PAID: -1}
    return [
        RollLine(
            currency=currency,
            from_bucket=was,
            to_bucket=now,
            items=len(amounts),
            amount=sum(amounts, ZERO),
            rate=(sum(amounts, ZERO) / held[(currency, was)]).quantize(Decimal("0.0001")),
        )
        for (currency, was, now), amounts in sorted(
            moves.items(), key=lambda m: (m[0][0], order[m[0][1]], order[m[0][2]])
        )
    ]


class DsoLine(BaseModel):
    model_config = ConfigDict(frozen=True)
    currency: str
    receivables: Money  # open at the end of the day
    billed: Money  # billed in the period
    days: int
    dso: Decimal | None  # receivables / billed × days; None when nothing was billed


def days_sales_outstanding(
    open_rows: Iterable[Mapping[str, Any]], billed: Mapping[str, Decimal], days: int
) -> list[DsoLine]:
    receivables: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in open_rows:
        receivables[str(row["currency"])] += Decimal(row["open_amount"])
    return [
        DsoLine(
            currency=currency,
            receivables=receivables[currency],
            billed=billed.get(currency, ZERO),
            days=days,
            dso=(receivables[currency] / billed[currency] * days).quantize(Decimal("0.1"))
            if billed.get(currency)
            else None,
        )
        for currency in sorted(set(receivables) | set(billed))
    ]
