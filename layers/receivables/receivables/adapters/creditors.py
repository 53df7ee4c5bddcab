"""Our banks as configuration in the inbound bucket, one file per bank (``.json`` or ``.yaml``), no deploy:
``config/direct-debit/<bank_id>`` collects by direct debit, ``config/disbursement/<bank_id>`` pays out."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from receivables.direct_debit.model import CreditorBank, load_creditor
from receivables.disbursement.model import PayingBank, load_paying_bank

CONFIG_PREFIX = "config/direct-debit/"
DISBURSEMENT_PREFIX = "config/disbursement/"
SUFFIXES = (".json", ".yaml", ".yml")


def bank_documents(client: Any, bucket: str, prefix: str) -> Iterator[tuple[str, bytes]]:
    """(bank id, body) of each configuration file under ``prefix``; the bank id is the file's name."""
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            stem, suffix = posixpath.splitext(posixpath.basename(obj["Key"]))
            if suffix in SUFFIXES and stem:
                yield stem, client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()


class S3CreditorSource:
    def __init__(self, client: Any, bucket: str, *, fallback: CreditorBank | None = None) -> None:
        self._client = client
        self._bucket = bucket
        self._fallback = fallback

    def creditors(self) -> dict[str, CreditorBank]:
        # A configuration that does not validate fails the run loudly, naming the file and the field.
        found = {
            bank_id: load_creditor(body, bank_id=bank_id)
            for bank_id, body in bank_documents(self._client, self._bucket, CONFIG_PREFIX)
        }
        if not found and self._fallback is not None:
            return {self._fallback.bank_id: self._fallback}
        return found


class S3PayingBankSource:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def banks(self) -> dict[str, PayingBank]:
        return {
            bank_id: load_paying_bank(body, bank_id=bank_id)
            for bank_id, body in bank_documents(self._client, self._bucket, DISBURSEMENT_PREFIX)
        }
