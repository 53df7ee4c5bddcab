"""Per-function settings, read from the environment once at cold start and validated by pydantic.

A missing or malformed variable fails the cold start with a message naming it, not the 10,000th record of a batch.
Environment variable names come from the topology, so CDK, the local runtime and these models cannot drift apart.
:data:`FUNCTION_SETTINGS` ties each function of the topology to the settings its composition roots read; each asks
only for what the function's grants put into its environment (``tests/unit/test_function_settings.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from receivables import execution
from receivables.topology import TOPOLOGY, env_var

_TABLE = env_var("table", TOPOLOGY.table.name)
_INBOUND = env_var("bucket", "inbound")
_CHUNKS = env_var("queue", "file-chunks")
_OUTBOUND = env_var("bucket", "outbound")
_ANALYTICS = env_var("bucket", "analytics")
_DUNNING_QUEUE = env_var("queue", "dunning-accounts")
_BUS = env_var("bus", TOPOLOGY.event_bus)
_POLICY_EVENTS = env_var("queue", "policy-events")
DEFAULT_NOTIFY_FROM = "tahsilat@example.com"


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    business_timezone: str = Field(default="Europe/Istanbul", validation_alias="BUSINESS_TIMEZONE")
    # Set only by the local runtime and `simulate`, which replay days; in AWS the business date is the calendar
    # date in the business time zone.
    business_date: date | None = Field(default=None, validation_alias="BUSINESS_DATE")

    @field_validator("business_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Validated from ``environ``, or else from the invoked function's environment (``os.environ`` in Lambda)."""
        source = execution.variables() if environ is None else environ
        return cls.model_validate({k: v for k, v in source.items() if v != ""})

    @classmethod
    def variables(cls) -> dict[str, bool]:
        """The environment variables these settings read, each with whether it is required."""
        read: dict[str, bool] = {}
        for field in cls.model_fields.values():
            alias = field.validation_alias
            names = alias.choices if isinstance(alias, AliasChoices) else [alias]
            for name in names:
                if isinstance(name, str):
                    read[name] = field.is_required()
        return read


class TableSettings(_Settings):
    table_name: str = Field(validation_alias=AliasChoices(_TABLE))


class LoaderSettings(TableSettings):
    inbound_bucket: str = Field(validation_alias=_INBOUND)
    event_bus_name: str = Field(validation_alias=_BUS)
    rows_per_chunk: int = Field(default=5000, ge=1, le=50_000, validation_alias="ROWS_PER_CHUNK")
    # Invoices of a chunk written at once (conditional puts in parallel); the chaos replay writes them one by one.
    ledger_write_workers: int = Field(default=8, ge=1, le=32, validation_alias="LEDGER_WRITE_WORKERS")


class PlannerSettings(LoaderSettings):
    file_chunks_queue_url: str = Field(validation_alias=_CHUNKS)


class BankFileSettings(TableSettings):
    inbound_bucket: str = Field(validation_alias=_INBOUND)
    event_bus_name: str = Field(validation_alias=_BUS)
    # Accounts of one bank file applied at once. moto's in-process DynamoDB (the fast tests) is not safe for
    # concurrent conditional writes, so those tests run one lane; DynamoDB and DynamoDB Local are.
    lanes: int = Field(default=8, ge=1, le=32, validation_alias="BANK_FILE_LANES")


class PaymentsApiSettings(TableSettings):
    # No bus: the events of what people do with payments go out from the journal (the outbox relay).
    inbound_bucket: str = Field(validation_alias=_INBOUND)  # bank profiles: config/banks/<bank_id>.json


class DailyRunSettings(TableSettings):
    event_bus_name: str = Field(validation_alias=_BUS)
    dunning_queue_url: str = Field(validation_alias=_DUNNING_QUEUE)


class MessengerSettings(TableSettings):
    # SES needs a verified sender identity.
    notify_from: str = Field(default=DEFAULT_NOTIFY_FROM, validation_alias="NOTIFY_FROM")


class DunningSettings(MessengerSettings):
    """The dunning worker: decides and sends every kind of notice, letters included."""

    event_bus_name: str = Field(validation_alias=_BUS)
    outbound_bucket: str = Field(validation_alias=_OUTBOUND)  # letters/<date>/<account>-<cycle>-<step>.pdf
    # The company name signs every notice.
    company_name: str = Field(default="Örnek Sigorta A.Ş.", validation_alias="COMPANY_NAME")
    review_threads: int = Field(default=8, ge=1, le=32, validation_alias="DUNNING_REVIEW_THREADS")


class DirectDebitSettings(TableSettings):
    inbound_bucket: str = Field(validation_alias=_INBOUND)  # config/direct-debit/<bank_id>.json
    # A creditor bank as JSON (the config file's fields), in force while no config/direct-debit/ file exists: the
    # local stack sets one so that mandates collect out of the box; in AWS the files are the configuration.
    default_creditor: str | None = Field(default=None, validation_alias="DIRECT_DEBIT_DEFAULT_CREDITOR")
    outbound_bucket: str = Field(validation_alias=_OUTBOUND)  # banks/<bank_id>/pain.008-<message id>.xml
    event_bus_name: str = Field(validation_alias=_BUS)


class PayoutSettings(TableSettings):
    inbound_bucket: str = Field(validation_alias=_INBOUND)  # config/disbursement/<bank_id>.json
    outbound_bucket: str = Field(validation_alias=_OUTBOUND)  # banks/<bank_id>/pain.001-<message id>.xml
    event_bus_name: str = Field(validation_alias=_BUS)


