"""What happened to each dropped file, read from the loader's events on the bus (seen through the tap).

The loader announces every file it finishes (source ``receivables.loading``): ``FileLoaded`` with the row
counts, ``FileRejected`` when the whole file is refused (and quarantined), ``FileSkipped`` when identical
content was already received. Bank files are announced by the payments side (source ``receivables.payments``):
``BankFileLoaded`` with what became of the entries, ``BankStatementOutOfBalance`` for a statement whose balances do
not add up, ``FileRejected`` for a file nobody can read. These are the same events operators see in AWS, so the
local summary reads nothing AWS would not show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LOADING_SOURCE = "receivables.loading"
PAYMENTS_SOURCE = "receivables.payments"


@dataclass(frozen=True, slots=True)
class FileOutcome:
    key: str
    status: str  # loaded | rejected | skipped | bank_file | out_of_balance
    rows: int | None = None
    loaded: int | None = None
    skipped: int | None = None
    rejected: int | None = None
    report: str | None = None
    note: str | None = None


def outcome_of(event: dict[str, Any]) -> FileOutcome | None:
    if event.get("source") not in (LOADING_SOURCE, PAYMENTS_SOURCE):
        return None
    detail = event.get("detail") or {}
    key = detail.get("file")
    if not key:
        return None
    match event.get("detail-type"):
        case "BankFileLoaded":
            counts = detail.get("outcomes") or {}
            entries = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "no entries"
            warnings = "; ".join(detail.get("balance_warnings") or [])
            note = f"{detail.get('format')}: {entries}" + (f"; out of balance: {warnings}" if warnings else "")
            return FileOutcome(
                key, "bank_file", rejected=detail.get("rejected"), report=detail.get("report"), note=note
            )
        case "BankStatementOutOfBalance":
            return FileOutcome(key, "out_of_balance", note=detail.get("reason"))
        case "FileLoaded":
            return FileOutcome(
                key,
                "loaded",
                detail.get("rows"),
                detail.get("loaded"),
                detail.get("skipped"),
                detail.get("rejected"),
                detail.get("report"),
            )
        case "FileRejected":
            note = f"{detail.get('reason')}; moved to {detail.get('quarantined_as')}"
            return FileOutcome(key, "rejected", report=detail.get("report"), note=note)
        case "FileSkipped":
            return FileOutcome(key, "skipped", note=detail.get("reason"))
    return None


def file_outcomes(events: list[dict[str, Any]]) -> dict[str, FileOutcome]:
    """The latest outcome per file key."""
    outcomes: dict[str, FileOutcome] = {}
    for event in events:
        outcome = outcome_of(event)
        if outcome is not None:
            outcomes[outcome.key] = outcome
    return outcomes


def one_line(outcome: FileOutcome) -> str:
    match outcome.status:
        case "loaded":
            text = (
                f"{outcome.key}: {outcome.rows} rows — {outcome.loaded} loaded, {outcome.skipped} skipped, "
                f"{outcome.rejected} rejected"
            )
            return text + (f" (report: {outcome.report})" if outcome.report else "")
        case "rejected":
            return f"{outcome.key}: rejected — {outcome.note}"
        case "bank_file":
            text = f"{outcome.key}: {outcome.note}"
            if outcome.rejected:
                text += f"; {outcome.rejected} entries rejected"
            return text + (f" (report: {outcome.report})" if outcome.report else "")
        case "out_of_balance":
            return f"{outcome.key}: statement out of balance — {outcome.note}"
        case _:
            return f"{outcome.key}: skipped — {outcome.note}"
