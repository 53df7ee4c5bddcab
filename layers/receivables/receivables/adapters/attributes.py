"""Small helpers every DynamoDB adapter uses on low-level attribute maps."""

from __future__ import annotations

from botocore.exceptions import ClientError

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
