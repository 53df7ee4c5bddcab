"""Installment plans: restructuring an account's overdue debt into N new items, split to the cent."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from receivables.domain.money import CENT


class PlanError(ValueError):
    """A plan request that cannot be honoured; says which value and why."""


def split_installments(total: Decimal, n: int, first_due: date, interval_days: int) -> list[tuple[date, Decimal]]:
    """``n`` installments of ``total``: equal cents, the remainder on the first, due every ``interval_days`` from
    ``first_due``. The amounts always add up to ``total`` exactly."""
    if n < 1:
        raise PlanError(f"installments: must be at least 1, got {n}")
    if interval_days < 1:
        raise PlanError(f"interval_days: must be at least 1, got {interval_days}")
    if total <= 0:
        raise PlanError(f"total: must be greater than 0, got {total}")
    if total != total.quantize(CENT):
        raise PlanError(f"total: {total} has more than 2 decimals")
    share = (total / n).quantize(CENT, rounding=ROUND_DOWN)
    if share < CENT:
        raise PlanError(f"installments: {total} cannot be split into {n} installments of at least 0.01")
    first = total - share * (n - 1)
    return [
        (first_due + timedelta(days=interval_days * k), (first if k == 0 else share).quantize(CENT)) for k in range(n)
    ]
