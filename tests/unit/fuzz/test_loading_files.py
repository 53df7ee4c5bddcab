"""Property-based fuzzing of the customer and invoice loader: the file reader (planning and chunk reading) and the
row validators. Any bytes give a whole-file rejection with a reason, or rows that each load or carry their reasons;
never an exception. Accepted values obey the money and size rules (so an accepted row always fits its record)."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from receivables.domain.records import Customer, FileKind, Invoice, validate_customer, validate_invoice
from receivables.loading.reader import plan_file, read_chunk_rows

from tests.unit.fuzz.invariants import answer
from tests.unit.fuzz.test_bank_files import NASTY_AMOUNTS, NASTY_TEXT

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INVOICE_COLUMNS = ["invoice_id", "customer_id", "account_id", "issue_date", "due_date", "amount", "currency"]
CUSTOMER_COLUMNS = ["customer_id", "name", "type", "city", "phone", "language", "email", "iban", "vip", "risk_score"]
values = st.one_of(
    st.sampled_from([*NASTY_AMOUNTS, *NASTY_TEXT, "I1", "C1", "2026-05-01", "2026-02-30", "TRY", "+905321234567"]),
    st.text(max_size=30),
)


def rows_of(data: bytes, kind: FileKind, per_chunk: int, block: int) -> list | Exception:
    """Plan the file, then read every chunk by its byte range, as the loader does."""

    def read() -> list:
        plan = plan_file((data[i : i + block] for i in range(0, len(data), block)), kind, rows_per_chunk=per_chunk)
        rows = []
        for chunk in plan.chunks:
            part = data[chunk.start_byte : chunk.end_byte]
            blocks = (part[i : i + block] for i in range(0, len(part), block))
            rows.extend(read_chunk_rows(blocks, plan.file_format, plan.header, chunk.first_line))
        assert len(rows) <= plan.records
        return rows

    return answer(read)


def assert_rows_answered(rows: list | Exception, kind: FileKind) -> None:
    if isinstance(rows, Exception):
        return
    lines = [row.line for row in rows]
    assert lines == sorted(set(lines)) and all(line >= 1 for line in lines)
    validate = validate_customer if kind is FileKind.CUSTOMERS else validate_invoice
    for row in rows:
        if row.problem is not None:
            assert row.problem.strip()
            continue
        result = validate(row.values or {})
        assert isinstance(result, (Customer, Invoice)) or (result and all(reason.strip() for reason in result))


def csv_bytes(header: list[str], rows: list[list[str]], newline: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows([header, *rows])
    return out.getvalue().encode("utf-8", errors="surrogatepass")


@FUZZ
@given(
    kind=st.sampled_from(list(FileKind)),
    rows=st.lists(st.lists(values, max_size=11), max_size=12),
    newline=st.sampled_from(["\n", "\r\n"]),
    per_chunk=st.integers(1, 5),
    block=st.sampled_from([1, 7, 64, 65536]),
)
def test_csv_rows_of_any_shape_load_or_carry_their_reasons(kind, rows, newline, per_chunk, block):
    header = CUSTOMER_COLUMNS if kind is FileKind.CUSTOMERS else INVOICE_COLUMNS
    assert_rows_answered(rows_of(csv_bytes(header, rows, newline), kind, per_chunk, block), kind)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), values),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(values, children, max_size=3)),
    max_leaves=8,
)


@FUZZ
@given(
    kind=st.sampled_from(list(FileKind)),
    records=st.lists(
        st.one_of(st.dictionaries(st.sampled_from(INVOICE_COLUMNS + CUSTOMER_COLUMNS), json_values), json_values)
    ),
    per_chunk=st.integers(1, 5),
)
def test_json_lines_of_any_shape_load_or_carry_their_reasons(kind, records, per_chunk):
    # json.dumps writes NaN and Infinity as bare words, as some exporters do
    data = "".join(json.dumps(record) + "\n" for record in records).encode("utf-8", errors="surrogatepass")
    assert_rows_answered(rows_of(data, kind, per_chunk, 64), kind)


@FUZZ
@given(
    kind=st.sampled_from(list(FileKind)),
    head=st.sampled_from(
        [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"invoice_id,amount\n", b"{", b"%PDF", b"PK"]
    ),
    data=st.binary(max_size=400),
)
def test_any_bytes_are_a_file_rejection_or_rows_with_reasons(kind, head, data):
    assert_rows_answered(rows_of(head + data, kind, 3, 16), kind)


VALID_INVOICE = dict(zip(INVOICE_COLUMNS, ["I1", "C1", "A1", "2026-05-01", "2026-05-31", "10.00", "TRY"], strict=True))
VALID_CUSTOMER = dict(
    zip(CUSTOMER_COLUMNS[:6], ["C1", "Ayşe", "individual", "İstanbul", "+905321234567", "tr"], strict=True)
)
long_values = st.one_of(values, st.text(min_size=100, max_size=2000), st.just("a" * 300 + "@example.com"))


@FUZZ
@given(changes=st.dictionaries(st.sampled_from([*INVOICE_COLUMNS, "subscription_id", "description"]), long_values))
def test_the_invoice_validator_answers_any_row_and_accepts_only_money(changes):
    result = validate_invoice(VALID_INVOICE | changes)
    if isinstance(result, list):
        assert result and all(reason.strip() for reason in result)
        return
    assert result.amount > 0 and result.amount.is_finite() and -result.amount.as_tuple().exponent <= 2
    assert result.due_date >= result.issue_date
    assert len(result.description or "") <= 500


@FUZZ
@given(
    changes=st.dictionaries(
        st.one_of(st.sampled_from(CUSTOMER_COLUMNS), st.text(max_size=70)), long_values, max_size=60
    )
)
@example(changes={"email": "a" * 300_000 + "@example.com"})  # was accepted: an item DynamoDB refuses to store
def test_the_customer_validator_answers_any_row_and_accepted_customers_fit_one_record(changes):
    result = validate_customer(VALID_CUSTOMER | changes)
    if isinstance(result, list):
        assert result and all(reason.strip() for reason in result)
        return
    # One DynamoDB item holds at most 400 KB: every text an accepted customer carries is bounded.
    texts = [result.customer_id, result.name, result.city, result.phone, result.email or "", result.iban or ""]
    assert all(len(text) <= 500 for text in texts), texts
    assert sum(len(k) + len(v) for k, v in result.attributes.items()) < 50 * (64 + 500)
