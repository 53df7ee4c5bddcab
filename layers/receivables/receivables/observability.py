"""One place for the Powertools logger, tracer and metrics every handler shares."""

import logging
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from receivables.privacy import mask_personal_data


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON log line with personal data masked: applied to the whole line, so a name in an exception's
    text or an ``extra`` field is caught as surely as one in the message."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_personal_data(super().format(record))


logger = Logger(logger_formatter=MaskingFormatter())
tracer = Tracer()
metrics = Metrics()
# An invocation that counted nothing (a run with no work, the local stack with metrics off) is normal here; Powertools
# would warn on every such flush, and the warning landed inside the local console's progress display.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def count(name: str, value: float = 1) -> None:
    """Add a count metric. With metrics disabled (the local stack), Powertools would still gather values and print
    them once a hundred have piled up; nothing is gathered then."""
    if not is_metrics_disabled():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


class LoggedBatchProcessor(BatchProcessor):
    """Powertools' BatchProcessor that logs every record that fails, at ERROR, with its exception, its message id
    (or stream sequence number) and what the handler says the record is about (object key, chunk, accounts…): a
    record on its way to a DLQ must leave a line that says why."""

    def __init__(
        self,
        event_type: EventType,
        *,
        describe: Callable[[Any], Mapping[str, Any]] = lambda _record: {},
        **kwargs: Any,
    ) -> None:
        super().__init__(event_type=event_type, raise_on_entire_batch_failure=False, **kwargs)
        self._describe = describe

    def failure_handler(self, record: Any, exception: Any) -> Any:
        try:
            fields = dict(self._describe(record))
        except Exception as describe_error:  # a record too broken to describe is still logged
            fields = {"describe_error": repr(describe_error)}
        identity = getattr(record, "message_id", None) or getattr(record, "messageId", None) or _sequence_number(record)
        logger.error(
            "batch record failed",
            exc_info=exception,
            extra={"record_id": identity, **fields, **getattr(exception[1], "business_ids", {})},
        )
        return super().failure_handler(record, exception)


def _sequence_number(record: Any) -> str | None:
    raw = getattr(record, "raw_event", None) or (record if isinstance(record, dict) else {})
    return raw.get("messageId") or raw.get("dynamodb", {}).get("SequenceNumber")
