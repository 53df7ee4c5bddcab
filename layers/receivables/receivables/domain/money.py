"""Money as ``Decimal``: strict parsing of amounts from files, ISO 4217 codes and minor units, 2-decimal
serialisation."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

import pycountry
from babel.numbers import get_currency_precision

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Strict on purpose: a billing file that writes "1.234,56", "1e3" or "12.345" has a format problem we must report,
# not guess at. Leading zeros are harmless and accepted.
_AMOUNT = re.compile(r"(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?\Z")  # ASCII digits only: "١٠٠" is no amount
MAX_INTEGER_DIGITS = 15  # a trillion with room to spare; keeps every amount exact in DynamoDB's 38 digits

# Codes in ISO 4217 that are not money an invoice can be billed in: precious metals, SDR, test and "no currency".
_NOT_BILLABLE = frozenset({"XAU", "XAG", "XPT", "XPD", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD", "XTS", "XXX"})
CURRENCIES: frozenset[str] = frozenset(c.alpha_3 for c in pycountry.currencies) - _NOT_BILLABLE

# Babel's precision is CLDR's "digits": how many decimals people write, which is 0 where the minor unit is out of use
# in daily life. ISO 4217 still defines those minor units, and bank files (ISO 20022, SWIFT) carry them: a Serbian
# bank writes RSD 1250.50. These are the codes where the two disagree (checked against every code in CURRENCIES).
_ISO_MINOR_UNITS_UNLIKE_CLDR = {
    **dict.fromkeys(("AFN", "ALL", "IRR", "KPW", "LAK", "LBP", "MGA", "MMK", "RSD", "SOS", "SYP", "YER"), 2),
    "IQD": 3,
}


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


def minor_units(currency: str) -> int:
    """ISO 4217 minor units: the decimals of an amount in ``currency`` (EUR and TRY 2, JPY 0, BHD 3, CLF 4).

    A code Babel does not know gets 2, its default; callers that care check the code with :func:`is_currency`.
    """
    return _ISO_MINOR_UNITS_UNLIKE_CLDR.get(currency, get_currency_precision(currency))


def _digits(value: Decimal) -> tuple[str, str]:
    """The integer digits without leading zeros and the decimals without trailing zeros, exactly (no context)."""
    whole, _, fraction = f"{value.copy_abs():f}".partition(".")
    return whole.lstrip("0"), fraction.rstrip("0")


def total_digits(value: Decimal) -> int:
    """Digits of the value as XML Schema's ``totalDigits`` counts them: leading zeros and trailing decimal zeros
    are how it is written, not digits of the value (``0010.500`` has 3)."""
    whole, fraction = _digits(value)
    return len(whole) + len(fraction)


def quantize_to_currency(value: Decimal, currency: str) -> Decimal:
    """``value`` with exactly the currency's minor units: ``10.500`` TRY → ``10.50``, ``1000.00`` JPY → ``1000``.

    Raises AmountError when a decimal beyond them is not zero (``10.001`` TRY, ``10.5`` JPY): money is refused with a
    reason, never rounded away.
    """
    places = minor_units(currency)
    decimals = len(_digits(value)[1])
    if decimals > places:
        raise AmountError(
            f"{value} {currency} has {decimals} significant decimal{'s' if decimals != 1 else ''} but {currency} "
            f"has {places} (ISO 4217 minor units): refused, not rounded"
        )
    try:
        return value.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:  # more digits than Decimal's context holds: no amount anyone means
        raise AmountError(f"{value} {currency} has too many digits to be an amount") from None
