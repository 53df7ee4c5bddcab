"""What Lambda's DynamoDB-stream event source mapping does, done locally: read the table's stream, keep the records
a StreamTrigger's filter lets through, invoke the function with a real DynamoDB stream event, retry a batch from
the record that failed, and describe in the trigger's DLQ what failed every retry.

DynamoDB Local (and moto, in the fast tests) implement the Streams API, so the events a committed change carries
travel locally exactly as they will in AWS: written with the change, published from the stream.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from receivables.topology import Function, StreamTrigger

from receivables_local.faults import InjectedCrash

log = logging.getLogger("receivables_local")


def passes_filter(trigger: StreamTrigger, record: dict[str, Any]) -> bool:
    """The trigger's filter, as the event source mapping's FilterCriteria states it (infra/triggers.py)."""
    image = record.get("dynamodb", {}).get("NewImage", {})
    return record.get("eventName") == "INSERT" and any(name in image for name in trigger.required_attributes)


@dataclass
class StreamReader:
    """Follows every shard of one stream from where it was last read."""

    streams: Any
    stream_arn: str
    _iterators: dict[str, str | None] = field(default_factory=dict)
    _last_sequence: dict[str, str] = field(default_factory=dict)
    _closed: set[str] = field(default_factory=set)

    def _refresh_shards(self) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self._iterators or shard_id in self._closed:
                continue
            self._iterators[shard_id] = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]

    def read(self, limit: int = 1000) -> list[dict[str, Any]]:
        """The records written since the last read, shard by shard in order."""
        self._refresh_shards()
        records: list[dict[str, Any]] = []
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            try:
                response = self.streams.get_records(ShardIterator=iterator, Limit=limit)
            except self.streams.exceptions.ExpiredIteratorException:
                response = self._resume(shard_id, limit)
            records.extend(response.get("Records", []))
            if response.get("Records"):
                self._last_sequence[shard_id] = response["Records"][-1]["dynamodb"]["SequenceNumber"]
            following = response.get("NextShardIterator")
            if following is None:
                self._closed.add(shard_id)
                del self._iterators[shard_id]
            else:
                self._iterators[shard_id] = following
        return records

    def _resume(self, shard_id: str, limit: int) -> dict[str, Any]:
        last = self._last_sequence.get(shard_id)
        kind = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
            if last
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id, **kind)
        return self.streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=limit)


def stream_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A record as Lambda hands it over (boto3 gives datetimes and bytes; Lambda's event is JSON)."""
    data = dict(record.get("dynamodb", {}))
    if "ApproximateCreationDateTime" in data and not isinstance(data["ApproximateCreationDateTime"], int | float):
        data["ApproximateCreationDateTime"] = data["ApproximateCreationDateTime"].timestamp()
    return {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": json.loads(json.dumps(data, default=str)),
        "eventSourceARN": stream_arn,
    }


@dataclass
class StreamPoller:
    """One StreamTrigger's event source mapping: filter, batch, invoke, retry from the failure, then DLQ."""

    function: Function
    trigger: StreamTrigger
    reader: StreamReader
    invoke: Callable[[dict[str, Any], int], Any]  # (event, attempt)
    send_to_dlq: Callable[[dict[str, Any]], None]
    region: str
    _backlog: list[dict[str, Any]] = field(default_factory=list)

    def poll_once(self) -> int:
        """Invoke the function with the next batch; the number of records handed over (0: nothing new)."""
        self._backlog.extend(r for r in self.reader.read() if passes_filter(self.trigger, r))
        if not self._backlog:
            return 0
        batch, self._backlog = self._backlog[: self.trigger.batch_size], self._backlog[self.trigger.batch_size :]
        handed = len(batch)
        attempts = 0
        while batch:
            event = {"Records": [stream_record(r, self.reader.stream_arn, self.region) for r in batch]}
            failed_at = self._first_failure(event, batch, attempts + 1)
            if failed_at is None:
                break
            attempts += 1
            batch = batch[failed_at:]  # Lambda resumes from the record that failed (checkpointing)
            if attempts > self.trigger.retry_attempts:
                self.send_to_dlq(
                    {
                        "function": self.function.name,
                        "stream": self.reader.stream_arn,
                        "first_sequence": batch[0]["dynamodb"]["SequenceNumber"],
                        "records": len(batch[:1]),
                    }
                )
                batch, attempts = batch[1:], 0
        return handed

    def _first_failure(self, event: dict[str, Any], batch: list[dict[str, Any]], attempt: int) -> int | None:
        try:
            response = self.invoke(event, attempt)
        except (Exception, InjectedCrash):
            log.exception("stream handler raised, batch retried", extra={"fields": {"function": self.function.name}})
            return 0
        failures = (response or {}).get("batchItemFailures") or [] if isinstance(response, dict) else []
        if not failures:
            return None
        sequences = [r["dynamodb"]["SequenceNumber"] for r in batch]
        positions = [sequences.index(f["itemIdentifier"]) for f in failures if f.get("itemIdentifier") in sequences]
        return min(positions) if positions else 0
