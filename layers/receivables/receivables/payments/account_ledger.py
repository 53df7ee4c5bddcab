"""One account's money, and every operation that moves it, as pure state transitions.

The adapter loads an account's open items and live payments, applies one operation here, and writes the resulting
postings and new amounts back in one conditional transaction (the account's version), so two payments for one
account can never lose an update. The rules live here, where they can be tested exhaustively:

- Σ allocations of a payment + its unapplied remainder = its amount, never more;
- an item's open amount = its amount − Σ allocations to it, never negative;
- balance = Σ open amounts − unapplied credit;
- a reversal reopens exactly what its payment paid; a reversed payment keeps no allocations;
- unapplied credit goes, automatically and in the policy's order, to items that are open or that load later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from receivables.domain.money import ZERO
from receivables.payments.allocation import FIFO, AllocationPolicy, OpenItem, allocate


class LedgerRuleError(ValueError):
    """An operation that would break a ledger rule (over-allocation, unknown item, wrong currency...)."""


class PaymentStatus(StrEnum):
    APPLIED = "applied"  # at least part of it went to items
    UNAPPLIED = "unapplied"  # none of it went to items (yet): credit on the account
    REVERSED = "reversed"


class PostingKind(StrEnum):
    ALLOCATION = "allocation"
    UNALLOCATION = "unallocation"
    REVERSAL = "reversal"


@dataclass(frozen=True, slots=True)
class Posting:
    """An append-only entry: money moved between a payment and an item, and why."""

    kind: PostingKind
    payment_id: str
    item_id: str | None
    amount: Decimal
    reason: str


@dataclass(slots=True)
class ItemState:
    item_id: str
    kind: str
    issue_date: date
    due_date: date
    amount: Decimal
    open_amount: Decimal
    currency: str
    held: bool = False  # an item or subscription hold: a policy with the not_held filter leaves it alone


@dataclass(slots=True)
class PaymentState:
    payment_id: str
    amount: Decimal
    currency: str
    value_date: date
    allocations: dict[str, Decimal] = field(default_factory=dict)
    unapplied: Decimal = ZERO
    reversed: bool = False
    # Money a person took back from an item is theirs to place: automatic credit application leaves it alone.
    held: bool = False

    @property
    def status(self) -> PaymentStatus:
        if self.reversed:
            return PaymentStatus.REVERSED
        return PaymentStatus.APPLIED if self.allocations else PaymentStatus.UNAPPLIED


class AccountLedger:
    def __init__(
        self,
        account_id: str,
        currency: str,
        *,
        items: Iterable[ItemState] = (),
        payments: Iterable[PaymentState] = (),
        policy: AllocationPolicy = FIFO,
    ) -> None:
        self.account_id = account_id
        self.currency = currency
        self.items = {item.item_id: item for item in items}
        self.payments = {payment.payment_id: payment for payment in payments}
        self.policy = policy

    # -- views ---------------------------------------------------------------------------------------------------
    @property
    def unapplied_credit(self) -> Decimal:
        return sum((p.unapplied for p in self.payments.values() if not p.reversed), ZERO)

    @property
    def balance(self) -> Decimal:
        return sum((i.open_amount for i in self.items.values()), ZERO) - self.unapplied_credit

    def _open_items(self) -> list[OpenItem]:
        return [
            OpenItem(
                item_id=i.item_id,
                account_id=self.account_id,
                kind=i.kind,
                issue_date=i.issue_date,
                due_date=i.due_date,
                open_amount=i.open_amount,
                currency=i.currency,
                held=i.held,
            )
            for i in self.items.values()
            if i.open_amount > 0
        ]

    # -- operations ----------------------------------------------------------------------------------------------
    def receive(
        self, payment_id: str, amount: Decimal, currency: str, value_date: date, *, first: Iterable[str] = ()
    ) -> list[Posting]:
        """A payment for this account: named items first, then the policy's order; the rest stays as credit."""
        if payment_id in self.payments:
            raise LedgerRuleError(f"payment {payment_id} is already on account {self.account_id}")
        if amount <= 0:
            raise LedgerRuleError(f"payment {payment_id} must be a positive amount, got {amount}")
        if currency != self.currency:
            raise LedgerRuleError(
                f"payment {payment_id} is in {currency}; account {self.account_id} in {self.currency}"
            )
        payment = PaymentState(payment_id, amount, currency, value_date, unapplied=amount)
        self.payments[payment_id] = payment
        return self._spend(payment, first=tuple(first))

    def add_item(self, item: ItemState) -> list[Posting]:
        """A new item: existing credit pays it (and any other open item) at once, oldest credit first."""
        if item.item_id in self.items:
            raise LedgerRuleError(f"item {item.item_id} is already on account {self.account_id}")
        if item.currency != self.currency or not 0 <= item.open_amount <= item.amount:
            raise LedgerRuleError(
                f"item {item.item_id}: {item.open_amount} open of {item.amount} {item.currency} cannot be on "
                f"account {self.account_id} in {self.currency}"
            )
        self.items[item.item_id] = item
        return self.apply_credit()

    def apply_credit(self) -> list[Posting]:
        postings: list[Posting] = []
        for payment in sorted(self.payments.values(), key=lambda p: (p.value_date, p.payment_id)):
            if payment.unapplied > 0 and not payment.reversed and not payment.held:
                postings += self._spend(payment)
        return postings

    def reverse(self, payment_id: str, reason: str) -> list[Posting]:
        """Undo a payment: every item it paid reopens by exactly what it paid; the payment keeps no allocations."""
        payment = self._payment(payment_id)
        if payment.reversed:
            return []  # a reversal delivered twice changes nothing
        postings = []
        for item_id, amount in payment.allocations.items():
            self.items[item_id].open_amount += amount
            postings.append(Posting(PostingKind.REVERSAL, payment_id, item_id, amount, reason))
        payment.allocations.clear()
        payment.unapplied = ZERO
        payment.reversed = True
        if not postings:
            postings.append(Posting(PostingKind.REVERSAL, payment_id, None, payment.amount, reason))
        # What reopened is open like any other item: other payments' credit goes to it at once.
        return postings + self.apply_credit()

    def allocate_manually(self, payment_id: str, item_id: str, amount: Decimal, reason: str) -> Posting:
        payment, item = self._payment(payment_id), self._item(item_id)
        if payment.reversed:
            raise LedgerRuleError(f"payment {payment_id} is reversed")
        if item.currency != payment.currency:
            raise LedgerRuleError(f"payment {payment_id} is in {payment.currency}; item {item_id} in {item.currency}")
        if amount <= 0 or amount > payment.unapplied:
            raise LedgerRuleError(f"payment {payment_id} has {payment.unapplied} unapplied; cannot allocate {amount}")
        if amount > item.open_amount:
            raise LedgerRuleError(f"item {item_id} has {item.open_amount} open; cannot take {amount}")
        return self._move(payment, item, amount, f"manual: {reason}")

    def unallocate(self, payment_id: str, item_id: str, amount: Decimal, reason: str) -> Posting:
        payment = self._payment(payment_id)
        allocated = payment.allocations.get(item_id, ZERO)
        if amount <= 0 or amount > allocated:
            raise LedgerRuleError(f"payment {payment_id} gave {allocated} to {item_id}; cannot take back {amount}")
        self._item(item_id).open_amount += amount
        payment.unapplied += amount
        payment.held = True
        if allocated == amount:
            del payment.allocations[item_id]
        else:
            payment.allocations[item_id] = allocated - amount
        return Posting(PostingKind.UNALLOCATION, payment_id, item_id, amount, f"manual: {reason}")

    # -- internals -----------------------------------------------------------------------------------------------
    def _spend(self, payment: PaymentState, first: tuple[str, ...] = ()) -> list[Posting]:
        open_items = self._open_items()
        if payment.unapplied <= 0 or not open_items:
            return []
        result = allocate(
            payment.unapplied,
            open_items,
            policy=self.policy,
            value_date=payment.value_date,
            first=first,
            currency=payment.currency,
        )
        return [self._move(payment, self.items[a.item_id], a.amount, a.reason) for a in result.allocations]

    def _move(self, payment: PaymentState, item: ItemState, amount: Decimal, reason: str) -> Posting:
        item.open_amount -= amount
        payment.unapplied -= amount
        payment.allocations[item.item_id] = payment.allocations.get(item.item_id, ZERO) + amount
        return Posting(PostingKind.ALLOCATION, payment.payment_id, item.item_id, amount, reason)

    def _payment(self, payment_id: str) -> PaymentState:
        if payment_id not in self.payments:
            raise LedgerRuleError(f"no payment {payment_id} on account {self.account_id}")
        return self.payments[payment_id]

    def _item(self, item_id: str) -> ItemState:
        if item_id not in self.items:
            raise LedgerRuleError(f"no item {item_id} on account {self.account_id}")
        return self.items[item_id]
