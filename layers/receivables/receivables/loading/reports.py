"""Rejection reports and quarantine, shared by every inbound file type (billing files, bank files).

A report is a CSV ``file,line,reason`` beside the input, named after the input and its content so that a file sent
every day under the same name keeps every day's report. A file that cannot be read at all is moved to quarantine
with a one-line report (empty ``line``), never deleted.
"""

from __future__ import annotations

import csv
import io
import posixpath
from collections.abc import Sequence

from receivables.loading.ports import EventPublisher, FileStore, StoredObject

REJECTED_PREFIX = "rejected/"
QUARANTINE_PREFIX = "quarantine/"
REPORT_HEADER = ("file", "line", "reason")


def report_key(key: str, token: str) -> str:
    return f"{REJECTED_PREFIX}{key}.{token[:12]}.errors.csv"


def etag_token(obj: StoredObject) -> str:
    return obj.etag.strip('"').replace("-", "")


def csv_lines(rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def write_report(files: FileStore, obj: StoredObject, token: str, rows: Sequence[tuple[int | None, str]]) -> str:
    """Write ``(line, reason)`` rows as the input's rejection report; returns the report's key."""
    name = posixpath.basename(obj.key)
    key = report_key(obj.key, token)
    files.write_text(
        obj.bucket,
        key,
        csv_lines([REPORT_HEADER, *((name, "" if line is None else line, reason) for line, reason in rows)]),
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
