"""Dunning commands: holds, promises to pay, installment plans, collector work queues and the versioned configuration.

The use cases are ``receivables.dunning.commands``; these routes only parse, call and map. Errors keep the API's one
shape: unknown ids 404, a clash with the current state (an open promise, an active plan, a claimed task, a race with
a payment or another editor) 409, a broken rule 422 with the field at fault in ``details``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, Field

from receivables import bootstrap
from receivables.api.caller import NoCallerIdentityError, current_actor
from receivables.api.errors import INVALID, answers, error
from receivables.api.params import SOME_TEXT, Amount, Count, Identifier, IdParam, TaskIdParam
from receivables.api.report_format import Format, report_response
from receivables.api.roles import person_of
from receivables.domain.dates import IsoDate
from receivables.dunning.commands import (
    PROMISE_HORIZON_DAYS,
    DunningCommands,
    DunningConflictError,
    DunningRequestError,
    InvalidConfigError,
    PromiseTerms,
    StoredConfig,
    UnknownRecordError,
)
from receivables.dunning.config import DunningConfig, FieldDefinition
from receivables.dunning.history import MAX_CYCLES_SHOWN, AccountDunning
from receivables.dunning.performance import PerformanceReport, performance_report
from receivables.dunning.records import HoldRecord, PlanRecord, PromiseRecord, TaskOutcome, TaskRecord
from receivables.dunning.reports import StrategyReport, strategy_report
from receivables.reporting.collectors import CollectorLine

router = Router()

PROMISE_DATE = (
    f"Paid by this date, from today to {PROMISE_HORIZON_DAYS} days ahead; dunning pauses until then plus the grace days"
)

GroupParam = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="Collector group name")]


_QUERY = {"cycles": "query"}  # the fields the routes take from the query string; the rest come in the body


def _service() -> DunningCommands:
    return bootstrap.dunning_commands()


def _actor() -> str:
    """Who is acting: the caller's identity from the request context (receivables.api.caller), never the body."""
    return current_actor(router)


def _in_collector_group(group: str) -> None:
    """A person signed in as a collector only (no supervisor or admin group) works their own collector group's
    tasks, when the group names its collectors; systems, supervisors and admins see every group."""
    person = person_of(router.current_event.raw_event)
    if person is None or not person[1] or not person[1] <= {"collector"}:
        return
    config = _service().current_config().config
    members = {c.name for g in config.collector_groups if g.name == group for c in g.collectors}
    if members and person[0] not in members:
        raise NoCallerIdentityError(f"{person[0]} is not a collector of group {group}: its tasks are not theirs")


@router.exception_handler(UnknownRecordError)
def _unknown(exc: UnknownRecordError) -> Response:
    return error(404, "not_found", str(exc))


@router.exception_handler(DunningConflictError)
def _conflict(exc: DunningConflictError) -> Response:
    return error(409, "conflict", str(exc))


@router.exception_handler([DunningRequestError, InvalidConfigError])
def _refused(exc: DunningRequestError) -> Response:
    if isinstance(exc, InvalidConfigError):
        details = exc.problems
    else:
        location = [_QUERY.get(exc.field, "body"), exc.field] if exc.field else ["body"]
        details = [{"location": location, "message": str(exc), "type": "value_error"}]
    return error(422, "validation_error", str(exc), details)


# ---------------------------------------------------------------- holds


class HoldRequest(BaseModel):
    level: Literal["customer", "account", "subscription", "item"]
    id: Identifier = Field(description="The customer, account, subscription or item held")
    reason: str = Field(min_length=1, max_length=500, pattern=SOME_TEXT)
    until: IsoDate | None = Field(default=None, description="Last day held, today or later (default: until released)")
    account_id: Identifier | None = Field(
        default=None,
        description="Subscription holds only: the subscription's account (needed when it is not known from billing)",
    )


@router.post(
    "/holds",
    status_code=201,
    summary="Hold a customer, account, subscription or item",
    responses=answers("The hold", 201, acting=True),
)
def create_hold(request: HoldRequest) -> HoldRecord:
    return _service().create_hold(
        request.level,
        request.id,
        request.reason,
        until=request.until,
        account_id=request.account_id,
        created_by=_actor(),
    )


@router.get("/holds/<hold_id>", summary="A hold and its audit trail", responses=answers("The hold"))
def get_hold(hold_id: IdParam) -> HoldRecord:
    return _service().hold(hold_id)


@router.delete("/holds/<hold_id>", summary="Release a hold", responses=answers("The released hold", acting=True))
def release_hold(hold_id: IdParam) -> HoldRecord:
    return _service().release_hold(hold_id, by=_actor())


