"""The long-running loop of ``receivables local up`` (and of ``demo`` when it keeps serving).

Polls all event source mappings continuously, so files dropped with the AWS CLI or boto3 are processed as in
AWS; follows the wall clock for the business date (unless pinned); fires each schedule once per business day
when the clock passes its cron time of day in its time zone. Ctrl-C ends it (KeyboardInterrupt propagates to
the caller, whose context managers stop the HTTP server and the emulators).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from receivables.topology import ScheduleTrigger

from receivables_local.outcomes import one_line, outcome_of
from receivables_local.schedules import scheduled_time
from receivables_local.session import LocalSession

BUSINESS_TIMEZONE = ZoneInfo("Europe/Istanbul")
# How long an idle loop waits before polling again: Lambda's SQS pollers long-poll; locally a short sleep
# keeps a dropped file's latency low without burning CPU.
IDLE_POLL_SECONDS = 0.25


def business_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(BUSINESS_TIMEZONE).date()


class ServeLoop:
    def __init__(
        self,
        session: LocalSession,
        *,
        pinned_date: date | None,
        fire_now: bool,
        say: Callable[[str], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.session = session
        self.pinned_date = pinned_date
        self.say = say
        self.clock = clock
        self._seen_events = len(session.runtime.bus.events)
        self._fire_now = fire_now
        self._fired: dict[str, date] = {}
        today = self._business_date()
        schedules = session.topology.triggers_of_kind(ScheduleTrigger)
        if not fire_now:
            # A schedule whose time already passed today is not fired late: AWS would not either.
            now = clock()
            self._fired = {t.name: today for _, t in schedules if scheduled_time(t, today) <= now}

    def _business_date(self) -> date:
        return self.pinned_date or business_today(self.clock())

    def tick(self) -> int:
        """One round: move the date, fire what is due, one pass over the queues; messages handled."""
        today = self._business_date()
        if today != self.session.business_date:
            self.session.set_business_date(today)
            self.say(f"business date is now {today}")
        now = self.clock()
        for function, trigger in self.session.topology.triggers_of_kind(ScheduleTrigger):
            due = self._fire_now or scheduled_time(trigger, today) <= now
            if due and self._fired.get(trigger.name) != today:
                self._fired[trigger.name] = today
                self.say(f"schedule {trigger.name} fired for {today} → {function.name}")
                self.session.runtime.fire_schedule(function, trigger, today)
        self._fire_now = False
        handled = self.session.runtime.step()
        self._report_new_events()
        return handled

    def _report_new_events(self) -> None:
        events = self.session.runtime.bus.events
        for event in events[self._seen_events :]:
            outcome = outcome_of(event)
            if outcome is not None:
                self.say(one_line(outcome))
        self._seen_events = len(events)

    def run_forever(self) -> None:
        while True:
            if not self.tick():
                time.sleep(IDLE_POLL_SECONDS)
