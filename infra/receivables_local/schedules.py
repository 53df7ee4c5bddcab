"""EventBridge Scheduler, locally: when a schedule fires on a business date, and the event it delivers.

The local runtime fires each schedule once per business day (simulate: when the day is replayed; ``local up``:
when the wall clock in the schedule's time zone passes the cron's time of day). That covers the daily crons
this system has; a cron firing several times a day fires locally at its first time of the day, once.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from receivables.topology import ScheduleTrigger

from receivables_local.embedded import ACCOUNT_ID, REGION

_CRON = re.compile(r"^cron\((?P<fields>[^)]*)\)$")
_EXECUTION_NAMESPACE = uuid.UUID("0b7f2c9e-5d0e-4c3f-8a61-3e2d9f4b7a10")


def time_of_day(cron: str) -> time:
    """The first time of day a ``cron(min hour dom month dow year)`` expression fires (``*`` counts as 0)."""
    match = _CRON.match(cron.strip())
    if match is None or len(match["fields"].split()) != 6:
        raise ValueError(f"{cron!r} is not an EventBridge cron(...) expression with 6 fields")
    minute, hour = match["fields"].split()[:2]
    return time(hour=_first(hour), minute=_first(minute))


def fires_on(cron: str, day: date) -> bool:
    """Whether a ``cron(min hour dom month dow year)`` expression fires on ``day``: its day-of-month and month
    fields as lists of numbers or ``*``/``?`` (what the topology's schedules use; day-of-week ``?`` or ``*``)."""
    match = _CRON.match(cron.strip())
    if match is None or len(match["fields"].split()) != 6:
        raise ValueError(f"{cron!r} is not an EventBridge cron(...) expression with 6 fields")
    _minute, _hour, dom, month, dow, _year = match["fields"].split()
    if dow not in ("*", "?"):
        raise ValueError(f"{cron!r}: day-of-week schedules are not replayed locally")
    return _allows(dom, day.day) and _allows(month, day.month)


def _allows(field: str, value: int) -> bool:
    return field in ("*", "?") or value in {int(part) for part in field.split(",")}


def _first(field: str) -> int:
    head = re.split(r"[,/-]", field, maxsplit=1)[0]
    return 0 if head in ("*", "?") else int(head)


def scheduled_time(trigger: ScheduleTrigger, business_date: date) -> datetime:
    """The instant the schedule fires on ``business_date``, in UTC."""
    local = datetime.combine(business_date, time_of_day(trigger.cron), tzinfo=ZoneInfo(trigger.timezone))
    return local.astimezone(UTC)


def _context_attributes(trigger: ScheduleTrigger, fired_at: datetime, prefix: str) -> dict[str, str]:
    """Scheduler's context attributes, which it substitutes in a target's input."""
    execution = uuid.uuid5(_EXECUTION_NAMESPACE, f"{trigger.name}:{fired_at.isoformat()}")
    return {
        "<aws.scheduler.schedule-arn>": f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/default/"
        f"{prefix}-{trigger.name}",
        "<aws.scheduler.scheduled-time>": fired_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "<aws.scheduler.execution-id>": str(execution),
        "<aws.scheduler.attempt-number>": "1",
    }


def schedule_event(trigger: ScheduleTrigger, business_date: date, prefix: str) -> dict[str, Any]:
    """The event the target function receives: the schedule's input with Scheduler's placeholders filled in,
    plus ``business_date`` (local only: a replayed day is named, not derived from the clock)."""
    attributes = _context_attributes(trigger, scheduled_time(trigger, business_date), prefix)
    event: dict[str, Any] = {}
    for name, value in trigger.input.items():
        for placeholder, actual in attributes.items():
            value = value.replace(placeholder, actual)
        event[name] = value
    event["business_date"] = business_date.isoformat()
    return event
