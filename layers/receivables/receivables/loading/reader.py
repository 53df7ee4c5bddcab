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
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from receivables.domain.records import KNOWN_FIELDS, REQUIRED_FIELDS, FileKind

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
        return operator.itemgetter(*positions)
    return lambda cells: tuple(None if p is None else cells[p] for p in positions)


def sniff_format(head: bytes, kind: FileKind) -> FileFormat:
    """Decide from the first bytes whether this is CSV or JSON Lines, or reject it whole."""
    body = head.removeprefix(UTF8_BOM)
    if not body.strip():
        raise FileRejectedError("file is empty")
    if wide := wide_encoding(body):
        # Not read: chunks are byte ranges cut at b"\n" and lines are counted in UTF-8 (docs/decisions.md).
        raise FileRejectedError(f"file is {wide}; save it as UTF-8 (CSV UTF-8 or JSON Lines)")
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
    first_line = first.splitlines()[0] if first else ""
    if first.startswith("<"):
        raise FileRejectedError("file is XML/HTML, expected CSV or JSON Lines text")
    if first.startswith("{"):
        try:
            is_object = isinstance(_json_loads(first_line), dict)
        except (json.JSONDecodeError, RecursionError):
            is_object = False
        if not is_object:
            raise FileRejectedError(
                "file is not JSON Lines: its first line is not a complete JSON object (one object per line)"
            )
        return FileFormat.JSONL
    if first.startswith("["):
        raise FileRejectedError("file is a JSON array, expected JSON Lines (one object per line)")
    header = _parse_header(first_line)
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise FileRejectedError(f"CSV header names a column more than once: {', '.join(duplicated)}")
    # A file whose first line names none of our columns is not a customers/invoices CSV (or has no header row).
    # One that names some of them is: rows then fail one by one for what they lack ("currency: missing").
    if not KNOWN_FIELDS[kind] & set(header):
        raise FileRejectedError(
            f"file is not a CSV of {kind.value}: its first line names none of the columns "
            f"({', '.join(REQUIRED_FIELDS[kind])}); a header row is required"
        )
    return FileFormat.CSV


_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32 (little-endian, byte-order mark FF FE 00 00)"),
    (codecs.BOM_UTF32_BE, "UTF-32 (big-endian, byte-order mark 00 00 FE FF)"),
    (codecs.BOM_UTF16_LE, "UTF-16 (little-endian, byte-order mark FF FE)"),
    (codecs.BOM_UTF16_BE, "UTF-16 (big-endian, byte-order mark FE FF)"),
)


def wide_encoding(head: bytes) -> str | None:
    """The name of a UTF-16/UTF-32 encoding the first bytes are in (what Excel's "Unicode text" and some Windows
    tools write), or None. Without a byte-order mark, ASCII text in UTF-16 shows as a NUL in every other byte."""
    for bom, name in _WIDE_BOMS:
        if head.startswith(bom):
            return name
    sample = head[:64]
    if len(sample) >= 4 and sample[1::2].count(0) == len(sample[1::2]) and 0 not in sample[0::2]:
        return "UTF-16 (little-endian, without a byte-order mark)"
    if len(sample) >= 4 and sample[0::2].count(0) == len(sample[0::2]) and 0 not in sample[1::2]:
        return "UTF-16 (big-endian, without a byte-order mark)"
    return None


def _parse_header(line: str) -> tuple[str, ...]:
    cells = next(csv.reader([line]), [])
    return tuple(cell.strip().lower() for cell in cells)


MAX_LINE_BYTES = 1 << 20
# The csv module refuses fields over 128 KiB by default; our own line limit is the one that applies.
csv.field_size_limit(MAX_LINE_BYTES)
_FIELD_LIMIT = "field larger than field limit"  # the csv module's words for a record over the limit across lines
FAST_CHUNK_BYTES = 4 << 20  # a chunk up to this size is decoded whole (the fast path); a larger one streams


