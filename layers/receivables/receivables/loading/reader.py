"""Reading inbound CSV / JSON Lines files as a stream, and cutting them into chunks at record boundaries.

The standard ``csv`` module does the CSV parsing; what it does not do, and is written here, is to know the byte offset
where each record ends (so that a chunk can later be fetched with an S3 range GET) and the physical line where each
record starts (so that a rejection names the line an operator sees in an editor).
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import json
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from receivables.domain.records import REQUIRED_FIELDS, FileKind

UTF8_BOM = codecs.BOM_UTF8
SNIFF_BYTES = 64 * 1024


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class FileRejectedError(Exception):
    """The file as a whole cannot be loaded; ``reason`` says why in words an operator can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int
    start_byte: int
    end_byte: int  # exclusive
    first_line: int  # physical line number (1-based) of the chunk's first record
    records: int


@dataclass(frozen=True, slots=True)
class FilePlan:
    file_format: FileFormat
    header: tuple[str, ...]  # CSV column names; empty for JSON Lines
    chunks: tuple[Chunk, ...]
    records: int
    size: int
    sha256: str


class Row(NamedTuple):
    """One record: CSV cells in header order, or a JSON object's fields; ``problem`` when it is not even a row.

    A NamedTuple because one is made per row of every file (a frozen dataclass costs ~3x more to build)."""

    line: int
    fields: dict[str, str] | None = None
    cells: list[str] | None = None
    header: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def values(self) -> dict[str, str] | None:
        if self.cells is not None:
            return dict(zip(self.header, self.cells, strict=True))
        return self.fields

    def pick(self, names: tuple[str, ...]) -> tuple[str | None, ...]:
        """The named values in the given order (None where absent) — without building a dict for CSV rows."""
        if self.cells is not None:
            return picker(self.header, names)(self.cells)
        fields = self.fields or {}
        return tuple(fields.get(name) for name in names)


@functools.cache
def picker(header: tuple[str, ...], names: tuple[str, ...]) -> Callable[[list[str]], tuple[str | None, ...]]:
    positions = [header.index(name) if name in header else None for name in names]
    if None not in positions:
        return operator.itemgetter(*positions)  # type: ignore[arg-type,return-value]
    return lambda cells: tuple(None if p is None else cells[p] for p in positions)


