"""Counts DynamoDB write requests and the write units DynamoDB reports for them, through botocore's event hooks.

Every write call is made to return its consumed capacity per index, so the count includes what the GSIs cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
READS = ("GetItem", "BatchGetItem", "Query", "Scan")


@dataclass(frozen=True)
class Reading:
    requests: int
    units: float
    table_units: float
    index_units: float
    queries: int = 0
    read_requests: int = 0
    items_read: int = 0


class WriteMeter:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.units = 0.0
        self.table_units = 0.0
        self.index_units = 0.0
        self.queries = 0
        self.read_requests = 0
        self.items_read = 0

    def snapshot(self) -> Reading:
        return Reading(
            self.requests,
            self.units,
            self.table_units,
            self.index_units,
            self.queries,
            self.read_requests,
            self.items_read,
        )

    @classmethod
    def install(cls) -> WriteMeter:
        """Hook the default boto3 session, which the handlers' clients are created from."""
        meter = cls()
        events = boto3._get_default_session().events
        for operation in WRITES:
            events.register(f"provide-client-params.dynamodb.{operation}", meter._ask_for_capacity)
            events.register(f"after-call.dynamodb.{operation}", meter._count)
        events.register("after-call.dynamodb.Query", meter._count_query)
        for operation in READS:
            events.register(f"after-call.dynamodb.{operation}", meter._count_read)
        return meter

    def _count_query(self, **_: Any) -> None:
        self.queries += 1

    def _count_read(self, parsed: dict[str, Any], model: Any = None, **_: Any) -> None:
        """Read requests, and the records they returned (index entries of a Query count as records read)."""
        self.read_requests += 1
        if model is None:
            return
        if model.name == "GetItem":
            self.items_read += 1 if parsed.get("Item") else 0
        elif model.name == "BatchGetItem":
            self.items_read += sum(len(items) for items in parsed.get("Responses", {}).values())
        else:
            self.items_read += len(parsed.get("Items", []))

    def _ask_for_capacity(self, params: dict[str, Any], **_: Any) -> None:
        params.setdefault("ReturnConsumedCapacity", "INDEXES")
        if "TransactItems" in params:
            self._transaction_items = len(params["TransactItems"])

    def _count(self, parsed: dict[str, Any], model: Any = None, **_: Any) -> None:
        self.requests += 1
        if model is not None and model.name == "TransactWriteItems":
            # DynamoDB charges two units per transactional write of an item up to 1 KB; DynamoDB Local reports
            # one, so the AWS price is counted here (our transactional items are all under 1 KB).
            units = 2.0 * getattr(self, "_transaction_items", 0)
            self.units += units
            self.table_units += units
            return
        consumed = parsed.get("ConsumedCapacity") or []
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            self.units += entry.get("CapacityUnits", 0.0)
            self.table_units += entry.get("Table", {}).get("CapacityUnits", 0.0)
            self.index_units += sum(
                i.get("CapacityUnits", 0.0) for i in entry.get("GlobalSecondaryIndexes", {}).values()
            )

    # Failed conditional writes raise before after-call's parsed response is useful; they still cost a unit each.
