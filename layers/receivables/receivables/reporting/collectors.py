"""The collectors report: per group and collector, the tasks in hand and closed, their outcomes, the promises made
on calls and how many were kept, and what the calls' cycles collected after the call. Pure: over the task,
promise and cycle records the adapter read from the work-queue index (open, claimed, closed since a date)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from receivables.domain.ledger import Money
from receivables.domain.money import ZERO
from receivables.dunning.records import CycleRecord, PromiseRecord, TaskRecord

UNASSIGNED = "(unassigned)"


class CollectorLine(BaseModel):
    model_config = ConfigDict(frozen=True)
    group: str
    collector: str  # who the task was given to, else who claimed or closed it
    open: int
    claimed: int
    done: int
    outcomes: dict[str, int] = Field(description="Closed tasks by outcome")
    promises_made: int
    promises_kept: int
    promises_broken: int
    collected_after_contact: Money = Field(
        description="What the cycles of the closed calls brought the overdue down by, once they ended after the call"
    )


def _who(task: TaskRecord) -> str:
    return task.assigned_to or task.closed_by or task.claimed_by or UNASSIGNED


def cycle_of(task: TaskRecord) -> tuple[str, int] | None:
    """The account and dunning cycle of a task (None for a task recorded before tasks knew their cycle)."""
    return (task.account_id, task.cycle) if task.cycle is not None else None


@dataclass(slots=True)
class _Tally:
    open: int = 0
    claimed: int = 0
    done: int = 0
    made: int = 0
    kept: int = 0
    broken: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    collected: Decimal = ZERO
    cycles: set[tuple[str, int]] = field(default_factory=set)  # a cycle counts once per collector


def collectors_report(
    tasks: Iterable[TaskRecord],
    promises: Mapping[str, PromiseRecord],
    cycles: Mapping[tuple[str, int], CycleRecord],
) -> list[CollectorLine]:
    tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    for task in tasks:
        tally = tallies[(task.group, _who(task))]
        setattr(tally, task.status, getattr(tally, task.status) + 1)
        if task.status != "done":
            continue
        tally.outcomes[str(task.outcome)] += 1
        if task.promise_id:
            tally.made += 1
            promise = promises.get(task.promise_id)
            tally.kept += promise is not None and promise.status == "kept"
            tally.broken += promise is not None and promise.status == "broken"
        where = cycle_of(task)
        cycle = cycles.get(where) if where else None
        if where is None or cycle is None or cycle.ended is None or task.closed_on is None:
            continue
        if cycle.ended >= task.closed_on and where not in tally.cycles:
            tally.cycles.add(where)
            tally.collected += max(cycle.overdue_at_start - (cycle.overdue_at_end or ZERO), ZERO)
    return [
        CollectorLine(
            group=group,
            collector=collector,
            open=t.open,
            claimed=t.claimed,
            done=t.done,
            outcomes=dict(t.outcomes),
            promises_made=t.made,
            promises_kept=t.kept,
            promises_broken=t.broken,
            collected_after_contact=t.collected,
        )
        for (group, collector), t in sorted(tallies.items())
    ]
