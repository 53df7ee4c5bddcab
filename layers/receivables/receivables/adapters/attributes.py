"""Small helpers every DynamoDB adapter uses on low-level attribute maps."""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from receivables.adapters.dynamodb_batches import AttributeMap


def string(value: str) -> dict[str, str]:
    return {"S": value}


def text(record: AttributeMap, name: str) -> str | None:
    """A string attribute, or None when the record does not have it."""
    value = record.get(name)
    return value["S"] if value else None


def is_condition_failure(error: ClientError) -> bool:
    """A condition did not hold: on a single write, or on an item of a transaction."""
    return error.response.get("Error", {}).get("Code") in (
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
    )


_CONFLICT_ATTEMPTS = 5


def cancelled_only_by_conflicts(error: ClientError) -> bool:
    """DynamoDB cancelled a transaction only because another one touched the same items at that moment: transient,
    unlike a failed condition, and worth doing again."""
    if error.response.get("Error", {}).get("Code") == "TransactionConflictException":
        return True
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    codes = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
    return "TransactionConflict" in codes and set(codes) <= {"None", "TransactionConflict"}


def transact_write(client: Any, items: list[dict[str, Any]]) -> None:
    """``TransactWriteItems``, tried again (with a short backoff) while it is cancelled for conflicts alone."""
    for attempt in range(_CONFLICT_ATTEMPTS):
        try:
            client.transact_write_items(TransactItems=items)
            return
        except ClientError as error:
            if attempt == _CONFLICT_ATTEMPTS - 1 or not cancelled_only_by_conflicts(error):
                raise
            time.sleep(0.02 * 2**attempt)


def packed(models: Sequence[BaseModel]) -> bytes:
    """Many records in one binary attribute (a message's transfers or collections): compressed JSON, so thousands
    stay far below DynamoDB's 400 KB item limit."""
    return zlib.compress(json.dumps([m.model_dump(mode="json") for m in models], sort_keys=True).encode(), 6)


def unpacked[M: BaseModel](blob: bytes, model: type[M]) -> tuple[M, ...]:
    return tuple(model.model_validate(value) for value in json.loads(zlib.decompress(blob)))
