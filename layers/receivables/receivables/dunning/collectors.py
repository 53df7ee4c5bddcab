"""Collector work queues: which group a call task goes to, and in which order a group works its tasks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from receivables.domain.money import CENT
from receivables.dunning.config import Collector, DunningConfig
from receivables.dunning.rules import RuleEvaluationError

# Bounds of the priority key: 15 integer digits of money (the loader's limit) and 100,000 days.
_MAX_CENTS = 10**17
_MAX_DAYS = 10**5


def assign_collector_group(config: DunningConfig, facts: Mapping[str, Any]) -> str | None:
    """The first collector group whose rule matches the account's facts; None when none does. A rule that cannot be
    evaluated on these facts (e.g. a missing attribute key) does not match."""
    for group in config.collector_groups:
        rule = config.rule(group.rule)
        try:
            if rule.matches(facts):
                return group.name
        except RuleEvaluationError:
            continue
    return None


def task_priority(overdue_amount: Decimal, days_overdue: int) -> str:
    """A key that sorts ascending into work order: the larger overdue amount first, then the more days overdue.

    A fixed-width string, so the same key orders a Python list and a DynamoDB sort key alike.
    """
    cents = int((max(overdue_amount, Decimal(0)) / CENT).to_integral_value())
    days = max(days_overdue, 0)
    return f"{_MAX_CENTS - min(cents, _MAX_CENTS):018d}#{_MAX_DAYS - min(days, _MAX_DAYS):06d}"


def choose_collector(
    collectors: Sequence[Collector], open_tasks: Mapping[str, int], after: str | None, sticky: str | None
) -> str | None:
    """Who gets a group's next task: the account's collector of this cycle when it still belongs to the group (it
    knows the case), else the next collector after ``after`` (round-robin) with room under its capacity; None when
    everyone is full (the task waits in the group's queue)."""
    names = [c.name for c in collectors]
    if sticky in names:
        return sticky
    start = names.index(after) + 1 if after in names else 0
    for offset in range(len(collectors)):
        collector = collectors[(start + offset) % len(collectors)]
        if open_tasks.get(collector.name, 0) < collector.capacity:
            return collector.name
    return None
