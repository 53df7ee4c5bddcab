"""Payment commands: the suspense list, manual allocation and unallocation, multi-tender counter receipts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, Field, model_validator

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
from receivables.banking.collection_files import load_collection_profile
from receivables.banking.profiles import ProfileError, load_profile
from receivables.domain.dates import IsoDate
from receivables.domain.journal import JournalEntry
from receivables.domain.ledger import Money
from receivables.insurance.service import current_account_id
from receivables.payments.allocation import FIFO, AllocationPolicy
from receivables.payments.manual import (
    RETURNABLE_TENDERS,
    ManualPayments,
    ReceiptConflictError,
    UnknownAccountError,
)
from receivables.payments.ports import ConcurrentUpdateError, PaymentRecord, Tender, tender_part

router = Router()


class AllocationView(BaseModel):
    item_id: str
    amount: Money
    reason: str


class TenderView(BaseModel):
    number: int = Field(description="Its place on the receipt, from 1: how a return names it")
    type: str
    amount: Money
    reference: str | None = None
    maturity_date: date | None = None
    drawer: str | None = None
    status: Literal["counted", "returned"] = Field(description="Counted when booked; returned when it bounced")
    returned_on: date | None = None
    return_reason: str | None = None


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
    tenders: list[TenderView] = Field(default_factory=list, description="How a counter receipt was paid")
    returned_amount: Money = Field(default=Decimal(0), description="What of it left the account (a bounced cheque)")


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
        tenders=_tender_views(record),
        returned_amount=sum((r.amount for r in record.returned), Decimal(0)),
    )


def _tender_views(record: PaymentRecord) -> list[TenderView]:
    returned = {r.part: r for r in record.returned}
    views = []
    for number, tender in enumerate(record.tenders, start=1):
        back = returned.get(tender_part(number))
        views.append(
            TenderView(
                number=number,
                type=tender.type,
                amount=tender.amount,
                reference=tender.reference,
                maturity_date=tender.maturity_date,
                drawer=tender.drawer,
                status="returned" if back else "counted",
                returned_on=back.on if back else None,
                return_reason=back.reason if back else None,
            )
        )
    return views


class ItemAmount(BaseModel):
    item_id: Identifier
    amount: Amount


class AllocationRequest(BaseModel):
    account_id: Identifier | None = Field(default=None, description="Required when the payment is in suspense")
    # Any number of lines: a large request is applied in bounded steps (docs/payments.md).
    allocations: list[ItemAmount] = Field(min_length=1, max_length=5000)
    note: str = Field(default="", max_length=500)


class TenderRequest(BaseModel):
    type: Literal["cash", "card", "transfer", "cheque", "promissory_note", "voucher", "other"]
    amount: Amount
    reference: str | None = Field(
        default=None, max_length=128, description="Card slip, or the cheque's or promissory note's serial number"
    )
    maturity_date: IsoDate | None = Field(
        default=None, description="A cheque's or promissory note's due date (required for a promissory note)"
    )
    drawer: str | None = Field(default=None, max_length=200, description="Who signed it, when not the payer")

    @model_validator(mode="after")
    def _instrument_dates(self) -> TenderRequest:
        if self.type == "promissory_note" and self.maturity_date is None:
            raise ValueError("a promissory note needs its maturity_date")
        if self.maturity_date is not None and self.type not in RETURNABLE_TENDERS:
            raise ValueError(f"a {self.type} tender has no maturity_date (only cheques and promissory notes do)")
        return self


class ReceiptRequest(BaseModel):
    receipt_id: str = Field(min_length=1, max_length=128, description="The till's receipt number: makes it once")
    account_id: Identifier | None = Field(default=None, description="The paying account (or name a party_id)")
    party_id: Identifier | None = Field(
        default=None, description="A party paying at the counter (an agency): its current account in the currency"
    )
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    value_date: IsoDate
    tenders: list[TenderRequest] = Field(min_length=1, max_length=20)
    items: list[Identifier] = Field(
        default_factory=list, max_length=100, description="Items the receipt names: paid first, in this order"
    )

    @model_validator(mode="after")
    def _one_payer(self) -> ReceiptRequest:
        if (self.account_id is None) == (self.party_id is None):
            raise ValueError("name exactly one of account_id and party_id")
        return self

    @property
    def paying_account(self) -> str:
        if self.account_id is not None:
            return self.account_id
        assert self.party_id is not None
        return current_account_id(self.party_id, self.currency)


class TenderReturnRequest(BaseModel):
    reason: str = Field(
        min_length=1, max_length=500, description="Why it came back: the bank's answer, e.g. 'karşılıksız'"
    )


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
    summary="A counter receipt paid with several tenders, posted as one payment (by an account or a party)",
    responses=answers("The payment", acting=True),
)
def post_receipt(request: ReceiptRequest) -> PaymentView:
    tenders = [Tender(t.type, t.amount, t.reference, t.maturity_date, t.drawer) for t in request.tenders]
    actor = current_actor(router)
    account_id = request.paying_account
    try:
        return _run(
            lambda: _service().receipt(
                request.receipt_id,
                account_id=account_id,
                currency=request.currency,
                value_date=request.value_date,
                tenders=tenders,
                actor=actor,
                first=request.items,
            )
        )
    except UnknownAccountError as exc:
        if request.party_id is None:
            raise
        raise UnknownIdError(f"party {request.party_id} has no current account in {request.currency}") from exc


@router.post(
    "/receipts/<receipt_id>/tenders/<tender>/return",
    summary="A receipt's cheque bounced or its promissory note went unpaid: its money leaves the account",
    responses=answers("The payment", acting=True),
)
def return_tender(receipt_id: IdParam, tender: IdParam, request: TenderReturnRequest) -> PaymentView:
    actor = current_actor(router)
    return _run(lambda: _service().return_tender(receipt_id, tender, reason=request.reason, actor=actor))


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
        raise _invalid_profile(exc, f"the profile for {bank_id} is not valid") from exc
    bootstrap.bank_profile_store().save(parsed, changed_by=current_actor(router))
    return parsed.model_dump(mode="json", exclude_defaults=True)


@router.get(
    "/collection-profiles/<bank_id>",
    summary="A bank's card-installment or bank-scheme collection profile: request and response layouts, retries",
    responses=answers("The profile"),
)
def get_collection_profile(bank_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]) -> dict[str, Any]:
    try:
        found = bootstrap.collection_profile_store().profiles_for(bank_id)
    except ProfileError as exc:
        raise ConflictError(f"the stored collection profile of {bank_id} does not validate: {exc}") from exc
    if bank_id not in found:
        raise UnknownIdError(f"no collection profile for {bank_id}")
    return found[bank_id].model_dump(mode="json", exclude_defaults=True)


@router.put(
    "/collection-profiles/<bank_id>",
    summary="Onboard or change a bank's collections: the profile is validated, then used by the next run and answer",
    responses=answers("The profile as stored", errors=INVALID, acting=True),
)
def put_collection_profile(
    bank_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")], profile: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    try:
        parsed = load_collection_profile(json.dumps(profile), bank_id=bank_id)
    except ProfileError as exc:
        raise _invalid_profile(exc, f"the collection profile for {bank_id} is not valid") from exc
    bootstrap.collection_profile_store().save(parsed, changed_by=current_actor(router))
    return parsed.model_dump(mode="json", exclude_defaults=True)


def _invalid_profile(exc: ProfileError, message: str) -> InvalidInputError:
    """A 422 naming each field of the profile that is wrong."""
    return InvalidInputError(
        "invalid_profile",
        message,
        [{"location": [field] if field else [], "message": reason} for field, reason in exc.problems],
    )
