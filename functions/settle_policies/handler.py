"""EventBridge (money moved on an account) → here: commission on its installments made payable, or back to accrued
(receivables.insurance.commissions)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.domain.journal import Cause
from receivables.observability import count, logger, metrics, tracer

SETTLEMENT = bootstrap.commission_settlement()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event.get("detail", {})
    account_id = detail.get("account_id")
    if not account_id:  # a payment in suspense concerns no account yet
        return {"settled": {}}
    what = detail.get("event_id") or detail.get("payment_id") or ""
    cause = Cause(kind="event", source=f"{event.get('detail-type', 'event')} {what}".strip())
    settled = SETTLEMENT.settle(account_id, cause)
    logger.info("commission settlement", extra={"account_id": account_id, "settled": settled})
    count("CommissionsPayable", settled["payable"])
    count("CommissionsReversed", settled["accrued"])
    return {"settled": settled}
