"""Payouts, pure: which approved payables a run pays, through which of our banks, in which message.

A run on business date D takes every approved payable due on or before D (reinsurance balances are settled by
netting and one transfer per statement, never here), groups them per paying bank (the default bank, or the only
one) and currency, and names each message by its content, so the same run planned twice is the same message.
A payee without a usable IBAN is skipped with the reason; the payable stays approved for a person to see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from receivables.domain.config_files import load_settings

NOT_PAID_OUT = frozenset({"reinsurance"})  # settled by the reinsurer's statement, never one by one
MAX_TRANSFERS = 1000  # per message: its record stays far below DynamoDB's 400 KB item limit compressed


class PayoutConfigError(ValueError):
    """A paying bank's configuration does not validate: the message names the file and the field."""


class PayingBank(BaseModel):
    """One of our accounts that pays: ``config/disbursement/<bank_id>.json`` (or ``.yaml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bank_id: str = Field(default="", pattern=r"^$|^[A-Za-z0-9_.-]{1,64}$")
    name: str = Field(min_length=1, max_length=70, description="The debtor name on our transfers")
    iban: str
    bic: str | None = None
    pain001_version: Literal["001.001.03", "001.001.09"] = "001.001.03"
    default: bool = False


def load_paying_bank(text: bytes | str, *, bank_id: str) -> PayingBank:
    bank = load_settings(
        text,
        PayingBank,
        where=f"config/disbursement/{bank_id}",
        error=PayoutConfigError,
        bank_id=bank_id,
        defaults={"bank_id": bank_id},
    )
    try:
        IBAN(bank.iban)
    except SchwiftyException as exc:
        raise PayoutConfigError(f"config/disbursement/{bank_id}: iban: {exc}") from None
    return bank


def paying_bank(banks: Mapping[str, PayingBank]) -> PayingBank | None:
    """The bank that pays: the one marked default, else the only one."""
    defaults = [b for b in banks.values() if b.default]
    if len(defaults) == 1:
        return defaults[0]
    return next(iter(banks.values())) if len(banks) == 1 and not defaults else None


@dataclass(frozen=True, slots=True)
class PayoutCandidate:
    payable_id: str
    kind: str
    party_id: str
    account_id: str
    amount: Decimal  # its open amount: what is still owed
    currency: str
    due_date: date
    policy_id: str | None = None
    claim_id: str | None = None
    rejected_iban: str | None = None  # a transfer the bank rejected: paid again once the payee's IBAN changes
    settlement: bool = False  # a reinsurer's quarterly settlement: the one reinsurance payable that is paid out


@dataclass(frozen=True, slots=True)
class Payee:
    party_id: str
    name: str
    iban: str | None
    bic: str | None = None


class Transfer(BaseModel):
    model_config = ConfigDict(frozen=True)
    payable_id: str  # also its EndToEndId
    account_id: str
    party_id: str
    amount: Decimal
    currency: str
    creditor_name: str
    creditor_iban: str
    creditor_bic: str | None = None
    remittance: str


class PayoutMessage(BaseModel):
    model_config = ConfigDict(frozen=True)
    message_id: str
    bank_id: str
    run_date: date
    transfers: tuple[Transfer, ...]
    file_key: str | None = None

    @property
    def total(self) -> Decimal:
        return sum((t.amount for t in self.transfers), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class Skipped:
    payable_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class PayoutPlan:
    messages: tuple[PayoutMessage, ...]
    skipped: tuple[Skipped, ...]


def message_id(run_date: date, bank_id: str, transfers: Sequence[Transfer]) -> str:
    """``PO<yyyymmdd>`` and a digest of what the message pays: ≤ 35 characters, the same for the same content."""
    content = "|".join(f"{t.payable_id}:{t.amount}:{t.currency}" for t in transfers)
    return f"PO{run_date:%Y%m%d}" + hashlib.sha256(f"{bank_id}|{content}".encode()).hexdigest()[:20].upper()


def remittance(candidate: PayoutCandidate) -> str:
    what = {
        "claim": "Hasar odemesi",
        "tax": "Stopaj",
        "commission": "Komisyon",
        "refund": "Prim iadesi",
        "reinsurance": "Reasurans hesap cetveli",
    }
    label = what.get(candidate.kind, candidate.kind)
    about = candidate.claim_id or candidate.policy_id or ""
    return f"{label} {about} {candidate.payable_id}".replace("  ", " ").strip()


def plan_payouts(
    run_date: date,
    candidates: Sequence[PayoutCandidate],
    payees: Mapping[str, Payee],
    bank: PayingBank,
) -> PayoutPlan:
    skipped: list[Skipped] = []
    by_currency: dict[str, list[Transfer]] = {}
    for candidate in sorted(candidates, key=lambda c: (c.due_date, c.payable_id)):
        if (candidate.kind in NOT_PAID_OUT and not candidate.settlement) or candidate.due_date > run_date:
            continue
        if candidate.amount <= 0:
            continue
        payee = payees.get(candidate.party_id)
        if payee is None:
            skipped.append(Skipped(candidate.payable_id, f"payee {candidate.party_id} is not known"))
            continue
        if not payee.iban:
            skipped.append(Skipped(candidate.payable_id, f"payee {candidate.party_id} has no IBAN to pay to"))
            continue
        try:
            iban = IBAN(payee.iban).compact
        except SchwiftyException as exc:
            skipped.append(Skipped(candidate.payable_id, f"payee {candidate.party_id}'s IBAN is not valid: {exc}"))
            continue
        if candidate.rejected_iban is not None and candidate.rejected_iban == iban:
            continue  # rejected for this very IBAN: it waits for a corrected one, or for a person to approve it again
        by_currency.setdefault(candidate.currency, []).append(
            Transfer(
                payable_id=candidate.payable_id,
                account_id=candidate.account_id,
                party_id=candidate.party_id,
                amount=candidate.amount,
                currency=candidate.currency,
                creditor_name=payee.name,
                creditor_iban=iban,
                creditor_bic=payee.bic,
                remittance=remittance(candidate),
            )
        )
    transfers = [t for currency in sorted(by_currency) for t in by_currency[currency]]
    chunks = [transfers[n : n + MAX_TRANSFERS] for n in range(0, len(transfers), MAX_TRANSFERS)]
    messages = tuple(
        PayoutMessage(
            message_id=message_id(run_date, bank.bank_id, chunk),
            bank_id=bank.bank_id,
            run_date=run_date,
            transfers=tuple(chunk),
        )
        for chunk in chunks
    )
    return PayoutPlan(messages=messages, skipped=tuple(skipped))
