"""Card-installment and bank-scheme collections, decided (docs/card-collections.md). Pure: no storage, no clock.

A run on business date D asks each bank, through its collection profile, for the open items falling due on D (or
whose retry falls on D) of customers whose auto-pay instruction names that bank. Each request is one attempt of one
item, named by a reference derived from the item and the attempt, so the bank's answer finds it and the same
attempt asked twice is the same request. A declined attempt is tried again after the profile's retry days (default
3, then 7); after the last one the item is left to dunning.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from receivables.banking.collection_files import CollectionProfile, CollectionRequest

MAX_REQUESTS_PER_FILE = 2_000  # keeps a file's record well inside DynamoDB's 400 KB item limit, compressed


@dataclass(frozen=True, slots=True)
class CardCandidate:
    item_id: str
    account_id: str
    customer_id: str
    open_amount: Decimal
    currency: str
    due_date: date
    method: str  # the customer's autopay_method
    bank_id: str
    token: str
    attempts: int = 0  # attempts already made
    pending: bool = False  # an attempt asked and not answered yet


@dataclass(frozen=True, slots=True)
class Skipped:
    item_id: str
    reason: str


@dataclass
class RequestFile:
    bank_id: str
    run_date: date
    sequence: int
    requests: tuple[CollectionRequest, ...]
    file_key: str | None = None

    @property
    def file_id(self) -> str:
        return f"{self.bank_id}#{self.sequence:03d}"


@dataclass
class CardPlan:
    files: list[RequestFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def reference(item_id: str, attempt: int) -> str:
    """``CC`` and 16 characters of a digest of item and attempt: short enough for any bank's reference field,
    the same for the same attempt, different for the next."""
    digest = hashlib.sha256(f"{item_id}|{attempt}".encode()).digest()
    return "CC" + base64.b32encode(digest).decode()[:16]


def next_try(profile: CollectionProfile, attempt: int, declined_on: date) -> date | None:
    """When a declined ``attempt`` (1-based) is tried again; None after the last retry (dunning takes over)."""
    if attempt > len(profile.retry_after_days):
        return None
    return declined_on + timedelta(days=profile.retry_after_days[attempt - 1])


def plan_requests(
    run_date: date, candidates: Sequence[CardCandidate], profiles: Mapping[str, CollectionProfile]
) -> CardPlan:
    plan = CardPlan()
    by_bank: dict[str, list[CollectionRequest]] = {}
    for candidate in sorted(candidates, key=lambda c: (c.bank_id, c.due_date, c.item_id)):
        if candidate.method not in ("card", "bank_scheme") or candidate.pending or candidate.open_amount <= 0:
            continue
        profile = profiles.get(candidate.bank_id)
        if profile is None:
            plan.skipped.append(
                Skipped(candidate.item_id, f"no collection profile for bank {candidate.bank_id} (config/collections)")
            )
            continue
        if profile.method != candidate.method:
            plan.skipped.append(
                Skipped(
                    candidate.item_id, f"bank {candidate.bank_id} collects by {profile.method}, not {candidate.method}"
                )
            )
            continue
        if candidate.attempts > len(profile.retry_after_days):
            continue  # every retry declined: dunning's
        attempt = candidate.attempts + 1
        by_bank.setdefault(candidate.bank_id, []).append(
            CollectionRequest(
                reference=reference(candidate.item_id, attempt),
                item_id=candidate.item_id,
                customer_id=candidate.customer_id,
                account_id=candidate.account_id,
                token=candidate.token,
                amount=candidate.open_amount,
                currency=candidate.currency,
                due_date=candidate.due_date,
                attempt=attempt,
                installments=profile.default_installments,
            )
        )
    for bank_id, requests in sorted(by_bank.items()):
        for n in range(0, len(requests), MAX_REQUESTS_PER_FILE):
            plan.files.append(
                RequestFile(
                    bank_id=bank_id,
                    run_date=run_date,
                    sequence=n // MAX_REQUESTS_PER_FILE + 1,
                    requests=tuple(requests[n : n + MAX_REQUESTS_PER_FILE]),
                )
            )
    return plan
