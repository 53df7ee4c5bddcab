"""SWIFT MT940 statements and MT942 interim reports → :class:`ParsedBankFile`.

The ``mt-940`` package (WoLpH) supplies the SWIFT layouts: its tag table says which ``:NN:`` tags exist, and its
compiled tag patterns cut a ``:61:`` statement line and a balance into sub-fields. Its ``parse()`` is not used,
because for a receivables ledger it gets in the way:

- one malformed ``:61:`` or an impossible balance date (``:62F:C021131…``) raises and the whole file is lost, where
  we want a rejection for that entry and every other entry posted;
- it reports no line numbers, and it strips trailing spaces and joins ``:86:`` lines with newlines, which loses what
  tells a hard wrap from a word break;
- its defaults keep release 5.0.0 behaviour: ``RC`` comes back positive, a structured ``:86:`` overwrites the
  ``:61:`` customer reference with None, and an impossible February day is silently moved to the 28th.

So this module splits the file into tags itself (keeping line numbers), asks ``mt940.tags`` for the sub-fields, and
gives them meaning here: marks, amounts, dates, references and the ``:86:`` dialects (German ``?20`` sub-fields with
SEPA keywords, Dutch ``/CODE/`` fields, free text as Turkish and many other banks write it).

An amount has at most 15 characters, the decimal comma included (SWIFT 15d). Leading zeros and trailing decimal
zeros are fine; a decimal that is not zero beyond the currency's ISO 4217 minor units (``10,001`` TRY, ``10,5`` JPY)
rejects the entry rather than being rounded. Amounts are quantized to the currency's minor units.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from mt940.tags import TAG_BY_ID, BalanceBase, FloorLimitIndicator, Statement, StatementGLS, SumEntries

from receivables.banking.statement import (
    BalanceWarning,
    BankFileError,
    BankFileRejection,
    BankFormat,
    BankTransaction,
    Direction,
    EntryStatus,
    ParsedBankFile,
    balance_warning,
)
from receivables.domain.iban import iban_checksum_ok, normalise_iban
from receivables.domain.money import AmountError, is_currency, quantize_to_currency
from receivables.domain.text import fold

__all__ = ["is_mt940", "parse_mt940"]

# Tried in this order. UTF-8 first: it checks itself, so single-byte Turkish or Latin text practically never passes
# as UTF-8 by accident. windows-1254 next: Turkish banks' Windows exports use it; it agrees with ISO-8859-9 on every
# letter and adds printable characters (€, typographic quotes) in 0x80-0x9F. ISO-8859-9 last: it defines every byte,
# so a file with a byte windows-1254 leaves undefined still reads. ISO-8859-1 is not in the chain: it differs from
# ISO-8859-9 only in six letters (Ğ İ Ş ğ ı ş there, Ð Ý Þ ð ý þ here), German, Dutch or French text decodes the
# same under both, and for our customers the Turkish reading is the likely one. A bank known to send Latin-1 is
# read with ``encoding="iso-8859-1"``.
_ENCODINGS = ("utf-8", "windows-1254", "iso-8859-9")

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# SOH/ETX frame a message on some SWIFT links, SUB ends old DOS files, a BOM can sit before the first tag. Other
# control characters are outside the SWIFT character set and mean nothing in a statement: each reads as a space,
# so a NUL inside a reference cannot make it another reference.
_FRAMING = str.maketrans(
    {**dict.fromkeys([*map(chr, range(0x20)), "\x7f"], " "), **dict.fromkeys("\x01\x03\x1a\ufeff")}
)
_FRAMED = re.compile("[\x00-\x1f\x7f\ufeff]")
# Basic/application/user header blocks before the text block: {1:...}{2:...}{3:{108:...}}{4:
_BLOCK_HEAD = re.compile(r"^(?:\{[1-3]:(?:[^{}]|\{[^{}]*\})*\})*\{4:")
_MESSAGE_TYPE = re.compile(r"\{2:[IO](\d{3})")
_TRAILER_BLOCKS = re.compile(r"^(?:\{[5S]:(?:[^{}]|\{[^{}]*\})*\})*")
_TAG = re.compile(r"^:(?P<id>(?P<num>\d{2}|NS)[A-Z]?):")
_TAG_WITHOUT_COLON = re.compile(r"^(?:\d{2}|NS)[A-Z]?:")

# The package's layouts, as compiled by the package (own instances: nothing shared is touched).
_STATEMENT_LINE = Statement().re
_LONG_REFERENCE_LINE = StatementGLS().re  # a customer reference longer than 16x before the '//' bank reference
_BALANCE = BalanceBase().re
_FLOOR_LIMIT = FloorLimitIndicator().re
_ENTRY_SUMS = SumEntries().re

_CURRENCY_CARRIERS = {
    **dict.fromkeys(("60F", "60M", "60", "62F", "62M", "62", "64", "65"), _BALANCE),
    "34F": _FLOOR_LIMIT,
    **dict.fromkeys(("90D", "90C"), _ENTRY_SUMS),
}
# SWIFT 15d: a decimal comma, decimals optional ('9,'), leading zeros allowed; ASCII digits only ('١٢' is no amount).
_AMOUNT = re.compile(r"[0-9]+(?:,[0-9]*)?\Z")
_AMOUNT_RUN = re.compile(r"[0-9,]+")  # what the bank wrote as the amount, however long
_MAX_AMOUNT_LENGTH = 15  # 15d: at most 15 characters, the decimal comma included
_MARK_ONLY = re.compile(r"^\d{6}(?:\d{4})?R?[CD][A-Z]?$", re.IGNORECASE)  # a bank that breaks :61: before the amount
_NO_REFERENCE = "NONREF"
_NOT_PROVIDED = "NOTPROVIDED"

_SWIFT_WRAP = 65  # :86: is 6 lines of 65 characters
# Far beyond what any bank writes (SWIFT: 65 characters a line, :86: 6 lines), so that no input makes the patterns
# or the joining of lines take long: a longer line or field makes its entry a rejection (its header: the file).
_MAX_LINE = 10_000
_MAX_FIELD = 64 * 1024
_NARROWEST_WRAP = 50  # below this, the longest line in a file tells nothing about where its bank wraps
_GERMAN_SUBFIELD_WIDTH = 27  # ?20..?29 and ?32/?33 carry 27 characters each
_ENTRY_DATE_REACH = 183  # days: the entry date's year is the one that puts it within half a year of the value date


def is_mt940(head: bytes) -> BankFormat | None:
    """MT940 or MT942 when the first bytes of a file look like one (``:20:``, ``:25:`` and ``:28C:`` or ``:61:``
    at line starts, SWIFT blocks, framing bytes and header lines allowed); None otherwise."""
    # Tags are ASCII: a byte-transparent decoding cannot fail on a multi-byte character cut at the end of the head.
    fields = _fields(head.decode("latin-1"))
    tags = {f.tag for f in fields}
    if _missing_markers(tags):
        return None
    message_types = {f.message_type for f in fields if f.message_type}
    return _format_of(tags, message_types)


def parse_mt940(data: bytes, *, encoding: str | None = None) -> ParsedBankFile:
    """Every ``:61:`` entry of every statement in the file, or a rejection saying where and why it could not be read.

    ``encoding`` pins the character set of a bank known to send one; by default it is detected (see ``_ENCODINGS``).
    Raises :class:`BankFileError` when the file is not MT940/MT942 at all.
    """
    text = _decode(data, encoding)
    fields = _fields(text)
    missing = _missing_markers({f.tag for f in fields})
    if missing:
        raise BankFileError(f"not an MT940/MT942 file: no {' or '.join(missing)} tag at the start of a line")

    statements, stray = _statements(fields)
    wrap = _wrap_width(statements)
    transactions: list[BankTransaction] = []
    stray_reason = "a :61: entry before any :20: statement header"
    rejections = [
        BankFileRejection(position=f"line {f.line}", reason=stray_reason, line=f.line) for f in stray if f.tag == "61"
    ]
    balance_warnings: list[BalanceWarning] = []
    for statement in statements:
        read, rejected = _read_statement(statement, wrap)
        transactions.extend(read)
        rejections.extend(rejected)
        if (warning := _check_balance(statement, read, len(rejected))) is not None:
            balance_warnings.append(warning)

    formats = {s.source_format for s in statements}
    return ParsedBankFile(
        source_format=BankFormat.MT942 if formats == {BankFormat.MT942} else BankFormat.MT940,
        message_id=statements[0].statement_id,
        statements=len(statements),
        transactions=tuple(transactions),
        rejections=tuple(rejections),
        balance_warnings=tuple(balance_warnings),
    )


# --- bytes → text → tags ---------------------------------------------------------------------------------------------


def _decode(data: bytes, encoding: str | None) -> str:
    if not data.strip():
        raise BankFileError("empty file")
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise BankFileError(f"cannot decode the file as {encoding}: {exc}") from exc
    data = data.removeprefix(codecs.BOM_UTF8)
    for candidate in _ENCODINGS[:-1]:
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    return data.decode(_ENCODINGS[-1])  # defines all 256 bytes: cannot fail


@dataclass
class _Field:
    tag: str  # as written, e.g. '61', '28C', '86'
    line: int  # 1-based line of the tag in the file
    lines: list[str]  # the text after ':NN:' on the tag's line, then its continuation lines, as in the file
    message_type: str | None = None  # '940'/'942' from a SWIFT {2:} block before this message
    size: int = 0  # characters in ``lines``
    too_long: str | None = None  # why the field was not kept whole (a line or the field over the limits)

    def add(self, line: str, number: int) -> None:
        self.size += len(line)
        if self.too_long:
            return
        if len(line) > _MAX_LINE:
            self.too_long = f"line {number} is {len(line)} characters long (a statement line has at most {_MAX_LINE})"
        elif self.size > _MAX_FIELD:
            self.too_long = f"the :{self.tag}: field is over {_MAX_FIELD} characters long at line {number}"
        else:
            self.lines.append(line)
            return
        self.lines.clear()  # what is kept of a field that is not read is nothing: memory stays bounded

    @property
    def value(self) -> str:
        return "\n".join(line.strip() for line in self.lines if line.strip())


def _fields(text: str) -> list[_Field]:
    """The known tags of the file in order, each with its line number and raw lines."""
    fields: list[_Field] = []
    current: _Field | None = None
    pending_type: str | None = None
    lines = _LINE_BREAK.split(text)
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index]
        index += 1
        if len(line) > _MAX_LINE:
            # Never given to the patterns whole (their time grows with the line): a tag starts a field that is
            # not read, other text belongs to the field it is in, which is then not read either; text outside any
            # field is ignored, as shorter text there is.
            tag = _TAG.match(line[:8].translate(_FRAMING))
            if tag and _is_known(tag.group("num")):
                current = _Field(tag.group("id"), number, [], pending_type)
                fields.append(current)
                pending_type = None
            if current is not None:
                current.add(line, number)
            continue
        if _FRAMED.search(line):  # rare: most lines hold no control character, and translate costs
            line = line.translate(_FRAMING)
        rest = _message_end(line.strip())
        if rest is not None:
            current = None  # what follows until the next tag is the header of the next message
            line = rest
        head = _BLOCK_HEAD.match(line)
        if head:
            kind = _MESSAGE_TYPE.search(head.group(0))
            pending_type = kind.group(1) if kind else pending_type
            line = line[head.end() :]
        # One bank writes ':' alone with the tag on the next line (':\n86:...'); the package reads that too.
        if line.strip() == ":" and index < len(lines) and _TAG_WITHOUT_COLON.match(lines[index]):
            line = ":" + lines[index]
            index += 1
        tag = _TAG.match(line)
        if tag and _is_known(tag.group("num")):
            current = _Field(tag.group("id"), number, [], pending_type)
            current.add(line[tag.end() :], number)
            fields.append(current)
            pending_type = None
        elif current is not None and line.strip():
            current.add(line, number)
    for item in fields:
        if item.too_long and item.tag not in ("61", "86", "NS"):
            raise BankFileError(f"the :{item.tag}: field at line {item.line} cannot be read: {item.too_long}")
    return fields


def _message_end(stripped: str) -> str | None:
    """What is left of a line that ends a message ('-', or '-}' and trailer blocks {5:...}, where the next message's
    header may follow); None for any other line."""
    if stripped == "-":
        return ""
    if stripped.startswith(("-}", "{5:", "{S:")):
        return _TRAILER_BLOCKS.sub("", stripped.removeprefix("-}"), count=1)
    return None


def _is_known(number: str) -> bool:
    return (int(number) if number.isdigit() else number) in TAG_BY_ID


def _missing_markers(tags: set[str]) -> list[str]:
    missing = [f":{tag}:" for tag in ("20", "25") if tag not in tags]
    if not tags & {"28C", "28", "61"}:
        missing.append(":28C:/:61:")
    return missing


def _format_of(tags: set[str], message_types: set[str]) -> BankFormat:
    if message_types:
        return BankFormat.MT942 if message_types == {"942"} else BankFormat.MT940
    # An interim report has a floor limit (:34F:) and a timestamp (:13D:) and entry sums, but no opening balance.
    if "34F" in tags or (not tags & {"60F", "60M", "60"} and tags & {"13D", "90D", "90C"}):
        return BankFormat.MT942
    return BankFormat.MT940


# --- statements ------------------------------------------------------------------------------------------------------


@dataclass
class _Statement:
    number: int  # 1-based, in file order
    fields: list[_Field] = field(default_factory=list)

    def first(self, *tags: str) -> _Field | None:
        return next((f for f in self.fields if f.tag in tags), None)

    @property
    def statement_id(self) -> str | None:
        header = self.first("20")
        return (header.value or None) if header else None

    @property
    def source_format(self) -> BankFormat:
        message_type = self.fields[0].message_type  # from the SWIFT block before this statement's :20:
        return _format_of({f.tag for f in self.fields}, {message_type} if message_type else set())

    def entries(self) -> Iterator[tuple[int, _Field, list[str], str | None]]:
        """Each :61: with its number in the statement, the raw lines of the :86: that follows it, and why the entry
        cannot be read when one of its fields was too long to keep."""
        count = 0
        fields = self.fields
        for position, item in enumerate(fields):
            if item.tag != "61":
                continue
            count += 1
            details: list[str] = []
            too_long = item.too_long
            for after in range(position + 1, len(fields)):  # by index: slicing would copy the rest per entry
                following = fields[after]
                if following.tag == "86":
                    details.extend(line for line in following.lines if line.strip())
                    too_long = too_long or following.too_long
                elif following.tag != "NS":
                    break
            yield count, item, details, too_long


def _statements(fields: list[_Field]) -> tuple[list[_Statement], list[_Field]]:
    """Fields grouped into statements, one per :20:; and the fields found before the first :20:."""
    statements: list[_Statement] = []
    stray: list[_Field] = []
    for item in fields:
        if item.tag == "20":
            statements.append(_Statement(len(statements) + 1))
        (statements[-1].fields if statements else stray).append(item)
    return statements, stray


def _account(value: str) -> str | None:
    """Our account as the bank names it: an IBAN (ING adds the currency after it), else 'branch/account' as given."""
    compact = normalise_iban(value)
    for candidate in (compact, compact[:-3]):
        if iban_checksum_ok(candidate):
            return candidate
    return value.strip() or None


def _iban(value: str) -> str | None:
    """``value`` as a compact IBAN when it is a valid one (checksum included), else None: in free-form fields only
    the checksum tells an IBAN from another account number or a reference."""
    return normalise_iban(value) if iban_checksum_ok(value) else None


def _currency(statement: _Statement) -> str | None:
    """The statement's currency from its first balance (MT940) or floor limit / entry sums (MT942)."""
    for item in statement.fields:
        pattern = _CURRENCY_CARRIERS.get(item.tag)
        match = pattern.match(item.value) if pattern else None
        # Only the currency is read: a balance with an impossible date must not cost the statement its entries.
        if match and is_currency(match.group("currency").upper()):
            return match.group("currency").upper()
    return None


