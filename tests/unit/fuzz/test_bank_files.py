"""Property-based fuzzing of every bank-file reader: camt, pain.002, MT940/MT942, bank profiles and the recogniser.

Whatever the bytes, each reader answers with transactions and entry rejections (each with its reason and line), or
with one typed whole-file error saying why; never another exception. Inputs are built from the pieces real files are
made of, mixed with the values that break parsers (NaN, Infinity, 1e400, three decimals, negative amounts, control
characters, byte-order marks, odd encodings), and from random damage to the project's own fixtures. Example counts
are bounded so ``make test`` stays fast; the big inputs (20 MB lines, deep nesting) are in ``test_corpus.py``."""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from receivables.banking.camt import parse_camt
from receivables.banking.mt940 import parse_mt940
from receivables.banking.pain002 import parse_pain002
from receivables.banking.profiles import BankProfile, load_profile, parse_with_profile
from receivables.banking.recognise import read_bank_file, read_bank_stream
from receivables.banking.statement import BankFileError

from tests.unit.fuzz.invariants import answer, assert_bank_file_answered

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "banks"
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NASTY_AMOUNTS = [
    "NaN", "nan", "Infinity", "-Infinity", "inf", "1e400", "1E-400", "-5.00", "-0", "0", "0.00", "10.001", "10.5",
    "5,00", "1.234,56", "+5", " 5 ", "0x1F", "١٢", "１２", "9" * 19, "9" * 400, "", ".", "5.", ".5", "1_000",
]  # fmt: skip
NASTY_TEXT = ["\x00", "\x07", "\x1b[31m", "\x7f", "\ufeff", "\u202e", "\ud7ff", "=cmd|' /C calc'!A0", "İADE", "Ş"]
text = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=40))
amounts = st.one_of(st.sampled_from(NASTY_AMOUNTS), st.from_regex(r"[0-9]{1,20}(\.[0-9]{0,6})?", fullmatch=True))


def damaged(data: bytes) -> st.SearchStrategy[bytes]:
    """The bytes with a few of them overwritten, cut short, or with a slice repeated."""
    edits = st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)), max_size=6)
    cut = st.integers(1, len(data))
    return st.tuples(edits, cut).map(lambda p: bytes(_apply(bytearray(data), p[0]))[: p[1]])


def _apply(data: bytearray, edits: list[tuple[int, int]]) -> bytearray:
    for position, byte in edits:
        data[position] = byte
    return data


def fixtures(folder: str, pattern: str) -> list[bytes]:
    return [path.read_bytes() for path in sorted((FIXTURES / folder).glob(pattern))]


# --- camt ------------------------------------------------------------------------------------------------------------


def camt_entry(amount: str, currency: str, indicator: str, status: str | None, booked: str, note: str) -> str:
    sts = "" if status is None else f"<Sts><Cd>{escape(status)}</Cd></Sts>"
    return (
        f'<Ntry><Amt Ccy="{escape(currency, {chr(34): "&quot;"})}">{escape(amount)}</Amt>'
        f"<CdtDbtInd>{escape(indicator)}</CdtDbtInd>{sts}<BookgDt><Dt>{escape(booked)}</Dt></BookgDt>"
        f"<AcctSvcrRef>R</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Ustrd>{escape(note)}</Ustrd></RmtInf></TxDtls>"
        "</NtryDtls></Ntry>"
    )


def camt_statement(message: str, entries: list[str], balances: str = "") -> bytes:
    record = {"camt.053": "BkToCstmrStmt/Stmt", "camt.054": "BkToCstmrDbtCdtNtfctn/Ntfctn"}[message].split("/")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:{message}.001.08">'
        f"<{record[0]}><GrpHdr><MsgId>F</MsgId></GrpHdr><{record[1]}><Id>S</Id>{balances}{''.join(entries)}"
        f"</{record[1]}></{record[0]}></Document>"
    ).encode("utf-8", errors="surrogatepass")


xml_safe_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")), max_size=30)
camt_entries = st.lists(
    st.builds(
        camt_entry,
        amounts,
        st.sampled_from(["EUR", "TRY", "JPY", "BHD", "XXX", "eur", "E", "EURO", ""]),
        st.sampled_from(["CRDT", "DBIT", "crdt", "", "BOTH"]),
        st.one_of(st.none(), st.sampled_from(["BOOK", "PDNG", "INFO", "FUTR", "", "BOKD"])),
        st.sampled_from(["2026-05-01", "2026-02-30", "01.05.2026", "", "2026-05-01T25:00:00"]),
        xml_safe_text,
    ),
    max_size=6,
)


