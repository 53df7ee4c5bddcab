"""The daily run's planner: find the accounts whose next action falls due, without touching any other account.

It reads only the sparse next-action index partitions for the dates being planned (cost grows with the accounts due,
not with the table), and catches up on days a stopped schedule missed, at most ``MAX_CATCH_UP_DAYS`` back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from receivables.loading.ports import EventPublisher

MAX_CATCH_UP_DAYS = 31


class RunLog(Protocol):
    def last_planned(self) -> date | None: ...

    def record_planned(self, business_date: date, accounts: int) -> None: ...


class AccountsDue(Protocol):
    def __call__(self, day: date) -> Iterable[str]: ...


class FanOut(Protocol):
    def send_chunks(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Queue the messages for the dunning workers."""
        ...


ACCOUNTS_PER_MESSAGE = 25  # a worker reviews a message's accounts together: batched reads, one invocation


@dataclass(frozen=True, slots=True)
class DailyRunSummary:
    business_date: date
    dates: tuple[date, ...]
    accounts_due: int


def dates_to_plan(last_planned: date | None, business_date: date) -> list[date]:
    if last_planned is None:
        return [business_date]
    if last_planned >= business_date:
        return []  # already planned (a repeated schedule) or a date in the past: nothing new to select
    # The last planned date again: accounts whose next action was set to that date after its run (an invoice
    # loaded late in the day) are still in its partition; everything reviewed then has moved on.
    first = max(last_planned, business_date - timedelta(days=MAX_CATCH_UP_DAYS - 1))
    return [first + timedelta(days=n) for n in range((business_date - first).days + 1)]


class DailyRunPlanner:
    def __init__(
        self,
        *,
        accounts_due: AccountsDue | Callable[[date], Iterable[str]],
        log: RunLog,
        events: EventPublisher,
        fan_out: FanOut,
    ) -> None:
        self._accounts_due = accounts_due
        self._log = log
        self._events = events
        self._fan_out = fan_out

    def plan(self, business_date: date, run_at: datetime | None = None) -> DailyRunSummary:
        """Select the accounts due and queue them, ``ACCOUNTS_PER_MESSAGE`` to a message, for review on
        ``business_date`` (``run_at``: the scheduled time, which decides quiet hours for SMS)."""
        dates = dates_to_plan(self._log.last_planned(), business_date)
        if not dates:  # planned already (a schedule fired twice, a retry after the run recorded itself)
            return DailyRunSummary(business_date, (), 0)
        count = 0
        batch: list[str] = []
        messages: list[dict[str, Any]] = []
        header = {"business_date": business_date.isoformat(), "run_at": run_at.isoformat() if run_at else None}
        for _action_date, account_id in self._due(dates):
            count += 1
            batch.append(account_id)
            if len(batch) == ACCOUNTS_PER_MESSAGE:
                messages.append({**header, "account_ids": batch})
                batch = []
            if len(messages) == 100:  # bounded memory whatever the number of accounts due
                self._fan_out.send_chunks(messages)
                messages = []
        if batch:
            messages.append({**header, "account_ids": batch})
        if messages:
            self._fan_out.send_chunks(messages)
        summary = DailyRunSummary(business_date, tuple(dates), count)
        self._events.publish(
            "DailyRunPlanned",
            {
                "business_date": business_date.isoformat(),
                "dates": [d.isoformat() for d in dates],
                "accounts_due": count,
            },
        )
        self._log.record_planned(business_date, count)
        return summary

    def _due(self, dates: Iterable[date]) -> Iterator[tuple[date, str]]:
        for day in dates:
            for account_id in self._accounts_due(day):
                yield day, account_id
