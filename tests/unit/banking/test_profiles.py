"""Per-bank profiles: the profile model's validation, loading, and reading CSV / fixed-width files through it."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from receivables.banking.profiles import (
    AmountFormatError,
    BankProfile,
    ColumnSlice,
    ProfileError,
    load_profile,
    parse_amount,
    parse_with_profile,
    require_profile,
)
from receivables.banking.statement import BankFileError, BankFormat, Direction, ParsedBankFile

FIXTURES = Path(__file__).parents[2] / "fixtures" / "banks" / "profiles"


def profile(**changes: Any) -> BankProfile:
    """A small delimited Turkish-style profile: signed amounts, named columns, one header row."""
    fields: dict[str, Any] = {
        "bank_id": "testbank",
        "name": "Test Bank",
        "layout": "delimited",
        "delimiter": ";",
        "header_rows": 1,
        "columns": {"booking_date": "Tarih", "amount": "Tutar", "reference": "Ref", "remittance": "Açıklama"},
        "decimal_separator": ",",
        "thousands_separator": ".",
        "date_format": "%d.%m.%Y",
        "default_currency": "TRY",
    }
    fields.update(changes)
    return BankProfile.model_validate(fields)


HEADER = "Tarih;Tutar;Ref;Açıklama"


def parse(lines: list[str], prof: BankProfile | None = None, *, encoding: str = "utf-8") -> ParsedBankFile:
    return parse_with_profile(("\n".join(lines) + "\n").encode(encoding), prof or profile())


def only_rejection(result: ParsedBankFile) -> tuple[str | None, str]:
    assert not result.transactions
    assert len(result.rejections) == 1, result.rejections
    return result.rejections[0].position, result.rejections[0].reason


def profile_problems(**changes: Any) -> ProfileError:
    base = profile().model_dump(mode="json", exclude_unset=True)
    base.update(changes)
    with pytest.raises(ProfileError) as caught:
        load_profile(json.dumps({k: v for k, v in base.items() if v is not ...}))
    return caught.value


# --- the shipped example profiles ------------------------------------------------------------------------------------


def test_turkish_delimited_example_in_windows_1254():
    prof = load_profile((FIXTURES / "ornekbank.json").read_bytes(), bank_id="ornekbank")
    result = parse_with_profile((FIXTURES / "ornekbank-2025-03-14.csv").read_bytes(), prof)

    assert result.source_format is BankFormat.PROFILE
    assert result.rejections == ()
    first, big, quoted, charge, refund = result.transactions
    assert first.position == "line 4"
    assert (first.amount, first.direction, first.currency) == (Decimal("1234.56"), Direction.CREDIT, "TRY")
    assert first.bank_reference == "DK20250314001"
    assert first.account == "TR420006100000000012345678"
    assert first.debtor_name == "Ayşe Yılmaz"
    assert first.debtor_iban == "TR250006200000000087654321"  # spaces the bank prints are dropped
    assert first.remittance_lines == ("INV-2025-0001 ödemesi",)
    assert big.amount == Decimal("12345678.90")
    assert big.debtor_name == "İSMAİL GÜNDOĞDU"
    assert (big.booking_date, big.value_date) == (date(2025, 3, 14), date(2025, 3, 15))
    assert big.remittance_lines == ("Fatura ACC-00042", "Mart dönemi")
    assert quoted.remittance_lines == ("EFT; gönderen açıklaması: INV-2025-0007",)
    assert quoted.debtor_name == "Çiğdem Şahin Ltd. Şti."
    assert (charge.direction, charge.amount, charge.debtor_name) == (Direction.DEBIT, Decimal("15.75"), None)
    assert (refund.direction, refund.amount) == (Direction.DEBIT, Decimal("99.90"))  # '-99,90' with BORÇ


def test_fixed_width_example_in_yaml_and_iso_8859_9():
    prof = load_profile((FIXTURES / "kuzeybank.yaml").read_text(encoding="utf-8"), bank_id="kuzeybank")
    result = parse_with_profile((FIXTURES / "kuzeybank-2025-03-14.txt").read_bytes(), prof)

    assert result.rejections == ()
    assert [t.position for t in result.transactions] == ["line 2", "line 3", "line 4"]
    first, trimmed, commission = result.transactions
    assert (first.amount, first.direction, first.bank_reference) == (
        Decimal("1234.56"),
        Direction.CREDIT,
        "KB0000000000001",
    )
    assert first.debtor_name == "Ayşe Yılmaz"
    assert first.remittance_lines == ("INV-2025-0001",)
    # The second line lost its trailing spaces in transit: it is read as if they were there.
    assert trimmed.remittance_lines == ("ACC-00042 Şubat taksiti",)
    assert trimmed.value_date == date(2025, 3, 17)
    assert (commission.direction, commission.amount, commission.debtor_iban) == (
        Direction.DEBIT,
        Decimal("12.50"),
        None,
    )
    assert all(t.account == "0123-0456789" for t in result.transactions)


def test_a_profile_survives_a_round_trip_through_its_json_form():
    for name in ("ornekbank.json", "kuzeybank.yaml"):
        prof = load_profile((FIXTURES / name).read_text(encoding="utf-8"))
        assert load_profile(prof.model_dump_json()) == prof


# --- profile validation ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [("cp1254", "windows-1254"), ("Windows-1254", "windows-1254"), ("latin5", "iso-8859-9"), ("utf8", "utf-8")],
)
def test_encoding_aliases_are_accepted_and_named_one_way(alias, canonical):
    assert profile(encoding=alias).encoding == canonical


@pytest.mark.parametrize(
    ("encoding", "reason"), [("utf-16", "not supported; use one of"), ("klingon", "not a known encoding")]
)
def test_unsupported_encodings_are_refused(encoding, reason):
    error = profile_problems(encoding=encoding)
    assert error.field == "encoding"
    assert reason in str(error)


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"colums": {}}, "colums", "unknown profile field"),
        ({"bank_id": "Test/Bank"}, "bank_id", "should match pattern"),
        ({"layout": "xml"}, "layout", "'delimited' or 'fixed_width'"),
        ({"columns": {"booking_date": "Tarih", "amout": "Tutar"}}, "columns.amout", "unknown field"),
        ({"columns": {"booking_date": "Tarih", "amount": ["Tutar", "X"]}}, "columns.amount", "only remittance"),
        ({"columns": {"booking_date": "Tarih", "amount": True}}, "columns.amount", "expected a column name"),
        ({"columns": {"booking_date": "Tarih", "amount": 1.5}}, "columns.amount", "expected a column name"),
        ({"columns": {"booking_date": "Tarih", "amount": -1}}, "columns.amount", "0-based"),
        ({"columns": {"booking_date": "Tarih", "amount": " "}}, "columns.amount", "must not be empty"),
        ({"columns": {"booking_date": "Tarih", "amount": "Tutar", "remittance": []}}, "columns.remittance", "empty"),
        ({"columns": {"booking_date": 0, "amount": {"start": 3}}}, "columns.amount.length", "Field required"),
        ({"header_rows": 0}, "columns.booking_date", "needs header_rows >= 1"),
        ({"header_rows": "1"}, "header_rows", "valid integer"),
        ({"delimiter": ";;"}, "delimiter", "at most 1 character"),
        ({"delimiter": "a"}, "delimiter", "cannot separate columns"),
        ({"quotechar": ";"}, "quotechar", "must differ from delimiter"),
        ({"decimal_separator": None}, "decimal_separator", "required"),
        ({"decimal_separator": ";"}, "decimal_separator", "',' or '.'"),
        ({"thousands_separator": ","}, "thousands_separator", "must differ"),
        ({"thousands_separator": "none"}, "thousands_separator", "Input should be"),
        ({"implied_decimals": 2}, "implied_decimals", "no separators"),
        ({"date_format": "%d.%m"}, "date_format", "does not hold a whole date"),
        ({"date_format": "%d.%Q.%Y"}, "date_format", "bad directive"),
        ({"default_currency": None}, "default_currency", "required when no currency column"),
        ({"default_currency": "TL"}, "default_currency", "not an ISO 4217"),
        ({"currency_aliases": {"TL": "TLX"}}, "currency_aliases.TL", "not an ISO 4217"),
        ({"currency_aliases": {" ": "TRY"}}, "currency_aliases", "must not be empty"),
        ({"columns": ["Tarih", "Tutar"]}, "columns", "valid dictionary"),
        ({"credit_markers": ["A"]}, "credit_markers", "direction_marker is not mapped"),
        ({"skip_line_prefixes": [""]}, "skip_line_prefixes", "must not be empty"),
    ],
)
def test_invalid_profiles_name_the_field_and_the_reason(changes, field, reason):
    error = profile_problems(**changes)
    assert error.field == field, error.problems
    assert reason in str(error), str(error)


@pytest.mark.parametrize(
    ("columns", "field", "reason"),
    [
        ({"booking_date": "Tarih"}, "columns.amount", "required (or map debit_amount and credit_amount"),
        ({"booking_date": "Tarih", "amount": "T", "debit_amount": "B"}, "columns", "not both"),
        ({"booking_date": "Tarih", "debit_amount": "B"}, "columns.credit_amount", "required together"),
        ({"booking_date": "Tarih", "credit_amount": "A"}, "columns.debit_amount", "required together"),
        (
            {"booking_date": "Tarih", "debit_amount": "B", "credit_amount": "A", "direction_marker": "M"},
            "columns.direction_marker",
            "not used with",
        ),
        ({"booking_date": "Tarih", "amount": "T", "direction_marker": "M"}, "credit_markers", "required when"),
        ({"amount": "Tutar"}, "columns", "booking_date or value_date"),
    ],
)
def test_the_amount_style_must_be_one_of_three(columns, field, reason):
    error = profile_problems(columns=columns)
    assert error.field == field, error.problems
    assert reason in str(error)


def test_credit_and_debit_markers_must_not_overlap():
    error = profile_problems(
        columns={"booking_date": "Tarih", "amount": "Tutar", "direction_marker": "B/A"},
        credit_markers=["A", "borç"],
        debit_markers=["B", "BORÇ"],
    )
    assert error.field == "debit_markers"
    assert "'BORÇ' is also a credit marker" in str(error)


def fixed(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "bank_id": "fixbank",
        "name": "Fixed Bank",
        "layout": "fixed_width",
        "columns": {"booking_date": {"start": 0, "length": 8}, "amount": {"start": 8, "length": 12}},
        "implied_decimals": 2,
        "date_format": "%Y%m%d",
        "default_currency": "TRY",
    }
    fields.update(changes)
    return fields


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        (
            {"columns": {"booking_date": {"start": 0, "length": 8}, "amount": {"start": 7, "length": 12}}},
            "columns.amount",
            "overlap columns.booking_date",
        ),
        (
            {
                "columns": {
                    "booking_date": {"start": 0, "length": 8},
                    "amount": {"start": 8, "length": 12},
                    "remittance": [{"start": 20, "length": 10}, {"start": 25, "length": 10}],
                }
            },
            "columns.remittance[1]",
            "overlap columns.remittance[0]",
        ),
        ({"columns": {"booking_date": 0, "amount": {"start": 8, "length": 12}}}, "columns.booking_date", "needs"),
        ({"delimiter": ";"}, "delimiter", "only for the delimited layout"),
        ({"columns": {"booking_date": {"start": 0, "length": 0}, "amount": 3}}, "columns.booking_date.length", ""),
    ],
)
def test_fixed_width_profiles(changes, field, reason):
    with pytest.raises(ProfileError) as caught:
        load_profile(json.dumps(fixed(**changes)))
    assert caught.value.field == field, caught.value.problems
    assert reason in str(caught.value)


def test_delimited_profiles_refuse_slices():
    with pytest.raises(ProfileError) as caught:
        load_profile(json.dumps(fixed(layout="delimited")))
    assert caught.value.field == "columns.booking_date"
    assert "is for the fixed_width layout" in str(caught.value)


def test_every_field_problem_is_reported_at_once():
    error = profile_problems(encoding="utf-16", header_rows=-1, date_format="")
    assert {field for field, _ in error.problems} == {"encoding", "header_rows", "date_format"}
    assert str(error).startswith("bank profile 'testbank' is invalid: ")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"bank_id": "x",}', "not valid JSON: Illegal trailing comma before end of object at line 1 column 16"),
        ("bank_id: [unclosed", "not valid JSON or YAML"),
        ("- just\n- a list\n", "expected an object of profile fields, got list"),
        ("", "expected an object of profile fields, got NoneType"),
    ],
)
def test_unreadable_profile_documents(text, reason):
    with pytest.raises(ProfileError, match="bank profile is invalid") as caught:
        load_profile(text)
    assert reason in str(caught.value)


def test_profile_bytes_must_be_utf8():
    with pytest.raises(ProfileError, match="not UTF-8 text \\(invalid byte at offset 13\\)"):
        load_profile(b'{"bank_id": "\xfe"}')


def test_yaml_turns_unquoted_yes_no_markers_into_booleans_which_are_refused():
    text = (FIXTURES / "kuzeybank.yaml").read_text(encoding="utf-8").replace('["A"]', "[yes]").replace('["B"]', "[no]")
    with pytest.raises(ProfileError) as caught:
        load_profile(text)
    assert caught.value.field == "credit_markers.0"
    assert "valid string" in str(caught.value)


def test_a_profile_stored_under_another_banks_name_is_refused():
    with pytest.raises(ProfileError) as caught:
        load_profile((FIXTURES / "ornekbank.json").read_text(encoding="utf-8"), bank_id="kuzeybank")
    assert caught.value.field == "bank_id"
    assert "is 'ornekbank' but the profile is stored for 'kuzeybank'" in str(caught.value)


def test_a_bank_without_a_profile_has_its_file_rejected():
    known = {"ornekbank": load_profile((FIXTURES / "ornekbank.json").read_text(encoding="utf-8"))}
    assert require_profile("ornekbank", known) is known["ornekbank"]
    with pytest.raises(BankFileError, match=r"no bank profile for bank 'yenibank': add config/banks/yenibank.json"):
        require_profile("yenibank", known)


# --- amounts ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,56", "1234.56"),
        ("1234,56", "1234.56"),  # grouping is optional
        ("-1.234,56", "-1234.56"),
        ("+1.234,56", "1234.56"),
        ("- 1.234,56", "-1234.56"),
        ("(1.234,56)", "-1234.56"),  # accounting negative, from spreadsheet exports
        ("1.234,56-", "-1234.56"),  # trailing minus, from mainframe exports
        ("0001234,5", "1234.5"),  # leading zeros, as fixed-width files pad
        ("12.345.678", "12345678"),
        ("  7,00 ", "7.00"),
    ],
)
def test_turkish_amounts(text, expected):
    assert parse_amount(text, profile()) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "changes", "expected"),
    [
        ("1234.56", {"decimal_separator": ".", "thousands_separator": None}, "1234.56"),
        ("1,234.56", {"decimal_separator": ".", "thousands_separator": ","}, "1234.56"),
        ("1 234,56", {"thousands_separator": " "}, "1234.56"),
        ("1\u00a0234,56", {"thousands_separator": " "}, "1234.56"),  # no-break space, as spreadsheets write it
        ("1'234.56", {"decimal_separator": ".", "thousands_separator": "'"}, "1234.56"),
        ("000000123456", {"decimal_separator": None, "thousands_separator": None, "implied_decimals": 2}, "1234.56"),
        ("123456-", {"decimal_separator": None, "thousands_separator": None, "implied_decimals": 0}, "-123456"),
    ],
)
def test_other_number_styles(text, changes, expected):
    assert parse_amount(text, profile(**changes)) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    [
        "1.23,45",
        "12.50",
        "١٢٣٤,٥٦",  # Arabic-Indic digits: Decimal() takes them, a bank file should not
        "1,234.56",
        "1.234,56 TL",
        "",
        "-",
        "()",
        "1e3",
        "--5",
        "-(5)",
        ",50",
        "1.234.",
        "NaN",
    ],
)
def test_malformed_amounts_are_refused_with_the_expected_style(text):
    with pytest.raises(AmountFormatError, match=r"is not an amount written like 1\.234,56"):
        parse_amount(text, profile())


hypothesis_styles = st.sampled_from(
    [
        {"decimal_separator": ",", "thousands_separator": "."},
        {"decimal_separator": ",", "thousands_separator": " "},
        {"decimal_separator": ",", "thousands_separator": None},
        {"decimal_separator": ".", "thousands_separator": ","},
        {"decimal_separator": ".", "thousands_separator": "'"},
        {"decimal_separator": ".", "thousands_separator": None},
        {"decimal_separator": None, "thousands_separator": None, "implied_decimals": 0},
        {"decimal_separator": None, "thousands_separator": None, "implied_decimals": 2},
        {"decimal_separator": None, "thousands_separator": None, "implied_decimals": 3},
    ]
)


def write_amount(value: Decimal, style: dict[str, Any], *, grouped: bool, negative_as: str, zeros: int) -> str:
    """An independent writer of the number styles a profile describes (the property checks the reader against it)."""
    magnitude = abs(value)
    if style.get("implied_decimals") is not None:
        body = "0" * zeros + str(int(magnitude.scaleb(style["implied_decimals"])))
    else:
        whole, _, fraction = f"{magnitude:f}".partition(".")
        if grouped and style["thousands_separator"]:
            groups = []
            while len(whole) > 3:
                whole, groups = whole[:-3], [whole[-3:], *groups]
            whole = style["thousands_separator"].join([whole, *groups])
        body = whole + (style["decimal_separator"] + fraction if fraction else "")
    if value >= 0:
        return body
    return {"leading": f"-{body}", "trailing": f"{body}-", "parentheses": f"({body})"}[negative_as]


@given(
    style=hypothesis_styles,
    data=st.data(),
    grouped=st.booleans(),
    negative_as=st.sampled_from(["leading", "trailing", "parentheses"]),
    zeros=st.integers(0, 3),
)
def test_an_amount_written_in_the_profiles_style_reads_back_as_the_same_decimal(
    style, data, grouped, negative_as, zeros
):
    places = style.get("implied_decimals", data.draw(st.integers(0, 4)))
    value = data.draw(
        st.decimals(min_value=-(10**13), max_value=10**13, places=places, allow_nan=False, allow_infinity=False)
    )
    prof = profile(**style)
    written = write_amount(value, style, grouped=grouped, negative_as=negative_as, zeros=zeros)
    assert parse_amount(written, prof) == value


@given(
    style=hypothesis_styles,
    value=st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2).filter(lambda v: v != 0),
    grouped=st.booleans(),
)
def test_a_written_row_reads_back_as_the_same_amount_and_direction(style, value, grouped):
    if style.get("implied_decimals") not in (None, 2):
        style = {**style, "implied_decimals": 2}
    prof = profile(**style)
    written = write_amount(value, style, grouped=grouped, negative_as="leading", zeros=0)
    (transaction,) = parse([HEADER, f'01.02.2025;"{written}";R1;x'], prof).transactions
    assert transaction.amount == abs(value)
    assert transaction.direction == (Direction.DEBIT if value < 0 else Direction.CREDIT)


def test_more_decimals_than_the_currency_has_is_a_rejection_not_a_rounding():
    # '1,234' read with ',' as decimal separator is 1.234: a profile with the separators swapped would read the
    # Turkish thousand 1.234 as this, so three decimals in lira are refused rather than rounded.
    position, reason = only_rejection(parse([HEADER, "01.02.2025;1,234;R1;x"]))
    assert position == "line 2"
    assert "amount (column 'Tutar'): '1,234' has more decimals than TRY has (2)" in reason


def test_extra_zero_decimals_are_fine_and_yen_has_none():
    result = parse([HEADER, "01.02.2025;1.234,00;R1;x", "01.02.2025;1.500,5;R2;x"], profile(default_currency="JPY"))
    assert result.transactions[0].amount == Decimal(1234)
    assert result.rejections[0].position == "line 3"
    assert "has more decimals than JPY has (0)" in result.rejections[0].reason
    result = parse([HEADER, "01.02.2025;1.234,5600;R1;x"])
    assert result.transactions[0].amount == Decimal("1234.56")
    assert str(result.transactions[0].amount) == "1234.5600"  # every digit the bank wrote, as camt and MT940 keep


def test_absurdly_long_amounts_are_rejected():
    _, reason = only_rejection(parse([HEADER, f"01.02.2025;{'9' * 16},00;R1;x"]))
    assert reason == f"amount (column 'Tutar'): '{'9' * 16},00' has more than 15 integer digits"
    assert parse_amount("0000" + "9" * 15, profile()) == Decimal("9" * 15)  # leading zeros do not count


def test_a_profile_built_in_code_may_use_column_slices():
    prof = BankProfile.model_validate(
        fixed(columns={"booking_date": ColumnSlice(start=0, length=8), "amount": {"start": 8, "length": 12}})
    )
    assert prof.columns["booking_date"] == ColumnSlice(start=0, length=8)


def test_zero_amounts_are_rejected():
    position, reason = only_rejection(parse([HEADER, "01.02.2025;-0,00;R1;x"]))
    assert (position, reason) == ("line 2", "amount (column 'Tutar'): amount is zero ('-0,00')")


def test_signed_amounts_give_the_direction():
    result = parse([HEADER, "01.02.2025;1.000,00;R1;x", "01.02.2025;-25,50;R2;x", "01.02.2025;(3,00);R3;x"])
    assert [(t.direction, t.amount) for t in result.transactions] == [
        (Direction.CREDIT, Decimal("1000.00")),
        (Direction.DEBIT, Decimal("25.50")),
        (Direction.DEBIT, Decimal("3.00")),
    ]


# --- direction: marker column, separate debit and credit columns -----------------------------------------------------


def marker_profile() -> BankProfile:
    return profile(
        columns={"booking_date": "Tarih", "amount": "Tutar", "direction_marker": "B/A", "reference": "Ref"},
        credit_markers=["A", "ALACAK", "+"],
        debit_markers=["B", "BORÇ", "-"],
    )


def test_direction_markers_are_matched_without_regard_to_case():
    lines = ["Tarih;Tutar;B/A;Ref"]
    lines += [f"01.02.2025;10,00;{marker};R{i}" for i, marker in enumerate(["A", "alacak", " + ", "b", "Borç", "-"])]
    result = parse(lines, marker_profile())
    assert [t.direction for t in result.transactions] == [Direction.CREDIT] * 3 + [Direction.DEBIT] * 3


def test_unknown_or_contradicting_markers_are_rejected():
    result = parse(
        ["Tarih;Tutar;B/A;Ref", "01.02.2025;10,00;X;R1", "01.02.2025;-10,00;A;R2", "01.02.2025;-10,00;B;R3"],
        marker_profile(),
    )
    assert [r.position for r in result.rejections] == ["line 2", "line 3"]
    assert result.rejections[0].reason == (
        "direction_marker (column 'B/A'): 'X' is neither a credit marker (A, ALACAK, +) nor a debit marker (B, BORÇ, -)"
    )
    assert (
        result.rejections[1].reason
        == "amount (column 'Tutar') is negative but direction_marker (column 'B/A') 'A' says credit"
    )
    assert result.transactions[0].direction is Direction.DEBIT  # a '-' on a debit only repeats the marker


def split_profile() -> BankProfile:
    return profile(
        columns={"booking_date": "Tarih", "debit_amount": "Borç", "credit_amount": "Alacak", "reference": "Ref"}
    )


def test_separate_debit_and_credit_columns():
    result = parse(
        [
            "Tarih;Borç;Alacak;Ref",
            "01.02.2025;;1.500,00;R1",
            "01.02.2025;75,25;;R2",
            "01.02.2025;-75,25;0,00;R3",  # a debit column written negative is still a debit
            "01.02.2025;10,00;10,00;R4",
            "01.02.2025;;;R5",
            "01.02.2025;0,00;0,00;R6",
            "01.02.2025;;-5,00;R7",
            "01.02.2025;abc;;R8",
        ],
        split_profile(),
    )
    assert [(t.direction, t.amount, t.position) for t in result.transactions] == [
        (Direction.CREDIT, Decimal("1500.00"), "line 2"),
        (Direction.DEBIT, Decimal("75.25"), "line 3"),
        (Direction.DEBIT, Decimal("75.25"), "line 4"),
    ]
    reasons = {r.position: r.reason for r in result.rejections}
    assert (
        reasons["line 5"]
        == "both debit_amount (column 'Borç') '10,00' and credit_amount (column 'Alacak') '10,00' are filled"
    )
    assert reasons["line 6"].startswith("amount is zero: debit_amount (column 'Borç') and credit_amount")
    assert reasons["line 7"] == reasons["line 6"]
    assert reasons["line 8"] == "credit_amount (column 'Alacak'): '-5,00' is negative in the credit column"
    assert reasons["line 9"] == "debit_amount (column 'Borç'): 'abc' is not an amount written like 1.234,56"


# --- dates, currency, references, texts ------------------------------------------------------------------------------


def test_bad_dates_name_the_column_the_value_and_the_format():
    position, reason = only_rejection(parse([HEADER, "31.02.2025;10,00;R1;x"]))
    assert position == "line 2"
    assert reason == "booking_date (column 'Tarih'): '31.02.2025' is not a date in the format '%d.%m.%Y'"


def test_rejections_and_transactions_carry_their_physical_line():
    result = parse([HEADER, "01.02.2025;10,00;R1;x", "", "31.02.2025;10,00;R2;x", "02.02.2025;5,00;R3;y"])
    assert [(r.position, r.line) for r in result.rejections] == [("line 4", 4)]
    assert [t.line for t in result.transactions] == [2, 5]


def test_every_problem_of_a_row_is_in_its_one_rejection():
    _, reason = only_rejection(parse([HEADER, "2025-02-01;12.50;R1;x"]))
    assert reason == (
        "booking_date (column 'Tarih'): '2025-02-01' is not a date in the format '%d.%m.%Y'; "
        "amount (column 'Tutar'): '12.50' is not an amount written like 1.234,56"
    )


def test_a_row_needs_a_booking_or_value_date():
    prof = profile(columns={"booking_date": "Tarih", "value_date": "Valör", "amount": "Tutar"})
    result = parse(["Tarih;Valör;Tutar", ";03.02.2025;5,00", ";;5,00"], prof)
    assert (result.transactions[0].booking_date, result.transactions[0].value_date) == (None, date(2025, 3 - 1, 3))
    assert result.rejections[0].position == "line 3"
    assert result.rejections[0].reason == "no booking_date or value_date: the date cells are empty"


def test_currency_column_with_aliases_and_default():
    prof = profile(
        columns={"booking_date": "Tarih", "amount": "Tutar", "currency": "PB"},
        currency_aliases={"tl": "TRY"},
    )
    result = parse(
        ["Tarih;Tutar;PB", "01.02.2025;1,00;TL", "01.02.2025;1,00;eur", "01.02.2025;1,00;", "01.02.2025;1,00;XYZ"], prof
    )
    assert [t.currency for t in result.transactions] == ["TRY", "EUR", "TRY"]
    assert (
        result.rejections[0].reason == "currency (column 'PB'): 'XYZ' is not an ISO 4217 currency code or a known alias"
    )


def test_an_empty_currency_cell_without_a_default_is_rejected():
    prof = profile(columns={"booking_date": "Tarih", "amount": "Tutar", "currency": "PB"}, default_currency=None)
    result = parse(["Tarih;Tutar;PB", "01.02.2025;1,00;", "01.02.2025;1,00;USD"], prof)
    assert result.transactions[0].currency == "USD"
    assert result.rejections[0].reason == "currency (column 'PB'): empty, and the profile has no default_currency"


def test_without_a_currency_column_or_default_there_is_no_profile():
    with pytest.raises(ValidationError, match="default_currency: required when no currency column is mapped"):
        profile(default_currency=None)


def test_the_reference_column_is_the_bank_reference():
    result = parse([HEADER, "01.02.2025;1,00; DK-77 ;x"])
    assert result.transactions[0].bank_reference == "DK-77"


def no_reference_profile(bank_id: str = "testbank") -> BankProfile:
    return profile(bank_id=bank_id, columns={"booking_date": "Tarih", "amount": "Tutar", "remittance": "Açıklama"})


def test_without_a_reference_the_row_content_is_hashed_so_a_redelivered_or_overlapping_entry_keeps_its_key():
    monday = parse(
        ["Tarih;Tutar;Açıklama", "01.02.2025;1,00;INV-1", "02.02.2025;2,00;INV-2"], no_reference_profile()
    ).transactions
    # The next export overlaps by a day, with other quoting and padding: the shared entry keeps its key.
    tuesday = parse(
        ["Tarih;Tutar;Açıklama", '02.02.2025; 2,00 ;"INV-2"', "03.02.2025;3,00;INV-3"], no_reference_profile()
    ).transactions
    assert monday[1].bank_reference == tuesday[0].bank_reference
    assert monday[1].position != tuesday[0].position
    assert len({t.bank_reference for t in [*monday, *tuesday]}) == 3
    assert all(t.bank_reference and t.bank_reference.startswith("sha256:") for t in monday)


def test_hashed_references_differ_between_banks_and_between_identical_rows():
    rows = ["Tarih;Tutar;Açıklama", "01.02.2025;50,00;aidat", "01.02.2025;50,00;aidat"]
    here = parse(rows, no_reference_profile()).transactions
    there = parse(rows, no_reference_profile("otherbank")).transactions
    assert here[0].bank_reference != here[1].bank_reference  # two equal payments on one day are two payments
    assert here[0].bank_reference != there[0].bank_reference
    assert parse(rows, no_reference_profile()).transactions == here  # deterministic


def test_an_empty_reference_cell_falls_back_to_the_hash():
    (transaction,) = parse([HEADER, "01.02.2025;1,00;;x"]).transactions
    assert transaction.bank_reference and transaction.bank_reference.startswith("sha256:")


def test_texts_are_trimmed_and_notprovided_is_no_end_to_end_id():
    prof = profile(
        columns={
            "booking_date": 0,
            "amount": 1,
            "end_to_end_id": 2,
            "customer_reference": 3,
            "debtor_account": 4,
            "account": 5,
            "remittance": [6, 7, 8],
        },
        header_rows=0,
    )
    lines = [
        "01.02.2025;1,00;NOTPROVIDED;CUST-1; 0123-998877 ;TR12;  first ;;third",
        "01.02.2025;1,00;E2E-9;;;;;;",
    ]
    first, second = parse(lines, prof).transactions
    assert first.end_to_end_id is None
    assert (first.customer_reference, first.debtor_account, first.account) == ("CUST-1", "0123-998877", "TR12")
    assert first.remittance_lines == ("first", "third")
    assert (second.end_to_end_id, second.customer_reference, second.account, second.remittance_lines) == (
        "E2E-9",
        None,
        None,
        (),
    )


# --- file structure: header, footer, blank and skipped lines, quoting, column counts ---------------------------------


def test_header_names_match_exactly_or_else_without_regard_to_case():
    result = parse(
        ["TARIH;TUTAR;REF;AÇIKLAMA", "01.02.2025;1,00;R;x"],
        profile(columns={"booking_date": "tarih", "amount": "Tutar"}),
    )
    assert result.transactions[0].amount == Decimal("1.00")


def test_a_header_without_a_mapped_column_rejects_the_file_and_shows_the_header():
    with pytest.raises(BankFileError) as caught:
        parse(["Tarih;Miktar;Ref;Açıklama", "01.02.2025;1,00;R;x"])
    assert caught.value.reason == (
        "column 'Tutar' (for amount) is not in the header on line 1; "
        "the header has: 'Tarih', 'Miktar', 'Ref', 'Açıklama'"
    )


def test_an_unreadable_header_rejects_the_file():
    with pytest.raises(BankFileError, match="the header on line 1 is not readable as delimited text"):
        parse(['"Tarih"x;Tutar;Ref;Açıklama', "01.02.2025;1,00;R;x"])


def test_index_columns_are_named_in_both_counts():
    prof = profile(header_rows=0, columns={"booking_date": 0, "amount": 1})
    _, reason = only_rejection(parse(["01.02.2025;abc"], prof))
    assert reason == "amount (column 2, index 1): 'abc' is not an amount written like 1.234,56"


def test_an_ambiguous_header_rejects_the_file():
    with pytest.raises(BankFileError, match="column 'Tutar' \\(for amount\\) appears more than once"):
        parse(["Tarih;Tutar;Ref;Tutar", "01.02.2025;1,00;R;x"])


def test_header_rows_footer_rows_and_positions_are_physical_lines():
    prof = profile(header_rows=3, skip_footer_rows=2)
    lines = [
        "Hesap hareketleri",
        "",
        HEADER,
        "01.02.2025;1,00;R1;x",
        "",
        "01.02.2025;bad;R2;x",
        "01.02.2025;3,00;R3;x",
        "Toplam;4,00;;",
        "Kayıt sayısı;3;;",
        "",
        "",
    ]
    result = parse(lines, prof)
    assert [t.position for t in result.transactions] == ["line 4", "line 7"]
    assert [r.position for r in result.rejections] == ["line 6"]


def test_blank_lines_are_rejected_when_the_profile_says_so():
    result = parse([HEADER, "01.02.2025;1,00;R1;x", "   ", "01.02.2025;1,00;R2;x"], profile(skip_blank_lines=False))
    assert len(result.transactions) == 2
    assert only_rejection(result.model_copy(update={"transactions": ()})) == ("line 3", "line is blank")


def test_lines_with_a_skip_prefix_are_not_rows():
    result = parse(
        [HEADER, "01.02.2025;1,00;R1;x", "Devreden bakiye;100,00;;", "TOPLAM;1,00;;"],
        profile(skip_line_prefixes=["Devreden", "TOPLAM"]),
    )
    assert len(result.transactions) == 1
    assert result.rejections == ()


def test_a_quoted_field_over_two_lines_is_one_row_positioned_where_it_starts():
    result = parse([HEADER, '01.02.2025;1,00;R1;"first line', 'second line"', "01.02.2025;2,00;R2;x"])
    first, second = result.transactions
    assert (first.position, first.remittance_lines) == ("line 2", ("first line\nsecond line",))
    assert second.position == "line 4"


def test_broken_quoting_rejects_the_row_and_reading_goes_on():
    result = parse(
        [HEADER, '01.02.2025;1,00;"R1"x;y', "01.02.2025;2,00;R2;x", '01.02.2025;3,00;R3;"never closed', "more"]
    )
    assert [t.position for t in result.transactions] == ["line 3"]
    (bad_quote, unclosed) = result.rejections
    assert bad_quote.position == "line 2"
    assert "not readable as delimited text (';' expected after '\"') in this line" in bad_quote.reason
    assert unclosed.position == "line 4"
    assert "(unexpected end of data) in lines 4-5: check quotes" in unclosed.reason


def test_rows_with_the_wrong_number_of_columns():
    result = parse(
        [
            HEADER,
            "01.02.2025;1,00;R1;EFT; açıklama",  # an unquoted ';' in the text shifts the columns
            "01.02.2025;1,00;R2",
            "01.02.2025;1,00;R3;x;",  # a trailing delimiter is harmless
        ]
    )
    assert [t.position for t in result.transactions] == ["line 4"]
    assert result.rejections[0].reason == (
        "line has 5 columns but the header has 4: an unquoted ';' inside a text, or a missing column?"
    )
    assert result.rejections[1].reason.startswith("line has 3 columns but the header has 4")


def test_index_columns_need_enough_cells():
    prof = profile(header_rows=0, columns={"booking_date": 0, "amount": 3})
    position, reason = only_rejection(parse(["01.02.2025;x;y"], prof))
    assert (position, reason) == ("line 1", "line has 3 columns, the profile reads up to column 4")


def test_no_quote_character():
    prof = profile(quotechar=None, header_rows=0, columns={"booking_date": 0, "amount": 1, "remittance": 2})
    (transaction,) = parse(['01.02.2025;1,00;"quoted" text'], prof).transactions
    assert transaction.remittance_lines == ('"quoted" text',)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(newline):
    data = newline.join([HEADER, "01.02.2025;1,00;R1;x", "01.02.2025;2,00;R2;x"]).encode()
    result = parse_with_profile(data, profile())
    assert [t.position for t in result.transactions] == ["line 2", "line 3"]


def test_a_file_with_only_a_header_has_no_transactions():
    assert parse([HEADER]) == ParsedBankFile(source_format=BankFormat.PROFILE, statements=1)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "file is empty"),
        (b" \r\n\n", "file is empty"),
        ("Tarih\x00".encode("utf-16-le"), "NUL byte at offset 1: it is binary or UTF-16"),
        (b"only one line\n", "file has 1 lines, fewer than the profile's 3 header and 0 footer rows"),
    ],
)
def test_files_that_cannot_be_read_at_all(data, reason):
    with pytest.raises(BankFileError) as caught:
        parse_with_profile(data, profile(header_rows=3, columns={"booking_date": 0, "amount": 1}))
    assert reason in caught.value.reason


# --- fixed width -----------------------------------------------------------------------------------------------------


def test_fixed_width_rows_are_sliced_by_character():
    prof = BankProfile.model_validate(
        fixed(
            encoding="windows-1254",
            columns={
                "booking_date": {"start": 0, "length": 8},
                "amount": {"start": 8, "length": 12},
                "debtor_name": {"start": 20, "length": 12},
                "reference": {"start": 32, "length": 6},
            },
        )
    )
    lines = [
        "20250201000000012345Şükrü Ağış  REF001",
        "20250201000000000000İpek        REF002",
        "20250201      bad   x           REF003",
        "20250201000000000500",  # trailing columns trimmed away: read as blank, the reference is hashed
    ]
    result = parse_with_profile("\n".join(lines).encode("windows-1254"), prof)
    first, short = result.transactions
    assert (first.amount, first.debtor_name, first.bank_reference) == (Decimal("123.45"), "Şükrü Ağış", "REF001")
    assert (short.amount, short.debtor_name, short.position) == (Decimal("5.00"), None, "line 4")
    assert short.bank_reference and short.bank_reference.startswith("sha256:")
    assert [(r.position, r.reason) for r in result.rejections] == [
        ("line 2", "amount (characters 9-20): amount is zero ('000000000000')"),
        (
            "line 3",
            "amount (characters 9-20): 'bad' is not an amount written like 123456 "
            "(digits only, the last 2 being decimals)",
        ),
    ]


def test_fixed_width_without_an_amount_is_rejected():
    prof = BankProfile.model_validate(fixed())
    position, reason = only_rejection(parse_with_profile(b"20250201\n", prof))
    assert (position, reason) == ("line 1", "amount (characters 9-20): empty")


def test_column_slices_describe_themselves_in_the_banks_1_based_positions():
    assert ColumnSlice(start=0, length=8).describe() == "characters 1-8"


# --- encodings -------------------------------------------------------------------------------------------------------

TURKISH_ROW = "01.02.2025;1.234,56;R1;Şeyma Göğüş İĞDIR ödemesi"


@pytest.mark.parametrize("encoding", ["windows-1254", "iso-8859-9", "utf-8", "utf-8-sig"])
def test_turkish_letters_in_each_turkish_encoding(encoding):
    (transaction,) = parse([HEADER, TURKISH_ROW], profile(encoding=encoding), encoding=encoding).transactions
    assert transaction.remittance_lines == ("Şeyma Göğüş İĞDIR ödemesi",)


def test_a_utf8_bom_does_not_rename_the_first_column():
    (transaction,) = parse([HEADER, TURKISH_ROW], profile(encoding="utf-8"), encoding="utf-8-sig").transactions
    assert transaction.amount == Decimal("1234.56")


def test_windows_1254_bytes_in_a_utf8_profile_name_the_offset_and_the_likely_encoding():
    with pytest.raises(BankFileError) as caught:
        parse([HEADER, TURKISH_ROW], profile(encoding="utf-8"), encoding="windows-1254")
    offset = HEADER.index("ç")  # the header's 'Açıklama' is the first non-ASCII text
    assert caught.value.reason == (
        f"file is not utf-8 text: byte 0xE7 at offset {offset} (line 1) cannot be decoded; in windows-1254 this "
        "byte is 'ç': Turkish banks usually send windows-1254 or iso-8859-9; set the profile's encoding to the one "
        "the bank uses"
    )


def test_a_utf8_file_read_as_windows_1254_is_refused_rather_than_garbled():
    with pytest.raises(BankFileError, match=r"file is UTF-8 \(multi-byte character at offset \d+\) but the profile"):
        parse([HEADER, TURKISH_ROW], profile(encoding="windows-1254"), encoding="utf-8")
    with pytest.raises(BankFileError, match="starts with a UTF-8 byte-order mark but the profile says iso-8859-9"):
        parse([HEADER, "01.02.2025;1,00;R1;x"], profile(encoding="iso-8859-9"), encoding="utf-8-sig")


def test_a_byte_windows_1254_does_not_define():
    data = HEADER.encode("windows-1254") + b"\n01.02.2025;1,00;R1;x\x81\n"
    with pytest.raises(BankFileError) as caught:
        parse_with_profile(data, profile(encoding="windows-1254"))
    assert caught.value.reason.startswith(
        f"file is not windows-1254 text: byte 0x81 at offset {data.index(0x81)} (line 2)"
    )
    assert "iso-8859-9" in caught.value.reason