@FUZZ
@given(message=st.sampled_from(["camt.053", "camt.054"]), entries=camt_entries, opening=amounts, closing=amounts)
def test_camt_entries_of_any_shape_are_read_or_rejected_with_their_line(message, entries, opening, closing):
    balances = "".join(
        f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{escape(value)}</Amt>'
        "<CdtDbtInd>CRDT</CdtDbtInd></Bal>"
        for code, value in (("OPBD", opening), ("CLBD", closing))
    )
    result = answer(lambda: parse_camt([camt_statement(message, entries, balances)]))
    assert not isinstance(result, Exception), result  # well-formed XML: the answer is per entry
    assert_bank_file_answered(result)
    assert len(result.transactions) + len(result.rejections) >= len(entries)


@FUZZ
@given(data=st.sampled_from(fixtures("camt", "camt05*.xml")).flatmap(damaged), block=st.integers(1, 5000))
def test_damaged_camt_files_are_answered(data, block):
    blocks = [data[i : i + block] for i in range(0, len(data), block)]
    assert_bank_file_answered(answer(lambda: parse_camt(blocks)))


# --- pain.002 --------------------------------------------------------------------------------------------------------


@FUZZ
@given(data=st.sampled_from(fixtures("pain002", "pain002_v*.xml")).flatmap(damaged))
def test_damaged_status_reports_are_answered(data):
    result = answer(lambda: parse_pain002([data]))
    if not isinstance(result, Exception):
        assert all(t.line and t.line >= 1 for t in result.transactions)


@FUZZ
@given(amount=amounts, status=st.sampled_from(["RJCT", "ACSC", "PDNG", "", "PART", "XXXX"]), e2e=xml_safe_text)
def test_status_report_transactions_of_any_shape_are_answered(amount, status, e2e):
    data = (
        '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>'
        "<GrpHdr><MsgId>M</MsgId><CreDtTm>2026-05-01T10:00:00</CreDtTm></GrpHdr><OrgnlGrpInfAndSts><OrgnlMsgId>O"
        "</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId></OrgnlGrpInfAndSts><OrgnlPmtInfAndSts>"
        f"<OrgnlPmtInfId>P</OrgnlPmtInfId><TxInfAndSts><OrgnlEndToEndId>{escape(e2e)}</OrgnlEndToEndId>"
        f'<TxSts>{status}</TxSts><OrgnlTxRef><Amt><InstdAmt Ccy="EUR">{escape(amount)}</InstdAmt></Amt>'
        "</OrgnlTxRef></TxInfAndSts></OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"
    ).encode()
    result = answer(lambda: parse_pain002([data]))
    if not isinstance(result, Exception):
        (transaction,) = result.transactions
        assert transaction.amount is None or (transaction.amount >= 0 and transaction.amount.is_finite())


# --- MT940 -----------------------------------------------------------------------------------------------------------

mt940_amounts = st.one_of(
    st.sampled_from([a.replace(".", ",") for a in NASTY_AMOUNTS] + NASTY_AMOUNTS),
    st.from_regex(r"[0-9]{1,16}(,[0-9]{0,4})?", fullmatch=True),
)
statement_lines = st.builds(
    lambda date, mark, amount, kind, reference: f":61:{date}{mark}{amount}{kind}{reference}",
    st.sampled_from(["2605010501", "260501", "2613010501", "2605011340", "٢٦05010501", ""]),
    st.sampled_from(["C", "D", "RC", "RD", "CR", "X", ""]),
    mt940_amounts,
    st.sampled_from(["NTRF", "NDDT", "FMSC", "S103", "E400", "", "N"]),
    st.sampled_from(["NONREF//B-1", "//B-2", "REF", "NONREF//" + "B" * 40, ""]),
)
details = st.lists(
    st.one_of(
        text,
        st.sampled_from(["159?00RETOURE?20EREF+X?34901", "/TRTP/X/RTRN/MD06/", "RETURN AC04", "?20", "/", "?"]),
    ),
    max_size=4,
).map(lambda parts: ":86:" + "\n".join(parts))


