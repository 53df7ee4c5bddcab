"""Everything recorded about one account, for its timeline and its customer's summary: one query of the account's
partition (account, cycles, contacts), its items and adjustments through ``by_account``, its journal partition, and
the holds, tasks and plans those name — a few reads per account, however large the table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from receivables.adapters.adjustments_table import AdjustmentsTable
from receivables.adapters.attributes import string as _s
from receivables.adapters.attributes import text as _text
from receivables.adapters.dunning_table import _cycle_record, _holds
from receivables.adapters.dynamodb_batches import batch_get, paginated
from receivables.adapters.journal_table import JournalReader
from receivables.adapters.keys import (
    account_partition,
    customer_holds_key,
    customer_key,
    customer_partition,
    item_key,
    task_key,
)
from receivables.adapters.ledger_table import account_item_entries, item_view
from receivables.dunning.records import ContactRecord, PlanRecord, PromiseRecord, TaskRecord, task_id_of
from receivables.story.timeline import AccountHead, AccountRecords


class AccountStoryTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name
        self._journal = JournalReader(client, table_name)
        self._adjustments = AdjustmentsTable(client, table_name)

    def account_records(self, account_id: str) -> tuple[AccountHead, AccountRecords] | None:
        partition = list(
            paginated(
                self._client.query,
                {
                    "TableName": self._table,
                    "KeyConditionExpression": "pk = :p",
                    "ExpressionAttributeValues": {":p": _s(account_partition(account_id))},
                    "ConsistentRead": True,
                },
            )
        )
        account = next((r for r in partition if r["sk"]["S"] == "ACCOUNT"), None)
        if account is None:
            return None
        contacts = [
            ContactRecord.model_validate_json(r["doc"]["S"]) for r in partition if r["sk"]["S"].startswith("CONTACT#")
        ]
        cycles = [_cycle_record(r) for r in partition if r["sk"]["S"].startswith("CYCLE#")]
        item_keys = [
            item_key(r["pk"]["S"].removeprefix("ITEM#"))
            for r in account_item_entries(self._client, self._table, account_id)
        ]
        item_records = list(batch_get(self._client, self._table, item_keys)) if item_keys else []
        # A call task's id is in its contact's detail; a dispute's review task is named after it.
        called = [c.detail for c in contacts if c.channel == "call_task" and c.detail]
        task_ids = [*called, *(task_id_of(f"{t}#dispute") for t in called)]
        tasks = [
            TaskRecord.model_validate_json(r["doc"]["S"])
            for r in (batch_get(self._client, self._table, [task_key(t) for t in task_ids]) if task_ids else [])
        ]
        promises = [PromiseRecord.model_validate_json(v["S"]) for v in account.get("promise_history", {}).get("L", [])]
        if current := _text(account, "promise"):
            promises.append(PromiseRecord.model_validate_json(current))
        plans = [PlanRecord.model_validate_json(p)] if (p := _text(account, "plan")) else []
        holds = _holds(account)
        customer_holds = self._client.get_item(
            TableName=self._table, Key=customer_holds_key(account["customer_id"]["S"]), ConsistentRead=True
        ).get("Item")
        if customer_holds:
            holds += _holds(customer_holds)
        records = AccountRecords(
            account_id=account_id,
            items=sorted((item_view(r) for r in item_records), key=lambda i: (i.due_date, i.item_id)),
            item_recorded={r["item_id"]["S"]: v for r in item_records if (v := _text(r, "recorded_at"))},
            entries=list(self._journal.all(account_id)),
            adjustments=self._adjustments.of_account(account_id),
            contacts=contacts,
            cycles=cycles,
            tasks=tasks,
            promises=promises,
            holds=holds,
            plans=plans,
        )
        head = AccountHead(
            account_id=account_id,
            customer_id=account["customer_id"]["S"],
            account_type=_text(account, "account_type") or "standard",
            currency=account["currency"]["S"],
            unapplied_credit=Decimal(account.get("unapplied_credit", {}).get("N", "0")),
            dunning_state=_text(account, "dunning_state"),
        )
        return head, records

    def customer_name(self, customer_id: str) -> str | None:
        record = self._client.get_item(
            TableName=self._table,
            Key=customer_key(customer_id),
            ConsistentRead=True,
            ProjectionExpression="#n",
            ExpressionAttributeNames={"#n": "name"},
        ).get("Item")
        return record["name"]["S"] if record else None

    def customer_accounts(self, customer_id: str) -> list[str]:
        found = paginated(
            self._client.query,
            {
                "TableName": self._table,
                "IndexName": "by_account",
                "KeyConditionExpression": "gsi1pk = :p AND begins_with(gsi1sk, :a)",
                "ExpressionAttributeValues": {":p": _s(customer_partition(customer_id)), ":a": _s("ACCT#")},
            },
        )
        return sorted(r["gsi1sk"]["S"].removeprefix("ACCT#") for r in found)
