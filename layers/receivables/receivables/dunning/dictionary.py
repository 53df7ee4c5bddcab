"""The documented dictionary of facts that segment, step and collector-group rules may use.

The engine fills exactly these facts for every account it decides on, so a configuration may describe them and may
leave some out (a rule then cannot use them), but cannot invent new ones or change their types: a field the engine
does not fill would fail at evaluation, months after the configuration was accepted. Extra customer data reaches
rules through ``attributes`` (``attributes&["tier"] == "gold"``).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    MAPPING = "mapping"  # string → string


class FieldDefinition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    type: FieldType
    description: str = Field(min_length=1, max_length=500)
    nullable: bool = False  # may be null: a rule must discharge it, e.g. ``(risk_score ?? 0) > 70``


def _field(name: str, type_: FieldType, description: str, *, nullable: bool = False) -> FieldDefinition:
    return FieldDefinition(name=name, type=type_, description=description, nullable=nullable)


DEFAULT_DICTIONARY: tuple[FieldDefinition, ...] = (
    _field("customer_id", FieldType.STRING, "The customer's id in the billing system."),
    _field("customer_type", FieldType.STRING, "individual or corporate."),
    _field("city", FieldType.STRING, "The customer's city, as the CRM writes it."),
    _field("language", FieldType.STRING, "The customer's language: tr or en."),
    _field("vip", FieldType.BOOLEAN, "true for customers the CRM marks as VIP."),
    _field(
        "risk_score",
        FieldType.INTEGER,
        "The CRM's risk score, or null when the CRM has none; write (risk_score ?? 0) > 70.",
        nullable=True,
    ),
    _field(
        "attributes",
        FieldType.MAPPING,
        'Extra customer attributes, string to string; a missing key is safe with attributes&["key"].',
    ),
    _field("account_id", FieldType.STRING, "The account's id."),
    _field("account_type", FieldType.STRING, "The account's type (e.g. standard, prepaid, policy)."),
    _field("currency", FieldType.STRING, "The account's ISO 4217 currency code."),
    _field("balance", FieldType.DECIMAL, "Open amounts of all items less unapplied credit."),
    _field("overdue_amount", FieldType.DECIMAL, "Sum of the open amounts of the overdue items not on hold."),
    _field(
        "days_overdue",
        FieldType.INTEGER,
        "Calendar days since the due date of the oldest overdue item (0 when nothing is overdue).",
    ),
    _field("late_payments_12m", FieldType.INTEGER, "Items paid after their due date in the last 12 months."),
    _field("open_promise", FieldType.BOOLEAN, "true while a promise to pay is open on the account."),
    _field("broken_promises_12m", FieldType.INTEGER, "Promises to pay broken in the last 12 months."),
    _field(
        "autopay_method",
        FieldType.STRING,
        "The customer's auto-pay instruction (card, direct_debit or bank_scheme), or null without one.",
        nullable=True,
    ),
    _field("has_mandate", FieldType.BOOLEAN, "true when the customer signed a direct-debit mandate."),
    _field(
        "collection_pending",
        FieldType.BOOLEAN,
        "true while a collection of one of the account's items is with the bank, unanswered (such items are not "
        "overdue until the answer).",
    ),
    _field("has_policies", FieldType.BOOLEAN, "true when the account holds insurance policy installments."),
    _field(
        "policy_branch",
        FieldType.STRING,
        "The branch (kasko, traffic, life…) of the policy whose installment is the oldest overdue, else of the "
        "account's first policy; null for accounts without policies.",
        nullable=True,
    ),
    _field(
        "notice_expired",
        FieldType.BOOLEAN,
        "true when this cycle's legal notice (a step with notice_days) has passed its deadline and what it demanded "
        "is not paid in full.",
    ),
)

FACT_FIELDS: dict[str, FieldDefinition] = {f.name: f for f in DEFAULT_DICTIONARY}
