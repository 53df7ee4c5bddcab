from __future__ import annotations

import pytest
from receivables.notifications import SmsEncoding, sms_size


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", SmsEncoding.GSM7, 0, 0),
        ("a" * 160, SmsEncoding.GSM7, 160, 1),
        ("a" * 161, SmsEncoding.GSM7, 161, 2),
        ("a" * 306, SmsEncoding.GSM7, 306, 2),
        ("a" * 307, SmsEncoding.GSM7, 307, 3),
        ("€" * 80, SmsEncoding.GSM7, 160, 1),  # extension-table characters take two septets
        ("€" * 81, SmsEncoding.GSM7, 162, 2),
        ("a" * 152 + "€" + "a" * 152, SmsEncoding.GSM7, 306, 3),  # the escape pair is not split across segments
        ("Ödeme Ürün Çek", SmsEncoding.GSM7, 14, 1),  # Ö, Ü and Ç are in the GSM default alphabet
        ("ş" * 70, SmsEncoding.UCS2, 70, 1),
        ("ş" * 71, SmsEncoding.UCS2, 71, 2),
        ("ş" * 134, SmsEncoding.UCS2, 134, 2),
        ("ş" * 135, SmsEncoding.UCS2, 135, 3),
        ("₺1.234,56", SmsEncoding.UCS2, 9, 1),
        ("ç", SmsEncoding.UCS2, 1, 1),  # lowercase ç is not (only Ç is)
        ("ı", SmsEncoding.UCS2, 1, 1),
        ("💶" * 35, SmsEncoding.UCS2, 70, 1),  # astral characters are surrogate pairs
    ],
)
def test_sms_size(text: str, encoding: SmsEncoding, units: int, segments: int) -> None:
    size = sms_size(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)
