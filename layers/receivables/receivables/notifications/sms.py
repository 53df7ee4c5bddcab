"""How many SMS segments a text costs (3GPP TS 23.038 / 23.040).

A text written only in the GSM 7-bit default alphabet (plus its extension table, whose characters take two
septets) fits 160 characters in one message, 153 per segment once concatenated. One character outside it — for
Turkish text typically ş, ğ, ı, İ, ç or ₺ — switches the whole message to UCS-2: 70 per message, 67 per segment.
(The Turkish national shift tables would avoid that, but SNS does not offer them.)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

_GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")  # each sent as ESC + character: two septets

GSM7_SINGLE: Final = 160
GSM7_PART: Final = 153  # 7 septets go to the concatenation header
UCS2_SINGLE: Final = 70
UCS2_PART: Final = 67


class SmsEncoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True, slots=True)
class SmsSize:
    encoding: SmsEncoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def sms_encoding(text: str) -> SmsEncoding:
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text):
        return SmsEncoding.GSM7
    return SmsEncoding.UCS2


def sms_size(text: str) -> SmsSize:
    """Encoding, length in encoding units and segment count; a character never straddles two segments."""
    encoding = sms_encoding(text)
    if encoding is SmsEncoding.GSM7:
        widths = [2 if ch in _GSM7_EXTENSION else 1 for ch in text]
        single, part = GSM7_SINGLE, GSM7_PART
    else:
        widths = [2 if ord(ch) > 0xFFFF else 1 for ch in text]  # astral characters are surrogate pairs
        single, part = UCS2_SINGLE, UCS2_PART
    units = sum(widths)
    if units == 0:
        return SmsSize(encoding, 0, 0)
    if units <= single:
        return SmsSize(encoding, units, 1)
    segments, used = 1, 0
    for width in widths:
        if used + width > part:
            segments, used = segments + 1, 0
        used += width
    return SmsSize(encoding, units, segments)
