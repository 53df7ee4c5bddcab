"""SQS → here: validate and load one chunk of an inbound file; the last chunk finishes the file."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json
from receivables import bootstrap
from receivables.loading.service import ChunkMessage
from receivables.observability import LoggedBatchProcessor, count, logger, metrics, tracer


class ChunkRecord(SqsRecordModel):
    body: Json[ChunkMessage]  # type: ignore[assignment]


# Built at cold start, so a missing or malformed setting fails the start, not the first record.
SERVICE = bootstrap.chunk_loader_service()
# Records are parsed into ChunkRecord by the processor (a malformed body is that record's failure), and a batch
# whose every record failed is still answered record by record, not with an exception.
processor = LoggedBatchProcessor(EventType.SQS, model=ChunkRecord, describe=lambda record: _chunk_of(record))


def _chunk_of(record: object) -> dict[str, object]:
    body = getattr(record, "body", None)
    if isinstance(body, ChunkMessage):
        return {"key": body.key, "chunk": body.index, "file_id": body.file_id}
    return {"body": str(body)[:300]}


@tracer.capture_method
def load_chunk(record: ChunkRecord) -> None:
    message = record.body
    # Every line of one file's fan-out (its planning and each chunk) carries the file's id.
    logger.set_correlation_id(message.file_id)
    file = SERVICE.load_chunk(message)
    logger.info(
        "loaded chunk",
        extra={"key": message.key, "chunk": message.index, "of": message.chunk_count, "chunks_done": file.chunks_done},
    )
    count("ChunksLoaded", 1)


@logger.inject_lambda_context(correlation_id_path="Records[0].messageId", clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=load_chunk, processor=processor, context=context)
