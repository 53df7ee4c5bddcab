"""EventBridge Scheduler → here, once per business day: select the accounts whose next action is due.

Idempotent per business date by the planner's own run log: a schedule that fires twice plans once, and a run that
died half-way is planned again whole by the retry (the reviews it queued twice carry out each step once). Not
Powertools Idempotency: its in-progress record outlives a crashed invocation by the function's timeout, so
Lambda's retries (one and three minutes later) would both be refused and the day's run lost.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.adapters.clock import scheduled_business_date
from receivables.observability import count, logger, metrics, tracer

settings = bootstrap.daily_run_settings()


def business_date_of(event: dict[str, Any]) -> date:
    """The date to plan: given by a replay, or the scheduled time in the business zone."""
    return scheduled_business_date(event, settings.business_timezone, settings.business_date)


def run_at_of(event: dict[str, Any]) -> str | None:
    scheduled = event.get("scheduled_time", "")
    return scheduled.replace("Z", "+00:00") if scheduled and not scheduled.startswith("<") else None


def plan(business_date: str, run_at: str | None = None) -> dict[str, Any]:
    summary = bootstrap.daily_run_planner().plan(
        date.fromisoformat(business_date), datetime.fromisoformat(run_at) if run_at else None
    )
    return {
        "business_date": business_date,
        "dates": [d.isoformat() for d in summary.dates],
        "accounts_due": summary.accounts_due,
    }


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = plan(business_date=business_date_of(event).isoformat(), run_at=run_at_of(event))
    logger.info("daily run planned", extra=result)
    # A heartbeat, always 0: the DailyRunNotCompleted alarm fires on a day without one (infra monitoring.py).
    count("DailyRunsMissed", 0)
    return result
