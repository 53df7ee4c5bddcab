"""Parties other than customers: sales channels (agencies, brokers, bancassurance banks), service providers,
reinsurers and tax authorities, loaded from ``parties/`` files by the same loader and rules as customers."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from stdnum.tr import tckimlik, vkn

from receivables.domain.iban import is_iban_shaped, normalise_iban
from receivables.domain.records import (
    _E164,
    _EMAIL,
    _IDENTIFIER,
    _MAX_EMAIL,
    _MAX_TEXT,
    _identifier,
    _optional,
    _required_text,
)


class PartyKind(StrEnum):
    AGENCY = "agency"
    BROKER = "broker"
    BANK = "bank"
    SERVICE_PROVIDER = "service_provider"
    REINSURER = "reinsurer"
    TAX_AUTHORITY = "tax_authority"


class Billing(StrEnum):
    DIRECT = "direct"  # the policyholder owes the premium
    AGENCY = "agency"  # the channel collects from the insured and owes the insurer the gross premium


@dataclass(frozen=True, slots=True)
class Party:
    party_id: str
    kind: PartyKind
    name: str
    tax_id: str
    iban: str | None = None
    city: str | None = None
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str = "tr"
    commission_plan: str | None = None
    billing: Billing | None = None

    def fingerprint(self) -> str:
        canonical = "\x1f".join(
            "" if value is None else str(value)
            for value in (
                self.party_id,
                self.kind,
                self.name,
                self.tax_id,
                self.iban,
                self.city,
                self.address,
                self.email,
                self.phone,
                self.language,
                self.commission_plan,
                self.billing,
            )
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def tax_id_problem(tax_id: str) -> str | None:
    """Why ``tax_id`` is not a Turkish tax number (VKN, 10 digits, or TCKN, 11), or None when its checksum holds."""
    if not tax_id.isdigit() or len(tax_id) not in (10, 11):
        return f"{tax_id!r} is not a VKN (10 digits) or TCKN (11 digits)"
    if len(tax_id) == 10 and not vkn.is_valid(tax_id):
        return f"{tax_id} is not a valid VKN (its check digit does not hold)"
    if len(tax_id) == 11 and not tckimlik.is_valid(tax_id):
        return f"{tax_id} is not a valid TCKN (its check digits do not hold)"
    return None


def _choice[E: StrEnum](values: Mapping[str, str], name: str, enum: type[E], errors: list[str]) -> E | None:
    raw = (values.get(name) or "").strip().lower()
    if not raw:
        return None
    try:
        return enum(raw)
    except ValueError:
        errors.append(f"{name}: {raw!r} is not one of {', '.join(e.value for e in enum)}")
        return None


def validate_party(values: Mapping[str, str]) -> Party | list[str]:
    errors: list[str] = []
    party_id = _identifier(values, "party_id", errors)
    kind = _choice(values, "kind", PartyKind, errors)
    if kind is None and not (values.get("kind") or "").strip():
        errors.append("kind: missing")
    name = _required_text(values, "name", errors)
    tax_id = (values.get("tax_id") or "").strip()
    if not tax_id:
        errors.append("tax_id: missing")
    elif problem := tax_id_problem(tax_id):
        errors.append(f"tax_id: {problem}")
    iban = _optional(values, "iban")
    if iban is not None:
        compact = normalise_iban(iban)
        if not is_iban_shaped(compact):
            errors.append(f"iban: {iban!r} is not an IBAN (country code, 2 check digits, account number)")
        iban = compact
    email = _optional(values, "email")
    if email is not None and (len(email) > _MAX_EMAIL or not _EMAIL.match(email)):
        errors.append(f"email: {email[:_MAX_EMAIL]!r} is not an e-mail address (at most {_MAX_EMAIL} characters)")
    phone = _optional(values, "phone")
    if phone is not None and not _E164.match(phone):
        errors.append(f"phone: {phone!r} is not an E.164 number (+ country code and subscriber number)")
    language = (_optional(values, "language") or "tr").lower()
    if language not in ("tr", "en"):
        errors.append(f"language: {language!r} is not one of tr, en")
    plan = _optional(values, "commission_plan")
    if plan is not None and not _IDENTIFIER.match(plan):
        errors.append(f"commission_plan: {plan!r} is not a valid identifier")
    billing = _choice(values, "billing", Billing, errors)
    texts = {name: _optional(values, name) for name in ("city", "address")}
    errors.extend(f"{n}: longer than {_MAX_TEXT} characters" for n, v in texts.items() if v and len(v) > _MAX_TEXT)
    if errors:
        return errors
    assert kind is not None
    return Party(
        party_id=party_id,
        kind=kind,
        name=name,
        tax_id=tax_id,
        iban=iban,
        city=texts["city"],
        address=texts["address"],
        email=email,
        phone=phone,
        language=language,
        commission_plan=plan,
        billing=billing,
    )