@dataclass(frozen=True)
class _Header:
    source_format: BankFormat
    statement_id: str | None
    account: str | None
    number: str | None  # :28C: statement/sequence number as written


def _read_statement(statement: _Statement, wrap: int) -> tuple[list[BankTransaction], list[BankFileRejection]]:
    account_field = statement.first("25")
    number_field = statement.first("28C", "28")
    header = _Header(
        source_format=statement.source_format,
        statement_id=statement.statement_id,
        account=_account(account_field.value) if account_field else None,
        number=number_field.value if number_field else None,
    )
    currency = _currency(statement)
    transactions: list[BankTransaction] = []
    rejections: list[BankFileRejection] = []
    for index, line_field, details, too_long in statement.entries():
        position = f"statement {statement.number} / :61: #{index} (line {line_field.line})"
        if too_long:
            reason = f"the entry cannot be read: {too_long}"
            rejections.append(BankFileRejection(position=position, reason=reason, line=line_field.line))
            continue
        if currency is None:
            reason = "no currency: the statement has no balance (:60F:/:60M:/:62F:) or :34F: floor limit naming one"
            rejections.append(BankFileRejection(position=position, reason=reason, line=line_field.line))
            continue
        try:
            line = _statement_line(line_field, currency)
        except _Malformed as exc:
            rejections.append(BankFileRejection(position=position, reason=f":61: {exc.reason}", line=line_field.line))
            continue
        details_read = _details(details, wrap)
        transactions.append(_transaction(header, currency, index, position, line_field.line, line, details_read))
    return transactions, rejections


