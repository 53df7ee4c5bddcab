"""DynamoDB stream (records written with an ``outbox``) → here: put their events on the bus. A record whose
events cannot be published is reported failed; the stream retries from it, then describes it in the DLQ."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.adapters.outbox import outbox_events
from receivables.observability import LoggedBatchProcessor, count, logger, metrics, tracer

PUBLISHER = bootstrap.outbox_publisher()
processor = LoggedBatchProcessor(
    EventType.DynamoDBStreams,
    describe=lambda record: {
        key: record.raw_event.get("dynamodb", {}).get("NewImage", {}).get(key, {}).get("S") for key in ("pk", "sk")
    },
)


@tracer.capture_method
def publish_record(record: DynamoDBRecord) -> None:
    image = record.raw_event.get("dynamodb", {}).get("NewImage", {})
    events = outbox_events(image)
    # The events of a payment go out with the payment's id, the correlation id its loading and its review log.
    payment = next(
        (e.get("detail", {}).get("payment_id") for e in events if e.get("detail", {}).get("payment_id")), None
    )
    logger.set_correlation_id(payment or image.get("pk", {}).get("S"))
    try:
        published = PUBLISHER.publish(events)
    except Exception:
        logger.exception(
            "outbox record not published",
            extra={"pk": image.get("pk", {}).get("S"), "sk": image.get("sk", {}).get("S"), "events": len(events)},
        )
        raise
    count("EventsPublished", published)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=publish_record, processor=processor, context=context)
