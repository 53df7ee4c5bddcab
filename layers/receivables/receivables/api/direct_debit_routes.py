"""Direct debit on request: run the collection for a date (the schedule does it every business day), and look up one
collection with the status its bank gave it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from receivables import bootstrap
from receivables.api.errors import INVALID, NOT_FOUND, REJECTED, ConflictError, UnknownIdError, answers
from receivables.api.params import BankId
from receivables.domain.dates import IsoDate
from receivables.domain.ledger import Money

router = Router()


class RunRequest(BaseModel):
    run_date: IsoDate | None = Field(default=None, description="Business date of the run (default: today)")
    bank_id: BankId | None = Field(default=None, description="Only this creditor bank")


class FileView(BaseModel):
    bank_id: str
    message_id: str
    file: str = Field(description="Key in the outbound bucket")
    transactions: int
    total: Money


class SkippedView(BaseModel):
    item_id: str
    reason: str


class RunView(BaseModel):
    run_date: date
    files: list[FileView]
    skipped: list[SkippedView]


class CollectionView(BaseModel):
    end_to_end_id: str
    message_id: str
    bank_id: str
    item_id: str
    account_id: str
    amount: Money
    currency: str
    collection_date: date
    mandate_id: str
    status: str
    reason: str | None = None


@router.post(
    "/direct-debits",
    summary="Run direct-debit collection for a date (pain.008 per bank)",
    responses=answers("The run: files written and items skipped", errors={409: REJECTED[409], **INVALID}),
)
def run_collection(request: RunRequest) -> RunView:
    run = bootstrap.direct_debit_service().collect(request.run_date, request.bank_id)
    if run.problem:
        raise ConflictError(run.problem)
    return RunView(
        run_date=run.run_date,
        files=[FileView.model_validate(f) for f in run.files],
        skipped=[SkippedView.model_validate(s) for s in run.skipped],
    )


@router.get(
    "/direct-debits/<end_to_end_id>",
    summary="One collection and its bank status",
    responses=answers("The collection", errors=NOT_FOUND),
)
def get_collection(
    end_to_end_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9]{1,35}$", description="End-to-end id we sent")],
) -> CollectionView:
    record = bootstrap.collection_table().collection(end_to_end_id.upper())
    if record is None:
        raise UnknownIdError(f"no direct debit with end-to-end id {end_to_end_id}")
    return CollectionView.model_validate(record.model_dump())
