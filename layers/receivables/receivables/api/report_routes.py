"""Operational reports of the read API, as JSON or CSV (``?format=csv``): the daily cash report, the dunning stage
distribution and the suspense and exceptions aging — each from records the events keep current, no scan."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from receivables import bootstrap
from receivables.api.errors import INVALID, NOT_FOUND, UnknownIdError, answers
from receivables.api.report_format import Format, report_response
from receivables.domain.dates import IsoDate
from receivables.reporting.aging import AgingLine as AgingReportLine
from receivables.reporting.aging import DsoLine, RollLine, aging, days_sales_outstanding, roll_rates
from receivables.reporting.operational import (
    AgingLine,
    CashLine,
    StageLine,
    cash_report,
    stage_distribution,
    waiting_aging,
)

router = Router()


@router.get(
    "/reports/cash",
    summary="The day's cash: received (and into suspense), allocated, returned, reopened, unapplied, per currency",
    responses=answers("One line per currency", errors=INVALID),
)
def get_cash(
    date: Annotated[IsoDate, Query(description="The business date")],
    format: Format = "json",
) -> Response[list[CashLine] | str]:
    lines = cash_report(date, bootstrap.report_sources().day_postings(date))
    return report_response(lines, format, f"cash-{date}")


@router.get(
    "/reports/aging",
    summary="Open amount and count by days past due and one dimension (segment, city, customer or account type…)",
    responses=answers("One line per value, currency and bucket", errors=NOT_FOUND),
)
def get_aging(
    date: Annotated[IsoDate | None, Query(description="As of (default: today, reflecting today's payments)")] = None,
    by: Annotated[
        Literal["segment", "city", "customer_type", "account_type", "branch"], Query(description="The dimension")
    ] = "segment",
    format: Format = "json",
) -> Response[list[AgingReportLine] | str]:
    as_of = date or bootstrap.read_api_today()
    try:
        rows = bootstrap.report_sources().open_items(as_of)
    except LookupError as exc:
        raise UnknownIdError(str(exc)) from exc
    lines = aging(rows, as_of, by)
    return report_response(lines, format, f"aging-{as_of}-{by}")


@router.get(
    "/reports/roll-rates",
    summary="Month over month: what each aging bucket held at the month's start and where it is at its end",
    responses=answers("One line per currency and move", errors=NOT_FOUND),
)
def get_roll_rates(
    month: Annotated[str, Query(pattern=r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])$", description="YYYY-MM")],
    format: Format = "json",
) -> Response[list[RollLine] | str]:
    first = dt.date.fromisoformat(f"{month}-01")
    start = first - dt.timedelta(days=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    end = min(following - dt.timedelta(days=1), bootstrap.read_api_today())
    sources = bootstrap.report_sources()
    try:
        lines = roll_rates(sources.open_items(start), start, sources.open_items(end), end)
    except LookupError as exc:
        raise UnknownIdError(str(exc)) from exc
    return report_response(lines, format, f"roll-rates-{month}")


@router.get(
    "/reports/dso",
    summary="Days sales outstanding: receivables at the day's end over what the period billed, times its days",
    responses=answers("One line per currency", errors=NOT_FOUND),
)
def get_dso(
    date: Annotated[IsoDate | None, Query(description="The day (default: today)")] = None,
    days: Annotated[int, Query(ge=1, le=365, description="The period's length")] = 90,
    format: Format = "json",
) -> Response[list[DsoLine] | str]:
    as_of = date or bootstrap.read_api_today()
    sources = bootstrap.report_sources()
    try:
        open_rows = sources.open_items(as_of)
    except LookupError as exc:
        raise UnknownIdError(str(exc)) from exc
    lines = days_sales_outstanding(open_rows, sources.billed(as_of - dt.timedelta(days=days - 1), as_of), days)
    return report_response(lines, format, f"dso-{as_of}")


@router.get(
    "/reports/stages",
    summary="Accounts in a dunning cycle now, by segment, strategy, arm and stage",
    responses=answers("One line per segment, strategy, arm and stage", errors=INVALID),
)
def get_stages(format: Format = "json") -> Response[list[StageLine] | str]:
    lines = stage_distribution(bootstrap.report_sources().cycles())
    return report_response(lines, format, "stages")


@router.get(
    "/reports/suspense-aging",
    summary="Payments in suspense and open insurance exceptions, by days waiting",
    responses=answers("One line per kind, currency and bucket", errors=INVALID),
)
def get_suspense_aging(
    date: Annotated[IsoDate | None, Query(description="As of (default: today)")] = None,
    format: Format = "json",
) -> Response[list[AgingLine] | str]:
    sources = bootstrap.report_sources()
    as_of = date or bootstrap.read_api_today()
    lines = waiting_aging(as_of, sources.waiting())
    return report_response(lines, format, f"suspense-aging-{as_of}")
