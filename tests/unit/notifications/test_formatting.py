from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from receivables.notifications import TemplateContextError, localized_date, localized_money, resolve_language

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1234.56", "TRY", "₺1.234,56"),
        ("0.50", "TRY", "₺0,50"),
        ("1234567.89", "TRY", "₺1.234.567,89"),
        ("-5", "TRY", "-₺5,00"),
        ("1234.56", "EUR", "€1.234,56"),
        ("1234.56", "USD", "$1.234,56"),
    ],
)
def test_turkish_money_is_babel_tr_tr(amount: str, currency: str, expected: str) -> None:
    assert localized_money(Decimal(amount), currency, "tr") == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        # Babel alone prints "TRY1,234.56"; CLDR's currency spacing puts a no-break space after a letter code.
        ("1234.56", "TRY", f"TRY{NBSP}1,234.56"),
        ("-5", "TRY", f"-TRY{NBSP}5.00"),
        ("1234.56", "EUR", "€1,234.56"),
        ("1234.56", "USD", "US$1,234.56"),
        ("1234.56", "GBP", "£1,234.56"),
    ],
)
def test_english_money_is_babel_en_gb_with_currency_spacing(amount: str, currency: str, expected: str) -> None:
    assert localized_money(Decimal(amount), currency, "en") == expected


def test_money_refuses_a_float() -> None:
    with pytest.raises(TemplateContextError, match="Decimal"):
        localized_money(1234.56, "TRY", "tr")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "language", "expected"),
    [
        (date(2026, 11, 24), "tr", "24.11.2026"),
        (date(2026, 1, 5), "tr", "05.01.2026"),
        (date(2026, 11, 24), "en", "24 Nov 2026"),
        (date(2026, 1, 5), "en", "5 Jan 2026"),
    ],
)
def test_dates_in_the_customer_locale(day: date, language: str, expected: str) -> None:
    assert localized_date(day, language) == expected


def test_date_refuses_a_string() -> None:
    with pytest.raises(TemplateContextError, match="date"):
        localized_date("2026-11-24", "tr")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("tr", "tr"),
        ("TR", "tr"),
        ("tr-TR", "tr"),
        ("tr_TR", "tr"),
        (" tr ", "tr"),
        ("en", "en"),
        ("en-US", "en"),
        ("de", "en"),
        ("ku", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_language_falls_back_to_english(tag: str | None, expected: str) -> None:
    assert resolve_language(tag) == expected
