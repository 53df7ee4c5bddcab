"""Rejection reports and quarantine, shared by every inbound file type (billing files, bank files).

A report is a CSV ``file,line,reason`` beside the input, named after the input and its content so that a file sent
every day under the same name keeps every day's report. A file that cannot be read at all is moved to quarantine
with a one-line report (empty ``line``), never deleted.

``file`` is the input's whole object key, as S3 has it: a base name loses folders and, for a key with ``//`` or a
``/`` inside what looks like a name, names another file. Every CSV we write is opened in spreadsheets, so a text
cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return, also after spaces) is written with a leading ``'``, the spreadsheet's own "this is text" mark; so is a
cell that already starts with ``'``, so that :func:`restore_cell` gives back exactly what was meant.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from receivables.loading.ports import EventPublisher, FileStore, StoredObject

REJECTED_PREFIX = "rejected/"
QUARANTINE_PREFIX = "quarantine/"
REPORT_HEADER = ("file", "line", "reason")


def report_key(key: str, token: str) -> str:
    return f"{REJECTED_PREFIX}{key}.{token[:12]}.errors.csv"


def etag_token(obj: StoredObject) -> str:
    return obj.etag.strip('"').replace("-", "")


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TEXT_MARK = "'"


def neutralise_cell(value: object) -> object:
    """A text cell as it is safe to write: with a leading ``'`` when a spreadsheet would execute it (or when it
    starts with ``'`` already, so the mark stays reversible); anything that is not text (a line number) as it is."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_TEXT_MARK) or value.lstrip(" ").startswith(_FORMULA_STARTS):
        return _TEXT_MARK + value
    return value


def restore_cell(value: str) -> str:
    """What :func:`neutralise_cell` was given: for a reader of our reports (STATE.json, event samples)."""
    return value.removeprefix(_TEXT_MARK)


def csv_lines(rows: Sequence[Sequence[object]]) -> str:
    """Rows as CSV text, every text cell neutralised (see :func:`neutralise_cell`)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([neutralise_cell(cell) for cell in row] for row in rows)
    return out.getvalue()


def read_report_rows(text: str) -> list[tuple[str, str, str]]:
    """``(file, line, reason)`` of a report's rows (or a part of one without its header), cells restored."""
    rows = []
    for row in csv.reader(io.StringIO(text)):
        if not row or tuple(row) == REPORT_HEADER:
            continue
        file, line, reason = row
        rows.append((restore_cell(file), line, restore_cell(reason)))
    return rows


def write_report(files: FileStore, obj: StoredObject, token: str, rows: Sequence[tuple[int | None, str]]) -> str:
    """Write ``(line, reason)`` rows as the input's rejection report, under the input's whole key; returns the
    report's key."""
    key = report_key(obj.key, token)
    files.write_text(
        obj.bucket,
        key,
        csv_lines([REPORT_HEADER, *((obj.key, "" if line is None else line, reason) for line, reason in rows)]),
    )
    return key


def quarantine(files: FileStore, events: EventPublisher, obj: StoredObject, kind: str, reason: str) -> str:
    """Reject the whole file: report it, move it aside, announce it. Returns where it was moved."""
    token = etag_token(obj)
    moved_to = f"{QUARANTINE_PREFIX}{obj.key}"
    held = files.etag_of(obj.bucket, moved_to)
    if held is not None and held != obj.etag:  # never overwrite an earlier, different quarantined file
        moved_to = f"{moved_to}.{token[:12]}"
    report = write_report(files, obj, token, [(None, reason)])
    files.move(obj, moved_to)
    events.publish(
        "FileRejected", {"file": obj.key, "kind": kind, "reason": reason, "quarantined_as": moved_to, "report": report}
    )
    return moved_to
