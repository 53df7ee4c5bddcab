"""SQS (the daily run's fan-out) or EventBridge (a payment, a reversal, a hold, a promise…) → here: review the
accounts for dunning and carry out what is due, each step exactly once (receivables.dunning.service)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.observability import LoggedBatchProcessor, count, logger, metrics, tracer

REVIEW = bootstrap.dunning_review()
processor = LoggedBatchProcessor(
    EventType.SQS, describe=lambda record: {"account_ids": json.loads(record.body).get("account_ids")}
)


def _review(account_ids: list[str], business_date: str | None, run_at: str | None) -> None:
    summary = REVIEW.review(
        account_ids,
        today=date.fromisoformat(business_date) if business_date else None,
        run_at=datetime.fromisoformat(run_at) if run_at else None,
    )
    logger.info(
        "dunning review", extra={"reviewed": summary.reviewed, "fired": summary.fired, "actions": summary.actions}
    )
    count("AccountsReviewed", summary.reviewed)
    for channel, sent in summary.fired.items():
        count(f"Notices{channel.title().replace('_', '')}", sent)
    for action, requested in summary.actions.items():
        count(f"Actions{action.title().replace('_', '')}", requested)


@tracer.capture_method
def review_message(record: SQSRecord) -> None:
    body = json.loads(record.body)
    _review(body["account_ids"], body.get("business_date"), body.get("run_at"))


def accounts_of(detail: dict[str, Any]) -> list[str]:
    if detail.get("account_ids"):
        return list(detail["account_ids"])
    return [detail["account_id"]] if detail.get("account_id") else []  # a payment in suspense concerns no account


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return process_partial_response(
            event=event, record_handler=review_message, processor=processor, context=context
        )
    detail = event.get("detail", {})
    accounts = accounts_of(detail)
    # A review caused by a payment logs with the payment's id, as its loading and its publishing did.
    logger.set_correlation_id(detail.get("payment_id") or event.get("id"))
    if accounts:  # real time: today's business date, now
        _review(accounts, None, None)
    return {"reviewed": accounts}
