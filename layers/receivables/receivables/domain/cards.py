"""Card numbers (PANs) are never ours to keep: the card vault holds them and gives us a token. This says whether a
text looks like a card number — 13 to 19 digits, spaces or dashes allowed between them, passing the Luhn check
(python-stdnum) — so input carrying one is refused and a log line carrying one is masked."""

from __future__ import annotations

import re

from stdnum import luhn

# A run of 13–19 digits, single spaces or dashes allowed between them, not inside a longer number.
PAN_SHAPE = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")


def is_pan(digits_with_separators: str) -> bool:
    digits = re.sub(r"[ -]", "", digits_with_separators)
    return 13 <= len(digits) <= 19 and digits.isdigit() and luhn.is_valid(digits)


def contains_pan(text: str) -> bool:
    return any(is_pan(match.group(0)) for match in PAN_SHAPE.finditer(text))
