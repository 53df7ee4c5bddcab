"""Card-installment and bank-scheme collections, per bank, as data: the request file we send and the response file
the bank sends back, each described by an outbound **collection profile** (``config/collections/<bank_id>.json`` or
``.yaml``, docs/card-collections.md) rather than by code, so a new bank is onboarded without a deploy.

Banks' collection files are proprietary (no ISO message exists for them): a header record, one record per
collection, a trailer with the count and the control total, written delimited or fixed-width in the bank's encoding,
dates and number style. The response names each collection by the reference we sent and says approved or declined,
with an authorisation code or a reason code that the profile turns into words.

Written by hand on purpose: the layouts are the banks', and a generic fixed-width library would still need all of
this mapping; the column references and encodings are those of the inbound bank profiles (banking/profiles.py).
"""

from __future__ import annotations

import csv
import fnmatch
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from receivables.banking.profiles import ColumnRef, ColumnSlice, ProfileError, supported_encoding

Value = Literal[
    "literal",
    "record_type",
    "reference",
    "item_id",
    "customer_id",
    "account_id",
    "token",
    "amount",
    "currency",
    "installments",
    "due_date",
    "attempt",
    "record_count",
    "total_amount",
    "file_date",
    "sequence",
    "merchant_id",
]
# Values a record is made of, and those of the whole file (header and trailer).
RECORD_VALUES = frozenset(
    {"literal", "record_type", "reference", "item_id", "customer_id", "account_id", "token", "amount", "currency"}
    | {"installments", "due_date", "attempt", "file_date", "merchant_id"}
)
FILE_VALUES = frozenset({"literal", "record_type", "record_count", "total_amount", "file_date", "sequence"})
FILE_VALUES = FILE_VALUES | {"merchant_id", "currency"}
_NUMERIC = frozenset({"amount", "total_amount", "record_count", "installments", "attempt", "sequence"})
# Identifiers a bank's answer must give back exactly: never cut to fit a column.
_EXACT = frozenset({"reference", "token", "amount", "total_amount", "record_count", "sequence", "merchant_id"})
ResponseField = Literal["reference", "status", "auth_code", "reason_code", "amount"]
_BANK_ID = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class CollectionFileError(ValueError):
    """A request that cannot be written in the bank's layout, or a response that cannot be read."""


class OutField(BaseModel):
    """One field of a request record: what it holds and, in a fixed-width file, how wide it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    value: Value
    text: str = Field(default="", description="For literal and record_type: the text written")
    width: int | None = Field(default=None, ge=1, le=512)
    align: Literal["left", "right"] | None = Field(default=None, description="Default: numbers right, text left")
    pad: str = Field(default=" ", min_length=1, max_length=1)
    header: str | None = Field(default=None, description="The CSV column name when column_names is on")


class RecordLayout(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    fields: tuple[OutField, ...] = Field(min_length=1)


class ResponseLayout(BaseModel):
    """How the bank's answer is laid out; ``layout``, ``delimiter`` and ``encoding`` default to the request's."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    file_pattern: str = Field(
        default="*response*", description="Which files under banks/<bank_id>/ are answers (a glob on the file name)"
    )
    layout: Literal["delimited", "fixed_width"] | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    encoding: str | None = None
    header_rows: int = Field(default=0, ge=0, le=10)
    record_prefix: str | None = Field(default=None, description="Only lines starting with this are answers")
    skip_line_prefixes: tuple[str, ...] = ()
    columns: dict[ResponseField, ColumnRef]
    approved: tuple[str, ...] = Field(min_length=1, description="Status values that mean approved")
    declined: tuple[str, ...] = Field(default=(), description="Status values that mean declined (empty: all others)")
    reasons: dict[str, str] = Field(default_factory=dict, description="Reason code → the reason in words")

    @field_validator("columns", mode="before")
    @classmethod
    def _refs(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        return {k: ColumnSlice.model_validate(v) if isinstance(v, Mapping) else v for k, v in value.items()}

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str | None) -> str | None:
        return None if value is None else supported_encoding(value)

    def matches(self, file_name: str) -> bool:
        return fnmatch.fnmatch(file_name.lower(), self.file_pattern.lower())

    @model_validator(mode="after")
    def _needs(self) -> ResponseLayout:
        for needed in ("reference", "status"):
            if needed not in self.columns:
                raise ValueError(f"columns.{needed}: the response must say which collection and whether approved")
        return self