class OversizeLine(NamedTuple):
    """A physical line longer than the limit, in place of its bytes (which were passed over, never held)."""

    size: int  # bytes, line ending included


def split_lines(blocks: Iterable[bytes], max_line: int = MAX_LINE_BYTES) -> Iterator[bytes | OversizeLine]:
    """Physical lines with their line endings kept, from arbitrary byte blocks; a line longer than ``max_line``
    comes as an :class:`OversizeLine` (memory stays one block + one line, whatever the input)."""
    pending = b""
    skipped = 0  # bytes of an oversize line passed over so far (0: not inside one)
    for block in blocks:
        if not block:
            continue
        if skipped:
            end = block.find(b"\n")
            if end == -1:
                skipped += len(block)
                continue
            yield OversizeLine(skipped + end + 1)
            skipped, block = 0, block[end + 1 :]
        pending += block
        start = 0
        while (end := pending.find(b"\n", start)) != -1:
            size = end + 1 - start
            yield pending[start : end + 1] if size <= max_line else OversizeLine(size)
            start = end + 1
        pending = pending[start:]
        if len(pending) > max_line:
            skipped, pending = len(pending), b""
    if skipped:
        yield OversizeLine(skipped)
    elif pending:
        yield pending


def _oversize_problem(line: int, size: int) -> str:
    return (
        f"line {line} is {size / (1 << 20):.1f} MiB long; a row may have at most {MAX_LINE_BYTES >> 20} MiB "
        "(the row is not loaded, the rest of the file is)"
    )


# What an oversize line reads as: one non-blank cell, so it is counted as a record, planned into a chunk and then
# rejected by its line number (the text itself never matters).
_OVERSIZE_TEXT = "\ufffd\n"


class _CountingLines:
    """Feeds decoded lines to ``csv.reader`` while counting the bytes and lines it has consumed."""

    __slots__ = ("_lines", "consumed_bytes", "consumed_lines", "oversize_lines", "undecodable_lines")

    def __init__(self, lines: Iterator[bytes | OversizeLine]) -> None:
        self._lines = lines
        self.consumed_bytes = 0
        self.consumed_lines = 0
        self.undecodable_lines: set[int] = set()  # relative line numbers that were not UTF-8
        self.oversize_lines: dict[int, int] = {}  # relative line number → its size in bytes

    def __iter__(self) -> _CountingLines:
        return self

    def problem_in(self, first: int, last: int, line: int) -> str | None:
        """Why the record on relative lines ``first``..``last`` (physical line ``line``) cannot be read, if so."""
        for number in range(first, last + 1):
            if number in self.oversize_lines:
                return _oversize_problem(line + number - first, self.oversize_lines[number])
        if self.undecodable_lines and any(n in self.undecodable_lines for n in range(first, last + 1)):
            return "not UTF-8 text (the file must be UTF-8 encoded)"
        return None

    def __next__(self) -> str:
        raw = next(self._lines)
        self.consumed_lines += 1
        if isinstance(raw, OversizeLine):
            self.consumed_bytes += raw.size
            self.oversize_lines[self.consumed_lines] = raw.size
            return _OVERSIZE_TEXT
        self.consumed_bytes += len(raw)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            # One mis-encoded row is that row's problem, not the whole file's.
            self.undecodable_lines.add(self.consumed_lines)
            return raw.decode("utf-8", errors="replace")


