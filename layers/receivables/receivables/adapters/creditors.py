"""Creditor banks for direct debit, read from the config location in the inbound bucket:
``config/direct-debit/<bank_id>.json`` (or ``.yaml``). Adding a file there starts collecting through that bank."""

from __future__ import annotations

import posixpath
from typing import Any

from receivables.direct_debit.model import CreditorBank, load_creditor

CONFIG_PREFIX = "config/direct-debit/"
SUFFIXES = (".json", ".yaml", ".yml")


class S3CreditorSource:
    def __init__(self, client: Any, bucket: str, *, fallback: CreditorBank | None = None) -> None:
        self._client = client
        self._bucket = bucket
        self._fallback = fallback

    def creditors(self) -> dict[str, CreditorBank]:
        found: dict[str, CreditorBank] = {}
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=CONFIG_PREFIX):
            for obj in page.get("Contents", []):
                stem, suffix = posixpath.splitext(posixpath.basename(obj["Key"]))
                if suffix not in SUFFIXES or not stem:
                    continue
                body = self._client.get_object(Bucket=self._bucket, Key=obj["Key"])["Body"].read()
                # A configuration that does not validate fails the run loudly, naming the file and the field.
                found[stem] = load_creditor(body, bank_id=stem)
        if not found and self._fallback is not None:
            return {self._fallback.bank_id: self._fallback}
        return found
