"""S3 → SQS (a file under policy-events/) or the policy-events queue (one event per message, and the retries of
events waiting for their policy) → here: policy events into the sub-ledger (receivables.insurance)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.adapters.s3_notifications import announced_objects
from receivables.observability import LoggedBatchProcessor, count, logger, metrics, tracer

INTAKE = bootstrap.policy_event_intake()
SETTINGS = bootstrap.policy_event_settings()
processor = LoggedBatchProcessor(EventType.SQS, describe=lambda record: {"message_id": record.message_id})


def _notification(body: str) -> list[tuple[str, str]] | None:
    """The objects an S3 notification announces, or None when the message is a policy event itself."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if isinstance(value, dict) and (value.get("Event") == "s3:TestEvent" or "Records" in value):
        return announced_objects(body)
    return None


def _attribute(record: SQSRecord, name: str) -> str | None:
    attributes = record.message_attributes
    return attributes[name].string_value if name in attributes else None


@tracer.capture_method
def handle_record(record: SQSRecord) -> None:
    objects = _notification(record.body)
    if objects is not None:
        for bucket, key in objects:
            summary = INTAKE.load_file(bucket, key)
            logger.info("policy-event file", extra={"key": key, "outcomes": summary and summary.outcomes})
            for outcome, events in (summary.outcomes if summary else {}).items():
                count(f"PolicyEvents{outcome.title()}", events)
        return
    line = _attribute(record, "line")
    outcome = INTAKE.receive(
        SETTINGS.inbound_bucket,
        record.body,
        attempt=int(_attribute(record, "attempt") or 1),
        origin=_attribute(record, "origin"),
        line=int(line) if line else None,
    )
    logger.info("policy event", extra={"event_id": outcome.event_id, "status": outcome.status})
    count(f"PolicyEvents{outcome.status.title()}", 1)


@logger.inject_lambda_context(correlation_id_path="Records[0].messageId", clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
