"""The collectors report, pure: tallies per group and collector, promises' fate, what the call's cycle collected."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from receivables.dunning.records import CycleRecord, PromiseRecord, TaskRecord
from receivables.reporting.collectors import collectors_report

DAY = dt.date(2026, 11, 24)


def task(task_id: str, status: str, **more) -> TaskRecord:
    return TaskRecord(
        task_id=task_id,
        account_id=task_id.split("#")[0],
        customer_id="C1",
        group="retail",
        priority="p",
        overdue_amount=Decimal("100.00"),
        days_overdue=10,
        step="call",
        created_on=DAY,
        status=status,
        cycle=1,
        **more,
    )


def test_each_collector_is_tallied_with_outcomes_promises_and_what_the_cycle_collected_after_the_call():
    tasks = [
        task(
            "A1#1#call", "done", assigned_to="ali", outcome="promise", promise_id="PR1", closed_on=DAY, closed_by="ali"
        ),
        task("A2#1#call", "done", assigned_to="ali", outcome="no_answer", closed_on=DAY, closed_by="ali"),
        task("A3#1#call", "claimed", assigned_to="ali", claimed_by="ali"),
        task("A4#1#call", "open"),
    ]
    promise = PromiseRecord(
        promise_id="PR1",
        account_id="A1",
        amount=Decimal("50.00"),
        date=DAY,
        created_on=DAY,
        created_by="ali",
        open_at_promise={"INV-1": Decimal("100.00")},
        status="kept",
    )
    cycle = CycleRecord(
        account_id="A1",
        cycle=1,
        segment="standard",
        strategy="standard",
        arm="champion",
        started=DAY - dt.timedelta(days=10),
        overdue_at_start=Decimal("100.00"),
        ended=DAY + dt.timedelta(days=2),
        overdue_at_end=Decimal("0.00"),
    )
    lines = collectors_report(tasks, {"PR1": promise}, {("A1", 1): cycle})
    by = {(line.group, line.collector): line for line in lines}
    ali = by[("retail", "ali")]
    assert (ali.open, ali.claimed, ali.done) == (0, 1, 2)
    assert ali.outcomes == {"promise": 1, "no_answer": 1}
    assert (ali.promises_made, ali.promises_kept, ali.promises_broken) == (1, 1, 0)
    assert ali.collected_after_contact == Decimal("100.00")
    assert by[("retail", "(unassigned)")].open == 1
