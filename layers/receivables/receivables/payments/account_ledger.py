"""One account's money, and every operation that moves it, as pure state transitions that return their postings.

The adapter loads an account's open items and live payments, applies one operation *step* here, and writes the
resulting state together with the step's journal entry in one conditional transaction. The rules live here, where
they can be tested exhaustively:

- Σ allocations of a payment + its unapplied remainder = its amount, never more;
- an item's open amount = its amount − Σ allocations to it, never negative;
- balance = Σ open amounts − unapplied credit, and every change to either is a posting (domain/journal.py);
- a reversal reopens exactly what its payment paid and returns the rest of its money; it keeps no allocations;
- a part of a payment returned (a receipt's bounced cheque) comes out of its credit first, then out of the items it
  paid last; Σ allocations + unapplied + Σ returned parts = its amount;
- unapplied credit goes, automatically and in the policy's order, to items that are open or that load later.

A step touches at most ``limit`` items (a DynamoDB transaction holds at most 100 writes). An operation that needs
more leaves a :class:`PendingOperation` on its payment; whoever loads the account next — the same message
redelivered, or another writer — finishes it step by step (:meth:`AccountLedger.continue_pending`) before doing
anything else, so every step leaves the account consistent and no step is ever applied twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from receivables.domain.journal import Cause, Posting, PostingKind, moved, on_payment
from receivables.domain.money import ZERO, format_money
from receivables.payments.allocation import FIFO, AllocationPolicy, OpenItem, allocate


class LedgerRuleError(ValueError):
    """An operation that would break a ledger rule (over-allocation, unknown item, wrong currency...)."""


class PaymentStatus(StrEnum):
    APPLIED = "applied"  # at least part of it went to items
    UNAPPLIED = "unapplied"  # none of it went to items (yet): credit on the account
    REVERSED = "reversed"


class PendingOperation(BaseModel):
    """An operation on a payment that did not fit one step: what is left of it, and what caused it."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["receive", "reverse", "allocate", "return_part"]
    cause: Cause
    first: tuple[str, ...] = ()  # receive: items named in the payment
    # allocate: what is still to be allocated, in request order; return_part: what is still to be reopened
    lines: tuple[tuple[str, Decimal], ...] = ()
    reason: str = ""  # reverse, return_part: why it was returned; allocate: the person's note
    part: str = ""  # return_part: which part of the payment (a receipt's tender)
    amount: Decimal = ZERO  # return_part: how much leaves the account


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
    returned: dict[str, Decimal] = field(default_factory=dict)  # parts of it returned (a bounced cheque), by part
    # Money a person took back from an item is theirs to place: automatic credit application leaves it alone.
    held: bool = False
    pending: PendingOperation | None = None

    @property
    def status(self) -> PaymentStatus:
        if self.reversed:
            return PaymentStatus.REVERSED
        return PaymentStatus.APPLIED if self.allocations else PaymentStatus.UNAPPLIED

    @property
    def spendable(self) -> bool:
        """Credit that automatic application may use: not reversed, not held by a person, not mid-operation."""
        return self.unapplied > 0 and not self.reversed and not self.held and self.pending is None


