"""Per-bank CSV and fixed-width statement files, read through a profile that is data, not code.

Banks without camt or MT940 (in Turkey: the bank-proprietary DBS collection files, internet-banking exports) each
write their own layout. A :class:`BankProfile` describes one layout — where each field is, how numbers and dates are
written, how a credit is told from a debit — so onboarding a bank means adding a profile file
(``config/banks/<bank_id>.json`` or ``.yaml``), not deploying code. :func:`parse_with_profile` turns the bytes of such a
file into the same :class:`~receivables.banking.statement.ParsedBankFile` every other format produces.

The format of a profile is documented, field by field, in ``docs/bank-profiles.md``.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from receivables.banking.statement import (
    BankFileError,
    BankFileRejection,
    BankFormat,
    BankTransaction,
    Direction,
    ParsedBankFile,
)
from receivables.domain.iban import normalise_iban
from receivables.domain.money import is_currency, minor_units
from receivables.domain.text import fold

FieldName = Literal[
    "booking_date",
    "value_date",
    "amount",
    "debit_amount",
    "credit_amount",
    "direction_marker",
    "currency",
    "reference",
    "end_to_end_id",
    "remittance",
    "debtor_name",
    "debtor_iban",
    "debtor_account",
    "customer_reference",
    "account",
]
FIELD_NAMES: tuple[str, ...] = get_args(FieldName)

# What codecs.lookup() calls each encoding we accept -> the name profiles and docs use. Only encodings banks in our
# markets actually send: UTF-8 (with or without BOM), and the Turkish and Western single-byte code pages.
_ENCODINGS = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "cp1254": "windows-1254",
    "iso8859-9": "iso-8859-9",
    "iso8859-1": "iso-8859-1",
}
SINGLE_BYTE_ENCODINGS = frozenset({"windows-1254", "iso-8859-9", "iso-8859-1"})
MAX_PROFILE_SIZE = 64 * 1024  # characters (or bytes) of a profile document

_BANK_ID = r"^[a-z0-9][a-z0-9_-]{0,62}$"  # it names an S3 prefix (banks/<bank_id>/) and a file (<bank_id>.json)
_NOT_PROVIDED = "NOTPROVIDED"


def supported_encoding(value: str) -> str:
    """The name profiles use for ``value``, if it is an encoding banks in our markets send; else a ValueError."""
    try:
        looked_up = codecs.lookup(value).name
    except LookupError:
        raise ValueError(f"{value!r} is not a known encoding") from None
    if looked_up not in _ENCODINGS:
        raise ValueError(f"{value!r} is not supported; use one of {', '.join(_ENCODINGS.values())}")
    return _ENCODINGS[looked_up]


class ProfileError(ValueError):
    """A bank profile that cannot be used: ``problems`` lists (field, reason) pairs, the field as a dotted path."""

    def __init__(self, problems: Sequence[tuple[str | None, str]], *, bank_id: str | None = None) -> None:
        self.problems = tuple(problems)
        self.bank_id = bank_id
        subject = f"bank profile {bank_id!r}" if bank_id else "bank profile"
        details = "; ".join(f"{field}: {reason}" if field else reason for field, reason in self.problems)
        super().__init__(f"{subject} is invalid: {details}")

    @property
    def field(self) -> str | None:
        """The first offending field (what a UI highlights)."""
        return self.problems[0][0] if self.problems else None


class _Invalid(ValueError):
    """Raised inside validators so that the message keeps the exact field path (pydantic would only say 'columns')."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ColumnSlice(BaseModel):
    """Where a field sits in a fixed-width line: ``start`` is 0-based (the bank's 'position 1' is start 0)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: StrictInt = Field(ge=0)
    length: StrictInt = Field(gt=0)

    @property
    def end(self) -> int:
        return self.start + self.length

    def describe(self) -> str:
        return f"characters {self.start + 1}-{self.end}"


ColumnRef = str | int | ColumnSlice


def _column_ref(field: str, value: Any) -> ColumnRef:
    if isinstance(value, ColumnSlice):
        return value
    if isinstance(value, str):
        if not value.strip():
            raise _Invalid(field, "a column name must not be empty")
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise _Invalid(field, f"a column index is 0-based and must be >= 0, got {value}")
        return value
    if isinstance(value, Mapping):
        try:
            return ColumnSlice.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise _Invalid(f"{field}.{where}" if where else field, first["msg"]) from None
    raise _Invalid(
        field,
        f"expected a column name (text), a 0-based column index (integer) or {{start, length}}, got {value!r}",
    )


class BankProfile(BaseModel):
    """How one bank writes its statement file. Every field is described in docs/bank-profiles.md."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bank_id: str = Field(pattern=_BANK_ID)
    name: str = Field(min_length=1)
    layout: Literal["delimited", "fixed_width"]
    encoding: str = "utf-8"

    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quotechar: str | None = Field(default='"', min_length=1, max_length=1)  # None: quotes are ordinary characters
    header_rows: StrictInt = Field(default=0, ge=0)
    skip_footer_rows: StrictInt = Field(default=0, ge=0)
    skip_blank_lines: StrictBool = True
    skip_line_prefixes: tuple[str, ...] = ()

    columns: dict[FieldName, ColumnRef | tuple[ColumnRef, ...]]

    decimal_separator: Literal[",", "."] | None = None
    thousands_separator: Literal[".", ",", " ", "'"] | None = None
    implied_decimals: StrictInt | None = Field(default=None, ge=0, le=6)
    date_format: str = Field(min_length=2)

    credit_markers: tuple[str, ...] = ()
    debit_markers: tuple[str, ...] = ()
    default_currency: str | None = None
    currency_aliases: dict[str, str] = Field(default_factory=dict)
    account: str | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        return supported_encoding(value)

    @field_validator("columns", mode="before")
    @classmethod
    def _column_refs(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value  # pydantic reports the wrong type
        refs: dict[str, ColumnRef | tuple[ColumnRef, ...]] = {}
        for key, ref in value.items():
            where = f"columns.{key}"
            if key not in FIELD_NAMES:
                raise _Invalid(where, f"unknown field; known fields are {', '.join(FIELD_NAMES)}")
            if isinstance(ref, list | tuple):
                if key != "remittance":
                    raise _Invalid(where, "only remittance may be read from several columns")
                if not ref:
                    raise _Invalid(where, "the list of columns is empty")
                refs[key] = tuple(_column_ref(f"{where}[{i}]", part) for i, part in enumerate(ref))
            else:
                refs[key] = _column_ref(where, ref)
        return refs

    @field_validator("credit_markers", "debit_markers", "skip_line_prefixes")
    @classmethod
    def _no_empty_strings(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not value.strip() for value in values):
            raise ValueError("entries must not be empty")
        return values

    @field_validator("default_currency")
    @classmethod
    def _iso_currency(cls, value: str | None) -> str | None:
        if value is not None and not is_currency(value):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return value

    @field_validator("currency_aliases")
    @classmethod
    def _aliases_to_iso(cls, aliases: dict[str, str]) -> dict[str, str]:
        for alias, code in aliases.items():
            if not alias.strip():
                raise ValueError("an alias must not be empty")
            if not is_currency(code):
                raise _Invalid(f"currency_aliases.{alias}", f"{code!r} is not an ISO 4217 currency code")
        return {alias.strip().upper(): code for alias, code in aliases.items()}

    @field_validator("date_format")
    @classmethod
    def _date_format_reads_back(cls, value: str) -> str:
        # A format that cannot write and read back a date would reject every row; say so once, here.
        for sample in (date(2024, 12, 31), date(2025, 1, 2)):
            try:
                written = sample.strftime(value)
                read = datetime.strptime(written, value).date()
            except (ValueError, re.error) as exc:  # re.error: a directive given twice ('%Y%Y')
                raise ValueError(f"{value!r} is not a usable strptime format ({exc})") from None
            if read != sample:
                raise ValueError(
                    f"{value!r} does not hold a whole date: {sample.isoformat()} is written {written!r} "
                    f"and reads back as {read.isoformat()} (use %d, %m and %Y or %y)"
                )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> BankProfile:
        self._check_amount_style()
        self._check_number_style()
        if "booking_date" not in self.columns and "value_date" not in self.columns:
            raise _Invalid("columns", "map booking_date or value_date (or both)")
        if "currency" not in self.columns and self.default_currency is None:
            raise _Invalid("default_currency", "required when no currency column is mapped")
        if self.layout == "fixed_width":
            self._check_fixed_width()
        else:
            self._check_delimited()
        return self

    def _check_amount_style(self) -> None:
        has = {name: name in self.columns for name in ("amount", "debit_amount", "credit_amount", "direction_marker")}
        split = has["debit_amount"] or has["credit_amount"]
        if has["amount"] and split:
            raise _Invalid(
                "columns",
                "map either amount (signed, or with direction_marker) or debit_amount + credit_amount, not both",
            )
        if split:
            missing = "credit_amount" if has["debit_amount"] else "debit_amount"
            if not has[missing]:
                raise _Invalid(f"columns.{missing}", "required together with the other of debit_amount/credit_amount")
            if has["direction_marker"]:
                raise _Invalid("columns.direction_marker", "not used with debit_amount/credit_amount columns")
        elif not has["amount"]:
            raise _Invalid("columns.amount", "required (or map debit_amount and credit_amount instead)")
        if has["direction_marker"]:
            for name in ("credit_markers", "debit_markers"):
                if not getattr(self, name):
                    raise _Invalid(name, "required when columns.direction_marker is mapped")
            credit = {fold(marker.strip()) for marker in self.credit_markers}
            both = [marker for marker in self.debit_markers if fold(marker.strip()) in credit]
            if both:
                raise _Invalid("debit_markers", f"{both[0]!r} is also a credit marker")
        else:
            for name in ("credit_markers", "debit_markers"):
                if getattr(self, name):
                    raise _Invalid(name, "given but columns.direction_marker is not mapped")

    def _check_number_style(self) -> None:
        if self.implied_decimals is not None:
            if self.decimal_separator is not None or self.thousands_separator is not None:
                raise _Invalid("implied_decimals", "amounts with implied decimals have no separators; drop them")
            return
        if self.decimal_separator is None:
            raise _Invalid("decimal_separator", "required (',' or '.'), unless implied_decimals is given")
        if self.thousands_separator == self.decimal_separator:
            raise _Invalid("thousands_separator", "must differ from decimal_separator")

    def _refs(self) -> Iterator[tuple[str, ColumnRef]]:
        for name, ref in self.columns.items():
            if isinstance(ref, tuple):
                yield from ((f"columns.{name}[{i}]", part) for i, part in enumerate(ref))
            else:
                yield f"columns.{name}", ref

    def _check_fixed_width(self) -> None:
        for name in ("delimiter", "quotechar"):
            # Compared with the default, not "was it given", so that a profile's full JSON form reads back.
            if getattr(self, name) != type(self).model_fields[name].default:
                raise _Invalid(name, "only for the delimited layout")
        placed: list[tuple[str, ColumnSlice]] = []
        for where, ref in self._refs():
            if not isinstance(ref, ColumnSlice):
                raise _Invalid(where, f"a fixed_width layout needs {{start, length}}, got {ref!r}")
            for other_where, other in placed:
                if ref.start < other.end and other.start < ref.end:
                    raise _Invalid(
                        where, f"{ref.describe()} overlap {other_where} ({other.describe()}); slices must not overlap"
                    )
            placed.append((where, ref))

    def _check_delimited(self) -> None:
        if self.delimiter in "\r\n" or self.delimiter.isalnum():
            raise _Invalid("delimiter", f"{self.delimiter!r} cannot separate columns")
        if self.quotechar is not None and self.quotechar == self.delimiter:
            raise _Invalid("quotechar", "must differ from delimiter")
        for where, ref in self._refs():
            if isinstance(ref, ColumnSlice):
                raise _Invalid(where, "{start, length} is for the fixed_width layout; give a column name or index")
            if isinstance(ref, str) and self.header_rows == 0:
                raise _Invalid(where, f"column name {ref!r} needs header_rows >= 1 (the last header row names them)")

    @property
    def amount_style(self) -> Literal["signed", "marker", "split"]:
        if "debit_amount" in self.columns:
            return "split"
        return "marker" if "direction_marker" in self.columns else "signed"

    @property
    def number_example(self) -> str:
        """1234.56 as this bank writes it, for error messages."""
        if self.implied_decimals is not None:
            digits = "1234" + ("56" + "0" * 6)[: self.implied_decimals]
            return f"{digits} (digits only, the last {self.implied_decimals} being decimals)"
        return f"1{self.thousands_separator or ''}234{self.decimal_separator}56"


def load_profile(text: str | bytes, *, bank_id: str | None = None) -> BankProfile:
    """Read a profile from JSON or YAML text. ``bank_id``: the bank the file is stored for (its file name), which
    the profile must name too, so a profile copied under another bank's name cannot read that bank's files."""
    if len(text) > MAX_PROFILE_SIZE:
        # A profile is a few hundred bytes: a larger document is not one, and reading it could take long.
        raise ProfileError([(None, f"longer than {MAX_PROFILE_SIZE} characters: not a bank profile")], bank_id=bank_id)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ProfileError(
                [(None, f"not UTF-8 text (invalid byte at offset {exc.start})")], bank_id=bank_id
            ) from None
    data = _parse_document(text, bank_id)
    if not isinstance(data, dict):
        raise ProfileError(
            [(None, f"expected an object of profile fields, got {type(data).__name__}")], bank_id=bank_id
        )
    try:
        profile = BankProfile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(_problems(exc), bank_id=bank_id or _text_or_none(data.get("bank_id"))) from None
    if bank_id is not None and profile.bank_id != bank_id:
        raise ProfileError(
            [("bank_id", f"is {profile.bank_id!r} but the profile is stored for {bank_id!r}")], bank_id=bank_id
        )
    return profile


def _parse_document(text: str, bank_id: str | None) -> Any:
    try:
        return _parse_text(text, bank_id)
    except ProfileError:
        raise
    except RecursionError:
        raise ProfileError([(None, "nested too deeply to be a bank profile")], bank_id=bank_id) from None
    except ValueError as exc:  # a number longer than Python reads as an int (4,300 digits)
        raise ProfileError([(None, f"not readable as a profile: {exc}")], bank_id=bank_id) from None


def _parse_text(text: str, bank_id: str | None) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProfileError(
                [(None, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")], bank_id=bank_id
            ) from None
    try:
        import yaml  # only profiles written as YAML need it
    except ImportError:  # pragma: no cover - PyYAML is installed wherever profiles are read
        raise ProfileError([(None, "not JSON, and YAML support (PyYAML) is not installed")], bank_id=bank_id) from None
    try:
        return yaml.load(text, Loader=_loader(yaml))  # a SafeLoader that also refuses aliases
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProfileError([(None, f"not valid JSON or YAML: {problem}{where}")], bank_id=bank_id) from None


@functools.cache
def _loader(yaml: Any) -> type:
    """PyYAML's SafeLoader without aliases: a profile never needs ``*name``, and aliases nested in aliases make a
    few hundred bytes stand for millions of values (the YAML "billion laughs") that validation would walk."""

    class NoAliasSafeLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a profile", mark)
            return super().compose_node(parent, index)

    return NoAliasSafeLoader


def _problems(exc: ValidationError) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, _Invalid):
            problems.append((cause.field, cause.reason))
            continue
        field = ".".join(str(part) for part in error["loc"]) or None
        message = str(cause) if isinstance(cause, ValueError) else error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown profile field"
        problems.append((field, message))
    return problems


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def require_profile(bank_id: str, profiles: Mapping[str, BankProfile]) -> BankProfile:
    """The profile a bank's CSV/fixed-width file is read with; a file from a bank without one is rejected whole."""
    profile = profiles.get(bank_id)
    if profile is None:
        raise BankFileError(
            f"no bank profile for bank {bank_id!r}: add config/banks/{bank_id}.json (see docs/bank-profiles.md)"
        )
    return profile


# --- numbers -------------------------------------------------------------------------------------------------------


class AmountFormatError(ValueError):
    """A text that is not an amount in the profile's number style."""


# As in receivables.domain.money: a trillion with room to spare, and every amount exact in DynamoDB's 38 digits.
MAX_INTEGER_DIGITS = 15


@cache
def _amount_pattern(decimal_sep: str | None, thousands_sep: str | None) -> re.Pattern[str]:
    # ASCII digits only: Python's \d and Decimal() also accept other scripts' digits.
    if decimal_sep is None:  # implied decimals: digits only
        return re.compile(r"(?P<int>[0-9]+)")
    grouped = rf"[0-9]{{1,3}}(?:{re.escape(thousands_sep)}[0-9]{{3}})+|" if thousands_sep else ""
    return re.compile(rf"(?P<int>{grouped}[0-9]+)(?:{re.escape(decimal_sep)}(?P<frac>[0-9]+))?")


# Spaces other than U+0020 that spreadsheets put between digit groups.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


def parse_amount(text: str, profile: BankProfile) -> Decimal:
    """The signed amount ``text`` writes in the profile's number style.

    Accepted signs: a leading '-' or '+', a trailing '-' (mainframe and fixed-width exports) and accounting
    parentheses '(1.234,56)'; they are all unambiguous. Grouping is optional, but where used it must be in threes:
    together with the currency's decimals (checked per row) that turns a profile with its separators swapped into
    rejections, instead of reading the Turkish '1.234' (one thousand two hundred and thirty-four) as 1.234.
    """
    raw = text.translate(_SPACES).strip()
    body, negative = raw, False
    if body.startswith("(") and body.endswith(")"):
        body, negative = body[1:-1].strip(), True
    elif body and body[0] in "+-":
        body, negative = body[1:].strip(), body[0] == "-"
    elif body.endswith("-"):
        body, negative = body[:-1].strip(), True
    match = _amount_pattern(profile.decimal_separator, profile.thousands_separator).fullmatch(body)
    if not body or not match:
        raise AmountFormatError(f"{text.strip()!r} is not an amount written like {profile.number_example}")
    digits = match.group("int").replace(profile.thousands_separator or "", "")
    if len(digits.lstrip("0")) - (profile.implied_decimals or 0) > MAX_INTEGER_DIGITS:
        raise AmountFormatError(f"{text.strip()!r} has more than {MAX_INTEGER_DIGITS} integer digits")
    if profile.implied_decimals is not None:
        value = Decimal(digits).scaleb(-profile.implied_decimals)
    else:
        fraction = match.group("frac")
        value = Decimal(f"{digits}.{fraction}" if fraction else digits)
    return -value if negative else value


def _check_currency_decimals(value: Decimal, currency: str, shown: str) -> None:
    """More non-zero decimals than the currency has means the profile's separators are wrong, not a real amount.

    ISO 4217 minor units (``money.minor_units``), as the camt and MT940 readers use.
    """
    places = minor_units(currency)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise AmountFormatError(
            f"{shown!r} has more decimals than {currency} has ({places}): check decimal_separator/implied_decimals"
        )


# --- reading the file ----------------------------------------------------------------------------------------------


def parse_with_profile(data: bytes, profile: BankProfile) -> ParsedBankFile:
    """Every data row of a bank file as a BankTransaction, or as a rejection saying which line and why.

    Raises BankFileError when the file as a whole cannot be read with this profile (wrong encoding, missing header
    columns, fewer lines than the profile's header and footer).
    """
    text = _decode(data, profile)
    lines = _physical_lines(text)
    first, end = _body_range(lines, profile)
    layout = _layout(lines, first, profile)

    transactions: list[BankTransaction] = []
    rejections: list[BankFileRejection] = []
    seen: Counter[str] = Counter()
    for record in _records(lines, first, end, profile):
        position = f"line {record.line}"
        if record.problem:
            rejections.append(BankFileRejection(position=position, reason=record.problem, line=record.line))
            continue
        if not record.content.strip():
            if not profile.skip_blank_lines:
                rejections.append(BankFileRejection(position=position, reason="line is blank", line=record.line))
            continue
        if any(record.first_line.startswith(prefix) for prefix in profile.skip_line_prefixes):
            continue
        seen[record.content] += 1
        outcome = _transaction(record, position, seen[record.content], layout, profile)
        if isinstance(outcome, BankTransaction):
            transactions.append(outcome)
        else:
            rejections.append(BankFileRejection(position=position, reason=outcome, line=record.line))
    return ParsedBankFile(
        source_format=BankFormat.PROFILE,
        statements=1,
        transactions=tuple(transactions),
        rejections=tuple(rejections),
    )


def _decode(data: bytes, profile: BankProfile) -> str:
    if not data.strip():
        raise BankFileError("file is empty")
    if b"\x00" in data:
        offset = data.index(b"\x00")
        raise BankFileError(
            f"file contains a NUL byte at offset {offset}: it is binary or UTF-16, not {profile.encoding} text"
        )
    if profile.encoding in SINGLE_BYTE_ENCODINGS:
        _refuse_utf8_as_single_byte(data, profile.encoding)
    try:
        text = data.decode(profile.encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BankFileError(
            f"file is not {profile.encoding} text: byte 0x{data[exc.start]:02X} at offset {exc.start} (line {line}) "
            f"cannot be decoded; {_encoding_hint(data[exc.start], profile.encoding)}"
        ) from None
    return text.removeprefix("\ufeff")  # a UTF-8 BOM before the header would rename the first column


def _refuse_utf8_as_single_byte(data: bytes, encoding: str) -> None:
    """Valid multi-byte UTF-8 practically never occurs in Turkish or Latin-1 text, while decoding UTF-8 as
    windows-1254 silently turns 'ş' into 'ÅŸ' in every debtor name and remittance text; so such a file is refused."""
    if data.startswith(codecs.BOM_UTF8):
        raise BankFileError(f"file starts with a UTF-8 byte-order mark but the profile says {encoding}: set utf-8-sig")
    if data.isascii():
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return
    offset = next(i for i, byte in enumerate(data) if byte > 0x7F)
    raise BankFileError(
        f"file is UTF-8 (multi-byte character at offset {offset}) but the profile says {encoding}: "
        "set the profile's encoding to utf-8"
    )


def _encoding_hint(byte: int, encoding: str) -> str:
    if encoding in SINGLE_BYTE_ENCODINGS:
        # Only windows-1254 leaves bytes undefined (0x81, 0x8D-0x90, 0x9D, 0x9E); ISO-8859-9 defines them all.
        return "the bank may send iso-8859-9 (which defines every byte): check with the bank and set the encoding"
    turkish = bytes([byte]).decode("windows-1254", errors="replace")
    return (
        f"in windows-1254 this byte is {turkish!r}: Turkish banks usually send windows-1254 or iso-8859-9; "
        "set the profile's encoding to the one the bank uses"
    )


def _physical_lines(text: str) -> list[str]:
    lines = re.split(r"\r\n|\n|\r", text)
    if lines and lines[-1] == "":
        lines.pop()  # the line break after the last line does not start another one
    return lines


def _body_range(lines: list[str], profile: BankProfile) -> tuple[int, int]:
    """1-based first and last (inclusive) physical line of the data rows."""
    end = len(lines)
    while end > profile.header_rows and not lines[end - 1].strip():
        end -= 1  # footer rows are counted from the last line that has text
    end -= profile.skip_footer_rows
    if end < profile.header_rows:
        raise BankFileError(
            f"file has {len(lines)} lines, fewer than the profile's {profile.header_rows} header and "
            f"{profile.skip_footer_rows} footer rows"
        )
    return profile.header_rows + 1, end


def _csv_reader(lines: Iterator[str], profile: BankProfile) -> Any:
    if profile.quotechar is None:
        return csv.reader(lines, delimiter=profile.delimiter, quoting=csv.QUOTE_NONE, strict=True)
    return csv.reader(lines, delimiter=profile.delimiter, quotechar=profile.quotechar, strict=True)


def _header(line: str, line_number: int, profile: BankProfile) -> tuple[str, ...]:
    try:
        return tuple(cell.strip() for cell in next(_csv_reader(iter([line]), profile), []))
    except csv.Error as exc:
        raise BankFileError(f"the header on line {line_number} is not readable as delimited text ({exc})") from None


@dataclass(frozen=True, slots=True)
class _Locator:
    field: str
    label: str  # where, in words an operator finds in the file: "column 'Tutar'", "characters 31-45"
    index: int | None = None
    slice: ColumnSlice | None = None


@dataclass(frozen=True, slots=True)
class _Layout:
    """The profile's columns resolved against this file's header: where each field is read."""

    locators: dict[str, tuple[_Locator, ...]]
    header: tuple[str, ...] | None  # column names, when the profile names columns
    needed: int  # cells a delimited row must have to hold every mapped column


def _layout(lines: list[str], first: int, profile: BankProfile) -> _Layout:
    header: tuple[str, ...] | None = None
    if profile.layout == "delimited" and any(isinstance(ref, str) for _, ref in profile._refs()):
        header = _header(lines[first - 2], first - 1, profile)
    locators: dict[str, tuple[_Locator, ...]] = {}
    for name, ref in profile.columns.items():
        parts = ref if isinstance(ref, tuple) else (ref,)
        locators[name] = tuple(_locator(name, part, header, first - 1) for part in parts)
    indexes = [loc.index for locs in locators.values() for loc in locs if loc.index is not None]
    return _Layout(locators, header, max(indexes, default=-1) + 1)


def _locator(name: str, ref: ColumnRef, header: tuple[str, ...] | None, header_line: int) -> _Locator:
    if isinstance(ref, ColumnSlice):
        return _Locator(name, ref.describe(), slice=ref)
    if isinstance(ref, int):
        return _Locator(name, f"column {ref + 1}, index {ref}", index=ref)
    assert header is not None  # the profile validator requires header rows for named columns
    exact = [i for i, cell in enumerate(header) if cell == ref]
    loose = exact or [i for i, cell in enumerate(header) if fold(cell) == fold(ref)]
    if len(loose) != 1:
        found = "appears more than once in" if loose else "is not in"
        raise BankFileError(
            f"column {ref!r} (for {name}) {found} the header on line {header_line}; the header has: "
            + ", ".join(repr(cell) for cell in header)
        )
    return _Locator(name, f"column {ref!r}", index=loose[0])


@dataclass(frozen=True, slots=True)
class _Record:
    line: int  # physical line the record starts on
    first_line: str
    content: str  # what identifies the row when the bank gives no reference (see _fallback_reference)
    cells: tuple[str, ...] = ()
    problem: str | None = None


class _LineFeed:
    """Gives csv.reader one physical line at a time and counts them, so each record knows its first line."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self.consumed = 0

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        if self.consumed >= len(self._lines):
            raise StopIteration
        self.consumed += 1
        return self._lines[self.consumed - 1] + "\n"


def _records(lines: list[str], first: int, end: int, profile: BankProfile) -> Iterator[_Record]:
    body = lines[first - 1 : end]
    if profile.layout == "fixed_width":
        for offset, line in enumerate(body):
            yield _Record(line=first + offset, first_line=line, content=line.rstrip())
        return
    feed = _LineFeed(body)
    reader = _csv_reader(feed, profile)
    while True:
        start = feed.consumed
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            span = f"lines {first + start}-{first + feed.consumed - 1}" if feed.consumed - start > 1 else "this line"
            yield _Record(
                line=first + start,
                first_line=body[start],
                content=body[start],
                problem=f"not readable as delimited text ({exc}) in {span}: check quotes",
            )
            continue
        # Cells, not the raw line: the same entry re-exported with other quoting or padding is still the same entry.
        content = "\x1f".join(cell.strip() for cell in cells)
        yield _Record(line=first + start, first_line=body[start], content=content, cells=tuple(cells))


class _Row:
    """The text of each mapped field in one record, plus the problems found reading them."""

    def __init__(self, record: _Record, locators: dict[str, tuple[_Locator, ...]], profile: BankProfile) -> None:
        self.record = record
        self.locators = locators
        self.profile = profile
        self.problems: list[str] = []

    def text(self, name: str) -> str | None:
        """The stripped value of a single-column field; None when the field is not mapped or the cell is empty."""
        locators = self.locators.get(name)
        if not locators:
            return None
        return self._cell(locators[0]) or None

    def texts(self, name: str) -> tuple[str, ...]:
        return tuple(value for loc in self.locators.get(name, ()) if (value := self._cell(loc)))

    def label(self, name: str) -> str:
        return f"{name} ({self.locators[name][0].label})"

    def _cell(self, loc: _Locator) -> str:
        if loc.slice is not None:
            # Lines are padded, not refused, when short: transfer tools trim trailing spaces of fixed-width lines.
            return self.record.first_line[loc.slice.start : loc.slice.end].strip()
        assert loc.index is not None
        cells = self.record.cells
        return cells[loc.index].strip() if loc.index < len(cells) else ""


def _transaction(
    record: _Record, position: str, occurrence: int, layout: _Layout, profile: BankProfile
) -> BankTransaction | str:
    """The row as a transaction, or the reason it is rejected (every problem in the row, not just the first)."""
    shape = _shape_problem(record, layout, profile)
    if shape:
        return shape
    row = _Row(record, layout.locators, profile)
    booking_date = _date(row, "booking_date")
    value_date = _date(row, "value_date")
    if booking_date is None and value_date is None and not row.problems:
        row.problems.append("no booking_date or value_date: the date cells are empty")
    currency = _currency(row)
    movement = _movement(row, currency)
    if row.problems or movement is None or currency is None:
        return "; ".join(row.problems)
    amount, direction = movement
    end_to_end = row.text("end_to_end_id")
    return BankTransaction(
        source_format=BankFormat.PROFILE,
        position=position,
        line=record.line,
        account=row.text("account") or profile.account,
        bank_reference=row.text("reference") or _fallback_reference(profile.bank_id, record.content, occurrence),
        direction=direction,
        amount=amount,
        currency=currency,
        booking_date=booking_date,
        value_date=value_date,
        end_to_end_id=None if end_to_end is None or end_to_end.upper() == _NOT_PROVIDED else end_to_end,
        customer_reference=row.text("customer_reference"),
        debtor_name=row.text("debtor_name"),
        debtor_iban=_compact(row.text("debtor_iban")),
        debtor_account=row.text("debtor_account"),
        remittance_lines=row.texts("remittance"),
    )


def _movement(row: _Row, currency: str | None) -> tuple[Decimal, Direction] | None:
    """The positive amount and its direction; None (with the problem noted in the row) when they cannot be read."""
    signed = _signed_amount(row)
    if signed is None or currency is None:
        return None
    value, shown, label = signed
    try:
        _check_currency_decimals(value, currency, shown)
    except AmountFormatError as exc:
        row.problems.append(f"{label}: {exc}")
        return None
    if value == 0:
        row.problems.append(f"{label}: amount is zero ({shown!r})")
        return None
    direction = _direction(row, value)
    return None if direction is None else (abs(value), direction)


def _shape_problem(record: _Record, layout: _Layout, profile: BankProfile) -> str | None:
    if profile.layout == "fixed_width":
        return None
    cells, header = record.cells, layout.header
    if header is not None and len(cells) != len(header):
        extra_empty = len(cells) > len(header) and not any(cell.strip() for cell in cells[len(header) :])
        if not extra_empty:  # a trailing delimiter on data rows only is harmless
            return (
                f"line has {len(cells)} columns but the header has {len(header)}: "
                f"an unquoted {profile.delimiter!r} inside a text, or a missing column?"
            )
    if len(cells) < layout.needed:
        return f"line has {len(cells)} columns, the profile reads up to column {layout.needed}"
    return None


def _date(row: _Row, name: str) -> date | None:
    value = row.text(name)
    if value is None:
        return None
    try:
        return datetime.strptime(value, row.profile.date_format).date()
    except ValueError:
        row.problems.append(f"{row.label(name)}: {value!r} is not a date in the format {row.profile.date_format!r}")
        return None


def _currency(row: _Row) -> str | None:
    value = row.text("currency")
    if value is None:
        if row.profile.default_currency is None:
            row.problems.append(f"{row.label('currency')}: empty, and the profile has no default_currency")
        return row.profile.default_currency
    code = row.profile.currency_aliases.get(value.upper(), value.upper())
    if not is_currency(code):
        row.problems.append(f"{row.label('currency')}: {value!r} is not an ISO 4217 currency code or a known alias")
        return None
    return code


def _signed_amount(row: _Row) -> tuple[Decimal, str, str] | None:
    """(signed amount, the text it came from, the field label), negative meaning money out of our account."""
    profile = row.profile
    if profile.amount_style != "split":
        return _read_amount(row, "amount", required=True)
    debit = _read_amount(row, "debit_amount", required=False)
    credit = _read_amount(row, "credit_amount", required=False)
    if row.problems:
        return None
    # Banks write a debit column as '500,00' or '-500,00'; either way it is money out.
    debit = debit if debit is None or debit[0] != 0 else None
    credit = credit if credit is None or credit[0] != 0 else None
    if debit and credit:
        row.problems.append(
            f"both {row.label('debit_amount')} {debit[1]!r} and {row.label('credit_amount')} {credit[1]!r} are filled"
        )
        return None
    if debit:
        return -abs(debit[0]), debit[1], debit[2]
    if credit:
        if credit[0] < 0:
            row.problems.append(f"{credit[2]}: {credit[1]!r} is negative in the credit column")
            return None
        return credit
    row.problems.append(f"amount is zero: {row.label('debit_amount')} and {row.label('credit_amount')} are empty or 0")
    return None


def _read_amount(row: _Row, name: str, *, required: bool) -> tuple[Decimal, str, str] | None:
    value = row.text(name)
    label = row.label(name)
    if value is None:
        if required:
            row.problems.append(f"{label}: empty")
        return None
    try:
        return parse_amount(value, row.profile), value, label
    except AmountFormatError as exc:
        row.problems.append(f"{label}: {exc}")
        return None


def _direction(row: _Row, value: Decimal) -> Direction | None:
    profile = row.profile
    if profile.amount_style != "marker":
        return Direction.DEBIT if value < 0 else Direction.CREDIT
    marker = row.text("direction_marker")
    label = row.label("direction_marker")
    folded = fold(marker or "")
    if folded in {fold(m.strip()) for m in profile.credit_markers}:
        if value < 0:
            # A negative credit might be a reversal; the profile has no way to say so, so a person must look.
            row.problems.append(f"{row.label('amount')} is negative but {label} {marker!r} says credit")
            return None
        return Direction.CREDIT
    if folded in {fold(m.strip()) for m in profile.debit_markers}:
        return Direction.DEBIT  # a '-' on a debit merely repeats the marker
    row.problems.append(
        f"{label}: {marker or ''!r} is neither a credit marker ({', '.join(profile.credit_markers)}) "
        f"nor a debit marker ({', '.join(profile.debit_markers)})"
    )
    return None


def _compact(iban: str | None) -> str | None:
    return (normalise_iban(iban) or None) if iban else None


def _fallback_reference(bank_id: str, content: str, occurrence: int) -> str:
    """The de-duplication key of a row when the bank gives no reference of its own.

    It is a hash of what the row says — never of its line number, which shifts when the next export starts a day
    earlier — so the same entry in a file delivered twice, or in two overlapping exports, gets the same key and is
    posted once. The bank id keeps two banks' identical lines apart. Two identical rows in one file (two equal
    payments the same day) are told apart by counting: the second one hashes with '#2'.
    """
    key = f"{bank_id}\n{content}" if occurrence == 1 else f"{bank_id}\n{content}\n#{occurrence}"
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
