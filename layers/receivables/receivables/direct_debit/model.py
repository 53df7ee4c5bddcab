"""Direct debit, decided: which items a collection run takes, under which ids, and what a bank's status report means
for each collection (docs/direct-debit.md).

Pure: no storage, no clock. The run date, the creditor banks and the candidate items are given; the pain.008 bytes
are built by ``receivables.banking.pain008`` and the pain.002 report is read by ``receivables.banking.pain002``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from receivables.banking.pain002 import PaymentStatusReport, StatusCode
from receivables.banking.pain008 import DirectDebitInstruction
from receivables.banking.pain008 import payment_information_ids as pain008_payment_information_ids
from receivables.domain.config_files import load_settings

# Our end-to-end ids start with this, so a bank credit quoting one is recognised as a collection of ours without a
# lookup for every other payment (payer matching looks these up by id).
END_TO_END_PREFIX = "RCV"
MAX_TRANSACTIONS_PER_MESSAGE = 2_000  # keeps a message's record well inside DynamoDB's 400 KB item limit


class CreditorBank(BaseModel):
    """One of our accounts that collects by direct debit: ``config/direct-debit/<bank_id>.json`` (or ``.yaml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bank_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    creditor_name: str = Field(min_length=1, max_length=70)
    iban: str
    bic: str | None = None
    creditor_scheme_id: str = Field(min_length=1, max_length=35, description="SEPA creditor identifier (CdtrSchmeId)")
    pain_version: Literal["001.02", "001.08"] = "001.02"
    local_instrument: Literal["CORE", "B2B"] = "CORE"
    lead_days: int = Field(default=1, ge=0, le=14, description="Collect items falling due up to this many days ahead")
    default: bool = Field(default=False, description="Collects for mandates that name no bank")


class Mandate(BaseModel):
    model_config = ConfigDict(frozen=True)
    customer_id: str
    debtor_name: str
    iban: str
    mandate_id: str
    signed_on: date
    bank_id: str | None = None


class CollectableItem(BaseModel):
    model_config = ConfigDict(frozen=True)
    item_id: str
    account_id: str
    customer_id: str
    due_date: date
    open_amount: Decimal
    currency: str
    description: str | None = None
    collection: str | None = None  # end-to-end id of a collection already made for it


class Collection(BaseModel):
    """One transaction of a pain.008 message: an item collected from a mandate."""

    model_config = ConfigDict(frozen=True)
    end_to_end_id: str
    item_id: str
    account_id: str
    customer_id: str
    amount: Decimal
    currency: str
    collection_date: date
    mandate_id: str
    mandate_signed_on: date
    debtor_name: str
    debtor_iban: str
    remittance: str


class CollectionRecord(BaseModel):
    """A collection as stored: what was sent, in which message, and what the bank answered."""

    model_config = ConfigDict(frozen=True)
    end_to_end_id: str
    message_id: str
    bank_id: str
    item_id: str
    account_id: str
    amount: Decimal
    currency: str
    collection_date: date
    mandate_id: str
    status: str
    reason: str | None = None


class CollectionMessage(BaseModel):
    """A pain.008 message as sent (or about to be): what its status reports are judged against."""

    model_config = ConfigDict(frozen=True)
    message_id: str
    bank_id: str
    run_date: date
    collections: tuple[Collection, ...]
    file_key: str | None = None  # set once the file is written

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.collections), Decimal("0.00"))


class Skipped(BaseModel):
    model_config = ConfigDict(frozen=True)
    item_id: str
    reason: str


class CollectionPlan(BaseModel):
    model_config = ConfigDict(frozen=True)
    messages: tuple[CollectionMessage, ...]
    skipped: tuple[Skipped, ...]


def _digest(text: str, length: int) -> str:
    # Base32 keeps to the SEPA identifier character set (A-Z, 2-7) and is denser than hex.
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:length]


def end_to_end_id(item_id: str, due_date: date) -> str:
    """Stable per item and due date, so a re-run of the same collection can never collect twice under new ids."""
    return END_TO_END_PREFIX + _digest(f"{item_id}|{due_date.isoformat()}", 24)


def message_id(bank_id: str, run_date: date, end_to_end_ids: Iterable[str]) -> str:
    # 3 + 8 + 14 = 25 characters, leaving room for '-<n>' payment-information ids within SEPA's 35.
    content = "|".join((bank_id, *sorted(end_to_end_ids)))
    return f"{END_TO_END_PREFIX}{run_date:%Y%m%d}{_digest(content, 14)}"


