"""SMS quiet hours: a text due in the quiet period is deferred to its end, never dropped.

Times are wall-clock times in the customer's zone (default 21:00–09:00 Europe/Istanbul). A period whose start is
after its end spans midnight. Arithmetic is done on local dates and wall times and then resolved through zoneinfo,
so a DST change inside the quiet period moves the instant, not the local 09:00. An end time that falls into a
spring-forward gap resolves to the instant the clocks jump to (02:30 on a 02:00→03:00 night is sent at 03:30).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

DEFAULT_QUIET_START: Final = time(21, 0)
DEFAULT_QUIET_END: Final = time(9, 0)
DEFAULT_QUIET_ZONE: Final = "Europe/Istanbul"


def is_quiet(
    now: datetime, start: time = DEFAULT_QUIET_START, end: time = DEFAULT_QUIET_END, zone: str = DEFAULT_QUIET_ZONE
) -> bool:
    """Whether ``now`` falls in the quiet period [start, end) in ``zone``; start == end means no quiet period."""
    local = _local(now, zone).time().replace(tzinfo=None)
    start, end = _naive(start), _naive(end)
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # spans midnight


def sms_send_time(
    now: datetime, start: time = DEFAULT_QUIET_START, end: time = DEFAULT_QUIET_END, zone: str = DEFAULT_QUIET_ZONE
) -> datetime:
    """``now`` when outside quiet hours; otherwise the end of the quiet period (e.g. the next 09:00 local), as an
    aware datetime in ``zone``."""
    if not is_quiet(now, start, end, zone):
        return now
    local = _local(now, zone)
    end = _naive(end)
    end_day = local.date()
    if start > end and local.time().replace(tzinfo=None) >= _naive(start):
        end_day += timedelta(days=1)  # evening part of a period spanning midnight: it ends tomorrow morning
    return _at(end_day, end, ZoneInfo(zone))


def _local(now: datetime, zone: str) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")
    return now.astimezone(ZoneInfo(zone))


def _naive(moment: time) -> time:
    if moment.tzinfo is not None:
        raise ValueError(f"quiet-hour bounds are wall-clock times in the zone, got {moment.isoformat()} with a tz")
    return moment


def _at(day: date, moment: time, zone: ZoneInfo) -> datetime:
    wall = datetime.combine(day, moment, tzinfo=zone)
    # Round trip through UTC: a wall time that does not exist (spring-forward gap) becomes a real instant.
    return wall.astimezone(UTC).astimezone(zone)
