"""Payment commands: the suspense list, manual allocation and unallocation, multi-tender counter receipts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from receivables import bootstrap
from receivables.api.errors import REJECTED, ConflictError
from receivables.api.params import IdParam
from receivables.domain.ledger import Money
from receivables.payments.manual import ReceiptConflictError, UnknownPaymentError

router = Router()

PositiveMoney = Annotated[Decimal, Field(gt=0, max_digits=17, decimal_places=2)]


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


def payment_view(record: dict[str, Any]) -> PaymentView:
    def text(name: str) -> str | None:
        return record[name]["S"] if name in record else None

    return PaymentView(
        payment_id=record["payment_id"]["S"],
        bank_id=text("bank_id"),
        bank_reference=text("bank_reference"),
        amount=Decimal(record["amount"]["N"]),
        currency=record["currency"]["S"],
        value_date=date.fromisoformat(record["value_date"]["S"]),
        account_id=text("account_id"),
        allocations=[
            AllocationView(
                item_id=a["M"]["item_id"]["S"],
                amount=Decimal(a["M"]["amount"]["N"]),
                reason=a["M"].get("reason", {}).get("S", ""),
            )
            for a in record.get("allocations", {}).get("L", [])
        ],
        unapplied_amount=Decimal(record["unapplied_amount"]["N"]),
        status=record["status"]["S"],
        match={"method": text("match_method"), "reason": text("match_reason")},
        reversal_reason=text("reversal_reason"),
    )


class ItemAmount(BaseModel):
    item_id: str = Field(min_length=1, max_length=128)
    amount: PositiveMoney


class AllocationRequest(BaseModel):
    account_id: str | None = Field(default=None, description="Required when the payment is in suspense")
    allocations: list[ItemAmount] = Field(min_length=1, max_length=90)
    note: str = Field(default="", max_length=500)


class Tender(BaseModel):
    type: Literal["cash", "card", "transfer", "cheque", "voucher", "other"]
    amount: PositiveMoney
    reference: str | None = Field(default=None, max_length=128)


class ReceiptRequest(BaseModel):
    receipt_id: str = Field(min_length=1, max_length=128, description="The till's receipt number: makes it once")
    account_id: str = Field(min_length=1, max_length=128)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    value_date: date
    tenders: list[Tender] = Field(min_length=1, max_length=20)


def _service():  # type: ignore[no-untyped-def]
    return bootstrap.manual_payments()


def _run(action):  # type: ignore[no-untyped-def]
    try:
        return payment_view(action())
    except UnknownPaymentError as exc:
        raise NotFoundError(str(exc)) from exc
    except ReceiptConflictError as exc:
        raise ConflictError(str(exc)) from exc


@router.get("/payments/<payment_id>", summary="A payment: where its money went and why", responses=REJECTED)
def get_payment(payment_id: IdParam) -> PaymentView:
    return _run(lambda: _service().payment(payment_id))


@router.get("/suspense", summary="Payments waiting for a person (unmatched, other currency, unknown reversals)")
def get_suspense(limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[PaymentView]:
    return [payment_view(r) for r in _service().suspense(limit)]


@router.post("/payments/<payment_id>/allocations", summary="Allocate a payment by hand", responses=REJECTED)
def allocate(payment_id: IdParam, request: AllocationRequest) -> PaymentView:
    pairs = [(a.item_id, a.amount) for a in request.allocations]
    return _run(
        lambda: _service().allocate(
            payment_id, pairs, account_id=request.account_id, note=request.note or "allocated by hand"
        )
    )


@router.delete(
    "/payments/<payment_id>/allocations/<item_id>", summary="Take back what a payment gave an item", responses=REJECTED
)
def unallocate(payment_id: IdParam, item_id: IdParam) -> PaymentView:
    return _run(lambda: _service().unallocate(payment_id, item_id, note="unallocated by hand"))


@router.post(
    "/receipts", summary="A counter receipt paid with several tenders, posted as one payment", responses=REJECTED
)
def post_receipt(request: ReceiptRequest) -> PaymentView:
    tenders = [(t.type, t.amount, t.reference) for t in request.tenders]
    return _run(
        lambda: _service().receipt(
            request.receipt_id,
            account_id=request.account_id,
            currency=request.currency,
            value_date=request.value_date,
            tenders=tenders,
        )
    )
