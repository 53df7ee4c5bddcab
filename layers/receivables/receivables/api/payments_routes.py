"""Payment commands: the suspense list, manual allocation and unallocation, multi-tender counter receipts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, Field

from receivables import bootstrap
from receivables.adapters.payments_table import AllocationPolicyTable
from receivables.api.caller import current_actor
from receivables.api.errors import (
    INVALID,
    NOT_FOUND,
    REJECTED,
    ConflictError,
    InvalidInputError,
    UnknownIdError,
    answers,
)
from receivables.api.journal_views import PostingView, posting_views
from receivables.api.params import Amount, Identifier, IdParam
from receivables.banking.profiles import ProfileError, load_profile
from receivables.domain.dates import IsoDate
from receivables.domain.journal import JournalEntry
from receivables.domain.ledger import Money
from receivables.payments.allocation import FIFO, AllocationPolicy
from receivables.payments.manual import ManualPayments, ReceiptConflictError
from receivables.payments.ports import ConcurrentUpdateError, PaymentRecord

router = Router()


class AllocationView(BaseModel):
    item_id: str
    amount: Money
    reason: str


class PaymentView(BaseModel):
    payment_id: str
    bank_id: str | None
    bank_reference: str | None
    amount: Money
    currency: str
    value_date: date
    account_id: str | None
    allocations: list[AllocationView]
    unapplied_amount: Money
    status: Literal["applied", "unapplied", "reversed"]
    match: dict[str, str | None]
    reversal_reason: str | None = None
    notes: list[str] = Field(default_factory=list, description="What was assumed in reading the bank's entry")
    outgoing: bool = Field(default=False, description="Money going out (a return): never allocatable")
    in_progress: str | None = Field(default=None, description="An operation not finished yet (large ones take steps)")
    postings: list[PostingView] = Field(
        default_factory=list, description="Every journal posting on this payment's money, oldest first"
    )


def payment_view(record: PaymentRecord, entries: list[JournalEntry] | None = None) -> PaymentView:
    return PaymentView(
        payment_id=record.payment_id,
        bank_id=record.bank_id,
        bank_reference=record.bank_reference,
        amount=record.amount,
        currency=record.currency,
        value_date=record.value_date,
        account_id=record.account_id,
        allocations=[AllocationView(item_id=a.item_id, amount=a.amount, reason=a.reason) for a in record.allocations],
        unapplied_amount=record.unapplied,
        status=record.status,
        match={"method": record.match_method, "reason": record.match_reason},
        reversal_reason=record.reversal_reason,
        notes=list(record.notes),
        outgoing=record.outgoing,
        in_progress=record.pending.kind if record.pending else None,
        postings=posting_views(entries or [], payment_id=record.payment_id),
    )


class ItemAmount(BaseModel):
    item_id: Identifier
    amount: Amount


class AllocationRequest(BaseModel):
    account_id: Identifier | None = Field(default=None, description="Required when the payment is in suspense")
    # Any number of lines: a large request is applied in bounded steps (docs/payments.md).
    allocations: list[ItemAmount] = Field(min_length=1, max_length=5000)
    note: str = Field(default="", max_length=500)


class Tender(BaseModel):
    type: Literal["cash", "card", "transfer", "cheque", "voucher", "other"]
    amount: Amount
    reference: str | None = Field(default=None, max_length=128)


class ReceiptRequest(BaseModel):
    receipt_id: str = Field(min_length=1, max_length=128, description="The till's receipt number: makes it once")
    account_id: Identifier
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    value_date: IsoDate
    tenders: list[Tender] = Field(min_length=1, max_length=20)


def _service() -> ManualPayments:
    return bootstrap.manual_payments()


def _run(action: Callable[[], PaymentRecord]) -> PaymentView:
    # Unknown payments and accounts are answered 404 by the handlers of receivables.api.errors.
    try:
        record = action()
        return payment_view(record, _service().postings(record))
    except ReceiptConflictError as exc:
        raise ConflictError(str(exc)) from exc


@router.get(
    "/payments/<payment_id>",
    summary="A payment: where its money went and why",
    responses=answers("The payment", errors=NOT_FOUND),
)
def get_payment(payment_id: IdParam) -> PaymentView:
    return _run(lambda: _service().payment(payment_id))


@router.get(
    "/suspense",
    summary="Payments waiting for a person (unmatched, other currency, unknown reversals)",
    responses=answers("The payments in suspense", errors=INVALID),
)
def get_suspense(limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[PaymentView]:
    return [payment_view(r) for r in _service().suspense(limit)]


@router.post(
    "/payments/<payment_id>/allocations",
    summary="Allocate a payment by hand",
    responses=answers("The payment", acting=True),
)
def allocate(payment_id: IdParam, request: AllocationRequest) -> PaymentView:
    pairs = [(a.item_id, a.amount) for a in request.allocations]
    actor = current_actor(router)
    return _run(
        lambda: _service().allocate(
            payment_id, pairs, account_id=request.account_id, note=request.note or "allocated by hand", actor=actor
        )
    )


@router.delete(
    "/payments/<payment_id>/allocations/<item_id>",
    summary="Take back what a payment gave an item",
    responses=answers("The payment", acting=True),
)
def unallocate(payment_id: IdParam, item_id: IdParam) -> PaymentView:
    actor = current_actor(router)
    return _run(lambda: _service().unallocate(payment_id, item_id, note="unallocated by hand", actor=actor))


@router.post(
    "/receipts",
    summary="A counter receipt paid with several tenders, posted as one payment",
    responses=answers("The payment", acting=True),
)
def post_receipt(request: ReceiptRequest) -> PaymentView:
    tenders = [(t.type, t.amount, t.reference) for t in request.tenders]
    actor = current_actor(router)
    return _run(
        lambda: _service().receipt(
            request.receipt_id,
            account_id=request.account_id,
            currency=request.currency,
            value_date=request.value_date,
            tenders=tenders,
            actor=actor,
        )
    )


class PolicyView(BaseModel):
    version: int
    changed_by: str | None = Field(default=None, description="Who set the latest version (None: never changed)")
    default: AllocationPolicy = Field(description="For account types without a policy of their own")
    policies: dict[str, AllocationPolicy]


def _policies() -> AllocationPolicyTable:
    return bootstrap.allocation_policies(bootstrap.manual_payments_settings().table_name)


@router.get(
    "/allocation-policies",
    summary="The allocation order of each account type",
    responses=answers("The policies", errors={}),
)
def get_allocation_policies() -> PolicyView:
    policies, version, changed_by = _policies().policies_with_author()
    return PolicyView(version=version, changed_by=changed_by, default=FIFO, policies=policies)


@router.put(
    "/allocation-policies/<account_type>",
    summary="Set an account type's allocation order (eligibility filters, then sort keys)",
    responses=answers("The policies", errors={409: REJECTED[409], **INVALID}, acting=True),
)
def put_allocation_policy(
    account_type: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")], policy: AllocationPolicy
) -> PolicyView:
    try:
        _policies().put(account_type, policy, changed_by=current_actor(router))
    except ConcurrentUpdateError as exc:
        raise ConflictError(str(exc)) from exc
    return get_allocation_policies()


@router.get("/bank-profiles/<bank_id>", summary="A bank's CSV/fixed-width profile", responses=answers("The profile"))
def get_bank_profile(bank_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]) -> dict[str, Any]:
    try:
        found = bootstrap.bank_profile_store().profiles_for(bank_id)
    except ProfileError as exc:
        raise ConflictError(f"the stored profile of {bank_id} does not validate: {exc}") from exc
    if bank_id not in found:
        raise UnknownIdError(f"no bank profile for {bank_id}")
    return found[bank_id].model_dump(mode="json", exclude_defaults=True)


@router.put(
    "/bank-profiles/<bank_id>",
    summary="Onboard or change a bank: its profile is validated, then used for the bank's next file",
    responses=answers("The profile as stored", errors=INVALID, acting=True),
)
def put_bank_profile(
    bank_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")], profile: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    try:
        parsed = load_profile(json.dumps(profile), bank_id=bank_id)
    except ProfileError as exc:
        raise InvalidInputError(
            "invalid_profile",
            f"the profile for {bank_id} is not valid",
            [{"location": [field] if field else [], "message": reason} for field, reason in exc.problems],
        ) from exc
    bootstrap.bank_profile_store().save(parsed, changed_by=current_actor(router))
    return parsed.model_dump(mode="json", exclude_defaults=True)