def _check_balance(statement: _Statement, read: list[BankTransaction], unread: int) -> BalanceWarning | None:
    """Opening balance (:60F:/:60M:) plus the entries must be the closing balance (:62F:/:62M:); an interim report
    (MT942) has no such balances and is not checked, nor is a statement missing either balance or naming two
    currencies."""
    if statement.source_format is BankFormat.MT942:
        return None
    opening = _balance(statement.first("60F", "60M", "60"))
    closing = _balance(next((f for f in reversed(statement.fields) if f.tag in ("62F", "62M", "62")), None))
    if opening is None or closing is None or opening[0] != closing[0]:
        return None
    currency = opening[0]
    booked = sum(
        (t.amount if t.direction is Direction.CREDIT else -t.amount for t in read if t.currency == currency),
        Decimal(0),
    )
    label = f"statement {statement.number}" + (f" (:20: {statement.statement_id})" if statement.statement_id else "")
    header = statement.first("20")
    return balance_warning(
        label,
        header.line if header else None,
        currency,
        opening=opening[1],
        booked=booked,
        closing=closing[1],
        unread_entries=unread,
    )


def _balance(item: _Field | None) -> tuple[str, Decimal] | None:
    """A balance's currency and signed amount (a D balance is negative); None when it cannot be read."""
    match = _BALANCE.match(item.value) if item is not None else None
    if match is None:
        return None
    amount, currency = match.group("amount"), match.group("currency").upper()
    if not (_AMOUNT.match(amount) and len(amount) <= _MAX_AMOUNT_LENGTH and is_currency(currency)):
        return None
    value = Decimal(amount.replace(",", "."))
    return currency, -value if match.group("status") == "D" else value


