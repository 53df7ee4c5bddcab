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
        """The wall-clock time; in a replay, that time of day on the replayed date, so that what a replayed day
        writes (a pain.008 creation time, an audit stamp) never lies after the day it belongs to."""
        now = datetime.now(self._zone)
        if self._fixed is None:
            return now
        return datetime.combine(self._fixed, now.timetz())
