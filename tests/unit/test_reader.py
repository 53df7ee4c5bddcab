import csv
import io
import json
import re
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from receivables.domain.records import FileKind
from receivables.loading.reader import FileFormat, FileRejectedError, plan_file, read_chunk_rows, sniff_format

HEADER = "invoice_id,customer_id,account_id,issue_date,due_date,amount,currency,description\n"


def blocks(data: bytes, size: int = 7):
    return (data[i : i + size] for i in range(0, len(data), size))


def rows_of(data: bytes, kind=FileKind.INVOICES, per_chunk=2):
    plan = plan_file(blocks(data), kind, rows_per_chunk=per_chunk)
    out = []
    for chunk in plan.chunks:
        out.extend(
            read_chunk_rows(
                blocks(data[chunk.start_byte : chunk.end_byte]), plan.file_format, plan.header, chunk.first_line
            )
        )
    return plan, out


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"%PDF-1.4\n", "PDF"),
        (b"PK\x03\x04", "ZIP"),
        (b"<?xml version='1.0'?><Document/>", "XML"),
        (b"\x00\x01\x02", "binary"),
        (b'[{"a":1}]', "JSON array"),
        (b"hello world\n", "names none of the columns"),
        (b"INV-1,C1,A1,2026-11-01,2026-11-15,1.00,TRY\n", "a header row is required"),
        (b"invoice_id,amount,Amount\n", "more than once: amount"),
        (b'{\n  "invoice_id": "I1"\n}\n', "not JSON Lines"),
        (b"\xff\xfe\x00", "UTF-16"),
    ],
)
def test_files_that_are_not_csv_or_jsonl_are_rejected_whole(head, reason):
    with pytest.raises(FileRejectedError, match=reason):
        sniff_format(head, FileKind.INVOICES)


def test_bom_crlf_and_quoted_newlines_keep_physical_line_numbers():
    data = ("\ufeff" + HEADER).encode() + (
        b'I1,C1,A1,2026-11-01,2026-11-15,1.00,TRY,"two\r\nlines"\r\n'
        b"I2,C1,A1,2026-11-01,2026-11-15,2.00,TRY,x\r\n"
        b"\r\n"
        b"I3,C1,A1,2026-11-01,2026-11-15,3.00,TRY\r\n"
        b"I4,C1,A1,2026-11-01,2026-11-15,4.00,TRY,\xff\r\n"
    )
    plan, rows = rows_of(data)
    assert plan.file_format is FileFormat.CSV
    assert [(r.line, r.values and r.values["invoice_id"], r.problem) for r in rows] == [
        (2, "I1", None),
        (4, "I2", None),
        (6, "I3", None),  # the optional last column left off
        (7, None, "not UTF-8 text (the file must be UTF-8 encoded)"),
    ]
    assert rows[0].values["description"] == "two\r\nlines"


def test_jsonl_numbers_stay_text_and_bad_lines_are_rows_with_problems():
    data = b'{"invoice_id": "I1", "amount": 0.1}\n\n[1]\n{"invoice_id": {"x": 1}}\n{broken\n'
    plan, rows = rows_of(data)
    assert plan.file_format is FileFormat.JSONL and plan.header == ()
    assert rows[0].line == 1 and rows[0].values == {"invoice_id": "I1", "amount": "0.1"}
    assert [(r.line, r.problem and r.problem.split(":")[0]) for r in rows[1:]] == [
        (3, "not a JSON object"),
        (4, None),  # nested data is kept as JSON text; validation then rejects it as an identifier
        (5, "not a JSON object"),
    ]
    assert rows[2].values == {"invoice_id": '{"x": "1"}'}


def test_a_truncated_json_record_is_reported_where_it_ends_not_on_the_line_after():
    _, rows = rows_of(b'{"invoice_id": "I1", "amount": "1.00"}\n{"customer_id": "C8"\n')
    assert rows[1].problem == "not a JSON object: Expecting ',' delimiter at column 21"


def big_blocks(data: bytes | memoryview, size: int = 64 * 1024):
    return (bytes(data[i : i + size]) for i in range(0, len(data), size))


def rows_in_big_blocks(parts: list[bytes], per_chunk: int = 2):
    """Plan and read a file given as parts (a 20 MB part is not joined into one more bytes object than needed)."""
    data = b"".join(parts)
    plan = plan_file(big_blocks(data), FileKind.INVOICES, rows_per_chunk=per_chunk)
    rows = []
    for chunk in plan.chunks:
        part = memoryview(data)[chunk.start_byte : chunk.end_byte]
        rows.extend(read_chunk_rows(big_blocks(part), plan.file_format, plan.header, chunk.first_line))
    return plan, rows


GOOD = b"I1,C1,A1,2026-11-01,2026-11-15,1.00,TRY,x\n"


@pytest.mark.parametrize("ending", [b"\n", b""], ids=["followed-by-rows", "at-the-end"])
def test_a_20_mb_row_is_rejected_and_the_rest_of_the_file_loads(ending):
    huge = b"I2,C1,A1,2026-11-01,2026-11-15,2.00,TRY," + b"x" * (20 << 20) + ending
    parts = [HEADER.encode(), GOOD, huge] + ([GOOD.replace(b"I1", b"I3")] if ending else [])
    plan, rows = rows_in_big_blocks(parts)
    assert plan.records == len(rows) == (3 if ending else 2)
    assert [(r.line, r.values and r.values["invoice_id"]) for r in rows if r.problem is None] == [(2, "I1")] + (
        [(4, "I3")] if ending else []
    )
    (bad,) = [r for r in rows if r.problem]
    assert bad.line == 3
    assert "line 3 is 20.0 MiB long; a row may have at most 1 MiB" in bad.problem