# --- :61: statement line ---------------------------------------------------------------------------------------------


class _Malformed(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Line:
    value_date: date
    booking_date: date | None
    mark: str  # C, D, RC, RD
    amount: Decimal  # quantized to the currency's minor units
    written_amount: Decimal  # as the bank wrote it ('75,' is 75): part of the derived reference, which must not change
    type_code: str  # e.g. NTRF, NMSC, FMSC
    customer_reference: str | None
    bank_reference: str | None
    supplementary: str | None


_MARKS: dict[str, tuple[Direction, bool]] = {
    "C": (Direction.CREDIT, False),
    "D": (Direction.DEBIT, False),
    # RC: the bank takes back an earlier credit, so money leaves the account; RD gives back an earlier debit.
    "RC": (Direction.DEBIT, True),
    "RD": (Direction.CREDIT, True),
}


def _statement_line(item: _Field, currency: str) -> _Line:
    lines = [line.strip() for line in item.lines if line.strip()]
    if not lines:
        raise _Malformed("the statement line is empty (a :61: tag with nothing after it)")
    if len(lines) > 1 and _MARK_ONLY.match(lines[0]):
        lines = [lines[0] + lines[1], *lines[2:]]
    text = lines[0] + ("\n" + " ".join(lines[1:]) if len(lines) > 1 else "")
    match = _STATEMENT_LINE.match(text)
    if match and match.group("bank_reference") is None and "//" in lines[0]:
        match = _LONG_REFERENCE_LINE.match(text) or match
    if not match:
        raise _Malformed(f"not a statement line (YYMMDD[MMDD] C/D/RC/RD [funds code] amount type ...): {lines[0]!r}")
    parts = match.groupdict()

    value_date = _value_date(parts["year"], parts["month"], parts["day"])
    amount_text = parts["amount"]
    # The package's pattern stops at 15 characters and leaves the rest to the reference: say what is really wrong.
    written = _AMOUNT_RUN.match(text, match.start("amount"))
    if written and len(written.group()) > _MAX_AMOUNT_LENGTH:
        raise _Malformed(
            f"amount {written.group()!r} is {len(written.group())} characters long; SWIFT allows at most "
            f"{_MAX_AMOUNT_LENGTH} (15d), the decimal comma included"
        )
    if not parts["id"] or not _AMOUNT.match(amount_text):
        after_mark = text[match.start("amount") :].split("\n")[0][:24]
        raise _Malformed(
            f"no amount and transaction type in {after_mark!r}: expected digits with a decimal comma (e.g. 1234,56) "
            "then a type code such as NTRF"
        )
    type_code = parts["id"].upper()
    if type_code[0] not in "NFS":
        # SWIFT: N (non-SWIFT), F (first advice) or S (SWIFT message type) and three characters. Any other letter
        # means the amount ran into text the package took for the type: '1e400NTRF' would post 1.00.
        after_mark = text[match.start("amount") :].split("\n")[0][:24]
        raise _Malformed(
            f"{after_mark!r}: the amount is not followed by a transaction type (N, F or S and three characters, "
            "e.g. NTRF)"
        )
    written_amount = Decimal(amount_text.replace(",", "."))
    if written_amount == 0:
        raise _Malformed(f"amount {amount_text!r} is zero: nothing to post")
    try:
        amount = quantize_to_currency(written_amount, currency)
    except AmountError as exc:
        raise _Malformed(f"amount {amount_text!r}: {exc}") from None
    entry_month, entry_day = (parts["entry_month"] or "").strip(), (parts["entry_day"] or "").strip()
    return _Line(
        value_date=value_date,
        booking_date=_entry_date(value_date, entry_month, entry_day) if entry_month and entry_day else None,
        mark=parts["status"].upper(),
        amount=amount,
        written_amount=written_amount,
        type_code=type_code,
        customer_reference=_reference(parts["customer_reference"]),
        bank_reference=_reference(parts["bank_reference"]),
        supplementary=(parts["extra_details"] or "").strip() or None,
    )


def _value_date(year: str, month: str, day: str) -> date:
    try:
        return date(2000 + _number(year), _number(month), _number(day))
    except ValueError as exc:
        raise _Malformed(f"value date {year}{month}{day} is not a calendar date (YYMMDD)") from exc


def _entry_date(value_date: date, month: str, day: str) -> date:
    """The entry date carries no year: take the value date's year, or the one before or after when the booking
    crosses New Year (value 2026-12-31 booked 0102 → 2027-01-02; value 2027-01-02 booked 1231 → 2026-12-31)."""
    candidates = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            candidates.append(date(year, _number(month), _number(day)))
        except ValueError:
            continue
    nearest = min(candidates, key=lambda d: abs((d - value_date).days), default=None)
    if nearest is None or abs((nearest - value_date).days) > _ENTRY_DATE_REACH:
        raise _Malformed(f"entry date {month}{day} (MMDD) is not a calendar date near value date {value_date}")
    return nearest


def _number(digits: str) -> int:
    # The package's patterns match any Unicode digit; a date written in other scripts is malformed, not a date.
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{digits!r} is not ASCII digits")
    return int(digits)


def _reference(value: str | None) -> str | None:
    value = (value or "").strip()
    return None if not value or value.upper() == _NO_REFERENCE else value


# --- :86: information to account owner -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Details:
    remittance: str | None = None
    end_to_end_id: str | None = None
    mandate_id: str | None = None
    customer_reference: str | None = None
    name: str | None = None
    iban: str | None = None
    account: str | None = None
    return_reason: str | None = None
    # Why the details say the entry undoes an earlier payment (a return, a reversal), when they do; see _return_of.
    returned_because: str | None = None
    structured_references: tuple[str, ...] = ()
    # Free text is ambiguous where a line is exactly as long as the wrap: a word cut in two, or two words. The
    # other reading (a space at every line break) is kept too, so a reference is found either way.
    other_reading: str | None = None


_GERMAN = re.compile(r"^(?P<code>\d{3})?(?P<separator>[?>])\d{2}")  # '166?00GUTSCHRIFT?20...' (Triodos uses '>')
_SEPA_KEYWORD = re.compile(
    r"(?<![A-Za-z0-9])(?P<key>EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|PURP|MDAT|SQTP|ORCR|ORMR|DDAT|COAM"
    r"|OAMT)\+"
)
_DUTCH_CODES = (
    *("TRTP", "IBAN", "BIC", "NAME", "REMI", "EREF", "MARF", "CSID", "ORDP", "BENM", "ID", "ADDR", "RTRN", "CNTP"),
    *("PURP", "ULTC", "ULTD", "ULTB", "SVCL", "ISDT", "CDTRREFTP", "CDTRREF", "CD", "ISSR", "EXCH", "CHGS", "OCMT"),
    *("FX", "BUSP", "ACCW", "PREF", "NRTX", "RTYP", "IREF", "CREF"),
)
_DUTCH_CODE = re.compile(r"/(?P<key>" + "|".join(sorted(_DUTCH_CODES, key=len, reverse=True)) + r")/")
_DUTCH = re.compile(r"^\s*/(?:" + "|".join(_DUTCH_CODES) + r")/")


def _details(lines: Sequence[str], wrap: int) -> _Details:
    if not lines:
        return _Details()
    # In the German layout the ?NN codes carry all the structure; its line breaks only cut a 390-character field.
    flat = "".join(line.rstrip("\r\n") for line in lines)
    german = _GERMAN.match(flat)
    if german:
        return _german(flat, german.group("separator"))
    text = _unwrap(lines, wrap)
    if _DUTCH.match(text):
        return _dutch(text)
    # Free text (Turkish banks, older Dutch and Swiss layouts, mBank...): all of it is the remittance information.
    spaced = " ".join(line.strip() for line in lines if line.strip())
    reason, because = _return_of([text, spaced])
    return _Details(
        remittance=text or None,
        other_reading=spaced if spaced != text else None,
        return_reason=reason,
        returned_because=because,
    )


def _join_wrapped(chunks: Sequence[str], width: int, starts_anew: Callable[[str], bool] = lambda _: False) -> str:
    """Glue hard-wrapped chunks back together. A chunk that fills its width was cut where the width ran out, maybe in
    the middle of a word or a reference: the next chunk follows without a space. A shorter chunk ended where the
    writer chose to end it: a space keeps its last word apart from the next chunk's first."""
    text = ""
    previous = ""
    for chunk in chunks:
        if not chunk:
            continue
        cut_by_width = len(previous) >= width and not starts_anew(chunk)
        if text and not cut_by_width and not text[-1].isspace() and not chunk[0].isspace():
            text += " "
        text += chunk
        previous = chunk
    return text


def _unwrap(lines: Sequence[str], wrap: int) -> str:
    return _join_wrapped([line.rstrip("\r\n") for line in lines], wrap).strip()


def _wrap_width(statements: Sequence[_Statement]) -> int:
    """Where this file's bank wraps :86: lines: SWIFT says 65, some banks wrap at 64 and mark nothing, so the
    longest line that is followed by another tells."""
    widths = [
        len(line.rstrip("\r\n"))
        for statement in statements
        for _, _, lines, _ in statement.entries()
        if lines and not _GERMAN.match(lines[0])
        for line in lines[:-1]
    ]
    widest = max(widths, default=0)
    return min(widest, _SWIFT_WRAP) if widest >= _NARROWEST_WRAP else _SWIFT_WRAP


def _german(flat: str, separator: str) -> _Details:
    """German layout (DK/ZKA): 'GVC?00booking text?10primanota?20..?29 purpose?30 bank?31 account?32/?33 name...'
    with SEPA keywords (EREF+, KREF+, MREF+, SVWZ+ ...) inside the purpose."""
    pieces = re.split(re.escape(separator) + r"(\d{2})", flat)
    subfields = list(zip(pieces[1::2], pieces[2::2], strict=True))
    purpose = _join_wrapped(
        [value for key, value in subfields if "20" <= key <= "29" or "60" <= key <= "63"],
        _GERMAN_SUBFIELD_WIDTH,
        starts_anew=lambda chunk: bool(_SEPA_KEYWORD.match(chunk.lstrip())),
    ).strip()
    values = dict(subfields)  # the first of a repeated code would be a bank's error; the last one wins
    name = _join_wrapped([values.get("32", ""), values.get("33", "")], _GERMAN_SUBFIELD_WIDTH).strip()
    account = values.get("31", "").strip()
    iban = _iban(account)
    bank = values.get("30", "").strip()

    leading, found = _keyed(_SEPA_KEYWORD, purpose)
    remittance = " ".join(part for part in (leading, found.get("SVWZ")) if part)  # the whole purpose if no keyword
    # GVC, booking text (?00) and the DK return key (?34, a three-digit 9xx code on returns) are the bank's own
    # words for what the entry is; the purpose is checked too, as some banks write the SEPA reason code there.
    gvc = (flat[:3] if flat[:3].isdigit() else "") or None
    return_key = values.get("34", "").strip()
    reason, because = _return_of(
        [values.get("00", ""), purpose],
        gvc=gvc,
        return_key=return_key if _DK_RETURN_KEY.fullmatch(return_key) else None,
    )
    return _Details(
        remittance=remittance or None,
        end_to_end_id=_end_to_end(found.get("EREF")),
        mandate_id=found.get("MREF") or None,
        customer_reference=_reference(found.get("KREF")),
        name=name or None,
        iban=iban,
        account=None if iban or not account else (f"{bank}/{account}" if bank.isdigit() else account),
        return_reason=reason,
        returned_because=because,
    )


def _keyed(keyword: re.Pattern[str], text: str) -> tuple[str, dict[str, str]]:
    """The text before the first keyword, and each keyword's value: what runs up to the next keyword (first wins)."""
    matches = list(keyword.finditer(text))
    found: dict[str, str] = {}
    ends = [following.start() for following in matches[1:]] + [len(text)]
    for current, end in zip(matches, ends, strict=False):
        found.setdefault(current.group("key"), text[current.end() : end].strip())
    return (text[: matches[0].start()] if matches else text).strip(), found


def _dutch(text: str) -> _Details:
    """Dutch structured layout (ABN AMRO, ING, Rabobank): '/TRTP/.../IBAN/.../NAME/.../REMI/.../EREF/...'."""
    _, found = _keyed(_DUTCH_CODE, text)
    # Rabobank writes the counterparty as '/CNTP/account/BIC/name/city/'.
    counterparty = found.get("CNTP", "").split("/")
    name = found.get("NAME") or (counterparty[2] if len(counterparty) > 2 else "")
    account = (found.get("IBAN") or counterparty[0]).replace(" ", "")
    iban = _iban(account)

    remittance, structured = _dutch_remittance(found.get("REMI", ""))
    creditor_reference = found.get("CDTRREF", "").strip("/ ")
    if creditor_reference:
        structured = (*structured, creditor_reference)
    structured_reason = found.get("RTRN", "").strip("/ ").split(" ")[0].upper() or None
    reason, because = _return_of([found.get("TRTP", ""), found.get("REMI", "")], structured_reason=structured_reason)
    return _Details(
        remittance=remittance,
        end_to_end_id=_end_to_end(found.get("EREF")),
        mandate_id=found.get("MARF", "").strip("/ ") or None,
        name=name.strip() or None,
        iban=iban,
        account=None if iban or not account else account,
        return_reason=reason,
        returned_because=because,
        structured_references=tuple(dict.fromkeys(structured)),
    )


def _dutch_remittance(value: str) -> tuple[str | None, tuple[str, ...]]:
    """REMI is free text, or 'USTD//free text/' or 'STRD/CUR/structured reference/' in the Rabobank/ING forms."""
    value = value.strip().rstrip("/").strip()
    if value.startswith("USTD/"):
        return value.removeprefix("USTD/").lstrip("/").strip() or None, ()
    if value.startswith("STRD/"):
        reference = value.rsplit("/", 1)[-1].strip()
        return None, (reference,) if reference else ()
    return value or None, ()


# Words banks write in :86: for an entry that undoes an earlier one, compared with the folded, upper-cased text as
# whole words: English, German (with and without umlauts), Dutch, Turkish (İADE folds to IADE).
_RETURN_WORDS = re.compile(
    r"(?<![0-9A-Z])(?:RETURN|RETURNED|REVERSAL|REVERSED|RETOUR|RETOURE|STORNO|STORNIERUNG|TERUGBOEKING|TERUGGEBOEKT"
    r"|R(?:UE|Ü)CKLASTSCHRIFT|R(?:UE|Ü)CK(?:UE|Ü)BERWEISUNG|R(?:UE|Ü)CKBUCHUNG|R(?:UE|Ü)CKBEL(?:ASTUNG)?"
    r"|R(?:UE|Ü)CKGABE|IADE|IADESI)(?![0-9A-Z])"
)
# ISO 20022 ExternalReturnReason1Code values shaped like no word (two letters, two digits): found anywhere in the
# text as a whole token. A code glued to a reference by '-' ('INV-AC07', 'AC07-2026') is part of that reference.
_RETURN_CODES = re.compile(
    r"(?<![0-9A-Z-])(AC0[13467]|AC1[3-6]|AG0[1-3]|AM0[1-79]|AM1[0-2]|BE0[1-8]|DT0[1-6]|ED05|FF0[15]|MD0[1-8]|MS0[23]"
    r"|RC0[1-8]|RF01|RR0[1-4]|SL0[1-3]|SP0[1-2]|TM01)(?![0-9A-Z-])"
)
# An ISO code of any shape, where the field says it is one (Dutch /RTRN/): also CUST, DUPL, FOCR, FRAD, TECH ...
_ANY_REASON_CODE = re.compile(r"[A-Z0-9]{4}")
# DK (German) GVCs of returns: 009/059 old Lastschrift/Überweisung returns, 109 SEPA direct debit return, 159 SEPA
# credit transfer return.
_RETURN_GVCS = frozenset({"009", "059", "109", "159"})
_DK_RETURN_KEY = re.compile(r"9[0-9]{2}")  # ?34 on a return: the DK's numeric return reason (912, 914 ...)


def _return_of(
    texts: Sequence[str],
    *,
    gvc: str | None = None,
    return_key: str | None = None,
    structured_reason: str | None = None,
) -> tuple[str | None, str | None]:
    """The ISO return reason code (or None) and why the entry is a return, when the :86: details say it is one:
    a return GVC, a field that holds a return reason (Dutch /RTRN/), a return word, or an ISO return reason code
    standing alone in the text. ``(None, None)`` for an entry that is no return.

    Banks that book a returned transfer or a returned direct debit as a plain C or D (no RC/RD mark) say so only
    here; read as a plain credit, a returned refund would pay a customer's invoice, and a returned collection would
    look like one of our own payments."""
    folded = [fold(text).upper() for text in texts if text]
    words = list(dict.fromkeys(m.group() for text in folded for m in _RETURN_WORDS.finditer(text)))
    codes = list(dict.fromkeys(m.group() for text in folded for m in _RETURN_CODES.finditer(text)))
    if structured_reason and not _ANY_REASON_CODE.fullmatch(structured_reason):
        structured_reason = None
    reason = structured_reason or (codes[0] if codes else None)
    signs = []
    if gvc in _RETURN_GVCS:
        signs.append(f"GVC {gvc}")
    if structured_reason:
        signs.append(f"/RTRN/{structured_reason}/")
    signs.extend(f"'{word}'" for word in words)
    if codes and not structured_reason:
        signs.append(f"reason code {codes[0]}")
    if not signs:
        return None, None
    if return_key:
        signs.append(f"DK return key ?34 {return_key}")
    return reason, "return told by the :86: details (" + ", ".join(signs) + ")"


def _end_to_end(value: str | None) -> str | None:
    value = (value or "").strip().rstrip("/").strip()
    return None if not value or value.upper() == _NOT_PROVIDED else value


# --- the common model ------------------------------------------------------------------------------------------------


def _transaction(
    header: _Header, currency: str, index: int, position: str, at: int, line: _Line, details: _Details
) -> BankTransaction:
    """``at`` is the physical line of the :61: tag."""
    direction, reversal = _MARKS[line.mark]
    assumptions: tuple[str, ...] = ()
    if details.returned_because and not reversal:
        # Booked as a plain C/D, yet the details say it undoes an earlier payment: it is a return, in the direction
        # it was booked (a returned refund is a credit, a returned collection a debit).
        reversal = True
        assumptions = (f"{details.returned_because}: treated as a return although the :61: mark is {line.mark}",)
    # Banks that put the counterparty's IBAN in the supplementary details (Rabobank) give it here; anything else
    # there (a reference, a booking text) is remittance information like :86:.
    supplementary_iban = _iban(line.supplementary) if line.supplementary else None
    remittance = [details.remittance] if details.remittance else []
    if details.other_reading:
        remittance.append(details.other_reading)
    if line.supplementary and not supplementary_iban:
        remittance.append(line.supplementary)
    return BankTransaction(
        source_format=header.source_format,
        position=position,
        line=at,
        statement_id=header.statement_id,
        account=header.account,
        bank_reference=line.bank_reference or _derived_reference(header, index, line),
        direction=direction,
        amount=line.amount,
        currency=currency,
        booking_date=line.booking_date,
        value_date=line.value_date,
        # An interim report (MT942) lists entries the day's MT940 will report again as the statement: they are not
        # yet the statement's bookings, and treating them as pending (like camt.052) keeps them from being posted
        # twice when neither carries a bank reference.
        status=EntryStatus.PENDING if header.source_format is BankFormat.MT942 else EntryStatus.BOOKED,
        reversal=reversal,
        return_reason=details.return_reason,
        end_to_end_id=details.end_to_end_id,
        mandate_id=details.mandate_id,
        customer_reference=line.customer_reference or details.customer_reference,
        # The model names the counterparty 'debtor': for a credit it is the payer, for a debit the payee.
        debtor_name=details.name,
        debtor_iban=details.iban or supplementary_iban,
        debtor_account=details.account,
        remittance_lines=tuple(remittance),
        structured_references=details.structured_references,
        bank_transaction_code=line.type_code,
        assumptions=assumptions,
    )


def _derived_reference(header: _Header, index: int, line: _Line) -> str:
    """Without a '//' bank reference, a reference from what identifies the entry in its statement, so the same file
    read twice gives the same references (and the entry is posted once)."""
    parts = (header.account, header.statement_id, header.number, str(index), f"{line.mark}{line.written_amount}")
    return "derived:" + ":".join(part or "-" for part in parts) + f":{line.value_date.isoformat()}"
