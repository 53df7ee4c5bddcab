"""What a policy transaction bills, to the cent: levies, installments, commission, endorsements and cancellation.

Pure functions over Decimal. A *component* is one part of a premium — ``premium`` (the net premium) or a levy code —
and every rule splits or prorates each component on its own, so an installment's components always add up to it and a
policy's installments to its gross premium. The rules (docs/insurance.md):

- a levy is its rate × the net premium of the covers it applies to, per policy, rounded half-up to the cent;
- a component is split into N equal parts to the cent with the remainder on installment 1; with a down payment of
  d %, installment 1 takes round-half-up(component × d / 100) and installments 2…N share the rest, remainder on 2;
- installment i falls due ``interval_months`` × (i − 1) months after the first, on the same day of the month or the
  month's last day;
- commission of an installment is round-half-up(rate × its net-premium component), never on levies.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from receivables.insurance.config import CommissionPlan, LevyTable

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PREMIUM = "premium"  # the net-premium component's name; levy codes name the others

Components = dict[str, Decimal]


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole months, on its day of the month or the month's last day when that is shorter.
    (Four lines, so not worth python-dateutil as a runtime dependency.)"""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class CoverPremium:
    cover: str
    net_premium: Decimal


def levies_on(branch: str, covers: Iterable[CoverPremium], table: LevyTable) -> Components:
    """Each levy that applies, on the sum of the net premiums it applies to (negative for a refund), in table order."""
    covers = list(covers)
    found: Components = {}
    if not covers:
        return found
    for levy in table.levies:
        if not levy.applies_to_branch(branch):
            continue
        applicable = [c for c in covers if levy.applies_to_cover(c.cover)]
        if applicable:
            found[levy.code] = half_up(levy.rate * sum((c.net_premium for c in applicable), ZERO))
    return found


def premium_components(branch: str, covers: Sequence[CoverPremium], table: LevyTable) -> Components:
    """The net premium and every levy on it: the components a policy (or an endorsement's change) bills."""
    return {PREMIUM: half_up(sum((c.net_premium for c in covers), ZERO)), **levies_on(branch, covers, table)}


def split_equally(amount: Decimal, parts: int) -> list[Decimal]:
    """``amount`` in ``parts`` equal shares to the cent, the remainder cents on the first (signs kept)."""
    if parts < 1:
        raise ValueError("a split needs at least one part")
    cents = int((amount / CENT).to_integral_value())
    sign = -1 if cents < 0 else 1
    share, remainder = divmod(abs(cents), parts)
    shares = [Decimal(sign * share) * CENT for _ in range(parts)]
    shares[0] += Decimal(sign * remainder) * CENT
    return shares


def split_component(amount: Decimal, installments: int, down_payment_percent: Decimal | None = None) -> list[Decimal]:
    if down_payment_percent is None or installments == 1:
        return split_equally(amount, installments)
    first = half_up(amount * down_payment_percent / 100)
    return [first, *split_equally(amount - first, installments - 1)]


@dataclass(frozen=True, slots=True)
class InstallmentBill:
    no: int
    due_date: date
    components: Components

    @property
    def amount(self) -> Decimal:
        return sum(self.components.values(), ZERO)


def installment_bills(
    components: Mapping[str, Decimal],
    *,
    installments: int,
    first_due_date: date,
    interval_months: int = 1,
    down_payment_percent: Decimal | None = None,
) -> list[InstallmentBill]:
    shares = {code: split_component(amount, installments, down_payment_percent) for code, amount in components.items()}
    return [
        InstallmentBill(
            no=n + 1,
            due_date=add_months(first_due_date, n * interval_months),
            components={code: parts[n] for code, parts in shares.items()},
        )
        for n in range(installments)
    ]


def commission_of(plan: CommissionPlan, branch: str, premium_component: Decimal) -> Decimal:
    return half_up(plan.rate_for(branch) * premium_component)


# -- endorsements --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InstallmentState:
    """An installment as it stands: what its components are, and what of it is still open."""

    no: int
    item_id: str
    due_date: date
    components: Components
    open_amount: Decimal
    cancelled: bool = False

    @property
    def amount(self) -> Decimal:
        return sum(self.components.values(), ZERO)


