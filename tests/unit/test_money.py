from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from receivables.domain.money import (
    CURRENCIES,
    AmountError,
    format_money,
    is_currency,
    minor_units,
    parse_positive_amount,
    quantize_to_currency,
    total_digits,
)


@pytest.mark.parametrize(
    ("text", "expected"), [("100", "100.00"), ("99.5", "99.50"), ("0.01", "0.01"), ("007.10", "7.10"), ("+3", "3.00")]
)
def test_valid_amounts(text, expected):
    assert format_money(parse_positive_amount(text)) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", "greater than 0"),
        ("0.00", "greater than 0"),
        ("-5", "greater than 0"),
        ("10.001", "at most 2"),
        ("10.000", "at most 2"),
        ("1,50", "'.' as decimal"),
        ("1e3", "'.' as decimal"),
        ("abc", "'.' as decimal"),
        ("1.234,56", "'.' as decimal"),
        ("NaN", "'.' as decimal"),
    ],
)
def test_invalid_amounts_say_why(text, reason):
    with pytest.raises(AmountError, match=reason):
        parse_positive_amount(text)


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e12"), places=2))
def test_any_two_decimal_amount_round_trips_exactly(value):
    assert parse_positive_amount(format_money(value)) == value


def test_currencies_are_iso_4217_money_only():
    assert is_currency("TRY") and is_currency("EUR") and is_currency("JPY")
    assert not is_currency("XYZ") and not is_currency("XAU") and not is_currency("TRL") and not is_currency("try")


# --- ISO 4217 minor units ------------------------------------------------------------------------------------------

# ISO 4217 list one, written out independently of Babel: every other billable currency has 2 minor units.
_ISO_NOT_TWO = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND"), 0),
    **dict.fromkeys(("VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


@pytest.mark.parametrize(
    ("currency", "places"),
    [("TRY", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("CLF", 4), ("IQD", 3), ("RSD", 2), ("ALL", 2)],
)
def test_minor_units_are_iso_4217s(currency, places):
    # IQD, RSD and ALL: Babel (CLDR) says 0 because their minor units are out of daily use; banks still write them.
    assert minor_units(currency) == places


def test_minor_units_agree_with_iso_4217_for_every_currency():
    assert {code: minor_units(code) for code in CURRENCIES} == {code: _ISO_NOT_TWO.get(code, 2) for code in CURRENCIES}


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("10.500", "TRY", "10.50"),  # extra decimals that are zeros are no precision
        ("10", "TRY", "10.00"),
        ("1000.00", "JPY", "1000"),
        ("0000045.5000", "EUR", "45.50"),
        ("1.250", "BHD", "1.250"),
        ("0.0001", "CLF", "0.0001"),
    ],
)
def test_amounts_are_quantized_to_the_currency_minor_units(text, currency, expected):
    assert str(quantize_to_currency(Decimal(text), currency)) == expected


@pytest.mark.parametrize(
    ("text", "currency", "reason"),
    [
        ("10.001", "TRY", "10.001 TRY has 3 significant decimals but TRY has 2"),
        ("10.5", "JPY", "10.5 JPY has 1 significant decimal but JPY has 0"),
        ("1.0005", "BHD", "has 4 significant decimals but BHD has 3"),
        ("1E+40", "EUR", "too many digits"),
    ],
)
def test_amounts_finer_than_the_currency_are_refused_not_rounded(text, currency, reason):
    with pytest.raises(AmountError, match=reason):
        quantize_to_currency(Decimal(text), currency)


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2), st.integers(0, 4))
def test_trailing_zeros_never_change_the_amount(value, zeros):
    written = Decimal(f"{value:f}" + "0" * zeros)  # places=2 always writes the decimal point
    assert quantize_to_currency(written, "TRY") == value


@given(st.integers(1, 10**12), st.integers(1, 9))
def test_a_non_zero_digit_past_the_minor_units_is_always_refused(cents, digit):
    with pytest.raises(AmountError):
        quantize_to_currency(Decimal(cents).scaleb(-2) + Decimal(digit).scaleb(-3), "TRY")


@pytest.mark.parametrize(
    ("text", "digits"),
    [("0010.500", 3), ("123456789012345678", 18), ("1234567890123456.78", 18), ("0.00001", 5), ("100", 3)],
)
def test_total_digits_count_neither_leading_zeros_nor_trailing_decimal_zeros(text, digits):
    assert total_digits(Decimal(text)) == digits
