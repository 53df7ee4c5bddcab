"""What the two payment initiations we write (pain.008 collections, pain.001 transfers) share: the EPC character
rules for text, the checks of identifiers, IBANs, BICs and amounts, and the few XML helpers they are built with.

Errors name the instruction they are about (position and EndToEndId) and the field, so a caller can set one bad
instruction aside and still send the rest; each message kind has its own subclass of :class:`InitiationError`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext
from re import Pattern
from typing import ClassVar
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from schwifty import BIC, IBAN

from receivables.domain.money import CENT, is_currency

NAME_MAX_LENGTH = 70  # EPC limit; the XSD would allow 140
REMITTANCE_MAX_LENGTH = 140
ID_MAX_LENGTH = 35
# ActiveOrHistoricCurrencyAndAmount and DecimalNumber allow 18 digits in total; with 2 decimals that leaves 16.
MAX_AMOUNT = Decimal("9999999999999999.99")
NOT_PROVIDED = "NOTPROVIDED"

# The schemas disagree on BIC shape: ISO 9362:2014 (pain.008.001.08, pain.001.001.09) allows digits in the bank
# code, the 2009 one (pain.008.001.02, pain.001.001.03) forbids 0/1 as the first location character and O as the
# second. A BIC must fit the schema it is sent in.
BIC_2009 = re.compile(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?")
BIC_2014 = re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")

_SEPA_ID = re.compile(r"[A-Za-z0-9/\-?:().,'+]+")
_NOT_SEPA_TEXT = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_SPACES = re.compile(r" {2,}")
_CURRENCY = re.compile(r"[A-Z]{3}")

# Letters NFKD does not decompose into ASCII, and punctuation whose meaning survives as a SEPA character.
_TRANSLITERATION = str.maketrans(
    {
        "ı": "i",
        "İ": "I",
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
        "ł": "l",
        "Ł": "L",
        "ħ": "h",
        "Ħ": "H",
        "&": "+",
        "‘": "'",
        "’": "'",
        "‚": "'",
        "`": "'",
        "´": "'",
        "‐": "-",
        "‑": "-",
        "–": "-",
        "—": "-",
    }
)


class InitiationError(ValueError):
    """Input that cannot become a valid initiation message; says which instruction (if any) and which field."""

    items: ClassVar[str] = "instructions"
    item: ClassVar[str] = "instruction"

    def __init__(self, problem: str, *, field: str, index: int | None = None, end_to_end_id: str | None = None):
        self.field = field
        self.index = index
        self.end_to_end_id = end_to_end_id
        if index is not None:
            where = f"{self.items}[{index}] (EndToEndId {end_to_end_id!r}): "
        elif end_to_end_id is not None:
            where = f"{self.item} with EndToEndId {end_to_end_id!r}: "
        else:
            where = ""
        super().__init__(f"{where}{field}: {problem}")


def sepa_text(text: str, max_length: int) -> str:
    """``text`` in the EPC basic character set, spaces collapsed, cut to ``max_length`` (may return ``''``)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATION))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    cleaned = _SPACES.sub(" ", _NOT_SEPA_TEXT.sub(" ", bare)).strip()
    return cleaned[:max_length].rstrip()


@dataclass(frozen=True, slots=True)
class Where:
    """Which instruction a check is about; neither index nor id for the message header and our own account."""

    error_type: type[InitiationError]
    index: int | None = None
    end_to_end_id: str | None = None

    def error(self, field: str, problem: str) -> InitiationError:
        return self.error_type(problem, field=field, index=self.index, end_to_end_id=self.end_to_end_id)


def check_id(value: str, field: str, where: Where) -> str:
    """Identifiers come back in status reports and statements, so they are refused, never altered."""
    if not value:
        raise where.error(field, "must not be empty")
    if len(value) > ID_MAX_LENGTH:
        raise where.error(field, f"{value!r} is {len(value)} characters; at most {ID_MAX_LENGTH} are allowed")
    if not _SEPA_ID.fullmatch(value):
        bad = sorted({char for char in value if not _SEPA_ID.fullmatch(char)})
        raise where.error(
            field, f"{value!r} has characters outside the SEPA identifier set (A-Z a-z 0-9 / - ? : ( ) . , ' +): {bad}"
        )
    if value.startswith("/") or value.endswith("/") or "//" in value:
        raise where.error(field, f"{value!r} must not start or end with '/' nor contain '//'")
    return value


