"""The local runtime fires a day's schedules as EventBridge Scheduler would: at their time, on their days."""

from __future__ import annotations

from datetime import date, time

import pytest
from receivables.topology import TOPOLOGY, ScheduleTrigger
from receivables_local.schedules import fires_on, time_of_day


def test_daily_schedules_fire_every_day_and_the_monthly_one_on_the_first():
    assert fires_on("cron(0 9 * * ? *)", date(2027, 2, 14))
    assert fires_on("cron(0 7 1 * ? *)", date(2027, 2, 1)) and not fires_on("cron(0 7 1 * ? *)", date(2027, 2, 2))
    assert fires_on("cron(0 7 1,15 1 ? *)", date(2027, 1, 15)) and not fires_on(
        "cron(0 7 1,15 1 ? *)", date(2027, 2, 15)
    )
    assert time_of_day("cron(0 7 1 * ? *)") == time(7, 0)


def test_every_schedule_of_the_topology_can_be_replayed():
    for _function, trigger in TOPOLOGY.triggers_of_kind(ScheduleTrigger):
        fires_on(trigger.cron, date(2027, 1, 1))  # raises for what the local runtime cannot replay


def test_day_of_week_schedules_are_refused_rather_than_replayed_wrong():
    with pytest.raises(ValueError, match="day-of-week"):
        fires_on("cron(0 9 ? * MON *)", date(2027, 1, 4))