@dataclass(frozen=True, slots=True)
class Step:
    """What one step did: its postings, and whether the operation it belongs to is finished."""

    postings: list[Posting]
    done: bool = True


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

    def pending_payments(self) -> list[PaymentState]:
        return sorted((p for p in self.payments.values() if p.pending is not None), key=lambda p: p.payment_id)

    def open_items(self) -> list[OpenItem]:
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
        self,
        payment_id: str,
        amount: Decimal,
        currency: str,
        value_date: date,
        *,
        cause: Cause,
        first: Iterable[str] = (),
        limit: int | None = None,
        reason: str = "received",
        received_as: PostingKind = PostingKind.PAYMENT_RECEIVED,
    ) -> Step:
        """A payment for this account: named items first, then the policy's order; the rest stays as credit.
        ``received_as``: the kind of its own posting (a credit note's credit is received as ``credit_note``)."""
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
        return self._receive_step(
            payment, [on_payment(received_as, payment_id, -amount, reason)], cause, tuple(first), limit
        )

    def assign(self, payment: PaymentState, reason: str) -> Posting:
        """A payment that waited in suspense comes onto this account as credit (then a person allocates it)."""
        if payment.payment_id in self.payments:
            raise LedgerRuleError(f"payment {payment.payment_id} is already on account {self.account_id}")
        if payment.currency != self.currency:
            raise LedgerRuleError(
                f"payment {payment.payment_id} is in {payment.currency}; account {self.account_id} in {self.currency}"
            )
        self.payments[payment.payment_id] = payment
        return on_payment(PostingKind.PAYMENT_ASSIGNED, payment.payment_id, -payment.unapplied, reason)

    def add_item(self, item: ItemState, limit: int | None = None) -> Step:
        """A new item: existing credit pays it (and any other open item) at once, oldest credit first."""
        if item.item_id in self.items:
            raise LedgerRuleError(f"item {item.item_id} is already on account {self.account_id}")
        if item.currency != self.currency or not 0 <= item.open_amount <= item.amount:
            raise LedgerRuleError(
                f"item {item.item_id}: {item.open_amount} open of {item.amount} {item.currency} cannot be on "
                f"account {self.account_id} in {self.currency}"
            )
        self.items[item.item_id] = item
        return self.apply_credit(limit)

    def apply_credit(self, limit: int | None = None) -> Step:
        """Credit → debit: spendable credit pays open items in the policy's order, oldest credit first. ``done`` is
        False when the step's item budget ran out (call again)."""
        postings: list[Posting] = []
        budget = limit
        for payment in sorted(self.payments.values(), key=lambda p: (p.value_date, p.payment_id)):
            if budget is not None and budget <= 0:
                return Step(postings, done=False)
            if payment.spendable:
                spent, _more = self._spend(payment, PostingKind.CREDIT_APPLIED, (), budget, "credit: ")
                postings += spent
                if budget is not None:
                    budget -= _items_in(spent)
        return Step(postings, done=budget is None or budget > 0)

    def reverse(self, payment_id: str, reason: str, *, cause: Cause, limit: int | None = None) -> Step:
        """Undo a payment: every item it paid reopens by exactly what it paid, and its money leaves the account.
        A payment that paid more items than one step holds is reversed over several (``done`` False)."""
        payment = self._payment(payment_id)
        if payment.reversed:
            return Step([])  # a reversal delivered twice changes nothing
        if payment.pending is not None and payment.pending.kind != "reverse":
            raise LedgerRuleError(f"payment {payment_id} has a {payment.pending.kind} in progress")
        return self._reverse_step(payment, reason, cause, limit)

    def return_part(
        self, payment_id: str, part: str, amount: Decimal, reason: str, *, cause: Cause, limit: int | None = None
    ) -> Step:
        """A part of a payment leaves the account (a receipt's cheque bounced): out of the payment's credit first,
        then out of the items it paid last (latest due first), so what it paid first stays paid. Returning what is
        left of the payment reverses it. A part returned twice changes nothing."""
        payment = self._payment(payment_id)
        if part in payment.returned or (payment.pending is not None and payment.pending.part == part):
            if payment.pending is not None:
                return self.continue_pending(payment_id, limit)
            return Step([])
        if payment.reversed:
            raise LedgerRuleError(f"payment {payment_id} was reversed; nothing of it is left to return")
        if payment.pending is not None:
            raise LedgerRuleError(f"payment {payment_id} has a {payment.pending.kind} in progress")
        left = payment.amount - sum(payment.returned.values(), ZERO)
        if amount <= 0 or amount > left:
            raise LedgerRuleError(f"payment {payment_id} has {format_money(left)} left; cannot return {amount}")
        from_items = amount - min(amount, payment.unapplied)
        reopen: list[tuple[str, Decimal]] = []
        for item_id in sorted(
            payment.allocations, key=lambda i: (self.items[i].due_date, self.items[i].issue_date, i), reverse=True
        ):
            if from_items <= 0:
                break
            take = min(from_items, payment.allocations[item_id])
            reopen.append((item_id, take))
            from_items -= take
        pending = PendingOperation(
            kind="return_part", cause=cause, lines=tuple(reopen), reason=reason, part=part, amount=amount
        )
        return self._return_part_step(payment, pending, limit)

    def allocate_manually(
        self,
        payment_id: str,
        lines: Sequence[tuple[str, Decimal]],
        note: str,
        *,
        cause: Cause,
        limit: int | None = None,
    ) -> Step:
        """Allocate by hand, in the order given. Every line is checked before any is applied: over-allocation of
        the payment or of an item is refused whole."""
        payment = self._payment(payment_id)
        if payment.reversed:
            raise LedgerRuleError(f"payment {payment_id} is reversed")
        if payment.pending is not None:
            raise LedgerRuleError(f"payment {payment_id} has a {payment.pending.kind} in progress")
        wanted: dict[str, Decimal] = {}
        for item_id, amount in lines:
            item = self._item(item_id)
            if item.currency != payment.currency:
                raise LedgerRuleError(
                    f"payment {payment_id} is in {payment.currency}; item {item_id} in {item.currency}"
                )
            if amount <= 0:
                raise LedgerRuleError(f"item {item_id}: an allocation must be a positive amount, got {amount}")
            wanted[item_id] = wanted.get(item_id, ZERO) + amount
            if wanted[item_id] > item.open_amount:
                raise LedgerRuleError(f"item {item_id} has {item.open_amount} open; cannot take {wanted[item_id]}")
        total = sum(wanted.values(), ZERO)
        if total > payment.unapplied:
            raise LedgerRuleError(f"payment {payment_id} has {payment.unapplied} unapplied; cannot allocate {total}")
        # Once a person places a payment's money, what is left is theirs to place too: not applied automatically.
        payment.held = True
        return self._allocate_step(payment, tuple(lines), note, cause, limit)

    def unallocate(self, payment_id: str, item_id: str, amount: Decimal, reason: str) -> Step:
        payment = self._payment(payment_id)
        if payment.pending is not None:
            raise LedgerRuleError(f"payment {payment_id} has a {payment.pending.kind} in progress")
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
        return Step(moved(PostingKind.UNALLOCATION, payment_id, item_id, -amount, f"manual: {reason}"))

    def continue_pending(self, payment_id: str, limit: int | None = None) -> Step:
        """The next step of the operation left pending on ``payment_id``."""
        payment = self._payment(payment_id)
        pending = payment.pending
        if pending is None:
            return Step([])
        match pending.kind:
            case "receive":
                return self._receive_step(payment, [], pending.cause, pending.first, limit)
            case "reverse":
                return self._reverse_step(payment, pending.reason, pending.cause, limit)
            case "allocate":
                return self._allocate_step(payment, pending.lines, pending.reason, pending.cause, limit)
            case "return_part":
                return self._return_part_step(payment, pending, limit)

    # -- internals -----------------------------------------------------------------------------------------------
    def _receive_step(
        self,
        payment: PaymentState,
        postings: list[Posting],
        cause: Cause,
        first: tuple[str, ...],
        limit: int | None,
    ) -> Step:
        spent, more = self._spend(payment, PostingKind.ALLOCATION, first, limit)
        payment.pending = PendingOperation(kind="receive", cause=cause, first=first) if more else None
        return Step(postings + spent, done=not more)

    def _reverse_step(self, payment: PaymentState, reason: str, cause: Cause, limit: int | None) -> Step:
        postings: list[Posting] = []
        for item_id, amount in sorted(payment.allocations.items())[:limit]:
            self.items[item_id].open_amount += amount
            payment.unapplied += amount
            del payment.allocations[item_id]
            postings += moved(PostingKind.REVERSAL, payment.payment_id, item_id, -amount, reason)
        if payment.allocations:  # more than one step holds: the rest follows, the money stays put meanwhile
            payment.pending = PendingOperation(kind="reverse", cause=cause, reason=reason)
            return Step(postings, done=False)
        postings.append(on_payment(PostingKind.PAYMENT_RETURNED, payment.payment_id, payment.unapplied, reason))
        payment.unapplied = ZERO
        payment.reversed = True
        payment.pending = None
        return Step(postings)

    def _return_part_step(self, payment: PaymentState, pending: PendingOperation, limit: int | None) -> Step:
        postings: list[Posting] = []
        lines = list(pending.lines)
        for item_id, amount in lines[:limit]:
            self.items[item_id].open_amount += amount
            payment.unapplied += amount
            left = payment.allocations[item_id] - amount
            if left:
                payment.allocations[item_id] = left
            else:
                del payment.allocations[item_id]
            postings += moved(PostingKind.REVERSAL, payment.payment_id, item_id, -amount, pending.reason)
        rest = tuple(lines[len(lines) if limit is None else limit :])
        if rest:  # more than one step holds: the money stays on the payment, out of automatic use, meanwhile
            payment.pending = pending.model_copy(update={"lines": rest})
            return Step(postings, done=False)
        payment.pending = None
        payment.unapplied -= pending.amount
        payment.returned[pending.part] = pending.amount
        if sum(payment.returned.values(), ZERO) == payment.amount:  # nothing of it is left: it is reversed
            payment.reversed = True
            postings.append(
                on_payment(PostingKind.PAYMENT_RETURNED, payment.payment_id, pending.amount, pending.reason)
            )
        else:
            postings.append(on_payment(PostingKind.PART_RETURNED, payment.payment_id, pending.amount, pending.reason))
        return Step(postings)

    def _allocate_step(
        self,
        payment: PaymentState,
        lines: tuple[tuple[str, Decimal], ...],
        note: str,
        cause: Cause,
        limit: int | None,
    ) -> Step:
        postings: list[Posting] = []
        touched: set[str] = set()
        rest = list(lines)
        while rest and (limit is None or len(touched | {rest[0][0]}) <= limit):
            item_id, amount = rest.pop(0)
            item = self._item(item_id)
            # A line checked with the request can meet a changed item when the request took several steps and
            # another payment paid the item in between: it takes what is still open and says so.
            take = min(amount, item.open_amount, payment.unapplied)
            reason = f"manual: {note}"
            if take < amount:
                reason += (
                    f" (asked {format_money(amount)}; {format_money(take)} was still open and unapplied when this "
                    "line was applied)"
                )
            if take > 0:
                postings += self._move(payment, item, take, PostingKind.ALLOCATION, reason)
            touched.add(item_id)
        payment.pending = (
            PendingOperation(kind="allocate", cause=cause, lines=tuple(rest), reason=note) if rest else None
        )
        return Step(postings, done=not rest)

    def _spend(
        self, payment: PaymentState, kind: PostingKind, first: tuple[str, ...], limit: int | None, prefix: str = ""
    ) -> tuple[list[Posting], bool]:
        """Allocate the payment's unapplied money by the policy to at most ``limit`` items; True when items that
        could have taken more were left for the next step."""
        open_items = self.open_items()
        if payment.unapplied <= 0 or not open_items or limit == 0:
            return [], bool(open_items) and payment.unapplied > 0 and limit == 0
        result = allocate(
            payment.unapplied,
            open_items,
            policy=self.policy,
            value_date=payment.value_date,
            first=first,
            currency=payment.currency,
        )
        chosen = result.allocations if limit is None else result.allocations[:limit]
        postings: list[Posting] = []
        for allocation in chosen:
            postings += self._move(
                payment, self.items[allocation.item_id], allocation.amount, kind, prefix + allocation.reason
            )
        return postings, len(chosen) < len(result.allocations)

    def _move(
        self, payment: PaymentState, item: ItemState, amount: Decimal, kind: PostingKind, reason: str
    ) -> list[Posting]:
        item.open_amount -= amount
        payment.unapplied -= amount
        payment.allocations[item.item_id] = payment.allocations.get(item.item_id, ZERO) + amount
        return moved(kind, payment.payment_id, item.item_id, amount, reason)

    def _payment(self, payment_id: str) -> PaymentState:
        if payment_id not in self.payments:
            raise LedgerRuleError(f"no payment {payment_id} on account {self.account_id}")
        return self.payments[payment_id]

    def _item(self, item_id: str) -> ItemState:
        if item_id not in self.items:
            raise LedgerRuleError(f"no item {item_id} on account {self.account_id}")
        return self.items[item_id]


def _items_in(postings: Iterable[Posting]) -> int:
    return len({p.item_id for p in postings if p.item_id is not None})
