"""Inbound/outbound objects on S3, read as streams of blocks so memory never holds a whole file."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from receivables.loading.ports import ObjectNotFoundError, StoredObject

BLOCK_BYTES = 256 * 1024
_SPOOL_BYTES = 8 * 1024 * 1024


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound", "412", "PreconditionFailed")


class S3FileStore:
    def __init__(self, client: Any) -> None:
        self._client = client

    def describe(self, bucket: str, key: str) -> StoredObject:
        try:
            head = self._client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if _missing(error):
                raise ObjectNotFoundError(f"s3://{bucket}/{key}") from None
            raise
        return StoredObject(bucket, key, int(head["ContentLength"]), head["ETag"])

    def etag_of(self, bucket: str, key: str) -> str | None:
        try:
            return self.describe(bucket, key).etag
        except ObjectNotFoundError:
            return None

    def read(self, obj: StoredObject, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        stop = obj.size if end is None else end
        if stop <= start:
            return iter(())
        request: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key, "IfMatch": obj.etag}
        if start or stop < obj.size:
            request["Range"] = f"bytes={start}-{stop - 1}"
        try:
            body = self._client.get_object(**request)["Body"]
        except ClientError as error:
            if _missing(error):
                raise ObjectNotFoundError(f"s3://{obj.bucket}/{obj.key} (etag {obj.etag}) was replaced") from None
            raise
        return body.iter_chunks(BLOCK_BYTES)

    def move(self, obj: StoredObject, new_key: str) -> None:
        self._client.copy_object(Bucket=obj.bucket, Key=new_key, CopySource={"Bucket": obj.bucket, "Key": obj.key})
        self._client.delete_object(Bucket=obj.bucket, Key=obj.key)

    def write_text(self, bucket: str, key: str, text: str) -> None:
        self._client.put_object(
            Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="text/csv; charset=utf-8"
        )

    def write_bytes(self, bucket: str, key: str, body: bytes, content_type: str = "text/plain") -> None:
        """A file in its own encoding (a bank's request file in windows-1254, say), written as given."""
        self._client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    def write_lines(self, bucket: str, key: str, lines: Iterable[str]) -> None:
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
            for line in lines:
                spool.write(line.encode("utf-8"))
            spool.seek(0)
            self._client.upload_fileobj(spool, bucket, key, ExtraArgs={"ContentType": "text/csv; charset=utf-8"})

    def read_text(self, bucket: str, key: str) -> str:
        return self._client.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