def collection_dates(run_date: date, lead_days: int) -> list[date]:
    return [run_date + timedelta(days=n) for n in range(lead_days + 1)]


def creditor_for(mandate: Mandate, creditors: Mapping[str, CreditorBank]) -> CreditorBank | None:
    if mandate.bank_id is not None:
        return creditors.get(mandate.bank_id)
    defaults = [c for c in creditors.values() if c.default]
    if defaults:
        return defaults[0]
    return next(iter(creditors.values())) if len(creditors) == 1 else None


def plan_collections(
    run_date: date,
    candidates: Sequence[CollectableItem],
    mandates: Mapping[str, Mandate],
    creditors: Mapping[str, CreditorBank],
) -> CollectionPlan:
    """Group the items falling due into one message per creditor bank (split past the per-message limit)."""
    skipped: list[Skipped] = []
    by_bank: dict[str, list[Collection]] = {}
    for item in sorted(candidates, key=lambda i: (i.due_date, i.item_id)):
        mandate = mandates.get(item.customer_id)
        if item.collection is not None:
            continue  # already collected (or being collected) under an earlier message
        if item.open_amount <= 0:
            skipped.append(Skipped(item_id=item.item_id, reason="nothing left to collect: the item is paid"))
            continue
        if mandate is None:
            skipped.append(Skipped(item_id=item.item_id, reason=f"customer {item.customer_id} has no mandate now"))
            continue
        creditor = creditor_for(mandate, creditors)
        if creditor is None:
            wanted = mandate.bank_id or "a default creditor bank"
            skipped.append(
                Skipped(
                    item_id=item.item_id,
                    reason=f"no direct-debit configuration for {wanted} (config/direct-debit/<bank_id>.json)",
                )
            )
            continue
        by_bank.setdefault(creditor.bank_id, []).append(
            Collection(
                end_to_end_id=end_to_end_id(item.item_id, item.due_date),
                item_id=item.item_id,
                account_id=item.account_id,
                customer_id=item.customer_id,
                amount=item.open_amount,
                currency=item.currency,
                collection_date=max(item.due_date, run_date),
                mandate_id=mandate.mandate_id,
                mandate_signed_on=mandate.signed_on,
                debtor_name=mandate.debtor_name,
                debtor_iban=mandate.iban,
                remittance=f"Invoice {item.item_id} account {item.account_id}",
            )
        )
    messages = []
    for bank_id in sorted(by_bank):
        collections = by_bank[bank_id]
        for start in range(0, len(collections), MAX_TRANSACTIONS_PER_MESSAGE):
            part = tuple(collections[start : start + MAX_TRANSACTIONS_PER_MESSAGE])
            messages.append(
                CollectionMessage(
                    message_id=message_id(bank_id, run_date, (c.end_to_end_id for c in part)),
                    bank_id=bank_id,
                    run_date=run_date,
                    collections=part,
                )
            )
    return CollectionPlan(messages=tuple(messages), skipped=tuple(skipped))


# -- status reports (pain.002) --------------------------------------------------------------------------------------
class CollectionStatus(StrEnum):
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PENDING = "pending"


# What the common ISO 20022 ExternalStatusReason1Code values mean, so a rejection explains itself to an operator.
REASON_TEXT = {
    "AC01": "incorrect account number",
    "AC04": "account closed",
    "AC06": "account blocked",
    "AC13": "debtor account is a consumer account",
    "AG01": "transaction forbidden on this account",
    "AG02": "invalid bank operation code",
    "AM04": "insufficient funds",
    "AM05": "duplicate collection",
    "BE05": "creditor not recognised by the debtor's bank",
    "CNOR": "creditor bank is not registered",
    "DNOR": "debtor bank is not registered",
    "FF01": "invalid file format",
    "MD01": "no valid mandate",
    "MD02": "mandate data missing or incorrect",
    "MD06": "refund requested by the debtor",
    "MD07": "debtor deceased",
    "MS02": "refused by the debtor",
    "MS03": "reason not specified",
    "RC01": "bank identifier incorrect",
    "RR01": "regulatory reason: debtor account or identification missing",
    "RR02": "regulatory reason: debtor name or address missing",
    "RR03": "regulatory reason: creditor name or address missing",
    "RR04": "regulatory reason",
    "SL01": "specific service offered by the debtor's bank",
}


