"""The nasty cases as explicit corpus files (tests/fixtures/fuzz, see its README) and as generated giants (20 MB
lines, deep nesting, huge markup): each gets the answer written here, in bounded time and memory."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from receivables.banking import mt940
from receivables.banking.camt import parse_camt
from receivables.banking.mt940 import parse_mt940
from receivables.banking.pain002 import parse_pain002
from receivables.banking.profiles import ProfileError, load_profile, parse_with_profile
from receivables.banking.recognise import read_bank_file
from receivables.banking.statement import BankFileError
from receivables.domain.records import FileKind, validate_customer, validate_invoice
from receivables.loading.reader import FileRejectedError, plan_file, read_chunk_rows

from tests.unit.fuzz.invariants import answer, assert_bank_file_answered

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "fuzz"
PROFILES = Path(__file__).resolve().parents[2] / "fixtures" / "banks" / "profiles"
MB = 1 << 20


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def bounded(call: Callable[[], object], *, seconds: float = 15.0, megabytes: float = 16.0) -> object:
    """Run ``call`` and check it took at most ``seconds`` and ``megabytes`` of new memory at its peak."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = answer(call)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    took = time.perf_counter() - started
    assert took < seconds, f"took {took:.1f} s"
    assert peak < megabytes * MB, f"peak {peak / MB:.1f} MB"
    return result


# --- bank files ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "refused_because"),
    [
        ("xml_entity_bomb.xml", "DTDs are refused"),
        ("xml_external_entity.xml", "DTDs are refused"),
        ("xml_parameter_entity.xml", "DTDs are refused"),
        ("xml_undeclared_entity.xml", "undefined entity"),
        ("xml_control_characters.xml", "not well-formed XML at line 5"),  # XML 1.0 has no BEL or ESC
        ("xml_invalid_utf8.xml", "not well-formed XML at line 5"),
        ("mt940_utf16.sta", "file is UTF-16 (little-endian, byte-order mark FF FE)"),
        ("pain002_three_decimal_amount.xml", "InstdAmt (line 6): '10.001': 10.001 EUR has 3 significant decimals"),
    ],
)
def test_hostile_bank_files_are_refused_whole_with_the_reason(name, refused_because):
    data = corpus(name)
    read = parse_pain002 if b"pain.002" in data[:300] else None
    result = answer(lambda: read([data]) if read else read_bank_file(data, bank_id="x", profiles={}))
    assert isinstance(result, BankFileError) and refused_because in result.reason, result


@pytest.mark.parametrize(
    ("name", "read_lines"),
    [("xml_utf16_bom.xml", [5]), ("xml_bom_utf8.xml", [5]), ("mt940_control_characters.sta", [5, 7])],
)
def test_byte_order_marks_and_control_characters_do_not_stop_a_file(name, read_lines):
    result = read_bank_file(corpus(name), bank_id="x", profiles={})
    assert_bank_file_answered(result)
    assert [t.line for t in result.transactions] == read_lines
    for transaction in result.transactions:  # control characters read as spaces: no reference is changed by them
        text = " ".join(transaction.remittance_lines) + (transaction.customer_reference or "")
        assert not any(ord(c) < 0x20 or c == "\x7f" for c in text), text


def test_every_amount_no_bank_books_is_an_entry_rejection_with_its_line_camt():
    result = read_bank_file(corpus("camt053_hostile_amounts.xml"), bank_id="x", profiles={})
    assert_bank_file_answered(result)
    assert [(t.line, str(t.amount)) for t in result.transactions] == [(17, "10.00")]
    reasons = {r.line: r.reason for r in result.rejections}
    assert sorted(reasons) == [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18]
    assert "'NaN' is not an amount" in reasons[5] and "'1e400' is not an amount" in reasons[8]
    assert "'-5.00' is not an amount" in reasons[9] and "has 3 significant decimals" in reasons[10]
    assert "has 19 digits" in reasons[12] and "JPY has 0" in reasons[18]


def test_every_amount_no_bank_books_is_an_entry_rejection_with_its_line_mt940():
    result = read_bank_file(corpus("mt940_hostile_amounts.sta"), bank_id="x", profiles={})
    assert_bank_file_answered(result)
    assert [(t.line, str(t.amount)) for t in result.transactions] == [(23, "10.00")]
    reasons = {r.line: r.reason for r in result.rejections}
    assert sorted(reasons) == [5, 7, 9, 11, 13, 15, 17, 19, 21]
    assert "not followed by a transaction type" in reasons[9]  # '1e400NTRF' is not 1.00 of type E400
    assert "3 significant decimals" in reasons[13] and "is zero" in reasons[15] and "16 characters" in reasons[17]


