"""Where the operational reports read: the general-ledger daybook's staged postings of a day (S3, filled from the
table's stream within seconds of each write), the dunning cycles by strategy and arm (index partitions the review
keeps), the suspense index and the open insurance exceptions. Queries and listings, never a table scan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from receivables.accounting.gl import PostingFact
from receivables.adapters.bi_export import BiExport
from receivables.adapters.dunning_table import CycleReader, DunningTable
from receivables.adapters.general_ledger import S3Daybook
from receivables.adapters.insurance_table import InsuranceTable
from receivables.adapters.payments_table import DefaultPolicies, PaymentsTable
from receivables.domain.clock import Clock
from receivables.dunning.records import CycleRecord

EARLIEST = dt.date(2000, 1, 1)
MAX_WAITING = 10_000  # a suspense list longer than this is an incident of its own (its alarm says so)


class ReportSources:
    def __init__(
        self, *, dynamodb: Any, s3: Any, table: str, outbound_bucket: str, analytics_bucket: str, clock: Clock
    ) -> None:
        self._daybook = S3Daybook(s3, outbound_bucket, dynamodb, table)
        self._export = BiExport(
            dynamodb=dynamodb, s3=s3, table=table, outbound_bucket=outbound_bucket, analytics_bucket=analytics_bucket
        )
        self._clock = clock
        self._cycles = CycleReader(dynamodb, table)
        self._dunning = DunningTable(dynamodb, table)
        self._payments = PaymentsTable(dynamodb, table, policies=DefaultPolicies())
        self._insurance = InsuranceTable(dynamodb, table, clock=clock)

    def day_postings(self, day: dt.date) -> Iterator[PostingFact]:
        return self._daybook.staged(day)

    def open_items(self, as_of: dt.date) -> list[dict[str, Any]]:
        """The open items as of a day: its BI snapshot; for today, yesterday's with today's activity read now."""
        return self._export.open_items(as_of, self._clock.today())

    def billed(self, since: dt.date, until: dt.date) -> dict[str, Decimal]:
        """What was billed (items' own postings, not a plan's installments) per currency, day by day from the
        daybook."""
        total: dict[str, Decimal] = {}
        day = since
        while day <= until:
            for fact in {f.line_id: f for f in self._daybook.staged(day)}.values():
                if fact.kind == "item_posted" and fact.target == "item" and fact.item_kind != "installment":
                    total[fact.currency] = total.get(fact.currency, Decimal(0)) + fact.amount
            day += dt.timedelta(days=1)
        return total

    def cycles(self) -> list[CycleRecord]:
        strategies: Iterable[str] = [s.id for s in self._dunning.current_config().strategies]
        return self._cycles.cycle_records(strategies, EARLIEST)

    def waiting(self) -> list[tuple[str, str, dt.date, Decimal]]:
        suspense = [("suspense", p.currency, p.value_date, p.unapplied) for p in self._payments.suspense(MAX_WAITING)]
        exceptions = [
            ("exceptions", e["currency"], dt.date.fromisoformat(e["raised_on"]), e["amount"])
            for e in self._insurance.exceptions("open")
        ]
        return suspense + exceptions
