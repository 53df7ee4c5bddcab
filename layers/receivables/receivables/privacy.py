"""Personal data kept out of logs: one function that every log line passes through (observability's formatter, the
local runtime's own log), whatever put it there — a message, an ``extra`` field, an exception's text.

Two nets, because no single one catches everything:

- by **field**: the value of a JSON field whose name says it is personal (``name``, ``email``, ``phone``, ``iban``,
  ``address``, ``tax_id``…) is replaced, whatever it holds — names and addresses have no shape a pattern knows;
- by **shape**, anywhere in the line: card numbers (13–19 digits passing Luhn), e-mail addresses, phone numbers
  (E.164, and Turkish mobiles written 05xx…), IBANs and Turkish TCKN/VKN numbers — the checksummed ones only when
  their checksum holds (python-stdnum), so an entry id or a bank reference that merely looks like one stays
  readable.

What it writes instead says what was there (``<iban>``), so a log still reads.
"""

from __future__ import annotations

import re

from stdnum import iban as _iban
from stdnum.tr import tckimlik as _tckn
from stdnum.tr import vkn as _vkn

from receivables.domain.cards import PAN_SHAPE, is_pan

MASK = "<personal>"

# JSON field names (as our records and events spell them) whose value is personal whatever it looks like.
PERSONAL_FIELDS = (
    "name",
    "customer_name",
    "debtor_name",
    "creditor_name",
    "payer_name",
    "full_name",
    "email",
    "phone",
    "msisdn",
    "iban",
    "debtor_iban",
    "payer_iban",
    "address",
    "billing_address",
    "postal_address",
    "street",
    "tax_id",
    "national_id",
    "tckn",
    "vkn",
    "autopay_token",
    "card_token",
    "pan",
)

_FIELD = re.compile(
    r'("(?:' + "|".join(PERSONAL_FIELDS) + r')"\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d[\d.]*)', flags=re.IGNORECASE
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{8,15}|0?5\d{2}[ -]?\d{3}[ -]?\d{2}[ -]?\d{2})(?!\w)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_TAX_NUMBER = re.compile(r"(?<![\w.-])\d{10,11}(?![\w.-])")


def _iban_or_text(match: re.Match[str]) -> str:
    return "<iban>" if _iban.is_valid(match.group(0)) else match.group(0)


def _tax_number_or_text(match: re.Match[str]) -> str:
    digits = match.group(0)
    valid = _tckn.is_valid(digits) if len(digits) == 11 else _vkn.is_valid(digits)
    return "<tax-id>" if valid else digits


def _pan_or_text(match: re.Match[str]) -> str:
    return "<pan>" if is_pan(match.group(0)) else match.group(0)


def mask_personal_data(line: str) -> str:
    """``line`` with every personal value it carries replaced (see the module's docstring)."""
    line = _FIELD.sub(lambda m: f'{m.group(1)}"{MASK}"', line)
    line = PAN_SHAPE.sub(_pan_or_text, line)  # before the phone and tax-number nets take parts of a card number
    line = _EMAIL.sub("<email>", line)
    line = _IBAN.sub(_iban_or_text, line)
    line = _PHONE.sub("<phone>", line)
    return _TAX_NUMBER.sub(_tax_number_or_text, line)
