"""What an endorsement, a cancellation or a reinstatement does to the payer's current account, as postings and item
changes computed on the account as it was just loaded (pure: the adapter writes the result in one transaction).

Postings, each on the item it changes (the journal's rules, domain/journal.py):

- ``premium_adjusted``: an endorsement's change to an installment's open amount (+ more premium, − a reduction);
- ``refund_applied``: premium given back, paying another open item of the payer (credit → debit);
- ``item_cancelled``: a cancellation closing what is still open of an item (− open), or a reinstatement reopening it
  (+ what the cancellation closed);
- what no open item can take is a refund payable to the payer (its record is its own posting, −).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from receivables.domain.journal import Posting, PostingKind, Side
from receivables.insurance.premium import (
    PREMIUM,
    ZERO,
    InstallmentState,
    bill_cancellation,
    bill_endorsement,
    half_up,
)
from receivables.payments.allocation import AllocationPolicy, OpenItem, allocate

COMMISSION_CLOSED = frozenset({"paid", "clawed_back", "cancelled"})


@dataclass(frozen=True, slots=True)
class PolicyItem:
    """One receivable item of a policy (installment, endorsement item, cancellation balance) as stored."""

    item_id: str
    no: int  # installment number; 0 for items billed outside the plan
    kind: str
    due_date: date
    amount: Decimal
    open_amount: Decimal
    components: dict[str, Decimal]
    status: str = "open"  # "cancelled" once a cancellation closed it
    commission: Decimal = ZERO
    commission_status: str | None = None
    cancelled_open: Decimal = ZERO  # what a cancellation closed (a reinstatement reopens it)

    def state(self, open_amount: Decimal | None = None) -> InstallmentState:
        return InstallmentState(
            no=self.no,
            item_id=self.item_id,
            due_date=self.due_date,
            components=self.components,
            open_amount=self.open_amount if open_amount is None else open_amount,
            cancelled=self.status == "cancelled",
        )


@dataclass(slots=True)
class ItemChange:
    """New values for a stored item (None: unchanged)."""

    amount: Decimal | None = None
    components: dict[str, Decimal] | None = None
    status: str | None = None
    commission: Decimal | None = None
    commission_status: str | None = None
    cancelled_open: Decimal | None = None


@dataclass(frozen=True, slots=True)
class NewPolicyItem:
    item_id: str
    kind: str  # endorsement | cancellation_balance
    due_date: date
    components: dict[str, Decimal]
    commission: Decimal = ZERO

    @property
    def amount(self) -> Decimal:
        return sum(self.components.values(), ZERO)


@dataclass(frozen=True, slots=True)
class CommissionAdjustment:
    """Commission the channel gives back (negative) or is owed beyond its lines (positive), on its account."""

    amount: Decimal
    reason: str


@dataclass(slots=True)
class AccountChange:
    postings: list[Posting] = field(default_factory=list)
    items: dict[str, ItemChange] = field(default_factory=dict)
    open_after: dict[str, Decimal] = field(default_factory=dict)  # item id → its open amount after the change
    new_items: list[NewPolicyItem] = field(default_factory=list)
    refund_payable: Decimal = ZERO
    commission: CommissionAdjustment | None = None
    components_change: dict[str, Decimal] = field(default_factory=dict)  # what the policy's components gain
    summary: dict[str, object] = field(default_factory=dict)  # facts the policy records (earned, paid, overdue…)

    def change(self, item_id: str) -> ItemChange:
        return self.items.setdefault(item_id, ItemChange())


def _apply_refund(
    change: AccountChange,
    refund: Decimal,
    open_items: Sequence[OpenItem],
    policy: AllocationPolicy,
    today: date,
    currency: str,
    reason: str,
) -> None:
    """Premium given back pays the payer's other open items in the account's allocation order; the rest is owed to
    the payer as a refund payable."""
    if refund <= 0:
        return
    candidates = [
        i.model_copy(update={"open_amount": change.open_after.get(i.item_id, i.open_amount)})
        for i in open_items
        if change.open_after.get(i.item_id, i.open_amount) > 0
    ]
    rest = refund
    if candidates:
        result = allocate(refund, candidates, policy=policy, value_date=today, currency=currency)
        for allocation in result.allocations:
            change.postings.append(
                Posting(
                    kind=PostingKind.REFUND_APPLIED,
                    side=Side.ITEM,
                    amount=-allocation.amount,
                    item_id=allocation.item_id,
                    reason=f"{reason}: refund applied ({allocation.reason})",
                )
            )
            before = change.open_after.get(allocation.item_id)
            if before is None:
                before = next(i.open_amount for i in candidates if i.item_id == allocation.item_id)
            change.open_after[allocation.item_id] = before - allocation.amount
        rest = result.unapplied
    change.refund_payable = rest


def plan_endorsement(
    *,
    endorsement_id: str,
    policy_id: str,
    branch: str,
    components_change: Mapping[str, Decimal],
    items: Sequence[PolicyItem],
    open_now: Mapping[str, Decimal],
    other_open: Sequence[OpenItem],
    allocation_policy: AllocationPolicy,
    effective_date: date,
    billing: str,
    separate_due_date: date,
    commission_rate: Decimal | None,
    today: date,
    currency: str,
) -> AccountChange:
    """§4: each component of the change spread (or billed next, or on its own); a reduction never below zero, the
    rest refunded; commission follows the premium it is on."""
    installments = sorted((i for i in items if i.kind == "premium_installment"), key=lambda i: i.no)
    bill = bill_endorsement(
        components_change,
        [i.state(open_now.get(i.item_id, i.open_amount)) for i in installments],
        effective_date=effective_date,
        billing=billing,
        separate_due_date=separate_due_date,
    )
    change = AccountChange(components_change=dict(components_change))
    by_id = {i.item_id: i for i in items}
    reason = f"endorsement {endorsement_id} of policy {policy_id}"
    for line in bill.changes:
        item = by_id[line.item_id]
        components = {
            code: item.components.get(code, ZERO) + line.components.get(code, ZERO)
            for code in dict.fromkeys([*item.components, *line.components])
        }
        update = change.change(item.item_id)
        update.amount = item.amount + line.amount
        update.components = components
        if commission_rate is not None and item.commission_status == "accrued":
            update.commission = commission_of_rate(commission_rate, components.get(PREMIUM, ZERO))
        if line.open_change:
            change.postings.append(
                Posting(
                    kind=PostingKind.PREMIUM_ADJUSTED,
                    side=Side.ITEM,
                    amount=line.open_change,
                    item_id=item.item_id,
                    reason=f"{reason}: {'more premium' if line.open_change > 0 else 'premium reduced'}",
                )
            )
        change.open_after[item.item_id] = open_now.get(item.item_id, item.open_amount) + line.open_change
    if bill.separate_item is not None:
        premium = bill.separate_item.components.get(PREMIUM, ZERO)
        change.new_items.append(
            NewPolicyItem(
                item_id=f"{policy_id}-Z{endorsement_id}",
                kind="endorsement",
                due_date=bill.separate_item.due_date,
                components=dict(bill.separate_item.components),
                commission=commission_of_rate(commission_rate, premium) if commission_rate is not None else ZERO,
            )
        )
    others = [i for i in other_open if i.item_id not in by_id or by_id[i.item_id].status != "cancelled"]
    _apply_refund(change, bill.refund, others, allocation_policy, today, currency, reason)
    return change


def commission_of_rate(rate: Decimal, premium: Decimal) -> Decimal:
    return half_up(rate * premium)


def plan_cancellation(
    *,
    policy_id: str,
    components: Mapping[str, Decimal],
    items: Sequence[PolicyItem],
    open_now: Mapping[str, Decimal],
    other_open: Sequence[OpenItem],
    allocation_policy: AllocationPolicy,
    start_date: date,
    end_date: date,
    effective_date: date,
    short_rate_percent: Decimal | None,
    balance_due_days: int,
    commission_rate: Decimal | None,
    today: date,
    currency: str,
    reason: str,
) -> AccountChange:
    """§5: every not-yet-paid item closed; what is earned and not paid billed as a cancellation balance, what was paid
    beyond it refunded; commission on unearned premium clawed back from the channel."""
    live = [i for i in items if i.status != "cancelled"]
    states = [i.state(open_now.get(i.item_id, i.open_amount)) for i in live]
    bill = bill_cancellation(
        components,
        states,
        start_date=start_date,
        end_date=end_date,
        effective_date=effective_date,
        short_rate_percent=short_rate_percent,
    )
    change = AccountChange()
    overdue = sum((s.open_amount for s in states if s.open_amount > 0 and s.due_date < effective_date), ZERO)
    for item in live:
        open_amount = open_now.get(item.item_id, item.open_amount)
        update = change.change(item.item_id)
        if open_amount > 0:
            update.status = "cancelled"
            update.cancelled_open = open_amount
            change.open_after[item.item_id] = ZERO
            change.postings.append(
                Posting(
                    kind=PostingKind.ITEM_CANCELLED,
                    side=Side.ITEM,
                    amount=-open_amount,
                    item_id=item.item_id,
                    reason=f"policy {policy_id} cancelled ({reason}) effective {effective_date}",
                )
            )
            if item.commission_status == "accrued":
                update.commission_status = "cancelled"
    # Commission the channel keeps: its rate on the net premium earned pro rata; what became payable beyond it is
    # clawed back, what it earned and was not yet payable rides on the cancellation balance.
    payable = sum((i.commission for i in live if i.commission_status in ("payable", "paid") and i.commission > 0), ZERO)
    earned_commission = ZERO
    if commission_rate is not None:
        pro_rata = bill.earned_pro_rata.get(PREMIUM, ZERO)
        earned_commission = commission_of_rate(commission_rate, pro_rata)
        difference = earned_commission - payable
        if difference < 0:
            change.commission = CommissionAdjustment(
                difference, f"commission on the unearned premium of cancelled policy {policy_id} clawed back"
            )
    if bill.balance_due > 0:
        owed = {code: bill.earned[code] - paid for code, paid in _paid_components(live, states).items()}
        owed = _scaled_to(owed, bill.balance_due)
        change.new_items.append(
            NewPolicyItem(
                item_id=f"{policy_id}-CB",
                kind="cancellation_balance",
                due_date=effective_date + timedelta(days=balance_due_days),
                components=owed,
                commission=max(earned_commission - payable, ZERO) if commission_rate is not None else ZERO,
            )
        )
    cancelled_ids = {i.item_id for i in live}
    others = [i for i in other_open if i.item_id not in cancelled_ids]
    _apply_refund(change, bill.refund, others, allocation_policy, today, currency, f"cancellation of {policy_id}")
    change.summary = {
        "earned": {k: str(v) for k, v in bill.earned.items()},
        "paid": str(bill.paid),
        "overdue": str(overdue),
        "balance_due": str(bill.balance_due),
        "refund": str(bill.refund),
    }
    return change


def _paid_components(items: Iterable[PolicyItem], states: Sequence[InstallmentState]) -> dict[str, Decimal]:
    """What was paid, per component: each item's payments spread over its components in proportion (the last
    component takes the rounding)."""
    open_of = {s.item_id: s.open_amount for s in states}
    paid: dict[str, Decimal] = {}
    for item in items:
        paid_total = item.amount - open_of.get(item.item_id, item.open_amount)
        codes = list(item.components)
        given = ZERO
        for n, code in enumerate(codes):
            if n == len(codes) - 1:
                share = paid_total - given
            else:
                share = half_up(paid_total * item.components[code] / item.amount) if item.amount else ZERO
            given += share
            paid[code] = paid.get(code, ZERO) + share
    return paid


def _scaled_to(owed: dict[str, Decimal], total: Decimal) -> dict[str, Decimal]:
    """Components that add up to ``total`` exactly: negatives (a component paid beyond its earned part) netted into the
    others in order, so the item's components stay what it is for."""
    positive = {k: v for k, v in owed.items() if v > 0}
    if not positive:
        return {PREMIUM: total}
    difference = sum(positive.values(), ZERO) - total
    for code in list(positive):
        if difference <= 0:
            break
        take = min(difference, positive[code])
        positive[code] -= take
        difference -= take
    return {k: v for k, v in positive.items() if v > 0} or {PREMIUM: total}
