"""How the sub-ledger reads back: policies with their installments and commission, parties with their current
accounts. The API answers with these and STATE.json is built from the same values, so the two cannot disagree."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from receivables.domain.ledger import Money
from receivables.domain.money import ZERO


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class InstallmentView(_View):
    no: int
    item_id: str
    due_date: dt.date
    amount: Money
    open_amount: Money
    status: str  # open | partially_paid | paid | cancelled
    components: dict[str, Money]


class CommissionView(_View):
    policy_id: str
    installment_no: int
    item_id: str
    party_id: str
    amount: Money
    status: str  # accrued | payable | paid | clawed_back | cancelled


class NoticeView(_View):
    date: dt.date
    deadline: dt.date


class PolicyView(_View):
    policy_id: str
    customer_id: str
    branch: str
    status: str  # active | cancelled | reinstated | expired
    billing: str
    party_id: str | None = None
    account_id: str = Field(description="The current account that owes the premium")
    currency: str
    start_date: dt.date
    end_date: dt.date
    net_premium: Money
    levies: dict[str, Money]
    gross_premium: Money
    cancelled_on: dt.date | None = None
    cancellation_reason: str | None = None
    installments: list[InstallmentView] = Field(description="The plan's installments, then endorsements billed alone")
    items: list[InstallmentView] = Field(
        default_factory=list, description="The policy's other items: a cancellation balance"
    )
    cancellation: dict[str, Any] | None = Field(
        default=None, description="What the cancellation earned, what had been paid, what was overdue, basis, reason"
    )
    commissions: list[CommissionView] = Field(default_factory=list)
    notices: list[NoticeView] = Field(default_factory=list)


def installment_status(amount: Decimal, open_amount: Decimal, stored: str | None) -> str:
    if stored == "cancelled":
        return "cancelled"
    if open_amount <= ZERO:
        return "paid"
    return "partially_paid" if open_amount < amount else "open"


class CurrentAccountView(_View):
    """One current account (cari hesap) of a party: what it owes the insurer, what the insurer owes it, the net."""

    account_id: str
    currency: str
    receivable: Money
    payable: Money
    net: Money
    unapplied_credit: Money = Decimal(0)


class PartyView(_View):
    party_id: str
    kind: str  # agency | broker | bank | service_provider | reinsurer | tax_authority | customer
    name: str
    tax_id: str | None = None
    iban: str | None = None
    city: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    commission_plan: str | None = None
    billing: str | None = None
    accounts: list[CurrentAccountView] = Field(default_factory=list)


class StatementLine(_View):
    business_date: dt.date
    operation: str
    kind: str
    target: str = Field(description="The item, payment or payable the posting lands on")
    amount: Money = Field(description="Signed: + the party owes more, − it owes less (or is owed more)")
    balance: Money
    reason: str
    cause: str


class StatementView(_View):
    party_id: str
    account_id: str
    currency: str
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    opening_balance: Money
    lines: list[StatementLine]
    closing_balance: Money


class PartyStatement(_View):
    party_id: str
    statements: list[StatementView] = Field(description="One per current account (currency)")


class PayableView(_View):
    """What the insurer owes a party: ``<claim>-C`` / ``<claim>-W`` (claim, withholding), ``<item>-K`` (commission),
    ``<policy>-R<n>`` (refund). ``end_to_end_id`` is what a bank's answers name it by."""

    payable_id: str
    party_id: str
    account_id: str
    kind: str  # claim | commission | refund | reinsurance | tax
    amount: Money
    open_amount: Money
    currency: str
    status: str  # open (waiting for approval) | approved | scheduled | sent | paid | rejected | cancelled
    due_date: dt.date
    end_to_end_id: str
    policy_id: str | None = None
    claim_id: str | None = None
    created_by: str
    approved_by: str | None = None
    offsets: dict[str, Money] = Field(default_factory=dict, description="Installments it settled by offset (mahsup)")
