"""The money journal: every movement of money on an account, as append-only postings that prove every balance.

Each posting lands on one *open item* of an account — a receivable item (invoice, installment…) or a payment's credit
— and carries a signed amount: what it adds to the account's balance through that open item (debit +, credit −).
The rules that tie the journal to the stored state are few, and :func:`replay` checks them:

- an item's open amount = its own amount (the item record *is* its posting, ``item_posted``) + Σ its postings;
- a payment's unapplied credit = −Σ its postings (money received is −A on the payment; each allocation +a on the
  payment and −a on the item it pays, so an allocation moves no balance);
- the account's balance = Σ every posting (item amounts included) = Σ open amounts − unapplied credit.

Postings are grouped into entries, one per operation step, written in the same DynamoDB transaction as the state
the step changes and never updated or deleted. An entry says when (business date, moment recorded), what caused it
(file and line, bank entry, API call and its actor, schedule) and, per posting, the reason the domain gave.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from receivables.domain.money import ZERO, format_money


class PostingKind(StrEnum):
    ITEM_POSTED = "item_posted"  # an item billed: its own immutable record
    PAYMENT_RECEIVED = "payment_received"  # money in: credit on the payment until allocated
    ALLOCATION = "allocation"  # a payment's money to an item, as it arrived (or by hand)
    CREDIT_APPLIED = "credit_applied"  # credit held on the account paying an item later (credit → debit)
    UNALLOCATION = "unallocation"  # money taken back from an item onto the payment's credit
    REVERSAL = "reversal"  # a returned payment reopens what it paid
    PAYMENT_RETURNED = "payment_returned"  # the returned payment's money leaves the account
    PART_RETURNED = "payment_part_returned"  # a part of a payment leaves the account (a receipt's bounced cheque)
    PAYMENT_ASSIGNED = "payment_assigned"  # a payment leaves suspense for an account
    RESTRUCTURED = "restructured"  # an item's open amount moved into an installment plan
    # What the insurer owes a party (commission, refund, claim): the payable's own record is its posting, negative
    # on the party's account; later postings on it are signed the same way (+ reduces what is owed).
    PAYABLE_POSTED = "payable_posted"
    PAYABLE_PAID = "payable_paid"  # the bank debited our transfer: the payable is settled (+ its open amount)
    PAYABLE_ADJUSTED = "payable_adjusted"  # a payable cancelled (its installment reopened) or owed again
    PREMIUM_ADJUSTED = "premium_adjusted"  # an endorsement changes what an installment still owes
    REFUND_APPLIED = "refund_applied"  # premium given back pays another open item of the payer
    ITEM_CANCELLED = "item_cancelled"  # a cancellation closes an item's open amount (+: a reinstatement reopens it)
    COMMISSION_NETTED = "commission_netted"  # an agency statement sets the agency's commission against what it owes
    OFFSET = (
        "offset"  # a claim payable settles the payee's installment (mahsup): − on the installment, + on the payable
    )
    NETTED = "netted"  # a party's payable set against its receivable (cari mahsup): − on the item, + on the payable
    # A reinsurer's payables gathered into one settlement payable paid by one transfer: + on each; the settlement
    # payable's own record carries − their sum.
    CONSOLIDATED = "consolidated"
    WRITTEN_OFF = "written_off"  # a difference closed without money: an item's rest, or credit taken off a payment
    CREDIT_NOTE = "credit_note"  # billing reduced what an item bills: − on the item, or on a credit beyond it


class Side(StrEnum):
    ITEM = "item"
    PAYMENT = "payment"


class Posting(BaseModel):
    """One line: ``amount`` (signed) lands on the open item named by ``side`` (the item or the payment)."""

    model_config = ConfigDict(frozen=True)
    kind: PostingKind
    side: Side
    amount: Decimal
    item_id: str | None = None
    payment_id: str | None = None
    reason: str = ""

    @property
    def target(self) -> str:
        target = self.item_id if self.side is Side.ITEM else self.payment_id
        assert target is not None, f"a posting on the {self.side} side needs its id"
        return target


def moved(kind: PostingKind, payment_id: str, item_id: str, amount: Decimal, reason: str) -> list[Posting]:
    """Money moved between a payment's credit and an item: ``amount`` > 0 pays the item, < 0 reopens it."""
    return [
        Posting(kind=kind, side=Side.ITEM, amount=-amount, item_id=item_id, payment_id=payment_id, reason=reason),
        Posting(kind=kind, side=Side.PAYMENT, amount=amount, item_id=item_id, payment_id=payment_id, reason=reason),
    ]


def on_payment(kind: PostingKind, payment_id: str, amount: Decimal, reason: str) -> Posting:
    return Posting(kind=kind, side=Side.PAYMENT, amount=amount, payment_id=payment_id, reason=reason)


CauseKind = Literal["file", "bank_entry", "api", "schedule", "event", "system"]


class Cause(BaseModel):
    """What made the money move: a file and its line, a bank entry, an API call and who made it, a schedule."""

    model_config = ConfigDict(frozen=True)
    kind: CauseKind
    source: str = Field(max_length=1200)  # the file key, "POST /payments/{id}/allocations", the schedule's name…
    line: int | None = None  # the file's line (header = 1), when the cause is a line of a file
    position: str | None = Field(default=None, max_length=200)  # where in a bank file: "entry 12", "Ntry[3]"
    actor: str | None = Field(default=None, max_length=300)  # who, for API calls

    def describe(self) -> str:
        where = self.source + (f":{self.line}" if self.line is not None else "")
        where += f" ({self.position})" if self.position else ""
        return where + (f" by {self.actor}" if self.actor else "")


