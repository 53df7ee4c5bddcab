"""The business clock: the calendar date in the business time zone, or a fixed date when a replay sets one."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

REPLAY_TIME_OF_DAY = time(12, 0)


class BusinessClock:
    def __init__(self, timezone: str, fixed_date: date | None = None) -> None:
        self._zone = ZoneInfo(timezone)
        self._fixed = fixed_date

    def today(self) -> date:
        return self._fixed or datetime.now(self._zone).date()

    def now(self) -> datetime:
        """The wall-clock time; in a replay, noon of the replayed date in the business zone: what a replayed day
        writes (a pain.008 creation time, whether an SMS falls in quiet hours) depends on the scenario alone, never
        on when the replay runs."""
        if self._fixed is None:
            return datetime.now(self._zone)
        return datetime.combine(self._fixed, REPLAY_TIME_OF_DAY, tzinfo=self._zone)