class CollectionProfile(BaseModel):
    """One bank's card-installment or bank-scheme collection files. Every field: docs/card-collections.md."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    bank_id: str = Field(pattern=_BANK_ID)
    name: str = Field(min_length=1, max_length=140)
    method: Literal["card", "bank_scheme"]
    merchant_id: str = Field(default="", max_length=64, description="Our merchant or institution code at the bank")
    layout: Literal["delimited", "fixed_width"]
    encoding: str = "utf-8"
    delimiter: str = Field(default=";", min_length=1, max_length=1)
    line_ending: Literal["CRLF", "LF"] = "CRLF"
    column_names: bool = False
    date_format: str = "%Y%m%d"
    decimal_separator: Literal[".", ","] = "."
    minor_units: bool = Field(default=False, description="Amounts written in kuruş/cents, without a separator")
    file_name: str = Field(default="collections-{date}-{sequence}.txt", pattern=r"^[A-Za-z0-9_.{}\-]{1,120}$")
    default_installments: int = Field(default=1, ge=1, le=36, description="Card installments asked for each item")
    header: RecordLayout | None = None
    record: RecordLayout
    trailer: RecordLayout | None = None
    response: ResponseLayout
    retry_after_days: tuple[int, ...] = Field(default=(3, 7), description="Days after each decline to try again")

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        return supported_encoding(value)

    @field_validator("retry_after_days")
    @classmethod
    def _retries(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(days < 1 or days > 60 for days in value) or len(value) > 10:
            raise ValueError("each retry is 1 to 60 days after the decline before it, at most 10 retries")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CollectionProfile:
        for part, allowed in (("header", FILE_VALUES), ("record", RECORD_VALUES), ("trailer", FILE_VALUES)):
            layout: RecordLayout | None = getattr(self, part)
            if layout is None:
                continue
            for n, spec in enumerate(layout.fields):
                if spec.value not in allowed:
                    raise ValueError(f"{part}.fields[{n}]: {spec.value} cannot be written in a {part} record")
                if self.layout == "fixed_width" and spec.width is None:
                    raise ValueError(f"{part}.fields[{n}]: a fixed-width file needs each field's width")
        if "reference" not in {f.value for f in self.record.fields}:
            raise ValueError("record.fields: the reference must be sent, the response names collections by it")
        if "token" not in {f.value for f in self.record.fields}:
            raise ValueError("record.fields: the token must be sent, it is what the bank collects from")
        return self

    def key(self, day: date, sequence: int) -> str:
        name = self.file_name.replace("{date}", day.strftime("%Y%m%d")).replace("{sequence}", f"{sequence:03d}")
        return f"banks/{self.bank_id}/{name}"


def load_collection_profile(text: bytes | str, *, bank_id: str | None = None) -> CollectionProfile:
    import yaml  # PyYAML is a runtime dependency (bank profiles use it as well)

    where = f"config/collections/{bank_id}" if bank_id else "collection profile"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError([(None, f"not valid JSON or YAML ({exc})")], bank_id=bank_id) from None
    if not isinstance(data, dict):
        raise ProfileError([(None, f"{where}: expected an object of profile fields")], bank_id=bank_id)
    if bank_id is not None:
        data.setdefault("bank_id", bank_id)
    try:
        profile = CollectionProfile.model_validate(data)
    except ValidationError as exc:
        problems = [(".".join(map(str, e["loc"])) or None, e["msg"]) for e in exc.errors()]
        raise ProfileError(problems, bank_id=bank_id) from None
    if bank_id is not None and profile.bank_id != bank_id:
        raise ProfileError([("bank_id", f"is {profile.bank_id!r} but the profile is for {bank_id!r}")], bank_id=bank_id)
    return profile


@dataclass(frozen=True, slots=True)
class CollectionRequest:
    reference: str
    item_id: str
    customer_id: str
    account_id: str
    token: str
    amount: Decimal
    currency: str
    due_date: date
    attempt: int
    installments: int = 1


@dataclass(frozen=True, slots=True)
class CollectionAnswer:
    line: int
    reference: str
    approved: bool
    auth_code: str | None
    reason_code: str | None
    reason: str | None
    amount: Decimal | None


def _amount_text(amount: Decimal, profile: CollectionProfile) -> str:
    cents = amount.quantize(Decimal("0.01"))
    if profile.minor_units:
        return str(int(cents * 100))
    text = f"{cents:f}"
    return text.replace(".", profile.decimal_separator)


def _value(
    spec: OutField, request: CollectionRequest | None, file: Mapping[str, Any], profile: CollectionProfile
) -> str:
    kind = spec.value
    if kind in ("literal", "record_type"):
        return spec.text
    if kind == "merchant_id":
        return profile.merchant_id
    if kind in file:
        value = file[kind]
    elif request is not None:
        value = getattr(request, kind)
    else:
        value = ""
    if isinstance(value, Decimal):
        return _amount_text(value, profile)
    if isinstance(value, date):
        return value.strftime(profile.date_format)
    return str(value)


def _fit(text: str, spec: OutField, where: str) -> str:
    if spec.width is None:
        return text
    if len(text) > spec.width:
        if spec.value in _EXACT:
            raise CollectionFileError(f"{where}: {spec.value} needs {len(text)} characters, the field has {spec.width}")
        return text[: spec.width]
    right = spec.align == "right" or (spec.align is None and spec.value in _NUMERIC)
    return text.rjust(spec.width, spec.pad) if right else text.ljust(spec.width, spec.pad)


def _line(
    layout: RecordLayout,
    request: CollectionRequest | None,
    file: Mapping[str, Any],
    profile: CollectionProfile,
    where: str,
) -> list[str]:
    return [_fit(_value(spec, request, file, profile), spec, f"{where} {spec.value}") for spec in layout.fields]


def write_request(
    profile: CollectionProfile, requests: Sequence[CollectionRequest], *, file_date: date, sequence: int
) -> bytes:
    """The request file: header, one record per collection in the order given, trailer with count and total."""
    if not requests:
        raise CollectionFileError("a request file needs at least one collection")
    currencies = {r.currency for r in requests}
    file = {
        "record_count": len(requests),
        "total_amount": sum((r.amount for r in requests), Decimal("0.00")),
        "file_date": file_date,
        "sequence": sequence,
        "currency": currencies.pop() if len(currencies) == 1 else "",
    }
    rows: list[list[str]] = []
    if profile.column_names and profile.layout == "delimited":
        rows.append([spec.header or spec.value for spec in profile.record.fields])
    if profile.header is not None:
        rows.append(_line(profile.header, None, file, profile, "header"))
    for n, request in enumerate(requests):
        rows.append(_line(profile.record, request, file, profile, f"record {n + 1} ({request.reference})"))
    if profile.trailer is not None:
        rows.append(_line(profile.trailer, None, file, profile, "trailer"))
    ending = "\r\n" if profile.line_ending == "CRLF" else "\n"
    if profile.layout == "fixed_width":
        text = "".join("".join(row) + ending for row in rows)
    else:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=profile.delimiter, lineterminator=ending, quoting=csv.QUOTE_MINIMAL)
        writer.writerows(rows)
        text = out.getvalue()
    try:
        return text.encode(profile.encoding)
    except UnicodeEncodeError as exc:
        raise CollectionFileError(
            f"{exc.object[exc.start : exc.end]!r} cannot be written in {profile.encoding}"
        ) from None


def _cell(cells: Sequence[str] | str, ref: ColumnRef, names: Mapping[str, int], line: int) -> str:
    if isinstance(ref, ColumnSlice):
        assert isinstance(cells, str)
        return cells[ref.start : ref.end].strip()
    if isinstance(cells, str):
        raise CollectionFileError(f"line {line}: a fixed-width response needs {{start, length}} columns")
    index = names.get(ref) if isinstance(ref, str) else ref
    if index is None:
        raise CollectionFileError(f"column {ref!r} is not in the response's header row")
    return cells[index].strip() if index < len(cells) else ""


def read_response(profile: CollectionProfile, data: bytes) -> tuple[list[CollectionAnswer], list[tuple[int, str]]]:
    """Each answer, and the lines that could not be read (line number, why): one bad line does not lose the rest."""
    spec = profile.response
    encoding = spec.encoding or profile.encoding
    try:
        text = data.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise CollectionFileError(f"not {encoding} text: byte at offset {exc.start} cannot be decoded") from None
    layout = spec.layout or profile.layout
    delimiter = spec.delimiter or profile.delimiter
    lines = re.split(r"\r\n|\n|\r", text)
    names: dict[str, int] = {}
    if spec.header_rows and layout == "delimited" and lines:
        header = next(csv.reader([lines[spec.header_rows - 1]], delimiter=delimiter))
        names = {name.strip(): n for n, name in enumerate(header)}
    approved = {v.strip().upper() for v in spec.approved}
    declined = {v.strip().upper() for v in spec.declined}
    answers: list[CollectionAnswer] = []
    problems: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, start=1):
        if number <= spec.header_rows or not raw.strip():
            continue
        if spec.record_prefix is not None and not raw.startswith(spec.record_prefix):
            continue
        if any(raw.startswith(prefix) for prefix in spec.skip_line_prefixes):
            continue
        cells: Sequence[str] | str = raw if layout == "fixed_width" else next(csv.reader([raw], delimiter=delimiter))
        try:
            values = {name: _cell(cells, ref, names, number) for name, ref in spec.columns.items()}
            status = values["status"].upper()
            if status in approved:
                ok = True
            elif not declined or status in declined:
                ok = False
            else:
                raise CollectionFileError(f"status {values['status']!r} is neither approved nor declined")
            if not values["reference"]:
                raise CollectionFileError("no reference")
            amount = _response_amount(values.get("amount"), profile)
        except (CollectionFileError, ValueError) as exc:
            problems.append((number, str(exc)))
            continue
        code = values.get("reason_code") or None
        answers.append(
            CollectionAnswer(
                line=number,
                reference=values["reference"],
                approved=ok,
                auth_code=values.get("auth_code") or None,
                reason_code=None if ok else code,
                reason=None if ok else (spec.reasons.get(code or "") or (f"declined ({code})" if code else "declined")),
                amount=amount,
            )
        )
    return answers, problems


def _response_amount(text: str | None, profile: CollectionProfile) -> Decimal | None:
    if not text:
        return None
    if profile.minor_units:
        if not text.isdigit():
            raise CollectionFileError(f"amount {text!r} is not a whole number of minor units")
        return Decimal(int(text)) / 100
    cleaned = text.replace(profile.decimal_separator, ".") if profile.decimal_separator == "," else text
    try:
        return Decimal(cleaned).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise CollectionFileError(f"amount {text!r} is not a number") from None
