"""The business clock: the calendar date in the business time zone, or a fixed date when a replay sets one."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


class BusinessClock:
    def __init__(self, timezone: str, fixed_date: date | None = None) -> None:
        self._zone = ZoneInfo(timezone)
        self._fixed = fixed_date

    def today(self) -> date:
        return self._fixed or datetime.now(self._zone).date()

    def now(self) -> datetime:
        return datetime.now(self._zone)
