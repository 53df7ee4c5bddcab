"""EventBridge Scheduler (each business day, 06:00 Istanbul) → here: one pain.001 per paying bank for the approved
payables due. Safe to run twice for one date: a payable already claimed by a message is never taken again
(receivables.disbursement.service)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.adapters.clock import scheduled_business_date
from receivables.observability import count, logger, metrics, tracer

# Built at cold start, so a missing or malformed setting fails the start, not the first run.
bootstrap.cold_start("pay_out")
SERVICE = bootstrap.payout_service()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = bootstrap.payout_settings()
    run = SERVICE.pay(scheduled_business_date(event, settings.business_timezone, settings.business_date))
    result: dict[str, Any] = {"run_date": run.run_date.isoformat(), "files": run.files, "skipped": run.skipped}
    if run.problem:
        result["problem"] = run.problem
    count("PayoutTransfers", sum(int(str(f["transactions"])) for f in run.files))
    logger.info("payout run", extra=result)
    return result