# ---------------------------------------------------------------- promises and plans


class PromiseRequest(BaseModel):
    amount: Amount
    date: IsoDate = Field(description=PROMISE_DATE)


# The configuration bounds plans (GET /dunning/config, `plans`): the fields' limits here are the widest any
# configuration may set, and the descriptions give the shipped default's.
class PlanRequest(BaseModel):
    installments: Count = Field(
        ge=1, le=120, description="At most the configuration's plans.max_installments (12 as shipped)"
    )
    first_due_date: IsoDate = Field(description="Today or later")
    interval_days: Count = Field(
        ge=1,
        le=366,
        description="From the configuration's plans.min_interval_days to plans.max_interval_days (7 to 92 as shipped)",
    )


@router.post(
    "/accounts/<account_id>/promises",
    status_code=201,
    summary="Record a promise to pay",
    responses=answers("The promise", 201, acting=True),
)
def create_promise(account_id: IdParam, request: PromiseRequest) -> PromiseRecord:
    return _service().create_promise(account_id, request.amount, request.date, created_by=_actor())


@router.get(
    "/promises/<promise_id>",
    summary="A promise to pay and its outcome",
    responses=answers("The promise"),
)
def get_promise(promise_id: IdParam) -> PromiseRecord:
    return _service().promise(promise_id)


@router.post(
    "/accounts/<account_id>/plans",
    status_code=201,
    summary="Restructure the overdue debt into installments",
    responses=answers("The plan", 201, acting=True),
)
def create_plan(account_id: IdParam, request: PlanRequest) -> PlanRecord:
    return _service().create_plan(
        account_id,
        request.installments,
        request.first_due_date,
        request.interval_days,
        created_by=_actor(),
    )


@router.get("/plans/<plan_id>", summary="An installment plan", responses=answers("The plan"))
def get_plan(plan_id: IdParam) -> PlanRecord:
    return _service().plan(plan_id)


# ---------------------------------------------------------------- collector tasks


class PromiseTermsBody(BaseModel):
    amount: Amount
    date: IsoDate = Field(description=PROMISE_DATE)


class OutcomeRequest(BaseModel):
    outcome: TaskOutcome
    note: str | None = Field(default=None, min_length=1, max_length=500, pattern=SOME_TEXT)
    promise: PromiseTermsBody | None = Field(default=None, description="Required with the promise outcome")
    items: list[Identifier] = Field(
        default_factory=list,
        max_length=50,
        description="dispute only: the items disputed, each held with reason dispute (none named: the account)",
    )


class OutcomeView(BaseModel):
    task: TaskRecord
    promise: PromiseRecord | None = None


