"""Counting days overdue in calendar or Turkish business days, and the SMS quiet-hours window.

Business days are Monday to Friday minus Turkish public holidays from the ``holidays`` package (data shipped with
the package: no network). Half-day holidays (the afternoons before Republic Day and the bayrams) are working
mornings and count as business days. Holiday sets are cached per year.
"""

from __future__ import annotations

import bisect
import functools
from datetime import date, timedelta

import holidays

MAX_OFFSET_DAYS = 3650


@functools.cache
def turkish_holidays(year: int) -> frozenset[date]:
    """Turkish public holidays (whole days) of one year."""
    return frozenset(holidays.country_holidays("TR", years=year))


@functools.cache
def _weekday_holidays(year: int) -> tuple[date, ...]:
    # Only holidays on Monday–Friday remove a business day; the others fall on a weekend anyway.
    return tuple(sorted(d for d in turkish_holidays(year) if d.weekday() < 5))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in turkish_holidays(day.year)


def _weekdays_through(day: date) -> int:
    """Monday–Friday dates from 0001-01-01 (a Monday) up to and including ``day``."""
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def business_days_between(start: date, end: date) -> int:
    """Business days after ``start`` up to and including ``end`` (0 when ``end`` <= ``start``)."""
    if end <= start:
        return 0
    count = _weekdays_through(end) - _weekdays_through(start)
    for year in range(start.year, end.year + 1):
        listed = _weekday_holidays(year)
        count -= bisect.bisect_right(listed, end) - bisect.bisect_right(listed, start)
    return count


def days_overdue(oldest_due: date, today: date, business_days: bool) -> int:
    """Days overdue on ``today`` for an item due on ``oldest_due``: ``today - oldest_due`` in calendar days, or the
    business days after ``oldest_due`` up to and including ``today``. Never negative."""
    if business_days:
        return business_days_between(oldest_due, today)
    return max(0, (today - oldest_due).days)


def add_days(start: date, days: int, business_days: bool) -> date:
    """The first date on which ``days_overdue(start, date, business_days) >= days``: when a step with that offset
    comes due for an item due on ``start``. With business days it is always a business day (for ``days`` >= 1)."""
    if not 0 <= days <= MAX_OFFSET_DAYS:
        raise ValueError(f"days must be between 0 and {MAX_OFFSET_DAYS}, got {days}")
    if not business_days:
        return start + timedelta(days=days)
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if is_business_day(day):
            counted += 1
    return day
