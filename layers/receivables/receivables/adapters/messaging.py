"""SQS and EventBridge publishers."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from receivables.insurance.intake import Retry, retry_attributes

SQS_BATCH = 10
EVENTS_BATCH = 10


class PublishError(RuntimeError):
    """The service refused some messages or events even after a retry."""


class SqsChunkQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send_chunks(self, messages: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(messages), SQS_BATCH):
            entries = [
                {"Id": str(n), "MessageBody": json.dumps(message, sort_keys=True)}
                for n, message in enumerate(messages[start : start + SQS_BATCH])
            ]
            for _attempt in range(3):
                failed = self._client.send_message_batch(QueueUrl=self._url, Entries=entries).get("Failed", [])
                if not failed:
                    break
                retry = {f["Id"] for f in failed}
                entries = [e for e in entries if e["Id"] in retry]
            else:
                raise PublishError(f"SQS refused {len(entries)} chunk messages: {failed}")


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str, source: str) -> None:
        self._client = client
        self._bus = bus_name
        self._source = source

    def _entry(self, detail_type: str, detail: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "EventBusName": self._bus,
            "Source": self._source,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, default=str, sort_keys=True),
        }

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        entry = self._entry(detail_type, detail)
        for _attempt in range(3):
            response = self._client.put_events(Entries=[entry])
            if not response.get("FailedEntryCount"):
                return
        raise PublishError(f"EventBridge refused {detail_type}: {response.get('Entries')}")


class BatchingEventBridgePublisher(EventBridgePublisher):
    """Holds events and sends them ten to a PutEvents call (EventBridge's maximum): a bank file of 5,000 payments
    makes 1,500 calls instead of 15,000. The holder flushes at the end of its unit of work (``flush_events``)."""

    def __init__(self, client: Any, bus_name: str, source: str) -> None:
        super().__init__(client, bus_name, source)
        self._held: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        with self._lock:
            self._held.append(self._entry(detail_type, detail))
            full = len(self._held) >= EVENTS_BATCH
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batch, self._held = self._held, []
        for start in range(0, len(batch), EVENTS_BATCH):
            entries = batch[start : start + EVENTS_BATCH]
            for _attempt in range(3):
                response = self._client.put_events(Entries=entries)
                if not response.get("FailedEntryCount"):
                    break
                entries = [e for e, r in zip(entries, response["Entries"], strict=True) if r.get("ErrorCode")]
            else:
                raise PublishError(f"EventBridge refused {len(entries)} events: {response.get('Entries')}")


class SqsRetryQueue:
    """Policy events waiting for their policy: back on the ``policy-events`` queue, delayed, with their attempt."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send_retry(self, retry: Retry) -> None:
        self._client.send_message(
            QueueUrl=self._url,
            MessageBody=retry.body,
            DelaySeconds=min(max(retry.delay_seconds, 0), 900),
            MessageAttributes=dict(retry_attributes(retry)),
        )
