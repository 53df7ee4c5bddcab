"""What the payment use cases need from storage, stated as small protocols and typed records.

Adapters turn DynamoDB's attribute maps into these records and back; nothing above the adapters sees the wire
format."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from receivables.banking.profiles import BankProfile
from receivables.domain.journal import JournalEntry
from receivables.domain.outbox import Event
from receivables.payments.account_ledger import AccountLedger, PaymentState, PendingOperation

if TYPE_CHECKING:
    from receivables.payments.operations import StepWrite


class ConcurrentUpdateError(RuntimeError):
    """Another writer changed the account since it was read; read again and redo the operation."""

    def __init__(self, message: str, **business_ids: str) -> None:
        super().__init__(message)
        self.business_ids = business_ids  # logged with a record that fails for good


ItemValue = str | Decimal | dict[str, Decimal] | None


@dataclass(frozen=True, slots=True)
class ItemUpdate:
    """Values an operation sets on a stored item beside its open amount (an endorsement's new amount and
    components, a cancellation's status…), written in the same conditional update. ``amount`` changes what the item
    bills; the item's own posting stays what it first was (``posted_amount``)."""

    amount: Decimal | None = None
    attributes: dict[str, ItemValue] = field(default_factory=dict)  # None removes the attribute


class Attachment(Protocol):
    """Writes that belong to an operation's step on other records (the policy, a payable, an event record), made
    in its transaction: all or nothing with the step's postings."""

    def transaction_items(self, table: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class Tender:
    """One way a counter receipt was paid. A cheque or promissory note counts when booked, whatever its maturity;
    if it bounces, its part of the receipt is returned (``AccountLedger.return_part``, part ``tender <no>``)."""

    type: str  # cash | card | transfer | cheque | promissory_note | voucher | other
    amount: Decimal
    reference: str | None = None  # card slip, cheque or note serial number
    maturity_date: date | None = None  # a cheque's or promissory note's due date (vade)
    drawer: str | None = None  # who signed the cheque or note, when not the payer


def tender_part(number: int) -> str:
    """The name of a receipt's tender as a part of its payment (numbered from 1, in the receipt's order)."""
    return f"tender {number}"


@dataclass(frozen=True, slots=True)
class ReturnedPart:
    part: str
    amount: Decimal
    reason: str
    on: date | None = None


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """What is recorded of a payment besides its money: where it came from and why it went where it went."""

    payment_id: str
    bank_id: str
    bank_reference: str
    end_to_end_id: str | None
    debtor_iban: str | None
    source_file: str
    position: str
    match_method: str
    match_reason: str
    tenders: tuple[Tender, ...] = ()  # how a counter receipt was paid
    # Set when the payment has no end-to-end id: a return quoting neither id nor reference is linked by this.
    content_reference: str | None = None
    # A share of an entry paid over several of the customer's accounts: the account the entry's own id went to.
    first_account: str | None = None
    # What the system assumed in reading the entry (e.g. "no status in a camt.053: taken as booked").
    notes: tuple[str, ...] = ()
    # Money going out (a return of a collection, a reversal) that could not be linked to what it returns: kept in
    # suspense for a person, never allocatable as money received.
    outgoing: bool = False


@dataclass(frozen=True, slots=True)
class AllocationRecord:
    item_id: str
    amount: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """A payment as stored: its money, where it went, and everything recorded about where it came from."""

    payment_id: str
    amount: Decimal
    currency: str
    value_date: date
    unapplied: Decimal
    status: str  # applied | unapplied | reversed
    account_id: str | None = None
    allocations: tuple[AllocationRecord, ...] = ()
    held: bool = False
    pending: PendingOperation | None = None
    revision: int = 0
    received_on: date | None = None
    bank_id: str | None = None
    bank_reference: str | None = None
    end_to_end_id: str | None = None
    debtor_iban: str | None = None
    source_file: str | None = None
    position: str | None = None
    match_method: str | None = None
    match_reason: str | None = None
    tenders: tuple[Tender, ...] = ()
    returned: tuple[ReturnedPart, ...] = ()  # parts of it that left the account (a receipt's bounced cheque)
    reversal_reason: str | None = None
    first_account: str | None = None
    notes: tuple[str, ...] = ()
    outgoing: bool = False
    manual: tuple[str, ...] = ()  # what people decided about it (out of suspense by hand…), beside what the bank said
    journal: tuple[str, ...] = ()  # keys of the journal entries that moved its money, oldest first

    @property
    def reversed(self) -> bool:
        return self.status == "reversed"

    def state(self) -> PaymentState:
        return PaymentState(
            payment_id=self.payment_id,
            amount=self.amount,
            currency=self.currency,
            value_date=self.value_date,
            allocations={a.item_id: a.amount for a in self.allocations},
            unapplied=self.unapplied,
            reversed=self.reversed,
            returned={r.part: r.amount for r in self.returned},
            held=self.held,
            pending=self.pending,
        )


PaymentSnapshot = tuple[
    tuple[tuple[str, Decimal], ...], Decimal, bool, bool, PendingOperation | None, tuple[tuple[str, Decimal], ...]
]


def snapshot(payment: PaymentState) -> PaymentSnapshot:
    return (
        tuple(sorted(payment.allocations.items())),
        payment.unapplied,
        payment.reversed,
        payment.held,
        payment.pending,
        tuple(sorted(payment.returned.items())),
    )


@dataclass(slots=True)
class LoadedAccount:
    ledger: AccountLedger
    version: int
    # Snapshots of what is stored, to write back only what a step changed (brought up to date after each write).
    open_at_load: dict[str, Decimal] = field(default_factory=dict)
    payments_at_load: dict[str, PaymentSnapshot] = field(default_factory=dict)
    records: dict[str, PaymentRecord] = field(default_factory=dict)  # the stored payments that were loaded


@dataclass(frozen=True, slots=True)
class JournalPage:
    entries: list[JournalEntry]
    next_cursor: str | None


class PaymentStore(Protocol):
    @property
    def items_per_step(self) -> int:
        """How many items one transaction may change (DynamoDB's 100-write limit less the step's other writes)."""
        ...

    def payment_exists(self, payment_id: str) -> bool: ...

    def payment_by_reference(self, bank_id: str, reference: str) -> PaymentRecord | None: ...

    def payments_by_content(self, content_reference: str) -> list[PaymentRecord]:
        """Payments recorded under this content reference (our account, amount and remittance text)."""
        ...

    def get_payment(self, payment_id: str) -> PaymentRecord | None: ...

    def suspense(self, limit: int) -> list[PaymentRecord]: ...

    def load(self, account_id: str, *, on: date, include_payments: Iterable[str] = ()) -> LoadedAccount | None:
        """The account's money; items under a hold in force on ``on`` are marked held (the ``not_held`` filter)."""
        ...

    def save(self, write: StepWrite) -> None:
        """Write one step in one transaction; ConcurrentUpdateError if the account or a payment moved on. On
        success ``write.loaded`` is brought up to the committed state."""
        ...

    def save_unmatched(
        self,
        facts: PaymentFacts,
        amount: Decimal,
        currency: str,
        value_date: date,
        entry: JournalEntry,
        events: Sequence[Event] = (),
    ) -> bool: ...

    def ensure_references(self, facts: PaymentFacts) -> None:
        """The reference pointers of a payment (idempotent): what a reversal looks it up by."""
        ...

    def journal_entries(self, refs: Iterable[str]) -> list[JournalEntry]:
        """Entries by the references items and payments keep (``journal``: ``<date>#<entry id>#<account id>``)."""
        ...


class ProfileSource(Protocol):
    def profiles_for(self, bank_id: str) -> dict[str, BankProfile]: ...
