"""The data a dunning template is rendered with: one typed object so that a caller cannot forget a key."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from receivables.notifications.errors import TemplateContextError

_CURRENCY = re.compile(r"[A-Z]{3}\Z")


@dataclass(frozen=True, slots=True)
class NoticeItem:
    """One overdue item as the customer sees it."""

    item_id: str
    due_date: date
    open_amount: Decimal

    def __post_init__(self) -> None:
        _require_decimal("items[].open_amount", self.open_amount)


@dataclass(frozen=True, slots=True)
class NotificationContext:
    """Everything the shipped templates use. ``payment_reference`` defaults to the account id (the reference the
    payment matcher recognises); the letter-only fields are needed by ``render_letter_pdf`` alone."""

    customer_name: str
    account_id: str
    overdue_amount: Decimal
    currency: str
    oldest_due_date: date
    days_overdue: int
    items: Sequence[NoticeItem]
    company_name: str
    payment_reference: str | None = None
    company_iban: str | None = None  # printed as payment instructions when given
    company_contact: str | None = None  # one line: phone, e-mail or web address
    customer_address: Sequence[str] = field(default_factory=tuple)  # letter: lines under the customer's name
    company_address: Sequence[str] = field(default_factory=tuple)  # letter: sender block lines
    letter_date: date | None = None  # letter: the date printed on it
    deadline: date | None = None  # a legal notice: the last day a payment counts
    policy_ids: Sequence[str] = field(default_factory=tuple)  # a policy notice: the policies it names

    def __post_init__(self) -> None:
        _require_decimal("overdue_amount", self.overdue_amount)
        if not _CURRENCY.match(self.currency):
            raise TemplateContextError(f"currency: expected an ISO 4217 code like 'TRY', got {self.currency!r}")
        if isinstance(self.days_overdue, bool) or not isinstance(self.days_overdue, int) or self.days_overdue < 0:
            raise TemplateContextError(f"days_overdue: expected an int >= 0, got {self.days_overdue!r}")
        for name in ("items", "customer_address", "company_address", "policy_ids"):
            # Immutable copies: the context is shared by the e-mail, SMS and letter renderings of one step.
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def template_vars(self) -> dict[str, Any]:
        return {
            "customer_name": self.customer_name,
            "account_id": self.account_id,
            "overdue_amount": self.overdue_amount,
            "currency": self.currency,
            "oldest_due_date": self.oldest_due_date,
            "days_overdue": self.days_overdue,
            "items": self.items,
            "company_name": self.company_name,
            "payment_reference": self.payment_reference or self.account_id,
            "company_iban": self.company_iban,
            "company_contact": self.company_contact,
            "customer_address": self.customer_address,
            "company_address": self.company_address,
            "letter_date": self.letter_date,
            "deadline": self.deadline,
            "policy_ids": self.policy_ids,
        }


def _require_decimal(name: str, value: object) -> None:
    # A float amount has already lost cents (0.1 + 0.2); refuse it here rather than print a wrong figure.
    if not isinstance(value, Decimal):
        raise TemplateContextError(f"{name}: expected a Decimal amount, got {type(value).__name__} {value!r}")