def test_undecodable_bytes_in_an_mt940_file_fall_back_to_a_single_byte_reading():
    (entry,) = read_bank_file(corpus("mt940_invalid_utf8.sta"), bank_id="x", profiles={}).transactions
    assert entry.remittance_lines and entry.line == 5


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("profile_yaml_bomb.yaml", "aliases (*name) are not allowed"),
        ("profile_deep.json", "nested too deeply"),
        ("profile_repeated_directive.json", "is not a usable strptime format"),
    ],
)
def test_hostile_profile_documents_are_profile_errors(name, problem):
    result = bounded(lambda: load_profile(corpus(name)), seconds=5)
    assert isinstance(result, ProfileError) and problem in str(result), result


# --- bank files: the giants ------------------------------------------------------------------------------------------

MT940_HEAD = ":20:BIG\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C260501EUR100,00\n"
MT940_ENTRY = ":61:2605010501C1,00NTRFNONREF//OK-{n}\n:86:fine\n"


@pytest.mark.parametrize(
    "giant",
    [
        ":61:2605010501C1,00NTRF" + "x" * (20 * MB) + "//BIG\n",  # a 20 MB statement line
        ":61:2605010501C1,00NTRFNONREF//BIG\n:86:" + "x" * (20 * MB) + "\n",  # a 20 MB details line
        ":61:2605010501C1,00NTRFNONREF//BIG\n:86:" + "abcdefghij\n" * 20_000,  # a 220 KB details field
    ],
    ids=["61-line", "86-line", "86-field"],
)
def test_a_giant_mt940_entry_is_rejected_alone_in_bounded_time(giant):
    data = MT940_HEAD + MT940_ENTRY.format(n=1) + giant + MT940_ENTRY.format(n=2) + ":62F:C260501EUR103,00\n-\n"
    result = bounded(lambda: parse_mt940(data.encode()), megabytes=200)  # the decoded text is the file's own size
    assert [t.bank_reference for t in result.transactions] == ["OK-1", "OK-2"]
    (rejection,) = result.rejections
    assert rejection.line == 7 and "cannot be read" in rejection.reason


def test_a_statement_with_many_entries_is_read_in_linear_time():
    # Timed on the step that pairs each :61: with its :86: (it once copied the rest of the statement per entry):
    # 16 times the entries must take about 16 times as long, not 256 times.
    def seconds(entries: int) -> float:
        text = MT940_HEAD + "".join(MT940_ENTRY.format(n=n) for n in range(entries)) + "-\n"
        (statement,), _ = mt940._statements(mt940._fields(text))
        started = time.perf_counter()
        assert sum(1 for _ in statement.entries()) == entries
        return time.perf_counter() - started

    small = min(seconds(1_000) for _ in range(3))
    assert seconds(16_000) < 64 * small


MANY_ATTRIBUTES = b"<Ntry " + b" ".join(b'a%d="1"' % n for n in range(300_000)) + b"/>"  # built once, outside


def camt_blocks(middle: Iterator[bytes]) -> Iterator[bytes]:
    head = (
        b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        b"<GrpHdr><MsgId>BIG</MsgId></GrpHdr><Stmt><Id>S</Id>"
    )
    yield head
    yield from middle
    yield b"</Stmt></BkToCstmrStmt></Document>"


@pytest.mark.parametrize(
    ("middle", "refused_because"),
    [
        (lambda: iter([b"<a>" * 1_000_000]), "nested more than 64 deep"),
        (lambda: iter([b"<Ntry><AddtlNtryInf>", *[b"x" * MB] * 20, b"</AddtlNtryInf></Ntry>"]), "characters of text"),
        (lambda: iter([b"<!--", *[b"x" * MB] * 20, b"-->"]), "runs over 2097152 bytes"),
        (lambda: iter([b'<Ntry a="', *[b"x" * MB] * 20, b'"/>']), "runs over 2097152 bytes"),
        (lambda: iter([MANY_ATTRIBUTES]), "runs over"),
    ],
    ids=["deep-nesting", "20-MB-text", "20-MB-comment", "20-MB-attribute", "300k-attributes"],
)
def test_giant_xml_is_refused_in_bounded_time_and_memory(middle, refused_because):
    result = bounded(lambda: parse_camt(camt_blocks(middle())), megabytes=24)
    assert isinstance(result, BankFileError) and refused_because in result.reason, result


