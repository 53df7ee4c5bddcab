"""EventBridge Scheduler (each business day) or API Gateway (``POST /direct-debits``) → here: write a pain.008
collection file per creditor bank for the items falling due. Safe to run twice for one date: an item already
collected is never taken again (receivables.direct_debit.service)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.api.app import handle_direct_debits
from receivables.observability import logger, tracer

# Built at cold start, so a missing or malformed setting fails the start, not the first run or request.
bootstrap.cold_start("direct_debits")
SERVICE = bootstrap.direct_debit_service()


def run_date_of(event: dict[str, Any], zone: str) -> date | None:
    if event.get("business_date"):
        return date.fromisoformat(event["business_date"])
    scheduled = event.get("scheduled_time", "")
    if scheduled and not scheduled.startswith("<"):
        return datetime.fromisoformat(scheduled.replace("Z", "+00:00")).astimezone(ZoneInfo(zone)).date()
    return None  # the service's clock: today in the business zone


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "httpMethod" in event:
        return handle_direct_debits(event, context)
    run = SERVICE.collect(run_date_of(event, bootstrap.direct_debit_settings().business_timezone))
    result = {"run_date": run.run_date.isoformat(), "files": run.files, "skipped": len(run.skipped)}
    if run.problem:
        result["problem"] = run.problem
    logger.info("direct-debit run", extra=result)
    return result
