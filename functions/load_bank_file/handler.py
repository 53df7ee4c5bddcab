"""S3 → SQS → here: a bank file under banks/<bank_id>/ becomes matched, allocated payments."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.adapters.s3_notifications import announced_objects
from receivables.observability import LoggedBatchProcessor, count, logger, metrics, tracer

# Built at cold start, so a missing or malformed setting fails the start, not the first record.
SERVICE = bootstrap.bank_file_service()
# A batch whose every record failed is still answered record by record, not with an exception.
processor = LoggedBatchProcessor(
    EventType.SQS, describe=lambda record: {"keys": [key for _bucket, key in announced_objects(record.body)]}
)


@tracer.capture_method
def load_notification(record: SQSRecord) -> None:
    for bucket, key in announced_objects(record.body):
        summary = SERVICE.load(bucket, key)
        logger.info("bank file", extra={"key": key, "summary": summary and summary.outcomes})
        if summary is not None:
            for outcome, entries in summary.outcomes.items():
                count(f"Payments{outcome.title().replace('_', '')}", entries)


@logger.inject_lambda_context(correlation_id_path="Records[0].messageId", clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=load_notification, processor=processor, context=context)
