"""The daily general-ledger export (docs/general-ledger.md): what the daybook staged for a business date, mapped
by the chart of accounts, written once as ``gl/<date>/journal.csv`` and ``.parquet`` with its control record.

Exactly once per day: the export of a date reads only what was staged under that date, so a re-run writes the same
lines (the same bytes), never a second day's worth; the date's record marks it closed. A posting that arrives for a
date already closed is staged under the day it arrived and goes out with that day's export, carrying its own date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from receivables.accounting.gl import ChartOfAccounts, GlControl, GlLine, PostingFact, gl_lines


class Daybook(Protocol):
    def staged(self, day: date) -> Iterable[PostingFact]: ...


class Targets(Protocol):
    def payable_kinds(self, ids: Sequence[str]) -> dict[str, str]:
        """Which of these ids are payables, and of what kind."""
        ...

    def owners(self, account_ids: Sequence[str]) -> dict[str, str]:
        """Each account's owner (customer or party): the sub-ledger key."""
        ...


class GlFiles(Protocol):
    def write(self, day: date, lines: Sequence[GlLine], control: GlControl) -> list[str]: ...


class GlRecords(Protocol):
    def closed(self, day: date) -> bool: ...

    def record(self, control: GlControl, files: Sequence[str]) -> None: ...


class ChartSource(Protocol):
    def chart(self) -> ChartOfAccounts: ...


@dataclass(frozen=True, slots=True)
class GlExport:
    business_date: date
    control: GlControl
    files: list[str]


class GeneralLedgerExport:
    def __init__(
        self, *, daybook: Daybook, targets: Targets, files: GlFiles, records: GlRecords, charts: ChartSource
    ) -> None:
        self._daybook = daybook
        self._targets = targets
        self._files = files
        self._records = records
        self._charts = charts

    def export(self, day: date) -> GlExport:
        facts = list(self._daybook.staged(day))
        moved = sorted({f.target_id for f in facts if f.target == "item" and f.kind != "item_posted"})
        kinds = self._targets.payable_kinds(moved)
        owners = self._targets.owners(sorted({f.account_id for f in facts if f.party is None}))
        resolved = [f.resolved(payable_kind=kinds.get(f.target_id), party=owners.get(f.account_id)) for f in facts]
        lines, control = gl_lines(resolved, self._charts.chart(), day)
        files = self._files.write(day, lines, control)
        self._records.record(control, files)
        return GlExport(day, control, files)