@FUZZ
@given(
    entries=st.lists(st.tuples(statement_lines, details), max_size=6),
    opening=mt940_amounts,
    closing=mt940_amounts,
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "windows-1254", "iso-8859-9", "utf-8-sig"]),
)
def test_mt940_statements_of_any_shape_are_read_or_rejected_with_their_line(
    entries, opening, closing, newline, encoding
):
    lines = [":20:FUZZ", ":25:DE89370400440532013000", ":28C:1/1", f":60F:C260501EUR{opening}"]
    for statement_line, detail in entries:
        lines += [statement_line, detail]
    lines += [f":62F:D260501EUR{closing}", "-"]
    data = newline.join(lines).encode(encoding, errors="replace")
    result = answer(lambda: parse_mt940(data))
    assert_bank_file_answered(result)
    if not isinstance(result, Exception):
        assert len(result.transactions) + len(result.rejections) == len(entries)  # nothing disappears


@FUZZ
@given(data=st.sampled_from(fixtures("mt940", "*.sta")).flatmap(damaged))
def test_damaged_mt940_files_are_answered(data):
    assert_bank_file_answered(answer(lambda: parse_mt940(data)))


# --- bank profiles ---------------------------------------------------------------------------------------------------

PROFILES = {
    path.stem: load_profile(path.read_text(encoding="utf-8")) for path in sorted((FIXTURES / "profiles").glob("*.*"))
    if path.suffix in (".json", ".yaml")
}  # fmt: skip


@FUZZ
@given(
    name=st.sampled_from(sorted(PROFILES)),
    rows=st.lists(st.lists(st.one_of(amounts, text, st.sampled_from(["A", "B", "14.03.2025", "TL"])), max_size=12)),
)
def test_profile_rows_of_any_shape_are_read_or_rejected_with_their_line(name, rows):
    profile = PROFILES[name]
    sample = next((FIXTURES / "profiles").glob(f"{name}-*")).read_bytes()
    head = b"\n".join(sample.splitlines()[: profile.header_rows])
    separator = (profile.delimiter if profile.layout == "delimited" else "").encode()
    body = [separator.join(cell.encode(profile.encoding, errors="replace") for cell in row) for row in rows]
    result = answer(lambda: parse_with_profile(b"\n".join([head, *body]) + b"\n", profile))
    assert_bank_file_answered(result)


@FUZZ
@given(data=st.sampled_from([p.read_bytes() for p in sorted((FIXTURES / "profiles").glob("*-*"))]).flatmap(damaged))
def test_damaged_profile_files_are_answered(data):
    for profile in PROFILES.values():
        assert_bank_file_answered(answer(lambda profile=profile: parse_with_profile(data, profile)))


profile_documents = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), text),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(text, children, max_size=4)),
    max_leaves=12,
)
known_fields = st.fixed_dictionaries(
    {},
    optional={
        key: profile_documents
        for key in (
            *("bank_id", "name", "layout", "encoding", "delimiter", "quotechar", "header_rows", "columns"),
            *("decimal_separator", "thousands_separator", "implied_decimals", "date_format", "credit_markers"),
        )
    },
)


@FUZZ
@given(document=st.one_of(profile_documents, known_fields), as_yaml=st.booleans())
def test_profile_documents_of_any_shape_are_a_profile_or_a_profile_error(document, as_yaml):
    text = json.dumps(document)  # JSON is YAML too: the YAML reader sees the same document
    result = answer(lambda: load_profile(("\n" if as_yaml else "") + text))
    assert isinstance(result, (BankProfile, Exception))


# --- recognising any file --------------------------------------------------------------------------------------------

any_head = st.sampled_from([b"", b"<?xml version='1.0'?>", b":20:", b"\xef\xbb\xbf", b"\xff\xfe", b"{1:F01", b"<"])


@FUZZ
@given(head=any_head, data=st.binary(max_size=300), bank=st.sampled_from(["ornekbank", "kuzeybank", "nobank"]))
def test_any_bytes_are_recognised_and_read_or_refused(head, data, bank):
    profiles = {name: profile for name, profile in PROFILES.items() if name == bank}
    result = answer(lambda: read_bank_file(head + data, bank_id=bank, profiles=profiles))
    assert_bank_file_answered(result)
    streamed = answer(lambda: read_bank_stream(head + data[:7], [data[7:]], bank_id=bank, profiles=profiles))
    assert type(streamed) is type(result)
    if isinstance(result, BankFileError):
        assert isinstance(streamed, BankFileError)
