"""Which reader a bank file needs, judged by its content — not by its name or extension.

XML with a camt namespace or message goes to the camt reader, SWIFT tag text to the MT940/MT942 reader; anything
else is a bank-specific CSV or fixed-width file and needs that bank's profile (docs/bank-profiles.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import chain

from receivables.banking.camt import is_camt, parse_camt
from receivables.banking.mt940 import is_mt940, parse_mt940
from receivables.banking.pain002 import is_pain002
from receivables.banking.profiles import BankProfile, parse_with_profile, require_profile
from receivables.banking.statement import BankFileError, ParsedBankFile
from receivables.loading.reader import wide_encoding

__all__ = ["HEAD_BYTES", "is_pain002", "read_bank_file", "read_bank_stream"]

HEAD_BYTES = 8 * 1024


def read_bank_stream(
    head: bytes, rest: Iterable[bytes], *, bank_id: str, profiles: Mapping[str, BankProfile]
) -> ParsedBankFile:
    """Like :func:`read_bank_file` for a file given as its first ``HEAD_BYTES`` (or more) and the blocks after them:
    XML is parsed as it streams in; the line formats (MT940, profiles) are read whole, as their parsers need."""
    if head.strip() and is_camt(head[:HEAD_BYTES]):
        return parse_camt(chain([head], rest))
    return read_bank_file(head + b"".join(rest), bank_id=bank_id, profiles=profiles)


def read_bank_file(data: bytes, *, bank_id: str, profiles: Mapping[str, BankProfile]) -> ParsedBankFile:
    head = data[:HEAD_BYTES]
    if not head.strip():
        raise BankFileError("file is empty")
    if is_camt(head):
        return parse_camt([data])
    if is_mt940(head):
        return parse_mt940(data)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise BankFileError("XML that is not an ISO 20022 camt.052/053/054 message")
    if wide := wide_encoding(head):
        # XML declares its encoding and is read in any; the line formats are read as UTF-8 or single-byte text.
        raise BankFileError(
            f"file is {wide}: MT940 and bank profiles are read as UTF-8 or the profile's single-byte encoding; "
            "ask the bank for (or save it as) UTF-8"
        )
    return parse_with_profile(data, require_profile(bank_id, profiles))
