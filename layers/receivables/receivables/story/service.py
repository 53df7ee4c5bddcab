"""Reading an account's story and a customer's summary through the story store."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from receivables.domain.clock import Clock
from receivables.dunning.engine import DunningState
from receivables.dunning.records import PromiseRecord
from receivables.story.summary import CustomerSummary, account_summary, customer_summary
from receivables.story.timeline import AccountHead, AccountRecords, TimelineEvent, timeline


class StoryStore(Protocol):
    def account_records(self, account_id: str) -> tuple[AccountHead, AccountRecords] | None: ...

    def customer_name(self, customer_id: str) -> str | None: ...

    def customer_accounts(self, customer_id: str) -> list[str]: ...


class Stories:
    def __init__(self, *, store: StoryStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def timeline(self, account_id: str) -> list[TimelineEvent] | None:
        found = self._store.account_records(account_id)
        return timeline(found[1]) if found else None

    def summary(self, customer_id: str, today: dt.date | None = None) -> CustomerSummary | None:
        name = self._store.customer_name(customer_id)
        if name is None:
            return None
        today = today or self._clock.today()
        accounts = []
        for account_id in self._store.customer_accounts(customer_id):
            found = self._store.account_records(account_id)
            if found is None:
                continue
            head, records = found
            state = DunningState.model_validate_json(head.dunning_state) if head.dunning_state else DunningState()
            in_cycle = state.cycle_started is not None
            summary, lines = account_summary(
                records,
                account_type=head.account_type,
                currency=head.currency,
                credit=head.unapplied_credit,
                stage=state.summary().get("stage") if in_cycle else None,
                strategy=state.strategy if in_cycle else None,
                today=today,
            )
            promises: list[PromiseRecord] = [p for p in records.promises if p.status == "open"]
            accounts.append((summary, lines, promises))
        return customer_summary(customer_id, name, accounts)
