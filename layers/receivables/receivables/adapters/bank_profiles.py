"""Bank profiles read from the config location in the inbound bucket: ``config/banks/<bank_id>.json`` (or ``.yaml``).

Adding or changing a file there onboards a bank with no deploy (docs/bank-profiles.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from receivables.banking.profiles import BankProfile, load_profile

CONFIG_PREFIX = "config/banks/"
SUFFIXES = (".json", ".yaml", ".yml")


class S3ProfileSource:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def profiles_for(self, bank_id: str) -> dict[str, BankProfile]:
        for suffix in SUFFIXES:
            try:
                body = self._client.get_object(Bucket=self._bucket, Key=f"{CONFIG_PREFIX}{bank_id}{suffix}")["Body"]
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    continue
                raise
            # A profile that does not validate raises ProfileError naming the field: the file fails loudly.
            return {bank_id: load_profile(body.read(), bank_id=bank_id)}
        return {}

    def save(self, profile: BankProfile, *, changed_by: str) -> str:
        """Store a validated profile as ``config/banks/<bank_id>.json``, replacing any earlier file of that bank
        (in whatever format): the next file from that bank is read with it. Who saved it is the object's
        ``changed-by`` metadata (the bucket's versions keep the earlier profiles and theirs)."""
        for suffix in SUFFIXES:
            self._client.delete_object(Bucket=self._bucket, Key=f"{CONFIG_PREFIX}{profile.bank_id}{suffix}")
        key = f"{CONFIG_PREFIX}{profile.bank_id}.json"
        body = profile.model_dump_json(indent=2, exclude_defaults=True).encode("utf-8")
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            Metadata={"changed-by": metadata_safe(changed_by)},
        )
        return key


def metadata_safe(value: str) -> str:
    """S3 user metadata travels as HTTP headers: ASCII only, so other characters are percent-encoded."""
    return quote(value, safe=" !#$&'()*+,-./:;=?@[]^_`{|}~")