def plan_file(blocks: Iterable[bytes], kind: FileKind, *, rows_per_chunk: int) -> FilePlan:  # noqa: C901 (listed)
    """Stream the whole object once: hash it, count records and mark chunk boundaries at record ends."""
    digest = hashlib.sha256()

    def hashed(source: Iterable[bytes]) -> Iterator[bytes]:
        for block in source:
            digest.update(block)
            yield block

    lines = split_lines(hashed(blocks))
    # Blank lines before the first content line are skipped (and still counted: line numbers stay physical).
    offset, line_no = 0, 0
    first = _content(next(lines, b""))
    if first.startswith(UTF8_BOM):
        offset, first = len(UTF8_BOM), first[len(UTF8_BOM) :]
    while first and not first.strip():
        offset, line_no = offset + len(first), line_no + 1
        first = _content(next(lines, b""))
    if not first:
        raise FileRejectedError("file is empty")
    file_format = sniff_format(first, kind)

    chunks: list[Chunk] = []
    header: tuple[str, ...] = ()
    if file_format is FileFormat.CSV:
        header = _parse_header(first.decode("utf-8", errors="replace"))
        offset, line_no, body_lines = offset + len(first), line_no + 1, lines
    else:  # the first content line is already a record
        body_lines = _prepend(first, lines)

    counter = _CountingLines(body_lines)
    records = 0
    chunk_start, chunk_first_line, in_chunk = offset, None, 0
    if file_format is FileFormat.CSV:
        reader: Iterator[object] = csv.reader(counter)
    else:
        reader = (line for line in counter if line.strip())
    lines_before = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            # A record over the field limit across several lines is that record's problem (the reader goes on
            # with the next line, and the chunk reader meets the same error at the same record); any other is
            # text the csv module cannot read at all, such as bare CR line ends.
            if not str(error).startswith(_FIELD_LIMIT):
                line = line_no + counter.consumed_lines
                raise FileRejectedError(f"line {line}: not readable as CSV ({error})") from None
            record = [_OVERSIZE_TEXT]
        record_first_line = line_no + lines_before + 1
        lines_before = counter.consumed_lines
        if chunk_first_line is None:
            chunk_first_line = record_first_line
        if not record:
            continue  # a blank line is no record (csv yields [] for it)
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


def _content(line: bytes | OversizeLine) -> bytes:
    if isinstance(line, OversizeLine):
        raise FileRejectedError(
            f"the first line is longer than {MAX_LINE_BYTES >> 20} MiB: not a CSV or JSON Lines file (a header row "
            "is short; check the file's line breaks)"
        )
    return line


def _prepend(first: bytes, rest: Iterator[bytes | OversizeLine]) -> Iterator[bytes | OversizeLine]:
    yield first
    yield from rest


def read_chunk_rows(
    blocks: Iterable[bytes], file_format: FileFormat, header: tuple[str, ...], first_line: int
) -> Iterator[Row]:
    """The rows of one chunk (bytes fetched by range), each with its physical line number in the whole file."""
    if file_format is FileFormat.CSV:
        taken, rest = _take(blocks, FAST_CHUNK_BYTES)
        if rest is None:  # one chunk of rows_per_chunk rows: usually a few hundred KB
            data = b"".join(taken)
            del taken
            if not _has_long_line(data, MAX_LINE_BYTES):
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    pass  # some row is not UTF-8: take the line-by-line path that pins it to its row
                else:
                    yield from _csv_rows_from_text(text, header, first_line)
                    return
            blocks = (data,)
        else:  # a chunk holding a huge row: line by line, each block let go once read
            blocks = _handed_over(taken, rest)
    counter = _CountingLines(split_lines(blocks))
    if file_format is FileFormat.CSV:
        yield from _csv_rows_from_lines(counter, header, first_line)
    else:
        for index, text in enumerate(counter):
            line = first_line + index
            if not text.strip():
                continue
            if problem := counter.problem_in(index + 1, index + 1, line):
                yield Row(line, problem=problem)
                continue
            yield _json_row(line, text)


def _take(blocks: Iterable[bytes], limit: int) -> tuple[list[bytes], Iterator[bytes] | None]:
    """The first blocks up to ``limit`` bytes, and the rest (None when there is no more)."""
    taken: list[bytes] = []
    size = 0
    iterator = iter(blocks)
    for block in iterator:
        taken.append(block)
        size += len(block)
        if size > limit:
            return taken, iterator
    return taken, None


