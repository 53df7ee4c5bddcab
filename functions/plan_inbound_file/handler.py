"""S3 → SQS → here: recognise each dropped file and split it into chunks (or reject it whole)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.adapters.s3_notifications import announced_objects
from receivables.observability import LoggedBatchProcessor, count, logger, metrics, tracer

# Built at cold start, so a missing or malformed setting fails the start, not the first record.
SERVICE = bootstrap.planner_service()
# A batch whose every record failed is still answered record by record, not with an exception.
processor = LoggedBatchProcessor(
    EventType.SQS, describe=lambda record: {"keys": [key for _bucket, key in announced_objects(record.body)]}
)


@tracer.capture_method
def plan_notification(record: SQSRecord) -> None:
    for bucket, key in announced_objects(record.body):
        outcome = SERVICE.plan(bucket, key)
        if outcome.file_id:  # the id every chunk of the file logs with (load_file_chunk)
            logger.set_correlation_id(outcome.file_id)
        logger.info("planned inbound file", extra={"key": key, "status": outcome.status, "detail": outcome.detail})
        count(f"Files{outcome.status.capitalize()}", 1)


@logger.inject_lambda_context(correlation_id_path="Records[0].messageId", clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=plan_notification, processor=processor, context=context)
