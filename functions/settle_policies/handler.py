"""EventBridge → here: policies follow what happened elsewhere (receivables.insurance.follow_up). Money moved on an
account: commission on collection, reinstatement. Dunning sent a legal notice: recorded on the policies. A notice's
deadline passed unpaid: cancellation for non-payment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.domain.journal import Cause
from receivables.observability import count, logger, metrics, tracer

FOLLOW_UP = bootstrap.policy_follow_up()


def _items(detail: dict[str, Any]) -> dict[str, Decimal]:
    return {item_id: Decimal(amount) for item_id, amount in (detail.get("items") or {}).items()}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event.get("detail", {})
    kind = event.get("detail-type", "")
    account_id = detail.get("account_id")
    if not account_id:  # a payment in suspense concerns no account yet
        return {}
    if kind == "PolicyNoticeSent":
        noticed = FOLLOW_UP.notice_sent(
            account_id,
            on=date.fromisoformat(detail["date"]),
            deadline=date.fromisoformat(detail["deadline"]),
            items=_items(detail),
            letter=detail.get("letter"),
        )
        logger.info("notice recorded", extra={"account_id": account_id, "policies": noticed})
        return {"noticed": list(noticed)}
    if kind == "PolicyCancellationRequested":
        notice = detail.get("notice")
        if not notice:
            return {}
        cancelled = FOLLOW_UP.cancellation_due(
            account_id, deadline=date.fromisoformat(notice["deadline"]), items=_items(notice)
        )
        logger.info("cancellation for non-payment", extra={"account_id": account_id, "policies": cancelled})
        count("PoliciesCancelledForNonPayment", len(cancelled))
        return {"cancelled": list(cancelled)}
    what = detail.get("event_id") or detail.get("payment_id") or ""
    summary = FOLLOW_UP.money_moved(account_id, Cause(kind="event", source=f"{kind} {what}".strip()))
    logger.info(
        "policies follow the money",
        extra={"account_id": account_id, "commissions": summary.commissions, "reinstated": summary.reinstated},
    )
    count("CommissionsPayable", summary.commissions["payable"])
    count("PoliciesReinstated", len(summary.reinstated))
    return {"commissions": summary.commissions, "reinstated": list(summary.reinstated)}