@router.get(
    "/collectors/<group>/tasks",
    summary="A collector group's tasks, most urgent first",
    responses=answers("The tasks", errors=INVALID),
)
def list_tasks(
    group: GroupParam,
    status: Annotated[Literal["open", "claimed"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    assigned_to: Annotated[
        str | None, Query(max_length=128, pattern=r"^[^\s#]+$", description="Only the tasks given to this collector")
    ] = None,
) -> list[TaskRecord]:
    _in_collector_group(group)
    tasks = _service().tasks(group, status, limit)
    return [t for t in tasks if t.assigned_to == assigned_to] if assigned_to else tasks


class ReassignRequest(BaseModel):
    to: str = Field(min_length=1, max_length=128, pattern=r"^[^\s#]+$", description="A collector of the task's group")


@router.post(
    "/tasks/<task_id>/reassign",
    summary="Give a task to another collector of its group (supervisors)",
    responses=answers("The reassigned task", acting=True),
)
def reassign_task(task_id: TaskIdParam, request: ReassignRequest) -> TaskRecord:
    return _service().reassign_task(task_id, request.to, by=_actor())


@router.post("/tasks/<task_id>/claim", summary="Claim an open task", responses=answers("The claimed task", acting=True))
def claim_task(task_id: TaskIdParam) -> TaskRecord:
    """The caller claims the task: it is theirs until they record its outcome."""
    _in_collector_group(_service().task(task_id).group)
    return _service().claim_task(task_id, _actor())


@router.post(
    "/tasks/<task_id>/outcome",
    summary="Close a claimed task with the call's outcome",
    responses=answers("The closed task and the promise it recorded", acting=True),
)
def record_outcome(task_id: TaskIdParam, request: OutcomeRequest) -> OutcomeView:
    terms = PromiseTerms(request.promise.amount, request.promise.date) if request.promise else None
    _in_collector_group(_service().task(task_id).group)
    task, promise = _service().record_outcome(
        task_id, request.outcome, note=request.note, promise=terms, items=request.items, by=_actor()
    )
    return OutcomeView(task=task, promise=promise)


# ---------------------------------------------------------------- configuration


class ConfigView(BaseModel):
    version: int
    created_at: dt.datetime | None = Field(description="None for the shipped default (version 1)")
    created_by: str
    config: DunningConfig


class DictionaryView(BaseModel):
    config_version: int
    fields: list[FieldDefinition]


def _config_view(stored: StoredConfig) -> ConfigView:
    return ConfigView(
        version=stored.config.version, created_at=stored.created_at, created_by=stored.created_by, config=stored.config
    )


@router.get(
    "/dunning/config", summary="The dunning configuration in force", responses=answers("The configuration", errors={})
)
def get_config() -> ConfigView:
    return _config_view(_service().current_config())


@router.put(
    "/dunning/config",
    summary="Publish a new configuration version (takes effect on the next run)",
    responses=answers("The new version", acting=True),
)
def put_config(
    document: Annotated[
        dict[str, Any], Body(description="A whole dunning configuration (as `config` in GET); its version is ignored")
    ],
) -> ConfigView:
    return _config_view(_service().publish_config(document, by=_actor()))


@router.post(
    "/dunning/segments/<segment>/promote-challenger",
    summary="Make a segment's challenger its champion (a new configuration version)",
    responses=answers("The new version", acting=True),
)
def promote_challenger(segment: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]) -> ConfigView:
    return _config_view(_service().promote_challenger(segment, by=_actor()))


@router.get(
    "/dunning/config/versions/<version>",
    summary="One configuration version",
    responses=answers("The version"),
)
def get_config_version(version: Annotated[int, Path(ge=1)]) -> ConfigView:
    return _config_view(_service().config_version(version))


@router.get(
    "/dunning/dictionary",
    summary="The facts rules may use: names, types, descriptions",
    responses=answers("The dictionary", errors={}),
)
def get_dictionary() -> DictionaryView:
    version, fields = _service().dictionary()
    return DictionaryView(config_version=version, fields=list(fields))


# ---------------------------------------------------------------- what dunning did for an account, and why


@router.get(
    "/accounts/<account_id>/dunning",
    summary="An account's dunning state, latest cycles and steps taken, each with the explanation of its decision",
    responses=answers("The account's dunning"),
)
def get_account_dunning(
    account_id: IdParam,
    cycles: Annotated[int, Query(ge=1, le=MAX_CYCLES_SHOWN, description="How many of the latest cycles")] = 3,
) -> AccountDunning:
    found = bootstrap.dunning_table().account_dunning(account_id, cycles)
    if found is None:
        raise UnknownRecordError(f"account {account_id} not found")
    return found


@router.get(
    "/reports/collection-performance",
    summary="Collection performance per segment, strategy and arm, each challenger tested against its champion",
    responses=answers("The arms and the tests (format=csv: the arms, one row each)", errors=INVALID),
)
def collection_performance(
    since: Annotated[IsoDate, Query(description="Cycles started on or after this date")],
    format: Format = "json",
) -> Response[PerformanceReport | str]:
    config = bootstrap.dunning_table().current_config()
    rows = bootstrap.cycle_reader().cycles([s.id for s in config.strategies], since)
    report = performance_report(rows)
    return report_response(report, format, f"collection-performance-{since}", rows=report.arms)


@router.get(
    "/reports/collectors",
    summary="Per group and collector: tasks in hand and closed, outcomes, promises made and kept, collected after",
    responses=answers("One line per group and collector", errors=INVALID),
)
def collectors_report(
    since: Annotated[IsoDate, Query(description="Tasks closed on or after this date (open ones: all)")],
    format: Format = "json",
) -> Response[list[CollectorLine] | str]:
    lines = _service().collectors_report(since)
    return report_response(lines, format, f"collectors-{since}")


@router.get(
    "/reports/dunning",
    summary="Champion–challenger: cycles, collection rate, days to pay, cost, promises",
    responses=answers("One report per strategy", errors=INVALID),
)
def dunning_report(
    since: Annotated[IsoDate, Query(description="Cycles started on or after this date")],
) -> list[StrategyReport]:
    config = bootstrap.dunning_table().current_config()
    rows = bootstrap.cycle_reader().cycles([s.id for s in config.strategies], since)
    return strategy_report(rows)