class DaybookSettings(TableSettings):
    """The general-ledger daybook (functions/gl_daybook): postings off the stream, staged in the outbound bucket."""

    outbound_bucket: str = Field(validation_alias=_OUTBOUND)  # gl/_staging/<date>/<digest>.jsonl


class ReportSettings(TableSettings):
    """The reports of the read API: the general-ledger daybook's staged postings (cash, today's activity) and the BI
    export's open-item snapshots (aging)."""

    outbound_bucket: str = Field(validation_alias=_OUTBOUND)
    analytics_bucket: str = Field(validation_alias=_ANALYTICS)


class BiExportSettings(TableSettings):
    """The daily BI export (functions/bi_export): the daybook's postings in, Parquet out."""

    outbound_bucket: str = Field(validation_alias=_OUTBOUND)  # gl/_staging/<date>/: the day's postings
    analytics_bucket: str = Field(validation_alias=_ANALYTICS)  # bi/<table>/date=<date>/part-0000.parquet


class GlExportSettings(TableSettings):
    """The daily general-ledger export (functions/gl_export) and GET /gl/{date}."""

    inbound_bucket: str = Field(validation_alias=_INBOUND)  # config/gl/chart-of-accounts.yaml|json
    outbound_bucket: str = Field(validation_alias=_OUTBOUND)  # gl/<date>/journal.csv|.parquet|control.json


class CardCollectionSettings(TableSettings):
    """The daily card and bank-scheme collection run (functions/collect_by_card)."""

    inbound_bucket: str = Field(validation_alias=_INBOUND)  # config/collections/<bank_id>.json|yaml
    outbound_bucket: str = Field(validation_alias=_OUTBOUND)  # banks/<bank_id>/<the profile's file name>
    event_bus_name: str = Field(validation_alias=_BUS)


class PublisherSettings(_Settings):
    """The outbox relay (functions/publish_events): it only puts events on the bus."""

    event_bus_name: str = Field(validation_alias=_BUS)


class DunningCommandsSettings(TableSettings):
    """The dunning API: holds, promises, plans, tasks and configuration in the table. It sends nothing itself (no
    outbound bucket), and its review requests are written with each change and published by the outbox relay (no
    bus)."""


class PolicyEventSettings(TableSettings):
    """Policy events in (files and the queue): the table, reports in the inbound bucket, retries on the queue."""

    inbound_bucket: str = Field(validation_alias=_INBOUND)  # config/insurance/, rejected/
    event_bus_name: str = Field(validation_alias=_BUS)
    policy_events_queue_url: str = Field(validation_alias=_POLICY_EVENTS)
    # Seconds before each retry of an event whose policy is not known yet (SQS delays at most 900); one attempt more
    # than there are delays, then the event is rejected.
    retry_delays: tuple[int, ...] = Field(
        default=(60, 300, 900, 900, 900), validation_alias="POLICY_EVENT_RETRY_DELAYS"
    )

    @field_validator("retry_delays", mode="before")
    @classmethod
    def _delays(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(part) for part in value.split(",") if part.strip())
        return value

    @field_validator("retry_delays")
    @classmethod
    def _bounded(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 0 <= delay <= 900 for delay in value):
            raise ValueError("each retry delay is 0 to 900 seconds (the SQS limit)")
        return value


class PolicySettlementSettings(TableSettings):
    """Policies following money and dunning: the table, and the insurance rules in config/insurance/."""

    inbound_bucket: str = Field(validation_alias=_INBOUND)


class AgencyStatementSettings(MessengerSettings):
    """The monthly agency statements: the table, the rules, statements into the outbound bucket, e-mailed."""

    inbound_bucket: str = Field(validation_alias=_INBOUND)
    outbound_bucket: str = Field(validation_alias=_OUTBOUND)  # statements/<YYYY-MM>/<statement id>.csv|.pdf
    company_name: str = Field(default="Örnek Sigorta A.Ş.", validation_alias="COMPANY_NAME")


class InsuranceApiSettings(TableSettings):
    """The insurance API: reads the sub-ledger, and keeps the levy table and commission plans in config/insurance/."""

    inbound_bucket: str = Field(validation_alias=_INBOUND)


class DeferredSmsSettings(MessengerSettings):
    """The deferred SMS sender: reads and finishes the contacts that waited in the table and sends them through SNS;
    nothing on the bus, no letters."""


# Each function of the topology → the settings its composition roots read at cold start. Adding a function is a line
# here; a function missing from this mapping fails tests/unit/test_function_settings.py.
FUNCTION_SETTINGS: Mapping[str, type[_Settings]] = {
    "plan_inbound_file": PlannerSettings,
    "load_file_chunk": LoaderSettings,
    "load_bank_file": BankFileSettings,
    "api": ReportSettings,
    "payments_api": PaymentsApiSettings,
    "direct_debits": DirectDebitSettings,
    "pay_out": PayoutSettings,
    "collect_by_card": CardCollectionSettings,
    "gl_daybook": DaybookSettings,
    "gl_export": GlExportSettings,
    "bi_export": BiExportSettings,
    "plan_daily_run": DailyRunSettings,
    "dunning_worker": DunningSettings,
    "dunning_api": DunningCommandsSettings,
    "send_deferred_sms": DeferredSmsSettings,
    "publish_events": PublisherSettings,
    "verify_ledger": TableSettings,
    "load_policy_events": PolicyEventSettings,
    "settle_policies": PolicySettlementSettings,
    "insurance_api": InsuranceApiSettings,
    "agency_statements": AgencyStatementSettings,
}