class JournalEntry(BaseModel):
    """One operation step's postings: written once, with the state they explain, and never changed."""

    model_config = ConfigDict(frozen=True)
    entry_id: str
    account_id: str
    currency: str
    business_date: date
    recorded_at: datetime
    operation: str  # receive, reverse, allocate, unallocate, apply_credit, assign, restructure, …
    cause: Cause
    postings: tuple[Posting, ...]

    @property
    def balance_effect(self) -> Decimal:
        return sum((p.amount for p in self.postings), ZERO)


# -- proof: the stored state recomputed from the journal -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredItem:
    item_id: str
    amount: Decimal  # the item's own posting
    open_amount: Decimal


@dataclass(frozen=True, slots=True)
class StoredPayment:
    payment_id: str
    unapplied: Decimal
    allocations: dict[str, Decimal]
    reversed: bool = False


@dataclass(frozen=True, slots=True)
class StoredAccount:
    """What the tables say of one account (or of the suspense account): the state ``verify`` checks."""

    account_id: str
    items: Sequence[StoredItem] = ()
    payments: Sequence[StoredPayment] = ()
    unapplied_credit: Decimal = ZERO  # as recorded on the account record


@dataclass(frozen=True, slots=True)
class Difference:
    account_id: str
    what: str  # "item I-1 open amount", "payment P1 unapplied", "unapplied credit", …
    stored: Decimal
    journal: Decimal
    item_id: str | None = None
    payment_id: str | None = None

    def describe(self) -> str:
        return (
            f"account {self.account_id}: {self.what} is {format_money(self.stored)} stored, "
            f"{format_money(self.journal)} by the journal"
        )


@dataclass(slots=True)
class Replayed:
    """An account as its journal tells it."""

    item_open: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    payment_credit: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    allocated: dict[tuple[str, str], Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    returned: set[str] = field(default_factory=set)

    @property
    def balance(self) -> Decimal:
        return sum(self.item_open.values(), ZERO) - sum(self.payment_credit.values(), ZERO)


def replay(items: Iterable[StoredItem], entries: Iterable[JournalEntry]) -> Replayed:
    state = Replayed()
    for item in items:
        state.item_open[item.item_id] += item.amount
    for entry in entries:
        for posting in entry.postings:
            if posting.side is Side.ITEM:
                state.item_open[posting.target] += posting.amount
                if posting.payment_id is not None:
                    state.allocated[(posting.payment_id, posting.target)] -= posting.amount
            else:
                state.payment_credit[posting.target] -= posting.amount
            if posting.kind is PostingKind.PAYMENT_RETURNED and posting.payment_id:
                state.returned.add(posting.payment_id)
    return state


def differences(stored: StoredAccount, entries: Iterable[JournalEntry]) -> list[Difference]:
    """Every way the stored state of an account differs from what its journal proves; empty when it is proven."""
    state = replay(stored.items, entries)
    account = stored.account_id
    found: list[Difference] = []
    for item in stored.items:
        expected = state.item_open[item.item_id]
        if expected != item.open_amount:
            found.append(
                Difference(account, f"item {item.item_id} open amount", item.open_amount, expected, item.item_id)
            )
    known_items = {i.item_id for i in stored.items}
    for item_id in sorted(set(state.item_open) - known_items):
        found.append(
            Difference(account, f"item {item_id} (posted, no record)", ZERO, state.item_open[item_id], item_id)
        )
    for payment in stored.payments:
        expected = state.payment_credit[payment.payment_id]
        if expected != payment.unapplied:
            found.append(
                Difference(
                    account,
                    f"payment {payment.payment_id} unapplied",
                    payment.unapplied,
                    expected,
                    None,
                    payment.payment_id,
                )
            )
        journal_allocations = {
            item_id: amount
            for (payment_id, item_id), amount in state.allocated.items()
            if payment_id == payment.payment_id and amount != 0
        }
        for item_id in sorted(set(journal_allocations) | set(payment.allocations)):
            have, proven = payment.allocations.get(item_id, ZERO), journal_allocations.get(item_id, ZERO)
            if have != proven:
                found.append(
                    Difference(
                        account,
                        f"payment {payment.payment_id} allocation to {item_id}",
                        have,
                        proven,
                        item_id,
                        payment.payment_id,
                    )
                )
        if payment.reversed != (payment.payment_id in state.returned):
            found.append(
                Difference(
                    account,
                    f"payment {payment.payment_id} reversed ({'stored' if payment.reversed else 'journal'} only)",
                    Decimal(int(payment.reversed)),
                    Decimal(int(payment.payment_id in state.returned)),
                    None,
                    payment.payment_id,
                )
            )
    known_payments = {p.payment_id for p in stored.payments}
    for payment_id in sorted(set(state.payment_credit) - known_payments):
        if state.payment_credit[payment_id] != 0:
            found.append(
                Difference(
                    account,
                    f"payment {payment_id} (posted, no record)",
                    ZERO,
                    state.payment_credit[payment_id],
                    None,
                    payment_id,
                )
            )
    proven_credit = sum((c for p, c in state.payment_credit.items() if p not in state.returned), ZERO)
    if proven_credit != stored.unapplied_credit:
        found.append(Difference(account, "unapplied credit", stored.unapplied_credit, proven_credit))
    return found
