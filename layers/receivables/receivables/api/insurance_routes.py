"""The insurance sub-ledger over REST: parties and their statements, policies, the levy table, commission plans."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from receivables import bootstrap
from receivables.api.caller import current_actor
from receivables.api.errors import INVALID, NOT_FOUND, InvalidInputError, UnknownIdError, answers
from receivables.api.params import Amount, IdParam
from receivables.domain.dates import IsoDate
from receivables.domain.ledger import Money
from receivables.insurance.agency_bill import resolve_exception
from receivables.insurance.config import (
    CommissionPlan,
    InsuranceConfigError,
    LevyTable,
    load_commission_plan,
    load_levies,
)
from receivables.insurance.payables import PayableFacts
from receivables.insurance.views import PartyStatement, PartyView, PayableView, PolicyView

router = Router()
PlanId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


@router.get(
    "/parties/<party_id>",
    summary="A party (or a customer) with its current accounts: receivable, payable and net per currency",
    responses=answers("The party", errors=NOT_FOUND),
)
def get_party(party_id: IdParam) -> PartyView:
    party = bootstrap.insurance_reader().party_document(party_id)
    if party is None:
        raise UnknownIdError(f"party {party_id} not found")
    return party


@router.get(
    "/parties/<party_id>/statement",
    summary="A party's statement: opening balance, every posting of the period, closing balance",
    responses=answers("The statement, one per current account", errors=NOT_FOUND),
)
def get_party_statement(
    party_id: IdParam,
    since: Annotated[IsoDate | None, Query(alias="from", description="First business date (inclusive)")] = None,
    until: Annotated[IsoDate | None, Query(alias="to", description="Last business date (inclusive)")] = None,
) -> PartyStatement:
    if since and until and until < since:
        raise InvalidInputError("invalid_period", f"to {until} is before from {since}", [])
    statement = bootstrap.insurance_reader().statement(party_id, since, until)
    if statement is None:
        raise UnknownIdError(f"party {party_id} not found")
    return statement


@router.get(
    "/policies/<policy_id>",
    summary="A policy: premiums and levies, each installment and whether it is paid, commission, notices",
    responses=answers("The policy", errors=NOT_FOUND),
)
def get_policy(policy_id: IdParam) -> PolicyView:
    policy = bootstrap.insurance_reader().policy_document(policy_id)
    if policy is None:
        raise UnknownIdError(f"policy {policy_id} not found")
    return policy


@router.get(
    "/customers/<customer_id>/policies",
    summary="A customer's policies",
    responses=answers("The policies", errors=NOT_FOUND),
)
def get_customer_policies(customer_id: IdParam) -> list[PolicyView]:
    reader = bootstrap.insurance_reader()
    if reader.customer_record(customer_id) is None:
        raise UnknownIdError(f"customer {customer_id} not found")
    found = (reader.policy_document(p) for p in reader.policies_of_customer(customer_id))
    return [p for p in found if p is not None]


@router.get("/insurance/levies", summary="The levy table in force", responses=answers("The levy table"))
def get_levies() -> dict[str, Any]:
    table, _shipped = bootstrap.insurance_rules().levies()
    return table.model_dump(mode="json")


def _invalid(code: str, message: str, error: InsuranceConfigError) -> InvalidInputError:
    return InvalidInputError(code, message, [{"location": [], "message": str(error)}])


@router.put(
    "/insurance/levies",
    summary="Replace the levy table: the next policy event is priced with it",
    responses=answers("The levy table as stored", errors=INVALID, acting=True),
)
def put_levies(table: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    try:
        parsed: LevyTable = load_levies(json.dumps(table))
    except InsuranceConfigError as error:
        raise _invalid("invalid_levies", "the levy table is not valid", error) from error
    bootstrap.insurance_rules().save_levies(parsed, changed_by=current_actor(router))
    return parsed.model_dump(mode="json")


@router.get(
    "/insurance/commission-plans/<plan_id>",
    summary="A commission plan",
    responses=answers("The plan", errors=NOT_FOUND),
)
def get_commission_plan(plan_id: PlanId) -> dict[str, Any]:
    plans = bootstrap.insurance_rules().commission_plans()
    if plan_id not in plans:
        raise UnknownIdError(f"commission plan {plan_id} not found")
    return plans[plan_id].model_dump(mode="json")


@router.put(
    "/insurance/commission-plans/<plan_id>",
    summary="Create or replace a commission plan: parties naming it earn by it from the next policy issued",
    responses=answers("The plan as stored", errors=INVALID, acting=True),
)
def put_commission_plan(plan_id: PlanId, plan: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    try:
        parsed: CommissionPlan = load_commission_plan(json.dumps(plan), f"commission plan {plan_id}")
    except InsuranceConfigError as error:
        raise _invalid("invalid_commission_plan", f"commission plan {plan_id} is not valid", error) from error
    bootstrap.insurance_rules().save_commission_plan(plan_id, parsed, changed_by=current_actor(router))
    return parsed.model_dump(mode="json")


class ExceptionView(BaseModel):
    exception_id: str
    party_id: str
    account_id: str
    statement_id: str | None
    amount: Money = Field(description="− a shortfall still owed, + money received over the statement's net due")
    currency: str
    reason: str
    raised_on: date
    status: Literal["open", "resolved"]
    resolution: str | None = None
    resolved_by: str | None = None


class Resolution(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: Literal["write_off", "accept"] = Field(
        description="write_off closes the difference; accept leaves a shortfall owed (and dunned) or money as credit"
    )
    note: str = Field(min_length=1, max_length=500)


@router.get(
    "/exceptions",
    summary="Agency remittances that differ from their statement beyond the tolerance, waiting for a person",
    responses=answers("The exceptions"),
)
def list_exceptions(
    status: Annotated[Literal["open", "resolved"], Query(description="open (default) or resolved")] = "open",
) -> list[ExceptionView]:
    return [ExceptionView.model_validate(e) for e in bootstrap.insurance_reader().exceptions(status)]


@router.post(
    "/exceptions/<exception_id>/resolve",
    summary="Resolve an exception: write the difference off, or accept it as it stands",
    responses=answers("The exception as resolved", errors=NOT_FOUND, acting=True),
)
def resolve(exception_id: IdParam, body: Resolution) -> ExceptionView:
    found = resolve_exception(
        bootstrap.insurance_exceptions(),
        bootstrap.insurance_reader(),
        exception_id,
        resolution=body.resolution,
        note=body.note,
        actor=current_actor(router),
    )
    if found is None:
        raise UnknownIdError(f"exception {exception_id} not found")
    return ExceptionView.model_validate(found)


PayableStatus = Literal["open", "approved", "scheduled", "sent", "paid", "rejected", "cancelled"]


def payable_view(payable: PayableFacts) -> PayableView:
    return PayableView(
        payable_id=payable.payable_id,
        party_id=payable.party_id,
        account_id=payable.account_id,
        kind=payable.kind,
        amount=payable.amount,
        open_amount=payable.open_amount,
        currency=payable.currency,
        status=payable.status,
        due_date=payable.due_date,
        end_to_end_id=payable.payable_id,
        policy_id=payable.policy_id,
        claim_id=payable.claim_id,
        created_by=payable.created_by,
        approved_by=payable.approved_by,
        offsets=dict(payable.offsets),
    )


@router.get(
    "/payables",
    summary="What the insurer owes: by status (from its index, due date order) and/or by party",
    responses=answers("The payables", errors=NOT_FOUND),
)
def list_payables(
    status: Annotated[PayableStatus | None, Query(description="Only payables in this status")] = None,
    party_id: Annotated[str | None, Query(pattern=r"^[^\s#]{1,128}$", description="Only this party's")] = None,
) -> list[PayableView]:
    reader = bootstrap.insurance_reader()
    if party_id is not None:
        found = reader.payables_of_party(party_id)
        if found is None:
            raise UnknownIdError(f"party {party_id} has no current account")
        return [payable_view(p) for p in found if status is None or p.status == status]
    statuses = [status] if status else list(PayableStatus.__args__)  # type: ignore[attr-defined]
    return [payable_view(p) for s in statuses for p in reader.payables_by_status(s)]


@router.get(
    "/payables/<payable_id>",
    summary="One payable: amount, what is still owed, status, who created and approved it",
    responses=answers("The payable", errors=NOT_FOUND),
)
def get_payable(payable_id: IdParam) -> PayableView:
    found = bootstrap.insurance_reader().payable_facts(payable_id)
    if found is None:
        raise UnknownIdError(f"payable {payable_id} not found")
    return payable_view(found)


@router.post(
    "/payables/<payable_id>/approve",
    summary="Approve a payable above its kind's threshold: by an identity other than the one that created or last "
    "changed it (four eyes)",
    responses=answers("The payable as approved", acting=True),
)
def approve_payable(payable_id: IdParam) -> PayableView:
    approved = bootstrap.insurance_payables().approve(
        payable_id, current_actor(router), f"POST /payables/{payable_id}/approve"
    )
    if approved is None:
        raise UnknownIdError(f"payable {payable_id} not found")
    return payable_view(approved)


class TransferView(BaseModel):
    end_to_end_id: str
    payable_id: str
    bank_id: str | None = Field(description="The paying bank (config/disbursement/<bank_id>)")
    message_id: str = Field(description="The pain.001 message it went out in")
    file: str | None = Field(description="The pain.001 file in the outbound bucket")
    amount: Money
    currency: str
    creditor_iban: str | None
    status: Literal["scheduled", "sent", "accepted", "paid", "rejected", "returned"]
    sent_on: IsoDate | None
    paid_on: IsoDate | None = Field(description="The day the bank booked the debit")
    returned_on: IsoDate | None
    reason: str | None = Field(description="Why the bank rejected or returned it, in words")


@router.get(
    "/transfers/<end_to_end_id>",
    summary="A payout transfer by its end-to-end id (the payable's id): where it went and what the bank answered",
    responses=answers("The latest transfer of that payable", errors=NOT_FOUND),
)
def get_transfer(end_to_end_id: IdParam) -> TransferView:
    found = bootstrap.payout_reader().transfer(end_to_end_id)
    if found is None:
        raise UnknownIdError(f"no transfer with end-to-end id {end_to_end_id} was sent")
    return TransferView.model_validate(found)


class GlCurrencyView(BaseModel):
    currency: str
    lines: int
    debit: Money
    credit: Money


class GlView(BaseModel):
    business_date: IsoDate
    lines: int = Field(description="Double-entry lines written")
    postings: int = Field(description="Journal postings they came from")
    balanced: bool = Field(description="Σ debit = Σ credit in every currency")
    currencies: list[GlCurrencyView]
    unmapped: list[str] = Field(
        description="Postings no rule of the chart of accounts mapped (on its unmapped account)"
    )
    late: int = Field(description="Postings of an earlier business date that arrived after its export")
    files: list[str] = Field(description="gl/<date>/journal.csv, journal.parquet, control.json in the outbound bucket")


@router.get(
    "/gl/<date>",
    summary="The general-ledger export of a business date: its control record (lines, Σ debit and credit per currency) "
    "and its files",
    responses=answers("The export's control record", errors=NOT_FOUND),
)
def get_gl_export(date: Annotated[IsoDate, Path(description="The business date (YYYY-MM-DD)")]) -> GlView:
    found = bootstrap.gl_records().control(date)
    if found is None:
        raise UnknownIdError(f"no general-ledger export for {date.isoformat()} yet")
    return GlView.model_validate(found)


class NettingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Amount | None = Field(default=None, description="At most this much (default: all both sides allow)")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="Only this current account")


class NettedLineView(BaseModel):
    item_id: str
    payable_id: str
    amount: Money


class NettedView(BaseModel):
    account_id: str
    currency: str
    amount: Money
    lines: list[NettedLineView]


class NettingView(BaseModel):
    party_id: str
    netted: list[NettedView] = Field(description="Per current account: what was set against what, oldest first")


@router.post(
    "/parties/<party_id>/netting",
    summary="Set a party's payables against its receivables (mahsup), oldest first on both sides, each side posted",
    responses=answers("What was netted", acting=True),
)
def net_party(party_id: IdParam, body: NettingRequest) -> NettingView:
    netted = bootstrap.insurance_payables().net(
        party_id,
        amount=body.amount,
        currency=body.currency,
        actor=current_actor(router),
        route=f"POST /parties/{party_id}/netting",
    )
    if netted is None:
        raise UnknownIdError(f"party {party_id} has no current account")
    merged: dict[str, list[Any]] = {}
    for part in netted:
        merged.setdefault(part.account_id, [part.currency, []])[1].extend(part.lines)
    return NettingView(
        party_id=party_id,
        netted=[
            NettedView(
                account_id=account_id,
                currency=currency,
                amount=sum((line.amount for line in lines), Decimal(0)),
                lines=[NettedLineView(item_id=n.item_id, payable_id=n.payable_id, amount=n.amount) for n in lines],
            )
            for account_id, (currency, lines) in merged.items()
        ],
    )
