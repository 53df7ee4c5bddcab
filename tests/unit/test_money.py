from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from receivables.domain.money import AmountError, format_money, is_currency, parse_positive_amount


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