def test_a_20_mb_json_line_is_rejected_and_the_rest_loads():
    parts = [b'{"invoice_id": "I1"}\n', b'{"invoice_id": "' + b"x" * (20 << 20) + b'"}\n', b'{"invoice_id": "I3"}\n']
    plan, rows = rows_in_big_blocks(parts)
    assert plan.file_format is FileFormat.JSONL
    assert [(r.line, r.problem is None) for r in rows] == [(1, True), (2, False), (3, True)]
    assert "a row may have at most 1 MiB" in rows[1].problem


def test_a_quoted_record_over_the_limit_across_lines_is_rejected_alone():
    field = b'"' + b"y" * (600 << 10) + b"\n" + b"y" * (600 << 10) + b'"'
    record = b"I2,C1,A1,2026-11-01,2026-11-15,2.00,TRY," + field + b"\n"
    _, rows = rows_in_big_blocks([HEADER.encode(), GOOD, record, GOOD.replace(b"I1", b"I4")])
    assert [(r.line, r.problem and r.problem.split(" (")[0]) for r in rows] == [
        (2, None),
        (3, "not readable as CSV"),
        (5, None),
    ]
    assert "field larger than field limit" in rows[1].problem


def test_a_20_mb_row_streams_in_flat_memory():
    def blocks(skip: int = 0):
        """The file as S3 streams it in 64 KiB blocks, from byte ``skip`` on (a range GET)."""
        head = HEADER.encode() + GOOD + b"I2,C1,"
        yield head[skip:]
        for _ in range(320):  # 20 MB of one row
            yield b"x" * (64 * 1024)
        yield b"\n" + GOOD

    plan_file(blocks(), FileKind.INVOICES, rows_per_chunk=10)  # one-time costs out of the measurement
    tracemalloc.start()
    try:
        plan = plan_file(blocks(), FileKind.INVOICES, rows_per_chunk=10)
        (chunk,) = plan.chunks
        rows = list(read_chunk_rows(blocks(chunk.start_byte), plan.file_format, plan.header, chunk.first_line))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r.problem is None for r in rows] == [True, False, True]
    assert peak < 8 << 20  # a few MiB of blocks and one line, never the 20 MB row


def test_a_header_line_over_the_limit_rejects_the_file():
    with pytest.raises(FileRejectedError, match="first line is longer than 1 MiB"):
        plan_file(iter([b"invoice_id," + b"x" * (2 << 20)]), FileKind.INVOICES, rows_per_chunk=10)


@pytest.mark.parametrize(
    ("head", "named"),
    [
        ("\ufeffinvoice_id,amount\n".encode("utf-16-le"), "UTF-16 (little-endian, byte-order mark FF FE)"),
        ("\ufeffinvoice_id,amount\n".encode("utf-16-be"), "UTF-16 (big-endian, byte-order mark FE FF)"),
        ("invoice_id,amount\n".encode("utf-16-le"), "UTF-16 (little-endian, without a byte-order mark)"),
        ("\ufeffinvoice_id\n".encode("utf-32-le"), "UTF-32 (little-endian, byte-order mark FF FE 00 00)"),
    ],
)
def test_a_utf16_or_utf32_file_is_rejected_naming_its_encoding(head, named):
    with pytest.raises(FileRejectedError, match=re.escape(f"file is {named}; save it as UTF-8")):
        plan_file(iter([head]), FileKind.INVOICES, rows_per_chunk=10)


cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(cells, min_size=8, max_size=8), max_size=30),
    per_chunk=st.integers(1, 7),
    jsonl=st.booleans(),
)
def test_chunking_never_loses_splits_or_duplicates_a_row(rows, per_chunk, jsonl):
    names = HEADER.strip().split(",")
    if jsonl:
        data = "".join(json.dumps(dict(zip(names, row, strict=True))) + "\n" for row in rows).encode()
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(names)
        writer.writerows(rows)
        data = out.getvalue().encode()
    if not rows and jsonl:
        return
    _, read = rows_of(data, per_chunk=per_chunk)
    assert [[r.values[n] for n in names] for r in read] == rows


def test_leading_blank_lines_bom_short_rows_and_missing_columns():
    data = (
        b"\n\r\n"
        + HEADER.replace(",description", "").encode()
        + (
            b"I1,C1,A1,2026-11-01,2026-11-15,1.00\n"  # currency column left off: a row problem, not a file one
            b"I2,C1,A1,2026-11-01,2026-11-15,2.00,TRY,,\n"  # empty extra cells are harmless
            b"I3,C1,A1,2026-11-01,2026-11-15,3.00,TRY,x\n"
        )
    )
    _, rows = rows_of(data)
    assert [(r.line, r.problem) for r in rows] == [(4, None), (5, None), (6, "8 values but the header names 7 columns")]
    assert rows[0].values["currency"] == ""
    jsonl = b"\xef\xbb\xbf\n" + b'{"Invoice_ID ": "I1", "tags": ["a"]}\n'
    _plan, rows = rows_of(jsonl)
    assert [(r.line, r.values) for r in rows] == [(2, {"invoice_id": "I1", "tags": '["a"]'})]


def test_csv_that_the_csv_module_cannot_read_is_rejected_with_its_line():
    with pytest.raises(FileRejectedError, match="not readable as CSV"):
        plan_file(iter([HEADER.encode(), b"I1,C1\rI2,C2\r"]), FileKind.INVOICES, rows_per_chunk=10)
