"""Bank profiles read from the config location in the inbound bucket: ``config/banks/<bank_id>.json`` (or ``.yaml``)
for the statement files banks send, ``config/collections/<bank_id>.json`` (or ``.yaml``) for the card and
bank-scheme collection files we send and their answers.

Adding or changing a file there onboards a bank with no deploy (docs/bank-profiles.md, docs/card-collections.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError
from pydantic import BaseModel

from receivables.banking.collection_files import CollectionProfile, load_collection_profile
from receivables.banking.profiles import BankProfile, load_profile

CONFIG_PREFIX = "config/banks/"
COLLECTIONS_PREFIX = "config/collections/"
SUFFIXES = (".json", ".yaml", ".yml")


class ProfileFiles[P: BaseModel]:
    """One bank's profile document under ``prefix``: read (validated, so a bad one fails loudly) and saved."""

    def __init__(self, client: Any, bucket: str, *, prefix: str, load: Callable[..., P]) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix
        self._load = load

    def profiles_for(self, bank_id: str) -> dict[str, P]:
        for suffix in SUFFIXES:
            try:
                body = self._client.get_object(Bucket=self._bucket, Key=f"{self._prefix}{bank_id}{suffix}")["Body"]
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    continue
                raise
            # A profile that does not validate raises ProfileError naming the field: the file fails loudly.
            return {bank_id: self._load(body.read(), bank_id=bank_id)}
        return {}

    def bank_ids(self) -> list[str]:
        """Every bank with a profile document here."""
        found = set()
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=self._prefix):
            for obj in page.get("Contents", []):
                name = obj["Key"].removeprefix(self._prefix)
                for suffix in SUFFIXES:
                    if name.endswith(suffix) and "/" not in name:
                        found.add(name.removesuffix(suffix))
        return sorted(found)

    def save(self, profile: P, *, changed_by: str) -> str:
        """Store a validated profile as ``<prefix><bank_id>.json``, replacing any earlier file of that bank (in
        whatever format): the bank's next file uses it. Who saved it is the object's ``changed-by`` metadata (the
        bucket's versions keep the earlier profiles and theirs)."""
        bank_id = getattr(profile, "bank_id")  # noqa: B009 (every profile model has one; P is bound to BaseModel)
        for suffix in SUFFIXES:
            self._client.delete_object(Bucket=self._bucket, Key=f"{self._prefix}{bank_id}{suffix}")
        key = f"{self._prefix}{bank_id}.json"
        body = profile.model_dump_json(indent=2, exclude_defaults=True).encode("utf-8")
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            Metadata={"changed-by": metadata_safe(changed_by)},
        )
        return key


class S3ProfileSource(ProfileFiles[BankProfile]):
    def __init__(self, client: Any, bucket: str) -> None:
        super().__init__(client, bucket, prefix=CONFIG_PREFIX, load=load_profile)


class S3CollectionProfiles(ProfileFiles[CollectionProfile]):
    def __init__(self, client: Any, bucket: str) -> None:
        super().__init__(client, bucket, prefix=COLLECTIONS_PREFIX, load=load_collection_profile)

    def all(self) -> dict[str, CollectionProfile]:
        found: dict[str, CollectionProfile] = {}
        for bank_id in self.bank_ids():
            found.update(self.profiles_for(bank_id))
        return found


def metadata_safe(value: str) -> str:
    """S3 user metadata travels as HTTP headers: ASCII only, so other characters are percent-encoded."""
    return quote(value, safe=" !#$&'()*+,-./:;=?@[]^_`{|}~")
