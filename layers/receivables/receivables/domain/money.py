"""Money as ``Decimal``: strict parsing of amounts from files, ISO 4217 codes, 2-decimal serialisation."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

import pycountry

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Strict on purpose: a billing file that writes "1.234,56", "1e3" or "12.345" has a format problem we must report,
# not guess at. Leading zeros are harmless and accepted.
_AMOUNT = re.compile(r"(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?\Z")  # ASCII digits only: "١٠٠" is no amount
MAX_INTEGER_DIGITS = 15  # a trillion with room to spare; keeps every amount exact in DynamoDB's 38 digits

# Codes in ISO 4217 that are not money an invoice can be billed in: precious metals, SDR, test and "no currency".
_NOT_BILLABLE = frozenset({"XAU", "XAG", "XPT", "XPD", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD", "XTS", "XXX"})
CURRENCIES: frozenset[str] = frozenset(c.alpha_3 for c in pycountry.currencies) - _NOT_BILLABLE


class AmountError(ValueError):
    """An amount in an input that does not meet the money rules."""


def parse_positive_amount(text: str) -> Decimal:
    """Parse a '.'-decimal amount > 0 with at most 2 decimals, or raise AmountError saying what is wrong."""
    raw = text.strip()
    if raw.startswith("-"):
        raise AmountError(f"amount must be greater than 0, got {raw!r}")
    match = _AMOUNT.match(raw.removeprefix("+"))
    if not match:
        raise AmountError(f"amount {raw!r} is not a decimal number with '.' as decimal separator")
    frac = match.group("frac") or ""
    if len(match.group("int").lstrip("0")) > MAX_INTEGER_DIGITS:
        raise AmountError(f"amount {raw!r} has more than {MAX_INTEGER_DIGITS} integer digits")
    if len(frac) > 2:
        raise AmountError(f"amount {raw!r} has {len(frac)} decimals; at most 2 are allowed")
    value = Decimal(raw.removeprefix("+"))
    if value <= 0:
        raise AmountError(f"amount must be greater than 0, got {raw!r}")
    return value.quantize(CENT)


def format_money(value: Decimal) -> str:
    """Money on the wire: a string with exactly 2 decimals (never a float)."""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_EVEN):f}"


def is_currency(code: str) -> bool:
    return code in CURRENCIES
