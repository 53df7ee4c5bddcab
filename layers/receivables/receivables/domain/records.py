"""Validation of the rows billing and CRM systems send us (customers, invoices).

This runs once per row of files with millions of rows, so it is plain Python over ``str`` values rather than a
pydantic model per row (measured: a model per row alone costs more than the whole 4x-of-``csv.reader`` budget in
docs/benchmarks.md). Every problem in a row is reported, each naming the field and what was expected.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from receivables.domain.cards import contains_pan
from receivables.domain.iban import is_iban_shaped, normalise_iban
from receivables.domain.money import CURRENCIES, AmountError, is_currency, parse_positive_amount


class FileKind(StrEnum):
    CUSTOMERS = "customers"
    INVOICES = "invoices"
    PARTIES = "parties"  # agencies, brokers, service providers… (receivables.insurance.parties)
    ADJUSTMENTS = "adjustments"  # billing's corrections of loaded items (receivables.adjustments)
    ACCOUNTS = "accounts"  # CRM's account master data: type, name, billing address, status
    SUBSCRIPTIONS = "subscriptions"  # CRM's subscriptions: service and line (MSISDN, meter, line id), status


CUSTOMER_FIELDS = ("customer_id", "name", "type", "city", "phone", "language")
CUSTOMER_OPTIONAL_FIELDS = (
    "email",
    "iban",
    "vip",
    "risk_score",
    "mandate_id",
    "mandate_date",
    "mandate_bank_id",
    "autopay_method",
    "autopay_bank_id",
    "autopay_token",
    "address",
    "postal_code",
    "district",
    "national_id",
)
# A row that carries any of these columns says what the customer's postal address is — empty means none.
POSTAL_FIELDS = ("address", "postal_code", "district")
AUTOPAY_METHODS = ("card", "direct_debit", "bank_scheme")
INVOICE_FIELDS = ("invoice_id", "customer_id", "account_id", "issue_date", "due_date", "amount", "currency")
INVOICE_OPTIONAL_FIELDS = ("subscription_id", "description")
PARTY_FIELDS = ("party_id", "kind", "name", "tax_id")
PARTY_OPTIONAL_FIELDS = ("iban", "city", "address", "email", "phone", "language", "commission_plan", "billing")
ACCOUNT_FIELDS = ("account_id", "customer_id")
ACCOUNT_OPTIONAL_FIELDS = ("account_type", "name", "billing_address", "city", "postal_code", "status")
SUBSCRIPTION_FIELDS = ("subscription_id", "account_id")
SUBSCRIPTION_OPTIONAL_FIELDS = ("service", "msisdn", "meter", "line_id", "status")
ADJUSTMENT_FIELDS = ("adjustment_id", "item_id", "kind", "reason")
ADJUSTMENT_OPTIONAL_FIELDS = ("amount", "new_due_date", "date")

REQUIRED_FIELDS: dict[FileKind, tuple[str, ...]] = {
    FileKind.CUSTOMERS: CUSTOMER_FIELDS,
    FileKind.INVOICES: INVOICE_FIELDS,
    FileKind.PARTIES: PARTY_FIELDS,
    FileKind.ADJUSTMENTS: ADJUSTMENT_FIELDS,
    FileKind.ACCOUNTS: ACCOUNT_FIELDS,
    FileKind.SUBSCRIPTIONS: SUBSCRIPTION_FIELDS,
}
KNOWN_FIELDS: dict[FileKind, frozenset[str]] = {
    FileKind.CUSTOMERS: frozenset(CUSTOMER_FIELDS + CUSTOMER_OPTIONAL_FIELDS),
    FileKind.INVOICES: frozenset(INVOICE_FIELDS + INVOICE_OPTIONAL_FIELDS),
    FileKind.PARTIES: frozenset(PARTY_FIELDS + PARTY_OPTIONAL_FIELDS),
    FileKind.ADJUSTMENTS: frozenset(ADJUSTMENT_FIELDS + ADJUSTMENT_OPTIONAL_FIELDS),
    FileKind.ACCOUNTS: frozenset(ACCOUNT_FIELDS + ACCOUNT_OPTIONAL_FIELDS),
    FileKind.SUBSCRIPTIONS: frozenset(SUBSCRIPTION_FIELDS + SUBSCRIPTION_OPTIONAL_FIELDS),
}

# Identifiers become parts of DynamoDB keys: keep them printable, bounded and free of our key separator.
# Identifiers are the billing system's own: anything printable without spaces, up to 128 characters, except '#',
# which separates the parts of our DynamoDB keys.
_ID = r"[^\s#\x00-\x1f\x7f]{1,128}"
_IDENTIFIER = re.compile(rf"{_ID}\Z")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\Z")
_MAX_EMAIL = 254  # RFC 5321: the longest address a mail server takes
_E164 = re.compile(r"\+[1-9][0-9]{6,14}\Z")  # ITU-T E.164: '+', country code, at most 15 digits in all
# A SEPA direct-debit mandate reference: up to 35 characters of the EPC's identifier set (pain.008 MndtId).
_MANDATE_ID = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]{1,35}\Z")
_RISK_SCORE = re.compile(r"(?P<score>[0-9]{1,4})(?:\.0+)?\Z")
MAX_ATTRIBUTES = 50
_MAX_TEXT = 500


class Invoice(NamedTuple):
    # A NamedTuple rather than a frozen dataclass: it is built once per loaded row, and measured here it costs a
    # quarter of a frozen dataclass's construction.
    invoice_id: str
    customer_id: str
    account_id: str
    issue_date: date
    due_date: date
    amount: Decimal  # always quantized to cents
    currency: str
    subscription_id: str | None
    description: str | None


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    name: str
    type: str
    city: str
    phone: str
    language: str
    email: str | None
    iban: str | None
    vip: bool
    risk_score: int | None
    attributes: dict[str, str] = field(default_factory=dict)
    # A direct-debit mandate: the customer authorised us to collect from ``iban`` (pain.008). ``mandate_bank_id``
    # names which of our banks collects; without it the default creditor bank does (docs/direct-debit.md).
    mandate_id: str | None = None
    mandate_date: date | None = None
    mandate_bank_id: str | None = None
    # An auto-pay instruction (talimat): collected by ``autopay_bank_id`` under its collection profile
    # (config/collections/<bank_id>) with ``autopay_token`` — the card vault's token or the bank scheme's subscriber
    # number, never a card number. ``direct_debit`` collects by the mandate above.
    autopay_method: str | None = None
    autopay_bank_id: str | None = None
    autopay_token: str | None = None
    # Where letters go (the account's billing address comes first, when its master data has one), and the
    # customer's Turkish identity number: TCKN (11 digits, individuals) or VKN (10 digits, companies).
    address: str | None = None
    postal_code: str | None = None
    district: str | None = None
    national_id: str | None = None
    postal_address_known: bool = False  # the row carried address columns: empty ones mean "no postal address"

    def fingerprint(self) -> str:
        canonical = "\x1f".join(
            (
                self.customer_id,
                self.name,
                self.type,
                self.city,
                self.phone,
                self.language,
                self.email or "",
                self.iban or "",
                str(self.vip),
                "" if self.risk_score is None else str(self.risk_score),
                *(f"{k}={v}" for k, v in sorted(self.attributes.items())),
                self.mandate_id or "",
                self.mandate_date.isoformat() if self.mandate_date else "",
                self.mandate_bank_id or "",
                self.autopay_method or "",
                self.autopay_bank_id or "",
                self.autopay_token or "",
                # Only rows that carry the newer fields extend it: a customer loaded before keeps its fingerprint.
                *(
                    (self.address or "", self.postal_code or "", self.district or "", self.national_id or "", "postal")
                    if self.postal_address_known or self.national_id
                    else ()
                ),
            )
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _identifier(values: Mapping[str, str], name: str, errors: list[str]) -> str:
    raw = (values.get(name) or "").strip()
    if not raw:
        errors.append(f"{name}: missing")
    elif not _IDENTIFIER.match(raw):
        errors.append(f"{name}: {raw!r} is not a valid identifier (no spaces or '#', at most 128 characters)")
    return raw


def _required_text(values: Mapping[str, str], name: str, errors: list[str]) -> str:
    raw = (values.get(name) or "").strip()
    if not raw:
        errors.append(f"{name}: missing")
    elif len(raw) > _MAX_TEXT:
        errors.append(f"{name}: longer than {_MAX_TEXT} characters")
    return raw


def _iso_date(values: Mapping[str, str], name: str, errors: list[str]) -> date | None:
    raw = (values.get(name) or "").strip()
    if not raw:
        errors.append(f"{name}: missing")
        return None
    # date.fromisoformat also takes "20261124" and week dates; the contract is YYYY-MM-DD only.
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    errors.append(f"{name}: {raw!r} is not an ISO 8601 date (YYYY-MM-DD)")
    return None


def _optional(values: Mapping[str, str], name: str) -> str | None:
    raw = (values.get(name) or "").strip()
    return raw or None


# The shape of a clean row, as one anchored pattern over the required fields joined by a separator that cannot occur
# in them: one regex call per row instead of one per field (the loader's hot path, see docs/benchmarks.md).
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_CLEAN_ROW = re.compile(
    rf"{_ID}\x1f{_ID}\x1f{_ID}\x1f{_DATE}\x1f{_DATE}\x1f(?:0|[1-9][0-9]{{0,14}})(?P<cents>\.[0-9]{{1,2}})?"
    rf"\x1f(?:{_ID})?\Z"
).match
_CLEAN_ID = re.compile(rf"{_ID}\Z").match
_ZERO_AMOUNTS = frozenset({"0", "0.0", "0.00"})
_PAD_CENTS = {None: ".00", 2: "0", 3: ""}

INVOICE_COLUMNS = INVOICE_FIELDS + INVOICE_OPTIONAL_FIELDS


def clean_invoice(fields: Sequence[str | None]) -> Invoice | None:
    """An Invoice from a row as billing systems normally send it, given in ``INVOICE_COLUMNS`` order; None when any
    field needs the detailed checks of :func:`validate_invoice` (which also explain the problem)."""
    invoice_id, customer_id, account_id, issue, due, amount, currency, subscription_id, description = fields
    if currency not in CURRENCIES or amount in _ZERO_AMOUNTS:
        return None
    try:
        match = _CLEAN_ROW(
            "\x1f".join(
                (
                    invoice_id,
                    customer_id,
                    account_id,
                    issue,
                    due,
                    amount,  # type: ignore[arg-type]
                    subscription_id or "",
                )
            )
        )
    except TypeError:  # a required field is absent
        return None
    if match is None or due < issue:  # type: ignore[operator]
        return None
    if description and (len(description) > _MAX_TEXT or description != description.strip()):
        return None
    try:
        issue_date, due_date = date.fromisoformat(issue), date.fromisoformat(due)  # type: ignore[arg-type]
    except ValueError:  # e.g. 2026-02-30
        return None
    cents = match.group("cents")
    # The pattern matched: every required field is there, so none of them is None.
    return Invoice(
        invoice_id,  # type: ignore[arg-type]
        customer_id,  # type: ignore[arg-type]
        account_id,  # type: ignore[arg-type]
        issue_date,
        due_date,
        Decimal(amount + _PAD_CENTS[len(cents) if cents else None]),  # type: ignore[operator]
        currency,
        subscription_id or None,
        description or None,
    )


def validate_invoice(values: Mapping[str, str]) -> Invoice | list[str]:
    """The row as an Invoice, or the list of reasons it is rejected."""
    get = values.get
    return clean_invoice(tuple(get(name) for name in INVOICE_COLUMNS)) or _validate_invoice_fields(values)


def _validate_invoice_fields(values: Mapping[str, str]) -> Invoice | list[str]:
    errors: list[str] = []
    invoice_id = _identifier(values, "invoice_id", errors)
    customer_id = _identifier(values, "customer_id", errors)
    account_id = _identifier(values, "account_id", errors)
    issue_date = _iso_date(values, "issue_date", errors)
    due_date = _iso_date(values, "due_date", errors)
    amount: Decimal | None = None
    raw_amount = (values.get("amount") or "").strip()
    if not raw_amount:
        errors.append("amount: missing")
    else:
        try:
            amount = parse_positive_amount(raw_amount)
        except AmountError as exc:
            errors.append(f"amount: {exc}")
    currency = (values.get("currency") or "").strip().upper()
    if not currency:
        errors.append("currency: missing")
    elif not is_currency(currency):
        errors.append(f"currency: unknown currency {currency!r} (not an ISO 4217 currency code)")
    if issue_date and due_date and due_date < issue_date:
        errors.append(f"due_date: {due_date.isoformat()} is before issue_date {issue_date.isoformat()}")
    subscription_id = _optional(values, "subscription_id")
    if subscription_id is not None and not _IDENTIFIER.match(subscription_id):
        errors.append(f"subscription_id: {subscription_id!r} is not a valid identifier")
    description = _optional(values, "description")
    if description is not None and len(description) > _MAX_TEXT:
        errors.append(f"description: longer than {_MAX_TEXT} characters")
    if errors:
        return errors
    assert issue_date and due_date and amount is not None  # guaranteed by the checks above
    return Invoice(
        invoice_id=invoice_id,
        customer_id=customer_id,
        account_id=account_id,
        issue_date=issue_date,
        due_date=due_date,
        amount=amount,
        currency=currency,
        subscription_id=subscription_id,
        description=description,
    )


_BOOLEAN = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def validate_customer(values: Mapping[str, str]) -> Customer | list[str]:  # noqa: C901 (listed in pyproject)
    errors: list[str] = []
    customer_id = _identifier(values, "customer_id", errors)
    name = _required_text(values, "name", errors)
    customer_type = (values.get("type") or "").strip().lower()
    if not customer_type:
        errors.append("type: missing")
    elif customer_type not in ("individual", "corporate"):
        errors.append(f"type: {customer_type!r} is not one of individual, corporate")
    city = _required_text(values, "city", errors)
    phone = (values.get("phone") or "").strip()
    if not phone:
        errors.append("phone: missing")
    elif not _E164.match(phone):
        errors.append(f"phone: {phone!r} is not an E.164 number (+ country code and subscriber number)")
    language = (values.get("language") or "").strip().lower()
    if not language:
        errors.append("language: missing")
    elif language not in ("tr", "en"):
        errors.append(f"language: {language!r} is not one of tr, en")
    email = _optional(values, "email")
    if email is not None and (len(email) > _MAX_EMAIL or not _EMAIL.match(email)):
        errors.append(f"email: {email[:_MAX_EMAIL]!r} is not an e-mail address (at most {_MAX_EMAIL} characters)")
    iban = _optional(values, "iban")
    if iban is not None:
        # Shape only, no checksum: a customer is not refused for an IBAN their bank may still correct;
        # collections (pain.008) validate it before money moves.
        compact = normalise_iban(iban)
        if not is_iban_shaped(compact):
            errors.append(f"iban: {iban!r} is not an IBAN (country code, 2 check digits, account number)")
        iban = compact
    vip = False
    raw_vip = _optional(values, "vip")
    if raw_vip is not None:
        if raw_vip.lower() not in _BOOLEAN:
            errors.append(f"vip: {raw_vip!r} is not true or false")
        else:
            vip = _BOOLEAN[raw_vip.lower()]
    risk_score: int | None = None
    raw_risk = _optional(values, "risk_score")
    if raw_risk is not None:
        score = _RISK_SCORE.match(raw_risk)
        if score is None or int(score.group("score")) > 1000:
            errors.append(f"risk_score: {raw_risk!r} is not a whole number from 0 to 1000")
        else:
            risk_score = int(score.group("score"))
    mandate_id = _optional(values, "mandate_id")
    mandate_date = None
    if mandate_id is not None:
        if not _MANDATE_ID.match(mandate_id) or mandate_id.startswith("/") or "//" in mandate_id:
            errors.append(f"mandate_id: {mandate_id!r} is not a mandate reference (≤ 35 SEPA characters)")
        if iban is None:
            errors.append("mandate_id: a mandate needs the customer's iban to collect from")
        if _optional(values, "mandate_date") is None:
            errors.append("mandate_date: missing (a mandate needs its date of signature)")
        else:
            mandate_date = _iso_date(values, "mandate_date", errors)
    elif _optional(values, "mandate_date") is not None:
        errors.append("mandate_date: given without a mandate_id")
    mandate_bank_id = _optional(values, "mandate_bank_id")
    if mandate_bank_id is not None and not _IDENTIFIER.match(mandate_bank_id):
        errors.append(f"mandate_bank_id: {mandate_bank_id!r} is not a valid identifier")
    autopay_method, autopay_bank_id, autopay_token = _autopay(values, mandate_id, errors)
    address = _bounded_text(values, "address", errors)
    postal_code = _postal_code(values, "postal_code", errors)
    district = _bounded_text(values, "district", errors, limit=100)
    national_id = national_id_of(_optional(values, "national_id"), errors)
    known = KNOWN_FIELDS[FileKind.CUSTOMERS]
    attributes = {k: str(v).strip() for k, v in values.items() if k not in known and k and v is not None}
    pans = sorted(k for k, v in attributes.items() if contains_pan(v))
    if pans:
        # Never the value itself: the reason goes into a rejection report and the logs.
        errors.append(f"{', '.join(pans)}: looks like a card number (PAN); we never keep card numbers")
    # Extra columns become attributes for segment rules; bounded so a customer always fits one DynamoDB item.
    if len(attributes) > MAX_ATTRIBUTES:
        errors.append(f"{len(attributes)} extra columns; at most {MAX_ATTRIBUTES} are kept as attributes")
    errors.extend(
        f"{k}: attribute name or value too long (names ≤ 64, values ≤ {_MAX_TEXT} characters)"
        for k, v in attributes.items()
        if len(k) > 64 or len(v) > _MAX_TEXT
    )
    if errors:
        return errors
    return Customer(
        customer_id=customer_id,
        name=name,
        type=customer_type,
        city=city,
        phone=phone,
        language=language,
        email=email,
        iban=iban,
        vip=vip,
        risk_score=risk_score,
        attributes=attributes,
        mandate_id=mandate_id,
        mandate_date=mandate_date,
        mandate_bank_id=mandate_bank_id,
        autopay_method=autopay_method,
        autopay_bank_id=autopay_bank_id,
        autopay_token=autopay_token,
        address=address,
        postal_code=postal_code,
        district=district,
        national_id=national_id,
        postal_address_known=any(name in values for name in POSTAL_FIELDS),
    )


_POSTAL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{1,9}\Z")  # Turkey's are 5 digits; others differ
_ACCOUNT_TYPE = re.compile(r"[A-Za-z0-9_.-]{1,64}\Z")  # as the allocation policies name them
_STATUS = re.compile(r"[a-z][a-z_]{0,31}\Z")
_LINE = re.compile(r"\+?[0-9]{6,15}\Z")


def _bounded_text(values: Mapping[str, str], name: str, errors: list[str], limit: int = _MAX_TEXT) -> str | None:
    text = _optional(values, name)
    if text is not None and len(text) > limit:
        errors.append(f"{name}: longer than {limit} characters")
    return text


def _postal_code(values: Mapping[str, str], name: str, errors: list[str]) -> str | None:
    code = _optional(values, name)
    if code is not None and not _POSTAL_CODE.match(code):
        errors.append(f"{name}: {code!r} is not a postal code (2 to 10 letters, digits, spaces or '-')")
    return code


def national_id_of(raw: str | None, errors: list[str]) -> str | None:
    """A TCKN (T.C. kimlik no, 11 digits) or a VKN (vergi kimlik no, 10 digits), checked by python-stdnum's
    checksums; the reason never repeats the number (it is personal data)."""
    if raw is None:
        return None
    from stdnum.tr import tckimlik, vkn

    compact = raw.replace(" ", "")
    if len(compact) == 11 and tckimlik.is_valid(compact):
        return compact
    if len(compact) == 10 and vkn.is_valid(compact):
        return compact
    kind = {11: "TCKN", 10: "VKN"}.get(len(compact))
    errors.append(
        f"national_id: not a valid {kind} (its check digits do not match)"
        if kind and compact.isdigit()
        else "national_id: neither a TCKN (11 digits) nor a VKN (10 digits)"
    )
    return None


@dataclass(frozen=True, slots=True)
class AccountMaster:
    """An account's master data from CRM. An account opens on first sight from an invoice all the same; this is
    what it takes on when it arrives (before or after)."""

    account_id: str
    customer_id: str
    account_type: str | None = None
    name: str | None = None
    billing_address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    status: str | None = None

    def fingerprint(self) -> str:
        canonical = "\x1f".join(str(getattr(self, name) or "") for name in self.__slots__)
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class SubscriptionMaster:
    subscription_id: str
    account_id: str
    service: str | None = None
    msisdn: str | None = None
    meter: str | None = None
    line_id: str | None = None
    status: str | None = None

    def fingerprint(self) -> str:
        canonical = "\x1f".join(str(getattr(self, name) or "") for name in self.__slots__)
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _status(values: Mapping[str, str], errors: list[str]) -> str | None:
    status = _optional(values, "status")
    if status is not None:
        status = status.lower()
        if not _STATUS.match(status):
            errors.append(f"status: {status!r} is not a status word (e.g. active, suspended, closed)")
    return status


def validate_account_master(values: Mapping[str, str]) -> AccountMaster | list[str]:
    errors: list[str] = []
    account_id = _identifier(values, "account_id", errors)
    customer_id = _identifier(values, "customer_id", errors)
    account_type = _optional(values, "account_type")
    if account_type is not None and not _ACCOUNT_TYPE.match(account_type):
        errors.append(f"account_type: {account_type!r} is not an account type (letters, digits, _ . -, ≤ 64)")
    name = _bounded_text(values, "name", errors)
    billing_address = _bounded_text(values, "billing_address", errors)
    city = _bounded_text(values, "city", errors, limit=100)
    postal_code = _postal_code(values, "postal_code", errors)
    status = _status(values, errors)
    if errors:
        return errors
    return AccountMaster(account_id, customer_id, account_type, name, billing_address, city, postal_code, status)


def validate_subscription(values: Mapping[str, str]) -> SubscriptionMaster | list[str]:
    errors: list[str] = []
    subscription_id = _identifier(values, "subscription_id", errors)
    account_id = _identifier(values, "account_id", errors)
    service = _bounded_text(values, "service", errors, limit=100)
    msisdn = _optional(values, "msisdn")
    if msisdn is not None and not _LINE.match(msisdn.replace(" ", "")):
        errors.append(f"msisdn: {msisdn!r} is not a phone number (6 to 15 digits, optional +)")
    meter = _bounded_text(values, "meter", errors, limit=64)
    line_id = _bounded_text(values, "line_id", errors, limit=64)
    status = _status(values, errors)
    if errors:
        return errors
    return SubscriptionMaster(
        subscription_id, account_id, service, msisdn.replace(" ", "") if msisdn else None, meter, line_id, status
    )


_TOKEN = re.compile(r"[A-Za-z0-9_.:/+=-]{1,128}\Z")


def _autopay(
    values: Mapping[str, str], mandate_id: str | None, errors: list[str]
) -> tuple[str | None, str | None, str | None]:
    method = _optional(values, "autopay_method")
    bank_id = _optional(values, "autopay_bank_id")
    token = _optional(values, "autopay_token")
    if token is not None and contains_pan(token):
        # Never echo it: the reason goes into a rejection report, and a report is not a place for a card number.
        errors.append("autopay_token: looks like a card number (PAN); send the card vault's token instead")
        token = None
    elif token is not None and not _TOKEN.match(token):
        errors.append("autopay_token: not a token (at most 128 letters, digits and _ . : / + = -)")
    if method is None:
        if bank_id is not None or token is not None:
            errors.append("autopay_method: missing (card, direct_debit or bank_scheme) for the auto-pay instruction")
        return None, None, None
    method = method.lower()
    if method not in AUTOPAY_METHODS:
        errors.append(f"autopay_method: {method!r} is not one of {', '.join(AUTOPAY_METHODS)}")
        return None, None, None
    if bank_id is not None and not _IDENTIFIER.match(bank_id):
        errors.append(f"autopay_bank_id: {bank_id!r} is not a valid identifier")
    if method == "direct_debit":
        if mandate_id is None:
            errors.append("autopay_method: direct_debit needs the customer's mandate (mandate_id, mandate_date, iban)")
    else:
        if bank_id is None:
            errors.append(f"autopay_bank_id: missing (which bank collects by {method})")
        if token is None and not any("autopay_token" in e for e in errors):
            errors.append(f"autopay_token: missing (the {method} instruction's token)")
    return method, bank_id, token
