"""EventBridge Scheduler (hourly, 09:05–20:05) → here: send the SMS that waited for quiet hours to end."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.dunning.service import send_deferred
from receivables.observability import logger, tracer

# Built at cold start, so a missing or malformed setting fails the start, not the first schedule.
bootstrap.cold_start("send_deferred_sms")
settings = bootstrap.deferred_sms_settings()


def moment_of(event: dict[str, Any]) -> datetime:
    """Until when to send: a replayed day sends everything that came due that day; otherwise the scheduled time."""
    zone = ZoneInfo(settings.business_timezone)
    if event.get("business_date"):
        return datetime.combine(date.fromisoformat(event["business_date"]), time(23, 59), tzinfo=zone)
    scheduled = event.get("scheduled_time", "")
    if scheduled and not scheduled.startswith("<"):
        return datetime.fromisoformat(scheduled.replace("Z", "+00:00"))
    return datetime.now(zone)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    sent = send_deferred(bootstrap.dunning_table(), bootstrap.dunning_messenger(), moment_of(event))
    logger.info("deferred SMS sent", extra={"sent": sent})
    return {"sent": sent}
