"""The receivables sub-ledger: customers, accounts, subscriptions and receivable items, as the domain sees them.

An item is a debit posting: its ``amount`` never changes once billed. What changes is ``open_amount`` (what is still
owed), moved only by allocations and reversals, which are themselves append-only postings. Status is derived from the
two amounts, never stored independently of them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from receivables.domain.money import ZERO, format_money

Money = Annotated[Decimal, PlainSerializer(format_money, return_type=str, when_used="json")]


class ItemStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    RESTRUCTURED = "restructured"  # moved into an installment plan: its open amount lives on in the installments
    CANCELLED = "cancelled"  # closed by a policy's cancellation: what it still owed is no longer owed
    WRITTEN_OFF = "written_off"  # closed without money: what it still owed is written off, with its reason


class ItemKind(StrEnum):
    INVOICE = "invoice"
    INSTALLMENT = "installment"  # one installment of a plan that restructured overdue items
    PREMIUM_INSTALLMENT = "premium_installment"  # one installment of an insurance policy's payment plan
    ENDORSEMENT = "endorsement"  # an endorsement's premium billed on its own
    CANCELLATION_BALANCE = "cancellation_balance"  # earned premium a cancelled policy's payments did not cover
    COMMISSION_CLAWBACK = "commission_clawback"  # commission already paid out, owed back by the channel
    REINSURANCE_COMMISSION = "reinsurance_commission"  # a reinsurer's commission on a cession, owed to us
    CLAIM_RECOVERY = "claim_recovery"  # a reinsurer's share of a claim, owed to us
    DEBIT_NOTE = "debit_note"  # billing's additional charge on an item, linked to it (receivables.adjustments)


def item_status(amount: Decimal, open_amount: Decimal) -> ItemStatus:
    if open_amount <= ZERO:
        return ItemStatus.PAID
    if open_amount < amount:
        return ItemStatus.PARTIALLY_PAID
    return ItemStatus.OPEN


class SourceRef(BaseModel):
    """Where a record came from: the file and line an operator can open."""

    model_config = ConfigDict(frozen=True)
    file: str
    line: int | None = None


class MandateView(BaseModel):
    model_config = ConfigDict(frozen=True)
    mandate_id: str
    signed_on: date
    bank_id: str | None = None  # which of our banks collects; None = the default creditor bank


class CustomerView(BaseModel):
    model_config = ConfigDict(frozen=True)
    customer_id: str
    name: str
    type: str
    city: str
    phone: str
    language: str
    email: str | None = None
    iban: str | None = None
    vip: bool = False
    risk_score: int | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    mandate: MandateView | None = None
    address: str | None = None
    postal_code: str | None = None
    district: str | None = None
    national_id: str | None = None  # TCKN or VKN, checksum-validated
    account_ids: list[str] = Field(default_factory=list)
    source: SourceRef | None = None
    updated_at: datetime | None = None


class ItemView(BaseModel):
    model_config = ConfigDict(frozen=True)
    item_id: str
    kind: ItemKind = ItemKind.INVOICE
    account_id: str
    customer_id: str
    subscription_id: str | None = None
    issue_date: date
    due_date: date
    amount: Money
    open_amount: Money
    currency: str
    status: ItemStatus
    description: str | None = None
    source: SourceRef | None = None
    policy_id: str | None = None  # premium installments: the policy
    installment_no: int | None = None


class AccountView(BaseModel):
    model_config = ConfigDict(frozen=True)
    account_id: str
    customer_id: str
    currency: str
    account_type: str = "standard"  # drives the allocation policy; a fact for segment and collector rules
    name: str | None = None  # master data from CRM's accounts/ files
    billing_address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    status: str | None = None
    balance: Money  # Σ open amounts − unapplied credit
    unapplied_credit: Money = Decimal(0)
    open_items: int
    next_action_on: date | None = None
    items: list[ItemView] = Field(default_factory=list)


def account_balance(items: list[ItemView], unapplied_credit: Decimal = ZERO) -> Decimal:
    """Balance = the sum of open amounts less the money received that no item has taken yet."""
    return sum((item.open_amount for item in items), ZERO) - unapplied_credit
