"""Allocating money to open items, in an order that is configuration, not code.

A policy is what Guidewire calls a payment allocation plan and Fineract an allocation grid: eligibility filters
first (which items may take money at all), then an ordered list of sort keys (which take it first). The default is
FIFO — due date, then issue date, then item id — and a country or product whose law wants fees, then interest, then
principal gets a policy that says so. Every allocation carries the reason it went where it went.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from receivables.domain.money import ZERO


class OpenItem(BaseModel):
    """An item that still owes money, as allocation sees it."""

    model_config = ConfigDict(frozen=True)
    item_id: str
    account_id: str
    kind: str = "invoice"  # invoice | installment | fee | interest | ...
    issue_date: date
    due_date: date
    open_amount: Decimal = Field(gt=0)
    currency: str
    held: bool = False  # a dispute or dunning hold on the item: still payable unless the policy excludes held items


class KindFilter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    filter: Literal["kind"] = "kind"
    kinds: tuple[str, ...] = Field(min_length=1)


class DueByFilter(BaseModel):
    """Only items due on or before the payment's value date plus ``days`` (negative: only past-due items)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    filter: Literal["due_by"] = "due_by"
    days: StrictInt = 0  # strict: a policy's JSON says 3, not "3"


class NotHeldFilter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    filter: Literal["not_held"] = "not_held"


Eligibility = Annotated[KindFilter | DueByFilter | NotHeldFilter, Field(discriminator="filter")]


class SortKey(BaseModel):
    """One sort key. ``rank`` orders kinds explicitly (e.g. fee, interest, invoice); unranked kinds come last."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    key: Literal["due_date", "issue_date", "item_id", "kind", "open_amount"]
    descending: StrictBool = False  # strict: true or false, not 0 or "yes"
    rank: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _rank_only_for_kind(self) -> SortKey:
        if self.rank and self.key != "kind":
            raise ValueError("rank applies only to the 'kind' sort key")
        return self


class AllocationPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    eligibility: tuple[Eligibility, ...] = ()
    order: tuple[SortKey, ...] = Field(min_length=1)

    def describe(self) -> str:
        keys = ", ".join(
            f"{k.key}{' (' + ' → '.join(k.rank) + ')' if k.rank else ''}{' desc' if k.descending else ''}"
            for k in self.order
        )
        return f"policy {self.name}: {keys}"


FIFO = AllocationPolicy(
    name="fifo",
    order=(SortKey(key="due_date"), SortKey(key="issue_date"), SortKey(key="item_id")),
)


class Allocation(BaseModel):
    model_config = ConfigDict(frozen=True)
    item_id: str
    amount: Decimal = Field(gt=0)
    reason: str


class AllocationResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    allocations: tuple[Allocation, ...]
    unapplied: Decimal
    explanation: str

    @property
    def applied(self) -> Decimal:
        return sum((a.amount for a in self.allocations), ZERO)


def eligible(items: Iterable[OpenItem], policy: AllocationPolicy, value_date: date) -> list[OpenItem]:
    def passes(item: OpenItem) -> bool:
        for rule in policy.eligibility:
            if isinstance(rule, KindFilter) and item.kind not in rule.kinds:
                return False
            if isinstance(rule, DueByFilter) and (item.due_date - value_date).days > rule.days:
                return False
            if isinstance(rule, NotHeldFilter) and item.held:
                return False
        return True

    return [item for item in items if passes(item)]


def _by_rank(ranks: Mapping[str, int]) -> Callable[[OpenItem], int]:
    """An item's place in a configured order of kinds; kinds the order does not name come last."""
    return lambda item: ranks.get(item.kind, len(ranks))


def ordered(items: Iterable[OpenItem], policy: AllocationPolicy) -> list[OpenItem]:
    result = list(items)
    # Stable sorts from the least to the most significant key give the lexicographic order of the whole list.
    for key in reversed(policy.order):
        if key.key == "kind":
            ranks = {kind: n for n, kind in enumerate(key.rank)}
            result.sort(key=_by_rank(ranks), reverse=key.descending)
        else:
            result.sort(key=operator.attrgetter(key.key), reverse=key.descending)
    return result


def allocate(
    amount: Decimal,
    items: Sequence[OpenItem],
    *,
    policy: AllocationPolicy = FIFO,
    value_date: date,
    first: Sequence[str] = (),
    currency: str,
) -> AllocationResult:
    """Spread ``amount`` over ``items``: the ids in ``first`` (in that order) before the policy's order.

    Items in another currency never take money; what no item can take stays unapplied.
    """
    if amount <= 0:
        raise ValueError(f"an allocation needs a positive amount, got {amount}")
    by_id = {item.item_id: item for item in items if item.currency == currency}
    named = [by_id[item_id] for item_id in dict.fromkeys(first) if item_id in by_id]
    rest = ordered((i for i in eligible(by_id.values(), policy, value_date) if i.item_id not in set(first)), policy)
    remaining = amount
    allocations = []
    for position, item in enumerate([*named, *rest]):
        if remaining <= 0:
            break
        share = min(remaining, item.open_amount)
        reason = (
            f"{item.item_id} was named in the payment"
            if position < len(named)
            else f"{item.item_id} is next by {policy.describe()} (due {item.due_date.isoformat()})"
        )
        allocations.append(Allocation(item_id=item.item_id, amount=share, reason=reason))
        remaining -= share
    explanation = (
        f"{amount} {currency}: {len(allocations)} item(s) paid by {policy.describe()}"
        + (f"; named first: {', '.join(i.item_id for i in named)}" if named else "")
        + (f"; {remaining} {currency} left unapplied" if remaining > 0 else "")
    )
    return AllocationResult(allocations=tuple(allocations), unapplied=remaining, explanation=explanation)
