"""The events policy administration systems send (docs/policy-events/*.schema.json is generated from these models).

Each is one JSON object with ``type`` and ``event_id``; amounts are JSON numbers or strings with at most 2 decimals
(read as Decimal, never float). Unknown fields are ignored by validation but are part of the event's content: the
same ``event_id`` sent again with any field different is a conflict naming those fields.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from receivables.domain.dates import IsoDate
from receivables.domain.money import CURRENCIES
from receivables.insurance.parties import Billing

_ID = r"^[^\s#\x00-\x1f\x7f]{1,128}$"
Identifier = Annotated[str, Field(pattern=_ID)]
# Claim and policy ids end up in bank references (pain.001 EndToEndId ≤ 35 with a suffix): policies stay ≤ 64.
PolicyId = Annotated[str, Field(pattern=r"^[^\s#\x00-\x1f\x7f]{1,64}$")]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Premium = Annotated[Decimal, Field(ge=0, max_digits=17, decimal_places=2, allow_inf_nan=False)]
Change = Annotated[Decimal, Field(max_digits=17, decimal_places=2, allow_inf_nan=False)]


class _AnyEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)
    event_id: Identifier


class _Event(_AnyEvent):
    policy_id: PolicyId


class Cover(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    cover: Name
    net_premium: Premium


class PaymentPlan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    installments: Annotated[int, Field(ge=1, le=12, strict=True)]
    first_due_date: IsoDate
    interval_months: Annotated[int, Field(ge=1, le=12, strict=True)] = 1
    down_payment_percent: Annotated[Decimal, Field(gt=0, lt=100, decimal_places=4)] | None = None


class Channel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    party_id: Identifier
    billing: Billing = Billing.DIRECT


class PolicyIssued(_Event):
    type: Literal["PolicyIssued"]
    customer_id: Identifier
    branch: Name
    start_date: IsoDate
    end_date: IsoDate
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    covers: Annotated[tuple[Cover, ...], Field(min_length=1, max_length=50)]
    payment_plan: PaymentPlan
    channel: Channel | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PolicyIssued:
        if self.end_date <= self.start_date:
            raise ValueError(f"end_date {self.end_date} is not after start_date {self.start_date}")
        if self.currency not in CURRENCIES:
            raise ValueError(f"currency {self.currency!r} is not an ISO 4217 currency code")
        if sum(c.net_premium for c in self.covers) <= 0:
            raise ValueError("the covers' net premiums add up to nothing")
        return self

    @property
    def billing(self) -> Billing:
        return self.channel.billing if self.channel else Billing.DIRECT


class CoverChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    cover: Name
    net_premium_change: Change


class EndorsementIssued(_Event):
    type: Literal["EndorsementIssued"]
    endorsement_id: Identifier
    effective_date: IsoDate
    covers: Annotated[tuple[CoverChange, ...], Field(min_length=1, max_length=50)]
    billing: Literal["remaining", "next", "separate"] = "remaining"


class PolicyCancelled(_Event):
    type: Literal["PolicyCancelled"]
    effective_date: IsoDate
    basis: Literal["pro_rata", "short_rate"]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


# A claim's payables are ``<claim_id>-C`` and ``<claim_id>-W``: within a bank's 35-character EndToEndId.
ClaimId = Annotated[
    str, Field(pattern=r"^[^\s#\x00-\x1f\x7f]{1,128}$", max_length=33, description="At most 33 characters")
]
Positive = Annotated[Decimal, Field(gt=0, max_digits=17, decimal_places=2, allow_inf_nan=False)]


class ClaimPaymentApproved(_Event):
    """The claim system approved a payment: owed to ``payee`` (a party — a garage, a hospital, an expert — or the
    policyholder's customer id), less ``withholding_percent`` of it owed to the tax authority instead."""

    type: Literal["ClaimPaymentApproved"]
    claim_id: ClaimId
    payee: Identifier
    amount: Positive
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    due_date: IsoDate
    withholding_percent: Annotated[Decimal, Field(gt=0, lt=100, decimal_places=4)] | None = None

    @model_validator(mode="after")
    def _known_currency(self) -> ClaimPaymentApproved:
        if self.currency not in CURRENCIES:
            raise ValueError(f"currency {self.currency!r} is not an ISO 4217 currency code")
        return self


class ClaimPaymentCancelled(_AnyEvent):
    """The claim payment is withdrawn before it was paid: its payables are cancelled, what it settled by offset
    reopens."""

    type: Literal["ClaimPaymentCancelled"]
    claim_id: ClaimId
    policy_id: PolicyId | None = None
    reason: Annotated[str, Field(max_length=500)] = ""


# Reinsurance items are named after the event that made them (``<event_id>-RP`` and so on): ids stay ≤ 35.
ReinsuranceEventId = Annotated[str, Field(pattern=_ID, max_length=32, description="At most 32 characters")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class ReinsuranceCession(_Event):
    """Premium ceded to a reinsurer for a policy and period: we owe it ``ceded_premium`` (a payable ``<event_id>-RP``)
    and it owes us ``reinsurance_commission`` (a receivable ``<event_id>-RK``), both on the reinsurer's current account
    and settled by its quarterly statement, never paid one by one. Treaty or facultative: ``basis``, or a ``treaty``
    id (a treaty cession), or ``facultative: true``."""

    type: Literal["ReinsuranceCession"]
    event_id: ReinsuranceEventId
    reinsurer: Identifier
    ceded_premium: Positive
    reinsurance_commission: Premium = Decimal("0.00")
    basis: Literal["treaty", "facultative"] | None = None
    treaty: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    facultative: bool | None = None
    period: Annotated[str, Field(min_length=1, max_length=32, description="e.g. 2026-Q4 or 2026-10")]
    currency: Currency | None = Field(default=None, description="Default: the policy's currency")

    @model_validator(mode="after")
    def _one_basis(self) -> ReinsuranceCession:
        if self.currency is not None and self.currency not in CURRENCIES:
            raise ValueError(f"currency {self.currency!r} is not an ISO 4217 currency code")
        if self.reinsurance_commission > self.ceded_premium:
            raise ValueError("reinsurance_commission is larger than the ceded premium")
        implied = {
            "treaty" if self.treaty not in (None, "facultative") else None,
            "facultative" if self.facultative or self.treaty == "facultative" else None,
        } - {None}
        if self.basis is not None:
            implied.add(self.basis)
        if len(implied) != 1:
            raise ValueError(
                "say whether the cession is under a treaty or facultative: basis, treaty (its id) or facultative: true"
                + (" — not both" if len(implied) > 1 else "")
            )
        object.__setattr__(self, "basis", implied.pop())
        return self


class ClaimRecoveryDue(_AnyEvent):
    """The reinsurer's share of a claim is due to us: a receivable ``<claim_id>-RR`` on the reinsurer's current account,
    settled by its quarterly statement."""

    type: Literal["ClaimRecoveryDue"]
    claim_id: ClaimId
    reinsurer: Identifier
    amount: Positive
    policy_id: PolicyId | None = None
    currency: Currency | None = Field(default=None, description="Default: the claim payment's, else the policy's")
    due_date: IsoDate | None = Field(default=None, description="Default: the end of the quarter")

    @model_validator(mode="after")
    def _known_currency(self) -> ClaimRecoveryDue:
        if self.currency is not None and self.currency not in CURRENCIES:
            raise ValueError(f"currency {self.currency!r} is not an ISO 4217 currency code")
        return self


AnyPolicyEvent = (
    PolicyIssued
    | EndorsementIssued
    | PolicyCancelled
    | ClaimPaymentApproved
    | ClaimPaymentCancelled
    | ReinsuranceCession
    | ClaimRecoveryDue
)
PolicyEvent = Annotated[AnyPolicyEvent, Field(discriminator="type")]
EVENT_TYPES: dict[str, type[_AnyEvent]] = {
    "PolicyIssued": PolicyIssued,
    "EndorsementIssued": EndorsementIssued,
    "PolicyCancelled": PolicyCancelled,
    "ClaimPaymentApproved": ClaimPaymentApproved,
    "ClaimPaymentCancelled": ClaimPaymentCancelled,
    "ReinsuranceCession": ReinsuranceCession,
    "ClaimRecoveryDue": ClaimRecoveryDue,
}
_ADAPTER: TypeAdapter[AnyPolicyEvent] = TypeAdapter(PolicyEvent)


class EventRejectedError(ValueError):
    """The event cannot be taken: ``reason`` says why, naming the field; ``event_id`` when the event had one."""

    def __init__(self, reason: str, event_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


def raw_event(text: str | bytes) -> dict[str, Any]:
    """The JSON object of one event, numbers as Decimal."""
    try:
        value = json.loads(text, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise EventRejectedError(f"not a JSON object: {error}") from None
    if not isinstance(value, dict):
        raise EventRejectedError(f"not a JSON object but a {type(value).__name__}")
    return value


def parse_event(raw: dict[str, Any]) -> AnyPolicyEvent:
    event_id = raw.get("event_id") if isinstance(raw.get("event_id"), str) else None
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        known = ", ".join(EVENT_TYPES)
        raise EventRejectedError(f"type: {kind!r} is not one of {known}", event_id)
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or '(event)'}: {e['msg']}" for e in error.errors()
        )
        raise EventRejectedError(problems, event_id) from None


def canonical(raw: dict[str, Any]) -> str:
    """One text per content, whatever the key order or number spelling (1000 and "1000.00" are the same amount)."""

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: norm(v) for k, v in sorted(value.items())}
        if isinstance(value, list):
            return [norm(v) for v in value]
        if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
            return format(Decimal(value).normalize(), "f")
        if isinstance(value, str):
            try:
                if value.strip() and Decimal(value).is_finite():
                    return format(Decimal(value).normalize(), "f")
            except ArithmeticError:
                pass
        return value

    return json.dumps(norm(raw), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def changed_fields(stored: dict[str, Any], incoming: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted paths of what differs between two contents of one event id."""
    changed: list[str] = []
    for name in sorted(set(stored) | set(incoming)):
        path = f"{prefix}{name}"
        old, new = stored.get(name), incoming.get(name)
        if isinstance(old, dict) and isinstance(new, dict):
            changed += changed_fields(old, new, f"{path}.")
        elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
            for n, (a, b) in enumerate(zip(old, new, strict=True)):
                if isinstance(a, dict) and isinstance(b, dict):
                    changed += changed_fields(a, b, f"{path}[{n}].")
                elif canonical({"v": a}) != canonical({"v": b}):
                    changed.append(f"{path}[{n}]")
        elif canonical({"v": old}) != canonical({"v": new}):
            changed.append(path)
    return changed


def event_schemas() -> dict[str, dict[str, Any]]:
    """A JSON Schema per event type, as published under docs/policy-events/."""
    return {name: model.model_json_schema() for name, model in EVENT_TYPES.items()}