def sniff_format(head: bytes, kind: FileKind) -> FileFormat:
    """Decide from the first bytes whether this is CSV or JSON Lines, or reject it whole."""
    body = head.removeprefix(UTF8_BOM)
    if not body.strip():
        raise FileRejectedError("file is empty")
    if b"\x00" in body:
        raise FileRejectedError("file is binary (contains NUL bytes), expected CSV or JSON Lines text")
    if body.startswith(b"%PDF"):
        raise FileRejectedError("file is a PDF document, expected CSV or JSON Lines text")
    if body[:2] == b"PK":
        raise FileRejectedError("file is a ZIP/Office archive, expected CSV or JSON Lines text")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        text = decoder.decode(body, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError as exc:
        raise FileRejectedError(f"file is not UTF-8 text (invalid byte at offset {exc.start})") from None
    first = text.lstrip()
    if first.startswith("<"):
        raise FileRejectedError("file is XML/HTML, expected CSV or JSON Lines text")
    if first.startswith("{"):
        return FileFormat.JSONL
    if first.startswith("["):
        raise FileRejectedError("file is a JSON array, expected JSON Lines (one object per line)")
    header = _parse_header(text.splitlines()[0] if text else "")
    required = REQUIRED_FIELDS[kind]
    if len(header) < 2:
        raise FileRejectedError("file is not CSV: the first line has no comma-separated column names")
    missing = [name for name in required if name not in header]
    if missing:
        raise FileRejectedError(f"CSV header lacks required {kind.value} columns: {', '.join(missing)}")
    return FileFormat.CSV


def _parse_header(line: str) -> tuple[str, ...]:
    cells = next(csv.reader([line]), [])
    return tuple(cell.strip().lower() for cell in cells)


MAX_LINE_BYTES = 1 << 20


def split_lines(blocks: Iterable[bytes], max_line: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Physical lines with their line endings kept, from arbitrary byte blocks (memory stays one block + one line)."""
    pending = b""
    for block in blocks:
        if not block:
            continue
        pending += block
        start = 0
        while (end := pending.find(b"\n", start)) != -1:
            yield pending[start : end + 1]
            start = end + 1
        pending = pending[start:]
        if len(pending) > max_line:
            raise FileRejectedError(f"a line is longer than {max_line // 1024} KiB: not a CSV or JSON Lines file")
    if pending:
        yield pending


class _CountingLines:
    """Feeds decoded lines to ``csv.reader`` while counting the bytes and lines it has consumed."""

    __slots__ = ("_lines", "consumed_bytes", "consumed_lines", "undecodable_lines")

    def __init__(self, lines: Iterator[bytes]) -> None:
        self._lines = lines
        self.consumed_bytes = 0
        self.consumed_lines = 0
        self.undecodable_lines: set[int] = set()  # relative line numbers that were not UTF-8

    def __iter__(self) -> _CountingLines:
        return self

    def __next__(self) -> str:
        raw = next(self._lines)
        self.consumed_bytes += len(raw)
        self.consumed_lines += 1
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            # One mis-encoded row is that row's problem, not the whole file's.
            self.undecodable_lines.add(self.consumed_lines)
            return raw.decode("utf-8", errors="replace")


def plan_file(blocks: Iterable[bytes], kind: FileKind, *, rows_per_chunk: int) -> FilePlan:
    """Stream the whole object once: hash it, count records and mark chunk boundaries at record ends."""
    digest = hashlib.sha256()

    def hashed(source: Iterable[bytes]) -> Iterator[bytes]:
        for block in source:
            digest.update(block)
            yield block

    lines = split_lines(hashed(blocks))
    first = next(lines, b"")
    offset = len(first)
    first_text = first.removeprefix(UTF8_BOM)
    file_format = sniff_format(first_text + b"\n", kind) if first_text.strip() else None
    if file_format is None:
        raise FileRejectedError("file is empty")

    chunks: list[Chunk] = []
    header: tuple[str, ...] = ()
    if file_format is FileFormat.CSV:
        header = _parse_header(first_text.decode("utf-8", errors="replace"))
        line_no, body_lines = 1, lines
    else:
        # The first line is already a record.
        line_no, offset = 0, 0
        body_lines = _prepend(first, lines)

    counter = _CountingLines(body_lines)
    records = 0
    chunk_start, chunk_first_line, in_chunk = offset, None, 0
    if file_format is FileFormat.CSV:
        reader: Iterator[object] = csv.reader(counter)
    else:
        reader = (line for line in counter if line.strip())
    lines_before = 0
    for _ in reader:
        record_first_line = line_no + lines_before + 1
        lines_before = counter.consumed_lines
        if chunk_first_line is None:
            chunk_first_line = record_first_line
        records += 1
        in_chunk += 1
        if in_chunk == rows_per_chunk:
            end = offset + counter.consumed_bytes
            chunks.append(Chunk(len(chunks), chunk_start, end, chunk_first_line, in_chunk))
            chunk_start, chunk_first_line, in_chunk = end, None, 0
    if in_chunk:
        chunks.append(Chunk(len(chunks), chunk_start, offset + counter.consumed_bytes, chunk_first_line or 1, in_chunk))
    return FilePlan(
        file_format=file_format,
        header=header,
        chunks=tuple(chunks),
        records=records,
        size=offset + counter.consumed_bytes,
        sha256=digest.hexdigest(),
    )


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def read_chunk_rows(
    blocks: Iterable[bytes], file_format: FileFormat, header: tuple[str, ...], first_line: int
) -> Iterator[Row]:
    """The rows of one chunk (bytes fetched by range), each with its physical line number in the whole file."""
    if file_format is FileFormat.CSV:
        data = b"".join(blocks)  # one chunk: bounded by rows_per_chunk, a few hundred KB
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass  # some row is not UTF-8: take the line-by-line path that pins it to its row
        else:
            yield from _csv_rows_from_text(text, header, first_line)
            return
        blocks = (data,)
    counter = _CountingLines(split_lines(blocks))
    if file_format is FileFormat.CSV:
        width = len(header)
        reader = csv.reader(counter)
        lines_before = 0
        for cells in reader:
            line = first_line + lines_before
            span = range(lines_before + 1, counter.consumed_lines + 1)
            lines_before = counter.consumed_lines
            if counter.undecodable_lines and any(n in counter.undecodable_lines for n in span):
                yield Row(line, problem="not UTF-8 text (the file must be UTF-8 encoded)")
                continue
            if len(cells) != width:
                if not any(cell.strip() for cell in cells):
                    continue  # blank line: nothing to load, nothing to reject
                yield Row(line, problem=f"expected {width} columns as in the header, found {len(cells)}")
                continue
            yield Row(line, cells=cells, header=header)
    else:
        for index, text in enumerate(counter):
            line = first_line + index
            if not text.strip():
                continue
            if index + 1 in counter.undecodable_lines:
                yield Row(line, problem="not UTF-8 text (the file must be UTF-8 encoded)")
                continue
            yield _json_row(line, text)


def _csv_rows_from_text(text: str, header: tuple[str, ...], first_line: int) -> Iterator[Row]:
    width = len(header)
    reader = csv.reader(io.StringIO(text, newline=""))
    start = first_line
    for cells in reader:
        line = start
        start = first_line + reader.line_num
        if len(cells) == width:
            yield Row(line, None, cells, header)
        elif any(cell.strip() for cell in cells):
            yield Row(line, problem=f"expected {width} columns as in the header, found {len(cells)}")


def _json_row(line: int, text: str) -> Row:
    try:
        # Numbers keep their literal text so that money never passes through float.
        record = json.loads(text, parse_float=str, parse_int=str)
    except json.JSONDecodeError as exc:
        return Row(line, problem=f"not a JSON object: {exc.msg} at column {exc.colno}")
    if not isinstance(record, dict):
        return Row(line, problem="not a JSON object")
    values: dict[str, str] = {}
    for key, value in record.items():
        if value is None:
            values[key] = ""
        elif isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif isinstance(value, str):
            values[key] = value
        else:
            return Row(line, problem=f"{key}: must be a string, number or boolean, not {type(value).__name__}")
    return Row(line, fields=values)
