"""Deciding what a batch of invoice rows does to the ledger: pure, so every rule is testable without storage.

The caller looks up what already exists (customers, accounts, items with the same ids), hands it in, and applies the
decisions. Rows are decided in file order, so within one batch the first row for an account opens it and the first
row for an invoice id is the one later rows are compared with.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from receivables.domain.money import format_money
from receivables.domain.records import Invoice


@dataclass(frozen=True, slots=True)
class AccountRef:
    account_id: str
    customer_id: str
    currency: str
    next_action_on: date | None = None
    unapplied_credit: Decimal = Decimal(0)  # money received and not yet taken by any item
    account_type: str = "standard"  # drives the allocation policy; a fact for segment and collector rules


@dataclass(frozen=True, slots=True)
class ExistingInvoice:
    """What we need to know of a stored item to judge a row with the same id."""

    invoice: Invoice
    fingerprint: str
    source: tuple[str, int] | None = None  # (file id, line) that loaded it


@dataclass(frozen=True, slots=True)
class RowDecision:
    line: int
    invoice: Invoice


@dataclass(slots=True)
class InvoiceBatchPlan:
    new_accounts: dict[str, AccountRef] = field(default_factory=dict)
    new_items: list[RowDecision] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # lines identical to what is stored
    # Lines this very file already loaded in an earlier, interrupted attempt: they count as loaded.
    loaded_before: list[int] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    # Per account, the earliest date an action may fall due because of the new items (first overdue day).
    next_action_on: dict[str, date] = field(default_factory=dict)


def differences(stored: Invoice, incoming: Invoice) -> list[str]:
    """Human-readable field differences, e.g. ``amount 100.00 → 120.00``."""
    changed = []
    for name in (
        "customer_id",
        "account_id",
        "issue_date",
        "due_date",
        "amount",
        "currency",
        "subscription_id",
        "description",
    ):
        old, new = getattr(stored, name), getattr(incoming, name)
        if old != new:
            show = format_money if name == "amount" else str
            changed.append(f"{name} {show(old) if old is not None else '∅'} → {show(new) if new is not None else '∅'}")
    return changed


def conflict_reason(stored: Invoice, incoming: Invoice) -> str:
    return (
        f"invoice_id: conflict: invoice {incoming.invoice_id} was already loaded with different content "
        f"({'; '.join(differences(stored, incoming))}); it is never overwritten"
    )


def first_overdue_day(due_date: date) -> date:
    return due_date + timedelta(days=1)


def plan_invoice_batch(
    rows: Iterable[tuple[int, Invoice]],
    *,
    known_customers: Collection[str],  # ids (a mapping of them counts its keys)
    accounts: Mapping[str, AccountRef],
    existing: Mapping[str, ExistingInvoice],
    file_id: str | None = None,
) -> InvoiceBatchPlan:
    plan = InvoiceBatchPlan()
    seen: dict[str, Invoice] = {}
    for line, invoice in rows:
        prior = seen.get(invoice.invoice_id)
        stored = existing.get(invoice.invoice_id)
        earlier = prior or (stored.invoice if stored else None)
        if earlier is not None:
            if earlier == invoice and prior is None and stored and stored.source == (file_id, line):
                plan.loaded_before.append(line)
            elif earlier == invoice:
                plan.skipped.append(line)
            else:
                plan.rejected.append((line, conflict_reason(earlier, invoice)))
            continue
        if invoice.customer_id not in known_customers:
            plan.rejected.append((line, f"customer_id: unknown customer {invoice.customer_id}"))
            continue
        account = accounts.get(invoice.account_id) or plan.new_accounts.get(invoice.account_id)
        if account is not None:
            if account.customer_id != invoice.customer_id:
                plan.rejected.append(
                    (
                        line,
                        f"account_id: account {invoice.account_id} belongs to customer {account.customer_id}, "
                        f"not {invoice.customer_id}",
                    )
                )
                continue
            if account.currency != invoice.currency:
                plan.rejected.append(
                    (
                        line,
                        f"currency: account {invoice.account_id} is kept in {account.currency}; "
                        f"an invoice in {invoice.currency} cannot be posted to it",
                    )
                )
                continue
        else:
            account = AccountRef(invoice.account_id, invoice.customer_id, invoice.currency)
            plan.new_accounts[invoice.account_id] = account
        seen[invoice.invoice_id] = invoice
        plan.new_items.append(RowDecision(line, invoice))
        candidate = first_overdue_day(invoice.due_date)
        current = plan.next_action_on.get(invoice.account_id)
        if current is None or candidate < current:
            plan.next_action_on[invoice.account_id] = candidate
    # Only move an account's next action earlier, never later: an earlier open item still drives it.
    for account_id, candidate in list(plan.next_action_on.items()):
        stored_account = accounts.get(account_id)
        if stored_account and stored_account.next_action_on and stored_account.next_action_on <= candidate:
            del plan.next_action_on[account_id]
    return plan
