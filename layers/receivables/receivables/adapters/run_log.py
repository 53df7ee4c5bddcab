"""The daily run's own record: which business date it last planned."""

from __future__ import annotations

from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from receivables.adapters.attributes import is_condition_failure
from receivables.adapters.keys import DAILY_RUN_KEY as _KEY


class RunLogTable:
    def __init__(self, client: Any, table_name: str, *, clock: Any) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    def last_planned(self) -> date | None:
        item = self._client.get_item(TableName=self._table, Key=_KEY, ConsistentRead=True).get("Item")
        return date.fromisoformat(item["last_planned"]["S"]) if item else None

    def record_planned(self, business_date: date, accounts: int) -> None:
        """Record the run; a run of the same or a later date recorded meanwhile (a concurrent duplicate) stands."""
        try:
            self._record(business_date, accounts)
        except ClientError as error:
            if not is_condition_failure(error):
                raise

    def _record(self, business_date: date, accounts: int) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=_KEY,
            UpdateExpression="SET entity = :e, last_planned = :d, last_accounts = :n, planned_at = :at",
            ConditionExpression="attribute_not_exists(last_planned) OR last_planned < :d",
            ExpressionAttributeValues={
                ":e": {"S": "run"},
                ":d": {"S": business_date.isoformat()},
                ":n": {"N": str(accounts)},
                ":at": {"S": self._clock.now().isoformat()},
            },
        )
