"""Billing adjustments through the API: the same rules, records and journal as the ``adjustments/`` files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, Field

from receivables import bootstrap
from receivables.adjustments.model import Adjustment, AdjustmentStatus, validate_adjustment
from receivables.adjustments.service import (
    AdjustmentConflictError,
    Adjustments,
    AdjustmentStateError,
    FourEyesError,
    UnknownAdjustmentError,
    UnknownItemError,
)
from receivables.api.caller import NoCallerIdentityError, current_actor
from receivables.api.errors import ConflictError, InvalidInputError, UnknownIdError, answers
from receivables.api.params import AMOUNT, Identifier, IdParam
from receivables.domain.dates import IsoDate
from receivables.domain.journal import Cause
from receivables.domain.ledger import Money

router = Router()


class AdjustmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    adjustment_id: Identifier = Field(description="Billing's id: the same id sent again changes nothing")
    item_id: Identifier
    kind: Literal["credit_note", "debit_note", "write_off", "cancel", "due_date_change"]
    amount: Annotated[str, Field(pattern=AMOUNT)] | None = Field(
        default=None, description="credit_note, debit_note, write_off only (a string, like every amount)"
    )
    new_due_date: IsoDate | None = Field(default=None, description="due_date_change; a debit note's own due date")
    reason: str = Field(min_length=1, max_length=500)
    date: IsoDate | None = Field(default=None, description="When billing made it (default: the day it is applied)")


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=500)


class AdjustmentView(BaseModel):
    adjustment_id: str
    item_id: str
    account_id: str
    kind: str
    amount: Money | None
    new_due_date: date | None
    date: date | None
    reason: str
    status: Literal["applied", "pending_approval", "declined", "refused"]
    explanation: str = Field(description="What it did, or why it was refused")
    created_by: str
    created_at: str
    source: str
    decided_by: str | None = Field(description="Who approved or declined it (four eyes)")
    decided_at: str | None
    debit_note_item_id: str | None = Field(description="The new item a debit note billed")


def _view(adjustment: Adjustment) -> AdjustmentView:
    view = adjustment.view()
    amount = view.pop("amount")
    return AdjustmentView.model_validate({**view, "amount": Decimal(str(amount)) if amount is not None else None})


def _service() -> Adjustments:
    return bootstrap.adjustments()


def _answer(run: Callable[[], Adjustment]) -> AdjustmentView:
    try:
        adjustment = run()
    except (UnknownAdjustmentError, UnknownItemError) as exc:
        raise UnknownIdError(str(exc)) from exc
    except (AdjustmentConflictError, AdjustmentStateError) as exc:
        raise ConflictError(str(exc)) from exc
    except FourEyesError as exc:
        raise NoCallerIdentityError(str(exc)) from exc  # answered 403 like every refusal of who is acting
    if adjustment.status is AdjustmentStatus.REFUSED:
        raise InvalidInputError(
            "adjustment_refused",
            f"adjustment {adjustment.adjustment_id} refused: {adjustment.explanation}",
            [{"location": ["body", "kind"], "message": adjustment.explanation, "type": "adjustment_refused"}],
        )
    return _view(adjustment)


@router.post(
    "/adjustments",
    status_code=201,
    summary="A billing adjustment: credit note, debit note, write-off, cancel or due-date change of an item",
    responses=answers("The adjustment: applied, or waiting for a second person's approval", 201, acting=True),
)
def post_adjustment(body: AdjustmentBody) -> AdjustmentView:
    request = validate_adjustment(body.model_dump(mode="json"))
    if isinstance(request, list):
        raise InvalidInputError(
            "validation_error",
            "the adjustment is not valid",
            [{"location": ["body", p.split(":", 1)[0]], "message": p, "type": "value_error"} for p in request],
        )
    actor = current_actor(router)
    cause = Cause(kind="api", source="POST /adjustments", actor=actor)
    return _answer(lambda: _service().submit(request, cause=cause, actor=actor))


@router.get("/adjustments/<adjustment_id>", summary="An adjustment and what became of it", responses=answers("It"))
def get_adjustment(adjustment_id: IdParam) -> AdjustmentView:
    return _answer(lambda: _service().get(adjustment_id))


@router.post(
    "/adjustments/<adjustment_id>/approve",
    summary="Approve an adjustment above its threshold (four eyes: not the person who sent it)",
    responses=answers("The applied adjustment", acting=True),
)
def approve_adjustment(adjustment_id: IdParam, body: DecisionBody | None = None) -> AdjustmentView:
    actor = current_actor(router)
    cause = Cause(kind="api", source=f"POST /adjustments/{adjustment_id}/approve", actor=actor)
    return _answer(lambda: _service().approve(adjustment_id, actor=actor, cause=cause))


@router.post(
    "/adjustments/<adjustment_id>/decline",
    summary="Decline an adjustment waiting for approval: nothing moves",
    responses=answers("The declined adjustment", acting=True),
)
def decline_adjustment(adjustment_id: IdParam, body: DecisionBody | None = None) -> AdjustmentView:
    actor = current_actor(router)
    note = body.note if body else ""
    return _answer(lambda: _service().decline(adjustment_id, actor=actor, note=note))