def test_a_20_mb_profile_row_is_rejected_alone():
    profile = load_profile((PROFILES / "kuzeybank.yaml").read_text(encoding="utf-8"))
    sample = (PROFILES / "kuzeybank-2025-03-14.txt").read_bytes().splitlines()
    data = b"\n".join([*sample[:2], b"D" + b"9" * (20 * MB), *sample[2:]]) + b"\n"
    result = bounded(lambda: parse_with_profile(data, profile), megabytes=200)  # profiles read the file whole
    assert_bank_file_answered(result)
    assert [r.line for r in result.rejections] == [3]
    assert len(result.transactions) == len(parse_with_profile(b"\n".join(sample) + b"\n", profile).transactions)


# --- customer and invoice files --------------------------------------------------------------------------------------


def loaded(data: bytes, kind: FileKind) -> list[tuple[int, str]]:
    """Each row's line and either 'loaded' or its first reason."""
    plan = plan_file([data], kind, rows_per_chunk=4)
    validate = validate_customer if kind is FileKind.CUSTOMERS else validate_invoice
    out = []
    for chunk in plan.chunks:
        blocks = [data[chunk.start_byte : chunk.end_byte]]
        for row in read_chunk_rows(blocks, plan.file_format, plan.header, chunk.first_line):
            result = row.problem or validate(row.values or {})
            out.append(
                (row.line, result if isinstance(result, str) else result[0] if isinstance(result, list) else "loaded")
            )
    return out


def test_hostile_invoice_csv_rows_are_each_rejected_with_the_reason_and_the_rest_load():
    rows = dict(loaded(corpus("invoices_hostile.csv"), FileKind.INVOICES))
    assert "'NaN' is not a decimal number" in rows[2] and "'Infinity' is not a decimal number" in rows[3]
    assert "greater than 0, got '-Infinity'" in rows[4] and "'1e400' is not a decimal number" in rows[5]
    assert "greater than 0" in rows[6] and "3 decimals" in rows[7] and "greater than 0" in rows[8] and rows[9]
    assert "more than 15 integer digits" in rows[10] and "'１２'" in rows[11] and "'0x1A'" in rows[12]
    assert rows[13] == "loaded"  # ' 5.00 ' is 5.00
    assert "9 values" in rows[14] and "9 values" in rows[15]  # '5,00' and an unquoted formula split the row
    assert rows[16] == "loaded"  # a description a spreadsheet would run: loaded, and neutralised in any report
    assert "'C1\\x07' is not a valid identifier" in rows[17] and "'2026-02-30' is not an ISO 8601 date" in rows[18]
    assert rows[19] == "loaded" and rows[20] == "not UTF-8 text (the file must be UTF-8 encoded)"


def test_hostile_json_lines_are_each_rejected_with_the_reason():
    rows = dict(loaded(corpus("invoices_hostile.jsonl"), FileKind.INVOICES))
    assert "'NaN' is not a decimal number" in rows[1] and "'Infinity' is not a decimal number" in rows[2]
    assert "'1e400' is not a decimal number" in rows[3] and "more than 15 integer digits" in rows[4]
    assert "greater than 0" in rows[5] and rows[6] == "invoice_id: not text (a lone UTF-16 surrogate escape)"
    assert "missing" in rows[7] and rows[8] == "not a JSON object" and "3 decimals" in rows[9]
    assert rows[10] == "loaded"


def test_hostile_customer_rows_are_each_rejected_with_the_reason():
    rows = dict(loaded(corpus("customers_hostile.csv"), FileKind.CUSTOMERS))
    assert "risk_score: 'NaN'" in rows[2] and "email:" in rows[3] and "phone: '+90532'" in rows[4]
    assert rows[5] == "loaded"


def test_a_utf16_customer_or_invoice_file_is_refused_naming_its_encoding():
    with pytest.raises(FileRejectedError, match=r"file is UTF-16 \(little-endian, byte-order mark FF FE\)"):
        plan_file([corpus("invoices_utf16.csv")], FileKind.INVOICES, rows_per_chunk=4)
