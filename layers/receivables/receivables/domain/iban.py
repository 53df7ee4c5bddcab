"""IBANs in one form: the compact upper-case text every file format, the customer table and matching compare.

People and banks write an IBAN in groups (``TR33 0006 1005 …``, ``DE89-3704-0044…``, ``NL91.ABNA.…``), sometimes
after an ``IBAN:`` label, with a no-break space copied from a PDF or a web page. Two spellings of one account must
meet, so every place that reads an IBAN normalises it here before storing, looking up or comparing it.
"""

from __future__ import annotations

import re

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

__all__ = ["iban_checksum_ok", "is_iban_shaped", "normalise_iban"]

# Group separators: any Unicode space (\s covers the no-break, thin and narrow no-break spaces), ASCII and Unicode
# hyphens and dashes, dots; and the invisible characters a copy from a document brings along (zero-width space,
# byte-order mark).
_SEPARATORS = re.compile(r"[\s\-.\u2010-\u2015\u200b\ufeff]+")
# The label some write before the number ('IBAN', 'IBAN:'). No country code is 'IB', so an IBAN never starts with it.
_LABEL = re.compile(r"(?:IBAN:*)+")
# Country code, 2 check digits, then the country's BBAN: 11 to 30 letters and digits (15 to 34 characters in all).
_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}\Z")


def normalise_iban(text: str) -> str:
    """``text`` without group separators and label, upper-case: ``'iban: tr33 0006-1005.1978'`` → ``'TR3300061005…'``.

    Only the writing is normalised; whether the result is an IBAN at all is for :func:`is_iban_shaped` or
    :func:`iban_checksum_ok` to say.
    """
    compact = _SEPARATORS.sub("", text).upper()
    label = _LABEL.match(compact)
    return compact[label.end() :] if label else compact


def is_iban_shaped(text: str) -> bool:
    """Whether ``text`` (normalised first) looks like an IBAN: country letters, 2 check digits, 11-30 letters and
    digits. No checksum: customer data is not refused for an IBAN the customer's bank may still correct."""
    return bool(_SHAPE.match(normalise_iban(text)))


def iban_checksum_ok(text: str) -> bool:
    """Whether ``text`` (normalised first) is a valid IBAN as schwifty checks it: a known country, that country's
    length and the mod-97 check digits. For telling an IBAN from other account numbers in bank files."""
    compact = normalise_iban(text)
    if not _SHAPE.match(compact):
        return False  # cheap refusal before schwifty, which is called for every account-like field of a statement
    try:
        IBAN(compact)
    except SchwiftyException:
        return False
    return True