def _handed_over(taken: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    taken.reverse()
    while taken:
        yield taken.pop()
    yield from rest


def _has_long_line(data: bytes, limit: int) -> bool:
    if len(data) <= limit:
        return False
    start = 0
    while (end := data.find(b"\n", start)) != -1:
        if end + 1 - start > limit:
            return True
        start = end + 1
    return len(data) - start > limit


def _csv_rows_from_lines(counter: _CountingLines, header: tuple[str, ...], first_line: int) -> Iterator[Row]:
    width = len(header)
    reader = csv.reader(counter)
    lines_before = 0
    while True:
        line = first_line + lines_before
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # only the field limit gets here: plan_file refused the file for any other
            lines_before = counter.consumed_lines
            yield Row(line, problem=counter.problem_in(1, 0, line) or f"not readable as CSV ({error})")
            continue
        span = (lines_before + 1, counter.consumed_lines)
        lines_before = counter.consumed_lines
        if problem := counter.problem_in(*span, line):
            yield Row(line, problem=problem)
            continue
        if len(cells) != width:
            if any(cell.strip() for cell in cells):  # a blank line is nothing to load, nothing to reject
                yield _fitted_row(line, cells, header)
            continue
        yield Row(line, cells=cells, header=header)


def _csv_rows_from_text(text: str, header: tuple[str, ...], first_line: int) -> Iterator[Row]:
    width = len(header)
    # Lines end at "\n" only, as plan_file cut them: a CR inside a quoted cell is no line of its own, or the line
    # numbers (and the records) would differ from the plan's.
    reader = csv.reader(io.StringIO(text, newline="\n"))
    start = first_line
    while True:
        line = start
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            start = first_line + reader.line_num
            yield Row(line, problem=f"not readable as CSV ({error})")
            if str(error).startswith(_FIELD_LIMIT):
                continue  # that record alone; the reader goes on with the next line
            return
        start = first_line + reader.line_num
        if len(cells) == width:
            yield Row(line, None, cells, header)
        elif any(cell.strip() for cell in cells):
            yield _fitted_row(line, cells, header)


def _fitted_row(line: int, cells: list[str], header: tuple[str, ...]) -> Row:
    """A row with fewer cells than the header lacks its last fields (they are then 'missing' if required); extra
    cells are harmless while empty."""
    width = len(header)
    if len(cells) < width:
        return Row(line, None, cells + [""] * (width - len(cells)), header)
    if any(cell.strip() for cell in cells[width:]):
        return Row(line, problem=f"{len(cells)} values but the header names {width} columns")
    return Row(line, None, cells[:width], header)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_loads(text: str) -> object:
    # Numbers and NaN/Infinity keep their literal text: money never passes through float, and no number is too long
    # to read (an int over 4,300 digits would raise); validation then says what is wrong with the value.
    return json.loads(text, parse_float=str, parse_int=str, parse_constant=str)


def _json_row(line: int, text: str) -> Row:
    try:
        # Without its terminator, which json would count as a line of its own: a truncated record is reported at
        # the column where it ends, not at column 1 of a line nobody sees.
        record = _json_loads(text.removeprefix("\ufeff").rstrip("\r\n"))
    except json.JSONDecodeError as exc:
        return Row(line, problem=f"not a JSON object: {exc.msg} at column {exc.colno}")
    except RecursionError:
        return Row(line, problem="not a record: JSON nested too deeply")
    if not isinstance(record, dict):
        return Row(line, problem="not a JSON object")
    for key, value in record.items():
        # A JSON escape can name half of a UTF-16 pair ("\ud800"), which is no character: nothing can store it.
        if _SURROGATE.search(key) or (isinstance(value, str) and _SURROGATE.search(value)):
            return Row(line, problem=f"{key.strip().lower() or 'a key'}: not text (a lone UTF-16 surrogate escape)")
    values: dict[str, str] = {}
    for raw_key, value in record.items():
        key = raw_key.strip().lower()  # as CSV headers are read
        if value is None:
            values[key] = ""
        elif isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif isinstance(value, str):
            values[key] = value
        else:
            # Nested data is kept as JSON text; a field we validate then fails with its own reason.
            values[key] = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return Row(line, fields=values)
