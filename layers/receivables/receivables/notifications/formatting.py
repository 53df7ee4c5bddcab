"""Languages we write in, and money and dates in the customer's locale (Babel / CLDR).

Language choice: the customer's language tag is reduced to its primary subtag (``"tr-TR"``, ``"TR"``, ``"tr_TR"``
-> ``"tr"``). Turkish and English have templates; any other, empty or missing language falls back to English,
the language a customer who does not read Turkish is most likely to read. Callers who want Turkish as the default
for customers without a recorded language pass ``"tr"`` themselves.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, get_currency_symbol

from receivables.notifications.errors import TemplateContextError

FALLBACK_LANGUAGE: Final = "en"


@dataclass(frozen=True, slots=True)
class LanguageProfile:
    language: str
    locale: Locale
    date_format: str  # a CLDR date length (short/medium/long) or a pattern


# Turkish: dd.MM.yyyy -> 24.11.2026 and 05.01.2026, the form on Turkish invoices and bank statements (CLDR's short
# date pattern d.MM.y would print 5.01.2026).
# English: en_GB's medium date (24 Nov 2026) — day-month order with a spelt month cannot be misread as 11/24.
PROFILES: Final[dict[str, LanguageProfile]] = {
    "tr": LanguageProfile("tr", Locale.parse("tr_TR"), "dd.MM.yyyy"),
    "en": LanguageProfile("en", Locale.parse("en_GB"), "medium"),
}
SUPPORTED_LANGUAGES: Final = frozenset(PROFILES)

NBSP: Final = "\u00a0"


def resolve_language(language: str | None) -> str:
    """The template language for a customer's language tag: ``tr`` or ``en`` (the fallback for anything else)."""
    primary = (language or "").strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in PROFILES else FALLBACK_LANGUAGE


def profile(language: str | None) -> LanguageProfile:
    return PROFILES[resolve_language(language)]


def localized_money(amount: Decimal, currency: str, language: str | None) -> str:
    """``₺1.234,56`` in Turkish, ``TRY 1,234.56`` (no-break space) in English.

    Babel's standard currency format, plus CLDR's currency-spacing rule that Babel does not apply: when the symbol
    touching the digits ends (or starts) with a letter, as an ISO code does, a no-break space separates them —
    ``TRY1,234.56`` is how Babel alone prints it.
    """
    if not isinstance(amount, Decimal):
        raise TemplateContextError(f"money: expected a Decimal amount, got {type(amount).__name__} {amount!r}")
    locale = profile(language).locale
    text = format_currency(amount, currency, locale=locale)
    symbol = get_currency_symbol(currency, locale=locale)
    return _space_symbol(text, symbol)


def localized_date(day: date, language: str | None) -> str:
    """``24.11.2026`` in Turkish, ``24 Nov 2026`` in English."""
    if not isinstance(day, date):
        raise TemplateContextError(f"date: expected a date, got {type(day).__name__} {day!r}")
    selected = profile(language)
    return babel_format_date(day, selected.date_format, locale=selected.locale)


def _space_symbol(text: str, symbol: str) -> str:
    at = text.find(symbol)
    if not symbol or at < 0:
        return text
    end = at + len(symbol)
    if end < len(text) and text[end].isdigit() and _is_letterlike(symbol[-1]):
        return f"{text[:end]}{NBSP}{text[end:]}"
    if at > 0 and text[at - 1].isdigit() and _is_letterlike(symbol[0]):
        return f"{text[:at]}{NBSP}{text[at:]}"
    return text


def _is_letterlike(char: str) -> bool:
    # CLDR currencyMatch [[:^S:]&[:^Z:]]: anything that is neither a symbol (₺ $ €) nor a separator.
    return not unicodedata.category(char).startswith(("S", "Z"))
