"""The insurance rules read from the config location in the inbound bucket, falling back to the shipped defaults:
``config/insurance/levies.json``, ``config/insurance/cancellation.json`` and
``config/insurance/commission-plans/<plan_id>.json``. Changing a file changes the next event's pricing; no deploy."""

from __future__ import annotations

import posixpath
import time
from typing import Any

from botocore.exceptions import ClientError

from receivables.adapters.bank_profiles import metadata_safe
from receivables.insurance.config import (
    AgencyBillRules,
    CommissionPlan,
    InsuranceRules,
    LevyTable,
    default_cancellation,
    default_commission_plan,
    default_levies,
    default_payables,
    load_agency_bill,
    load_cancellation,
    load_commission_plan,
    load_levies,
    load_payables,
    load_withholding,
)

CONFIG_PREFIX = "config/insurance/"
LEVIES_KEY = f"{CONFIG_PREFIX}levies.json"
CANCELLATION_KEY = f"{CONFIG_PREFIX}cancellation.json"
AGENCY_BILL_KEY = f"{CONFIG_PREFIX}agency-bill.json"
PAYABLES_KEY = f"{CONFIG_PREFIX}payables.json"
WITHHOLDING_KEY = f"{CONFIG_PREFIX}withholding.json"
PLANS_PREFIX = f"{CONFIG_PREFIX}commission-plans/"
CACHE_SECONDS = 60.0  # a warm function re-reads the rules at most once a minute


class S3InsuranceRules:
    def __init__(self, client: Any, bucket: str, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self._client = client
        self._bucket = bucket
        self._cache_seconds = cache_seconds
        self._cached: tuple[float, InsuranceRules] | None = None

    def rules(self) -> InsuranceRules:
        if self._cached and time.monotonic() - self._cached[0] < self._cache_seconds:
            return self._cached[1]
        levies_body = self._read(LEVIES_KEY)
        cancellation_body = self._read(CANCELLATION_KEY)
        agency_body = self._read(AGENCY_BILL_KEY)
        payables_body = self._read(PAYABLES_KEY)
        withholding_body = self._read(WITHHOLDING_KEY)
        rules = InsuranceRules(
            levies=load_levies(levies_body, LEVIES_KEY) if levies_body is not None else default_levies(),
            cancellation=load_cancellation(cancellation_body, CANCELLATION_KEY)
            if cancellation_body is not None
            else default_cancellation(),
            agency_bill=load_agency_bill(agency_body, AGENCY_BILL_KEY)
            if agency_body is not None
            else AgencyBillRules(),
            commission_plans=self.commission_plans(),
            default_plan=default_commission_plan(),
            payables=load_payables(payables_body, PAYABLES_KEY) if payables_body is not None else default_payables(),
        )
        if withholding_body is not None:
            rules = rules.model_copy(update={"withholding": load_withholding(withholding_body, WITHHOLDING_KEY)})
        self._cached = (time.monotonic(), rules)
        return rules

    def forget(self) -> None:
        self._cached = None

    def commission_plans(self) -> dict[str, CommissionPlan]:
        plans = {}
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=PLANS_PREFIX):
            for obj in page.get("Contents", []):
                stem, suffix = posixpath.splitext(posixpath.basename(obj["Key"]))
                if suffix == ".json" and stem:
                    body = self._read(obj["Key"])
                    if body is not None:
                        plans[stem] = load_commission_plan(body, obj["Key"])
        return plans

    def levies(self) -> tuple[LevyTable, bool]:
        """The levy table in force, and whether it is the shipped default (no file)."""
        body = self._read(LEVIES_KEY)
        return (load_levies(body, LEVIES_KEY), False) if body is not None else (default_levies(), True)

    def save_levies(self, table: LevyTable, *, changed_by: str) -> str:
        return self._save(LEVIES_KEY, table.model_dump_json(indent=2), changed_by)

    def save_commission_plan(self, plan_id: str, plan: CommissionPlan, *, changed_by: str) -> str:
        return self._save(f"{PLANS_PREFIX}{plan_id}.json", plan.model_dump_json(indent=2), changed_by)

    def _save(self, key: str, body: str, changed_by: str) -> str:
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body.encode("utf-8"),
            ContentType="application/json",
            Metadata={"changed-by": metadata_safe(changed_by)},
        )
        self.forget()
        return key

    def _read(self, key: str) -> bytes | None:
        try:
            return self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