class StatusUpdate(BaseModel):
    model_config = ConfigDict(frozen=True)
    end_to_end_id: str
    item_id: str
    account_id: str
    status: CollectionStatus
    reason_code: str | None = None
    reason: str  # in words, naming the level the bank answered at


_STATUS = {
    StatusCode.ACCEPTED: CollectionStatus.ACCEPTED,
    StatusCode.REJECTED: CollectionStatus.REJECTED,
    StatusCode.PENDING: CollectionStatus.PENDING,
}


def _explain(level: str, code: StatusCode, reasons: Sequence[object]) -> tuple[str | None, str]:
    first = reasons[0] if reasons else None
    reason_code = getattr(first, "code", None) or getattr(first, "proprietary", None)
    words = REASON_TEXT.get(reason_code or "", "")
    extra = getattr(first, "additional_info", None)
    detail = " — ".join(part for part in (reason_code, words, extra) if part)
    return reason_code, f"{code.value} by the bank at {level} level" + (f": {detail}" if detail else "")


def decided_statuses(
    report: PaymentStatusReport, batch_of: Mapping[str, str]
) -> dict[str, tuple[StatusCode, str | None, str]]:
    """Per end-to-end id of ``batch_of`` (our transactions, each with the PmtInfId it was sent under): the status the
    report gives it — its own, else its batch's, else the group's — with the reason code and the reason in words.
    A partially accepted group or batch says nothing about transactions it does not list. Shared by direct debits
    and payouts: pain.002 answers both the same way."""
    decided: dict[str, tuple[StatusCode, str | None, str]] = {}
    group = report.group_status
    if group in _STATUS:
        code, why = _explain("group", group, report.group_reasons)
        decided = dict.fromkeys(batch_of, (group, code, why))
    for batch in report.batches:
        if batch.status in _STATUS:
            code, why = _explain(f"batch {batch.original_payment_information_id}", batch.status, batch.reasons)
            for e2e, batch_id in batch_of.items():
                if batch_id == batch.original_payment_information_id:
                    decided[e2e] = (batch.status, code, why)
        for tx in batch.transactions:
            if tx.status_inherited:
                continue  # its batch's or group's status, already applied above with that level's words
            if tx.original_end_to_end_id in batch_of and tx.status in _STATUS:
                code, why = _explain("transaction", tx.status, tx.reasons)
                decided[tx.original_end_to_end_id] = (tx.status, code, why)
    return decided


def collection_status(code: StatusCode) -> CollectionStatus:
    return _STATUS[code]


def status_updates(report: PaymentStatusReport, message: CollectionMessage) -> list[StatusUpdate]:
    """Each collection of ``message`` with the status the report gives it (:func:`decided_statuses`)."""
    by_id = {c.end_to_end_id: c for c in message.collections}
    decided = decided_statuses(report, payment_information_ids(message))
    return [
        StatusUpdate(
            end_to_end_id=e2e,
            item_id=by_id[e2e].item_id,
            account_id=by_id[e2e].account_id,
            status=_STATUS[status],
            reason_code=code,
            reason=why,
        )
        for e2e, (status, code, why) in sorted(decided.items())
    ]


def instructions(message: CollectionMessage) -> list[DirectDebitInstruction]:
    # SEPA has allowed RCUR for a mandate's first collection since November 2016, so every collection is RCUR.
    return [
        DirectDebitInstruction(
            end_to_end_id=c.end_to_end_id,
            mandate_id=c.mandate_id,
            mandate_date=c.mandate_signed_on,
            debtor_name=c.debtor_name,
            debtor_iban=c.debtor_iban,
            amount=c.amount,
            currency=c.currency,
            remittance=c.remittance,
            sequence_type="RCUR",
            collection_date=c.collection_date,
        )
        for c in message.collections
    ]


def payment_information_ids(message: CollectionMessage) -> dict[str, str]:
    """End-to-end id → the PmtInfId its transaction was sent under (pain.002 may answer per PmtInf)."""
    return pain008_payment_information_ids(message.message_id, instructions(message))


class CreditorConfigError(ValueError):
    pass


def load_creditor(text: bytes | str, *, bank_id: str) -> CreditorBank:
    """A creditor bank's settings from JSON or YAML; the file's name must match its bank_id."""
    return load_settings(
        text, CreditorBank, where=f"config/direct-debit/{bank_id}", error=CreditorConfigError, bank_id=bank_id
    )
