"""Batch reads and writes within DynamoDB's real limits (100 keys per BatchGetItem, 25 items per BatchWriteItem),
retrying what the service hands back as unprocessed with exponential backoff."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

MAX_GET = 100
MAX_WRITE = 25
_MAX_ATTEMPTS = 8

AttributeMap = dict[str, dict[str, Any]]


class UnprocessedItemsError(RuntimeError):
    """DynamoDB kept returning unprocessed keys or items after every retry (sustained throttling)."""


def _pages[T](values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _backoff(attempt: int) -> None:
    time.sleep(min(0.05 * 2**attempt, 2.0))


def batch_get(
    client: Any,
    table: str,
    keys: Iterable[AttributeMap],
    *,
    projection: str | None = None,
    names: dict[str, str] | None = None,
    consistent: bool = True,
) -> list[AttributeMap]:
    unique = list({(k["pk"]["S"], k["sk"]["S"]): k for k in keys}.values())
    found: list[AttributeMap] = []
    for page in _pages(unique, MAX_GET):
        request: dict[str, Any] = {"Keys": list(page), "ConsistentRead": consistent}
        if projection:
            request["ProjectionExpression"] = projection
        if names:
            request["ExpressionAttributeNames"] = names
        pending: dict[str, Any] = {table: request}
        for attempt in range(_MAX_ATTEMPTS):
            response = client.batch_get_item(RequestItems=pending)
            found.extend(response.get("Responses", {}).get(table, []))
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
            _backoff(attempt)
        else:
            raise UnprocessedItemsError(f"BatchGetItem on {table} left keys unprocessed after {_MAX_ATTEMPTS} tries")
    return found


def paginated(operation: Any, request: dict[str, Any]) -> Iterator[AttributeMap]:
    """Every item of a Query or Scan, following LastEvaluatedKey page by page."""
    request = dict(request)
    while True:
        response = operation(**request)
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def batch_put(client: Any, table: str, items: Sequence[AttributeMap]) -> None:
    for page in _pages(items, MAX_WRITE):
        pending: list[dict[str, Any]] = [{"PutRequest": {"Item": item}} for item in page]
        for attempt in range(_MAX_ATTEMPTS):
            response = client.batch_write_item(RequestItems={table: pending})
            pending = (response.get("UnprocessedItems") or {}).get(table, [])
            if not pending:
                break
            _backoff(attempt)
        else:
            raise UnprocessedItemsError(f"BatchWriteItem on {table} left items unprocessed after {_MAX_ATTEMPTS} tries")
