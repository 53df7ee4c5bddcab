"""What happened to each dropped file, read from the loader's events on the bus (seen through the tap).

The loader announces every file it finishes (source ``receivables.loading``): ``FileLoaded`` with the row
counts, ``FileRejected`` when the whole file is refused (and quarantined), ``FileSkipped`` when identical
content was already received. These are the same events operators see in AWS, so the local summary reads
nothing AWS would not show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LOADING_SOURCE = "receivables.loading"


@dataclass(frozen=True, slots=True)
class FileOutcome:
    key: str
    status: str  # loaded | rejected | skipped
    rows: int | None = None
    loaded: int | None = None
    skipped: int | None = None
    rejected: int | None = None
    report: str | None = None
    note: str | None = None


def outcome_of(event: dict[str, Any]) -> FileOutcome | None:
    if event.get("source") != LOADING_SOURCE:
        return None
    detail = event.get("detail") or {}
    key = detail.get("file")
    if not key:
        return None
    match event.get("detail-type"):
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
        case _:
            return f"{outcome.key}: skipped — {outcome.note}"
