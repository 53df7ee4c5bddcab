"""Small builders for dunning scenarios: an account is a few items; a run is decide() fed its own state back."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from receivables.dunning import (
    DEFAULT_CONFIG,
    AccountFacts,
    CustomerFacts,
    Decision,
    DunningConfig,
    DunningState,
    ItemFacts,
    decide,
)

DUE = date(2026, 3, 1)


def day(n: int) -> date:
    """The business date ``n`` calendar days after DUE (day 3 is when the default e-mail step comes due)."""
    return DUE + timedelta(days=n)


def item(item_id: str = "I1", amount: str = "150.00", due: date = DUE, **kwargs) -> ItemFacts:
    return ItemFacts(item_id=item_id, due_date=due, open_amount=Decimal(amount), **kwargs)


def customer(**kwargs) -> CustomerFacts:
    values = {"customer_id": "C1", "email": "ayse@example.com", "phone": "+905551112233"} | kwargs
    return CustomerFacts(**values)


def account(*items: ItemFacts, account_id: str = "A1", **customer_kwargs) -> AccountFacts:
    return AccountFacts(account_id=account_id, customer=customer(**customer_kwargs), items=items or (item(),))


def paid(acc: AccountFacts, item_id: str, open_amount: str) -> AccountFacts:
    """The account after a payment left ``open_amount`` on one item."""
    items = tuple(
        i.model_copy(update={"open_amount": Decimal(open_amount)}) if i.item_id == item_id else i for i in acc.items
    )
    return acc.model_copy(update={"items": items})


def run(
    acc: AccountFacts,
    days: Iterable[date],
    state: DunningState | None = None,
    config: DunningConfig = DEFAULT_CONFIG,
    **kwargs,
) -> list[Decision]:
    """Daily runs on the given dates, each fed the state the previous one returned."""
    decisions = []
    current = state or DunningState()
    for today in days:
        decision = decide(config, acc, current, today, **kwargs)
        decisions.append(decision)
        current = decision.state
    return decisions


def fired(decisions: Iterable[Decision]) -> list[tuple[date, str]]:
    return [(d.business_date, f.step) for d in decisions for f in d.fired]
