"""The business clock: the calendar date in the business time zone, or a fixed date when a replay sets one."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
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


def scheduled_business_date(event: dict[str, Any], timezone: str, fixed: date | None = None) -> date:
    """The business date a schedule's event is for: given by a replay (``business_date``), else Scheduler's
    ``scheduled_time`` in the business zone, else today there."""
    if event.get("business_date"):
        return date.fromisoformat(event["business_date"])
    scheduled = event.get("scheduled_time", "")
    zone = ZoneInfo(timezone)
    if scheduled and not scheduled.startswith("<"):
        return datetime.fromisoformat(scheduled.replace("Z", "+00:00")).astimezone(zone).date()
    return fixed or datetime.now(zone).date()


def export_day(event: dict[str, Any], timezone: str, fixed: date | None = None) -> date:
    """The day a daily export works on: ``export_date`` when asked for one, else the business day before the one
    the schedule fired on."""
    if event.get("export_date"):
        return date.fromisoformat(event["export_date"])
    return scheduled_business_date(event, timezone, fixed) - timedelta(days=1)