def check_iban(value: str, field: str, where: Where) -> str:
    try:
        return IBAN(value).compact
    except ValueError as error:  # schwifty's exceptions are ValueErrors that say what is wrong
        raise where.error(field, f"{value!r} is not a valid IBAN ({error})") from None


def check_bic(value: str | None, pattern: Pattern[str], schema: str, field: str, where: Where) -> str | None:
    if value is None:
        return None
    try:
        compact = BIC(value).compact
    except ValueError as error:
        raise where.error(field, f"{value!r} is not a valid BIC ({error})") from None
    if not pattern.fullmatch(compact):
        raise where.error(field, f"{value!r} does not fit the {schema} BIC pattern")
    return compact


def check_name(value: str, field: str, where: Where) -> str:
    cleaned = sepa_text(value, NAME_MAX_LENGTH)
    if not cleaned:
        raise where.error(field, f"{value!r} has no characters left in the SEPA character set")
    return cleaned


def check_amount(amount: Decimal, currency: str, where: Where) -> Decimal:
    """``amount`` with exactly 2 decimals (``1.230`` is fine, ``1.234`` not), > 0, within the schema's digits."""
    if not amount.is_finite() or amount <= 0:
        raise where.error("amount", f"{amount} must be greater than 0")
    if amount > MAX_AMOUNT:
        raise where.error("amount", f"{amount} is larger than the schema allows ({MAX_AMOUNT})")
    with exact_context():
        try:
            cents = amount.quantize(CENT)
        except Inexact:
            raise where.error("amount", f"{amount} has more than 2 decimals") from None
    if not (_CURRENCY.fullmatch(currency) and is_currency(currency)):
        raise where.error("currency", f"{currency!r} is not an ISO 4217 currency code")
    return cents


def exact_context() -> AbstractContextManager[Context]:
    # A caller's decimal context with low precision would round sums silently; ours traps instead.
    return localcontext(Context(prec=40, traps=[Inexact, InvalidOperation]))


def exact_sum(amounts: Sequence[Decimal]) -> Decimal:
    with exact_context():
        return sum(amounts, Decimal("0.00"))


def money(value: Decimal) -> str:
    """Every value reaching here has exactly 2 decimals already; format, never round."""
    return f"{value:f}"


def text(parent: Element, tag: str, value: str, **attributes: str) -> Element:
    element = SubElement(parent, tag, attributes)
    element.text = value
    return element


def path(parent: Element, nested: str, value: str) -> Element:
    """``a/b/c`` under ``parent``, the last one holding ``value``: pain nests single values deeply."""
    *wrappers, leaf = nested.split("/")
    for tag in wrappers:
        parent = SubElement(parent, tag)
    return text(parent, leaf, value)


def agent(parent: Element, tag: str, bic: str | None, bic_element: str) -> None:
    """A bank by BIC, or ``Othr/Id`` = ``NOTPROVIDED`` when we do not know it (IBAN-only is allowed in SEPA)."""
    institution = SubElement(SubElement(parent, tag), "FinInstnId")
    if bic is None:
        path(institution, "Othr/Id", NOT_PROVIDED)
    else:
        text(institution, bic_element, bic)


def check_payment_information_ids(message_id: str, blocks: int, where: Where) -> None:
    longest_suffix = len(f"-{blocks}")
    if len(message_id) + longest_suffix > ID_MAX_LENGTH:
        raise where.error(
            "message_id",
            f"{message_id!r} is {len(message_id)} characters; with {blocks} payment blocks the PmtInfId "
            f"{message_id}-{blocks} would exceed {ID_MAX_LENGTH} (use at most {ID_MAX_LENGTH - longest_suffix})",
        )


def serialised(document: Element) -> bytes:
    indent(document, space="  ")
    body = tostring(document, encoding="unicode")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body.encode("utf-8") + b"\n"
