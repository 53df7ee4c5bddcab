"""The outbox relay: events written with the change they follow (a journal entry's ``outbox``, a contact record's)
are published from the table's stream, so an event goes out exactly when its change was committed.

DynamoDB Streams delivers at least once; every event carries an ``event_id`` (its record's id and position) by
which a consumer can tell a repeat. The consumers of this system are idempotent anyway (a dunning review, a step
carried out once per account, cycle and step).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from receivables.adapters.messaging import EVENTS_BATCH, PublishError

OUTBOX_ATTRIBUTE = "outbox"
DEFAULT_SOURCE = "receivables.payments"


def outbox_events(new_image: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The events a stream record's new image carries (DynamoDB attribute format), in the order written."""
    raw = new_image.get(OUTBOX_ATTRIBUTE, {}).get("S")
    return json.loads(raw) if raw else []


class OutboxPublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def entries(self, events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "EventBusName": self._bus,
                "Source": event.get("source", DEFAULT_SOURCE),
                "DetailType": event["detail_type"],
                "Detail": json.dumps(event["detail"], default=str, sort_keys=True),
            }
            for event in events
        ]

    def publish(self, events: Sequence[Mapping[str, Any]]) -> int:
        """Put the events on the bus, ten to a call; PublishError when some are refused after a retry."""
        entries = self.entries(events)
        for start in range(0, len(entries), EVENTS_BATCH):
            batch = entries[start : start + EVENTS_BATCH]
            for _attempt in range(3):
                response = self._client.put_events(Entries=batch)
                if not response.get("FailedEntryCount"):
                    break
                batch = [e for e, r in zip(batch, response["Entries"], strict=True) if r.get("ErrorCode")]
            else:
                raise PublishError(f"EventBridge refused {len(batch)} events: {response.get('Entries')}")
        return len(entries)
