"""What the payment use cases need from storage, stated as small protocols and plain records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from receivables.banking.profiles import BankProfile
from receivables.payments.account_ledger import AccountLedger


class ConcurrentUpdateError(RuntimeError):
    """Another writer changed the account since it was read; read again and redo the operation."""


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
    tenders: tuple[tuple[str, Decimal, str | None], ...] = ()  # (type, amount, reference) of a counter receipt
    # Set when the payment has no end-to-end id: a return quoting neither id nor reference is linked by this.
    content_reference: str | None = None
    # A share of an entry paid over several of the customer's accounts: the account the entry's own id went to.
    first_account: str | None = None


@dataclass(slots=True)
class LoadedAccount:
    ledger: AccountLedger
    version: int
    # Snapshots at load, to write back only what an operation changed.
    open_at_load: dict[str, Decimal] = field(default_factory=dict)
    payments_at_load: dict[str, tuple[tuple[tuple[str, Decimal], ...], Decimal, bool, bool]] = field(
        default_factory=dict
    )
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # stored non-money fields of loaded payments


class PaymentStore(Protocol):
    def payment_exists(self, payment_id: str) -> bool: ...

    def payment_by_reference(self, bank_id: str, reference: str) -> dict[str, Any] | None: ...

    def payments_by_content(self, content_reference: str) -> list[dict[str, Any]]:
        """Payments recorded under this content reference (our account, amount and remittance text)."""
        ...

    def get_payment(self, payment_id: str) -> dict[str, Any] | None: ...

    def suspense(self, limit: int) -> list[dict[str, Any]]: ...

    def load(self, account_id: str, *, on: date, include_payments: Iterable[str] = ()) -> LoadedAccount | None:
        """The account's money; items under a hold in force on ``on`` are marked held (the ``not_held`` filter)."""
        ...

    def save(
        self,
        loaded: LoadedAccount,
        *,
        new_payment: PaymentFacts | None = None,
        reasons: dict[tuple[str, str], str] | None = None,
        reversal_reason: str | None = None,
        assigned_payment: str | None = None,
        today: date,
    ) -> None:
        """Write the operation's result in one transaction; ConcurrentUpdateError if the account moved on.
        ``assigned_payment``: a payment taken out of suspense onto this account by the operation."""
        ...

    def save_unmatched(
        self, facts: PaymentFacts, amount: Decimal, currency: str, value_date: date, today: date
    ) -> bool: ...


class ProfileSource(Protocol):
    def profiles_for(self, bank_id: str) -> dict[str, BankProfile]: ...
