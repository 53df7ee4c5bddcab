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
