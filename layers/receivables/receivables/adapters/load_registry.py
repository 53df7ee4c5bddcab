"""File and chunk records in the ledger table: what makes every redelivery and re-upload a no-op."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from receivables.adapters.attributes import transact_write
from receivables.adapters.keys import chunk_key, file_key
from receivables.domain.records import FileKind
from receivables.loading.ports import ChunkTally, FileRecord


def _record(item: dict[str, Any]) -> FileRecord:
    def n(name: str) -> int:
        return int(item[name]["N"]) if name in item else 0

    return FileRecord(
        file_id=item["file_id"]["S"],
        bucket=item["bucket"]["S"],
        key=item["key"]["S"],
        kind=FileKind(item["kind"]["S"]),
        status=item["status"]["S"],
        chunk_count=n("chunk_count"),
        chunks_done=n("chunks_done"),
        rows=n("rows"),
        loaded=n("loaded"),
        skipped=n("skipped"),
        rejected=n("rejected"),
        chunks_with_rejections=tuple(sorted(int(v) for v in item.get("rejected_chunks", {}).get("NS", []))),
    )


class LoadRegistryTable:
    def __init__(self, client: Any, table_name: str, *, clock: Any) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    def register_file(self, record: FileRecord) -> FileRecord | None:
        item = {
            **file_key(record.file_id),
            "entity": {"S": "file"},
            "file_id": {"S": record.file_id},
            "bucket": {"S": record.bucket},
            "key": {"S": record.key},
            "kind": {"S": record.kind.value},
            "status": {"S": record.status},
            "chunk_count": {"N": str(record.chunk_count)},
            "chunks_done": {"N": "0"},
            "rows": {"N": str(record.rows)},
            "received_at": {"S": self._clock.now().isoformat()},
        }
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
            return None
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        existing = self.get_file(record.file_id)
        assert existing is not None
        return existing

    def record_chunk(self, file_id: str, index: int, tally: ChunkTally) -> FileRecord | None:
        update = "ADD chunks_done :one, loaded :loaded, skipped :skipped, rejected :rejected"
        values: dict[str, Any] = {
            ":one": {"N": "1"},
            ":loaded": {"N": str(tally.loaded)},
            ":skipped": {"N": str(tally.skipped)},
            ":rejected": {"N": str(tally.rejected)},
        }
        if tally.rejected:
            update += ", rejected_chunks :chunk"
            values[":chunk"] = {"NS": [str(index)]}
        try:
            # The chunk marker and the file's tally move together or not at all, so a redelivered chunk can never
            # be counted twice and a crash can never leave a chunk counted but unmarked.
            transact_write(
                self._client,
                [
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                **chunk_key(file_id, index),
                                "entity": {"S": "chunk"},
                                "loaded": {"N": str(tally.loaded)},
                                "skipped": {"N": str(tally.skipped)},
                                "rejected": {"N": str(tally.rejected)},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": file_key(file_id),
                            "UpdateExpression": update,
                            "ExpressionAttributeValues": values,
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                ],
            )
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            if (
                error.response["Error"]["Code"] == "TransactionCanceledException"
                and reasons
                and reasons[0].get("Code") == "ConditionalCheckFailed"
            ):
                return None
            raise
        return self.get_file(file_id)

    def get_file(self, file_id: str) -> FileRecord | None:
        item = self._client.get_item(TableName=self._table, Key=file_key(file_id), ConsistentRead=True).get("Item")
        return _record(item) if item else None

    def claim_finish(self, file_id: str) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=file_key(file_id),
                UpdateExpression="SET #status = :finishing",
                ConditionExpression="#status = :planned",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":finishing": {"S": "finishing"}, ":planned": {"S": "planned"}},
            )
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def mark_file_loaded(self, file_id: str) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=file_key(file_id),
                UpdateExpression="SET #status = :loaded, loaded_at = :at",
                ConditionExpression="#status <> :loaded",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":loaded": {"S": "loaded"}, ":at": {"S": self._clock.now().isoformat()}},
            )
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