@dataclass(frozen=True, slots=True)
class InstallmentChange:
    """What an endorsement (or a cancellation) does to one installment: component changes (signed), and how much of
    the change its open amount takes (the rest of a negative change is refunded)."""

    item_id: str
    no: int
    components: Components
    open_change: Decimal

    @property
    def amount(self) -> Decimal:
        return sum(self.components.values(), ZERO)


@dataclass(slots=True)
class EndorsementBill:
    changes: list[InstallmentChange] = field(default_factory=list)
    separate_item: InstallmentBill | None = None  # billed on its own (``separate``, or nothing left to spread over)
    refund: Decimal = ZERO  # what open installments could not absorb: credit to the payer


def bill_endorsement(
    change: Mapping[str, Decimal],
    installments: Sequence[InstallmentState],
    *,
    effective_date: date,
    billing: str,
    separate_due_date: date,
) -> EndorsementBill:
    """Where an endorsement's component changes go: spread over the installments not yet due on the effective date
    and not fully paid (``remaining``), all on the next one (``next``), or one item of their own (``separate``)."""
    bill = EndorsementBill()
    targets = [i for i in installments if not i.cancelled and i.due_date > effective_date and i.open_amount > 0]
    if billing == "next":
        targets = targets[:1]
    if billing == "separate" or not targets:
        total = sum(change.values(), ZERO)
        if total >= 0:
            bill.separate_item = InstallmentBill(0, separate_due_date, dict(change))
        else:  # a refund with nothing open to reduce: all of it is credit
            bill.refund = -total
        return bill
    shares = {code: split_equally(amount, len(targets)) for code, amount in change.items()}
    for n, target in enumerate(targets):
        components = {code: parts[n] for code, parts in shares.items()}
        delta = sum(components.values(), ZERO)
        open_change = max(delta, -target.open_amount)
        bill.refund += open_change - delta  # the part of a reduction the open amount could not take
        bill.changes.append(InstallmentChange(target.item_id, target.no, components, open_change))
    return bill


# -- cancellation ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CancellationBill:
    earned: Components  # what the insurer keeps, per component (short rate included)
    earned_pro_rata: Components  # pro rata alone: what commission is earned on
    paid: Decimal  # what the payer paid on the policy's installments
    balance_due: Decimal  # earned − paid when positive: a cancellation_balance item
    refund: Decimal  # paid − earned when positive
    cancelled_open: dict[str, Decimal]  # item id → open amount cancelled


def earned_components(
    components: Mapping[str, Decimal],
    *,
    start_date: date,
    end_date: date,
    effective_date: date,
    short_rate_percent: Decimal | None,
) -> Components:
    """Pro rata: component × days(start → effective) / days(start → end), half-up; under short rate the insurer
    also keeps ``short_rate_percent`` of the unearned net premium (levies stay pro rata)."""
    term = (end_date - start_date).days
    elapsed = min(max((effective_date - start_date).days, 0), term)
    earned = {code: half_up(amount * elapsed / term) if term > 0 else amount for code, amount in components.items()}
    if short_rate_percent is not None and PREMIUM in components:
        unearned = components[PREMIUM] - earned[PREMIUM]
        earned[PREMIUM] += half_up(unearned * short_rate_percent / 100)
    return earned


def bill_cancellation(
    components: Mapping[str, Decimal],
    installments: Sequence[InstallmentState],
    *,
    start_date: date,
    end_date: date,
    effective_date: date,
    short_rate_percent: Decimal | None,
) -> CancellationBill:
    earned = earned_components(
        components,
        start_date=start_date,
        end_date=end_date,
        effective_date=effective_date,
        short_rate_percent=short_rate_percent,
    )
    paid = sum((i.amount - i.open_amount for i in installments), ZERO)
    cancelled_open = {i.item_id: i.open_amount for i in installments if i.open_amount > 0 and not i.cancelled}
    difference = sum(earned.values(), ZERO) - paid
    pro_rata = earned_components(
        components, start_date=start_date, end_date=end_date, effective_date=effective_date, short_rate_percent=None
    )
    return CancellationBill(
        earned=earned,
        earned_pro_rata=pro_rata,
        paid=paid,
        balance_due=max(difference, ZERO),
        refund=max(-difference, ZERO),
        cancelled_open=cancelled_open,
    )
