"""The system's topology, described once as data.

Two readers build from this and nothing else: ``infra/receivables_infra`` turns it into CDK resources, and
``infra/receivables_local`` turns it into the embedded runtime (queue pollers, bus routing, schedules, HTTP API).
Adding a function or a trigger is an edit here, never in either reader.

Logical names (``inbound``, ``file-chunks``…) are stable identifiers; the physical names differ between AWS (CDK
generates them) and the local stack (``<prefix>-<logical>``) and reach the handlers only through environment variables
whose names come from :func:`env_var`.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Access(StrEnum):
    READ = "read"
    WRITE = "write"
    READ_WRITE = "read_write"


class Bucket(_Frozen):
    name: str
    purpose: str
    # Objects under these prefixes expire after the given days (rejection reports, quarantine, chunk parts).
    expire_prefixes: dict[str, int] = Field(default_factory=dict)


class Queue(_Frozen):
    name: str
    purpose: str
    visibility_timeout_seconds: int = 300
    max_receive_count: int = 3  # deliveries before the message moves to the queue's DLQ
    retention_days: int = 4


class Index(_Frozen):
    name: str
    partition_key: str
    sort_key: str
    projection: Literal["KEYS_ONLY", "ALL", "INCLUDE"] = "KEYS_ONLY"
    include: tuple[str, ...] = ()


class Table(_Frozen):
    name: str
    partition_key: str = "pk"
    sort_key: str = "sk"
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = "expires_at"
    # What the table's stream carries; records written once with their events (journal entries, contact records)
    # need only the new image.
    stream: Literal["NEW_IMAGE", "NEW_AND_OLD_IMAGES"] | None = None


class S3Trigger(_Frozen):
    """Objects created under ``prefixes`` are announced on ``queue`` (S3 → SQS), which then drives the function."""

    kind: Literal["s3"] = "s3"
    bucket: str
    prefixes: tuple[str, ...]
    queue: str
    batch_size: int = 1


class SqsTrigger(_Frozen):
    kind: Literal["sqs"] = "sqs"
    queue: str
    batch_size: int = 10
    max_batching_window_seconds: int = 0
    max_concurrency: int | None = None


class ScheduleTrigger(_Frozen):
    """An EventBridge Scheduler schedule. ``input`` is the event the function receives; the local runtime adds
    ``business_date`` when it fires a day's schedules, AWS fires it from the cron expression."""

    kind: Literal["schedule"] = "schedule"
    name: str
    cron: str  # EventBridge cron(...) expression, evaluated in ``timezone``
    timezone: str = "Europe/Istanbul"
    input: dict[str, str] = Field(default_factory=dict)


# The people who sign in (Cognito user pool groups); systems sign with IAM and may call every route.
PeopleGroup = Literal["collector", "supervisor", "finance", "admin"]
EVERYONE: tuple[PeopleGroup, ...] = ("collector", "supervisor", "finance", "admin")
WORKING: tuple[PeopleGroup, ...] = ("collector", "supervisor", "admin")  # working accounts: tasks, promises
SUPERVISING: tuple[PeopleGroup, ...] = ("supervisor", "admin")  # holds, plans, reassignment
FINANCE: tuple[PeopleGroup, ...] = ("finance", "admin")  # money: allocations, receipts, adjustments, approvals
REPORTING: tuple[PeopleGroup, ...] = ("supervisor", "finance", "admin")  # reports and money views
ADMIN: tuple[PeopleGroup, ...] = ("admin",)  # configuration


class ApiRoute(_Frozen):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    groups: tuple[PeopleGroup, ...] = Field(min_length=1)  # which signed-in people may call it


class ApiTrigger(_Frozen):
    kind: Literal["api"] = "api"
    routes: tuple[ApiRoute, ...]


class BusTrigger(_Frozen):
    """An EventBridge rule on the system bus whose target is the function. The function is invoked
    asynchronously: an event it still fails on after ``retry_attempts`` retries (or that waited longer than
    ``max_event_age_seconds``) goes to ``<rule>-events-dlq``, as does one EventBridge could not deliver at all —
    alarmed like every other DLQ, never dropped."""

    kind: Literal["bus"] = "bus"
    rule: str
    sources: tuple[str, ...]
    detail_types: tuple[str, ...]
    retry_attempts: int = Field(default=2, ge=0, le=2)  # Lambda's asynchronous retries
    max_event_age_seconds: int = Field(default=6 * 3600, ge=60, le=21_600)

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.rule}-events-dlq"


class StreamTrigger(_Frozen):
    """The table's stream (DynamoDB Streams → Lambda event source mapping): only INSERTs whose new image carries
    ``require_attribute`` reach the function. A batch is retried, split in halves to isolate a bad record, and what
    still fails is described in ``<name>-dlq``."""

    kind: Literal["stream"] = "stream"
    name: str
    table: str
    require_attribute: str
    # Further attributes any one of which also lets a record through (filters are OR'ed).
    or_attributes: tuple[str, ...] = ()
    batch_size: int = Field(default=100, ge=1, le=10_000)
    retry_attempts: int = Field(default=5, ge=0, le=10_000)

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.name}-dlq"

    @property
    def required_attributes(self) -> tuple[str, ...]:
        return (self.require_attribute, *self.or_attributes)


Trigger = S3Trigger | SqsTrigger | ScheduleTrigger | ApiTrigger | BusTrigger | StreamTrigger


class Grants(_Frozen):
    """Least privilege: what the function may touch, by logical name."""

    table: Access | None = None
    buckets: dict[str, Access] = Field(default_factory=dict)
    send_to_queues: tuple[str, ...] = ()
    put_events: bool = False
    send_email: bool = False  # SES SendEmail
    send_sms: bool = False  # SNS Publish to phone numbers


class Function(_Frozen):
    name: str  # also the folder under functions/
    description: str
    triggers: tuple[Trigger, ...]
    grants: Grants
    memory_mb: int = 512
    timeout_seconds: int = 60
    reserved_concurrency: int | None = None
    # Layers beyond the shared one. ``analytics``: pyarrow, for the one function that writes Parquet; kept out of the
    # shared layer so no other function carries its size (layers/build_layer.py).
    layers: tuple[Literal["analytics"], ...] = ()

    @property
    def handler(self) -> str:
        return f"{self.name}.handler.lambda_handler"


class Topology(_Frozen):
    service: str
    table: Table
    buckets: tuple[Bucket, ...]
    queues: tuple[Queue, ...]
    event_bus: str
    event_source_prefix: str
    functions: tuple[Function, ...]

    def queue(self, name: str) -> Queue:
        return next(q for q in self.queues if q.name == name)

    def function(self, name: str) -> Function:
        return next(f for f in self.functions if f.name == name)

    def triggers_of_kind[T](self, kind: type[T]) -> list[tuple[Function, T]]:
        return [(f, t) for f in self.functions for t in f.triggers if isinstance(t, kind)]


ResourceKind = Literal["bucket", "queue", "table", "bus"]


def env_var(kind: ResourceKind, logical_name: str) -> str:
    """The environment variable through which a function learns a resource's physical name (a queue's URL)."""
    suffix = "URL" if kind == "queue" else "NAME"
    return f"{kind.upper()}_{logical_name.upper().replace('-', '_')}_{suffix}"


def function_environment(
    topology: Topology, function: Function, physical: Callable[[ResourceKind, str], str]
) -> dict[str, str]:
    """The environment a function runs with: the physical names of everything it is granted, and nothing else.

    ``physical(kind, logical_name)`` returns a bucket/table/bus name or a queue URL; CDK passes tokens, the local
    runtime passes real names.
    """
    grants = function.grants
    env = {
        "POWERTOOLS_SERVICE_NAME": topology.service,
        "POWERTOOLS_METRICS_NAMESPACE": "Receivables",
        "BUSINESS_TIMEZONE": "Europe/Istanbul",
    }
    if grants.table is not None:
        env[env_var("table", topology.table.name)] = physical("table", topology.table.name)
    for bucket in grants.buckets:
        env[env_var("bucket", bucket)] = physical("bucket", bucket)
    for queue in grants.send_to_queues:
        env[env_var("queue", queue)] = physical("queue", queue)
    if grants.put_events:
        env[env_var("bus", topology.event_bus)] = physical("bus", topology.event_bus)
    return env


LOADER_MEMORY_MB = 1024

TOPOLOGY = Topology(
    service="receivables",
    table=Table(
        name="ledger",
        stream="NEW_IMAGE",
        indexes=(
            # Items of an account, oldest due first: the account view and (later) allocation read this.
            Index(name="by_account", partition_key="gsi1pk", sort_key="gsi1sk"),
            # Sparse: only accounts with a next action carry these keys, so the daily run reads just those due.
            Index(name="next_action", partition_key="gsi2pk", sort_key="gsi2sk"),
        ),
    ),
    buckets=(
        Bucket(
            name="inbound",
            purpose="Files from billing/CRM systems and banks; rejection reports and quarantine beside them",
            expire_prefixes={"tmp/": 7},
        ),
        Bucket(name="outbound", purpose="Files we send: bank collections, print letters, general-ledger exports"),
        Bucket(
            name="analytics",
            purpose="The BI export: Parquet by table and date for Glue, Athena and warehouses; Athena's results",
            expire_prefixes={"athena-results/": 30},
        ),
    ),
    queues=(
        Queue(
            name="inbound-files",
            purpose="S3 ObjectCreated notifications for the inbound bucket",
            visibility_timeout_seconds=900,
        ),
        Queue(
            name="bank-files",
            purpose="S3 ObjectCreated notifications for bank files (banks/<bank_id>/)",
            visibility_timeout_seconds=900,
        ),
        Queue(
            name="dunning-accounts",
            purpose="Accounts due for dunning review, fanned out by the daily run (25 accounts a message)",
            visibility_timeout_seconds=360,
        ),
        Queue(
            name="policy-event-files",
            purpose="S3 ObjectCreated notifications for policy-event files (policy-events/)",
            visibility_timeout_seconds=900,
        ),
        Queue(
            name="policy-events",
            purpose="Policy events from policy administration systems, one per message; and those waiting to retry",
            visibility_timeout_seconds=900,
        ),
        Queue(
            name="file-chunks",
            purpose="Chunks of a large inbound file, loaded in parallel",
            visibility_timeout_seconds=360,
        ),
    ),
    event_bus="receivables",
    event_source_prefix="receivables",
    functions=(
        Function(
            name="plan_inbound_file",
            description="Recognise a dropped file, reject or quarantine it, or split it into chunks on SQS",
            triggers=(
                S3Trigger(
                    bucket="inbound",
                    prefixes=("customers/", "accounts/", "subscriptions/", "invoices/", "parties/", "adjustments/"),
                    queue="inbound-files",
                ),
            ),
            grants=Grants(
                table=Access.READ_WRITE,
                buckets={"inbound": Access.READ_WRITE},
                send_to_queues=("file-chunks",),
                put_events=True,
            ),
            memory_mb=512,
            timeout_seconds=840,
        ),
        Function(
            name="load_file_chunk",
            description="Validate and load one chunk of rows; the last chunk of a file writes its report",
            triggers=(SqsTrigger(queue="file-chunks", batch_size=1, max_concurrency=20),),
            grants=Grants(table=Access.READ_WRITE, buckets={"inbound": Access.READ_WRITE}, put_events=True),
            memory_mb=LOADER_MEMORY_MB,
            timeout_seconds=300,
        ),
        Function(
            name="load_bank_file",
            description="Read a bank file (camt, MT940, a bank's profile), match payers and allocate payments",
            triggers=(S3Trigger(bucket="inbound", prefixes=("banks/",), queue="bank-files"),),
            grants=Grants(table=Access.READ_WRITE, buckets={"inbound": Access.READ_WRITE}, put_events=True),
            memory_mb=1024,
            timeout_seconds=840,
        ),
        Function(
            name="api",
            description="REST API: customers, accounts, items, health",
            triggers=(
                ApiTrigger(
                    routes=(
                        ApiRoute(method="GET", path="/health", groups=EVERYONE),
                        ApiRoute(method="GET", path="/customers/{customer_id}", groups=EVERYONE),
                        ApiRoute(method="GET", path="/accounts/{account_id}", groups=EVERYONE),
                        ApiRoute(method="GET", path="/items/{item_id}", groups=EVERYONE),
                        ApiRoute(method="GET", path="/accounts/{account_id}/journal", groups=EVERYONE),
                        ApiRoute(method="GET", path="/accounts/{account_id}/timeline", groups=EVERYONE),
                        ApiRoute(method="GET", path="/customers/{customer_id}/summary", groups=EVERYONE),
                        ApiRoute(method="GET", path="/reports/cash", groups=REPORTING),
                        ApiRoute(method="GET", path="/reports/aging", groups=REPORTING),
                        ApiRoute(method="GET", path="/reports/roll-rates", groups=REPORTING),
                        ApiRoute(method="GET", path="/reports/dso", groups=REPORTING),
                        ApiRoute(method="GET", path="/reports/stages", groups=REPORTING),
                        ApiRoute(method="GET", path="/reports/suspense-aging", groups=REPORTING),
                    )
                ),
            ),
            grants=Grants(table=Access.READ, buckets={"outbound": Access.READ, "analytics": Access.READ}),
            layers=("analytics",),  # pyarrow: the aging report reads the BI export's snapshot
            memory_mb=512,
            timeout_seconds=29,
        ),
        Function(
            name="payments_api",
            description="REST API commands on payments: suspense, manual allocation, counter receipts, bounced "
            "cheques, billing adjustments",
            triggers=(
                ApiTrigger(
                    routes=(
                        ApiRoute(method="GET", path="/payments/{payment_id}", groups=EVERYONE),
                        ApiRoute(method="GET", path="/suspense", groups=REPORTING),
                        ApiRoute(method="POST", path="/payments/{payment_id}/allocations", groups=FINANCE),
                        ApiRoute(method="DELETE", path="/payments/{payment_id}/allocations/{item_id}", groups=FINANCE),
                        ApiRoute(method="POST", path="/receipts", groups=FINANCE),
                        ApiRoute(method="POST", path="/receipts/{receipt_id}/tenders/{tender}/return", groups=FINANCE),
                        ApiRoute(method="GET", path="/allocation-policies", groups=REPORTING),
                        ApiRoute(method="PUT", path="/allocation-policies/{account_type}", groups=ADMIN),
                        ApiRoute(method="GET", path="/bank-profiles/{bank_id}", groups=REPORTING),
                        ApiRoute(method="PUT", path="/bank-profiles/{bank_id}", groups=ADMIN),
                        ApiRoute(method="GET", path="/collection-profiles/{bank_id}", groups=REPORTING),
                        ApiRoute(method="PUT", path="/collection-profiles/{bank_id}", groups=ADMIN),
                        ApiRoute(method="POST", path="/adjustments", groups=FINANCE),
                        ApiRoute(method="GET", path="/adjustments/{adjustment_id}", groups=EVERYONE),
                        ApiRoute(method="POST", path="/adjustments/{adjustment_id}/approve", groups=FINANCE),
                        ApiRoute(method="POST", path="/adjustments/{adjustment_id}/decline", groups=FINANCE),
                    )
                ),
            ),
            grants=Grants(table=Access.READ_WRITE, buckets={"inbound": Access.READ_WRITE}),
            memory_mb=512,
            timeout_seconds=29,
        ),
        Function(
            name="direct_debits",
            description="Each business day (or on request): a pain.008 file per creditor bank for items falling due",
            triggers=(
                ScheduleTrigger(
                    name="direct-debits",
                    cron="cron(0 5 * * ? *)",
                    input={"scheduled_time": "<aws.scheduler.scheduled-time>"},
                ),
                ApiTrigger(
                    routes=(
                        ApiRoute(method="POST", path="/direct-debits", groups=FINANCE),
                        ApiRoute(method="GET", path="/direct-debits/{end_to_end_id}", groups=REPORTING),
                    )
                ),
            ),
            grants=Grants(
                table=Access.READ_WRITE,
                buckets={"inbound": Access.READ, "outbound": Access.WRITE},
                put_events=True,
            ),
            memory_mb=1024,
            timeout_seconds=600,
        ),
        Function(
            name="pay_out",
            description="Each business day: one pain.001 per paying bank for the approved payables due (exactly once)",
            triggers=(
                ScheduleTrigger(
                    name="payouts",
                    cron="cron(0 6 * * ? *)",
                    input={"scheduled_time": "<aws.scheduler.scheduled-time>"},
                ),
            ),
            grants=Grants(
                table=Access.READ_WRITE,
                buckets={"inbound": Access.READ, "outbound": Access.WRITE},
                put_events=True,
            ),
            memory_mb=1024,
            timeout_seconds=600,
        ),
        Function(
            name="collect_by_card",
            description="Each business day: card-installment and bank-scheme collection requests per bank, as data",
            triggers=(
                ScheduleTrigger(
                    name="card-collections",
                    cron="cron(0 7 * * ? *)",
                    input={"scheduled_time": "<aws.scheduler.scheduled-time>"},
                ),
            ),
            grants=Grants(
                table=Access.READ_WRITE,
                buckets={"inbound": Access.READ, "outbound": Access.WRITE},
                put_events=True,
            ),
            memory_mb=1024,
            timeout_seconds=600,
        ),
        Function(
            name="plan_daily_run",
            description="Each business day: select only accounts whose next action is due, via the sparse index",
            triggers=(
                ScheduleTrigger(
                    name="daily-run",
                    # 09:00, when SMS quiet hours end (21:00–09:00 by default): nothing the run sends waits.
                    cron="cron(0 9 * * ? *)",
                    # Scheduler fills this in; the handler turns it into the business date in the business zone.
                    input={"scheduled_time": "<aws.scheduler.scheduled-time>"},
                ),
            ),
            # Writes its own run log and Powertools idempotency records.
            grants=Grants(table=Access.READ_WRITE, put_events=True, send_to_queues=("dunning-accounts",)),
            memory_mb=512,
            timeout_seconds=300,
        ),
        Function(
            name="dunning_worker",
            description="Review accounts for dunning: decide, then send each step exactly once (account+cycle+step)",
            triggers=(
                SqsTrigger(queue="dunning-accounts", batch_size=1, max_concurrency=20),
                # Real-time paths: a payment, a reversal, credit applied, a hold, promise or plan re-plan at once.
                BusTrigger(
                    rule="dunning-review",
                    sources=(
                        "receivables.payments",
                        "receivables.dunning",
                        "receivables.insurance",
                        "receivables.collections",
                        "receivables.adjustments",
                    ),
                    detail_types=(
                        "PaymentReceived",
                        "PaymentReversed",
                        "PaymentPartReturned",
                        "ClaimOffset",
                        "ClaimOffsetReversed",
                        "PartyNetted",
                        # A card or bank-scheme collection declined: the item is overdue again until its retry.
                        "CollectionDeclined",
                        # Billing corrected an item: credited, debited, written off, cancelled or moved.
                        "AdjustmentApplied",
                        "CreditApplied",
                        "PaymentAllocatedManually",
                        "PaymentUnallocated",
                        "DunningReviewRequested",
                        # A policy changed what its payer owes: cancelled, endorsed or reinstated.
                        "PolicyCancellationPosted",
                        "PolicyEndorsed",
                        "PolicyReinstatementRequested",
                    ),
                ),
            ),
            grants=Grants(
                table=Access.READ_WRITE,
                buckets={"outbound": Access.WRITE},
                put_events=True,
                send_email=True,
                send_sms=True,
            ),
            memory_mb=1024,
            timeout_seconds=300,
        ),
        Function(
            name="dunning_api",
            description="REST API for dunning: holds, promises, installment plans, collector tasks, configuration",
            triggers=(
                ApiTrigger(
                    routes=(
                        ApiRoute(method="POST", path="/holds", groups=SUPERVISING),
                        ApiRoute(method="GET", path="/holds/{hold_id}", groups=EVERYONE),
                        ApiRoute(method="DELETE", path="/holds/{hold_id}", groups=SUPERVISING),
                        ApiRoute(method="POST", path="/accounts/{account_id}/promises", groups=WORKING),
                        ApiRoute(method="GET", path="/promises/{promise_id}", groups=EVERYONE),
                        ApiRoute(method="POST", path="/accounts/{account_id}/plans", groups=SUPERVISING),
                        ApiRoute(method="GET", path="/plans/{plan_id}", groups=EVERYONE),
                        ApiRoute(method="GET", path="/accounts/{account_id}/dunning", groups=EVERYONE),
                        ApiRoute(method="GET", path="/collectors/{group}/tasks", groups=WORKING),
                        ApiRoute(method="POST", path="/tasks/{task_id}/claim", groups=WORKING),
                        ApiRoute(method="POST", path="/tasks/{task_id}/outcome", groups=WORKING),
                        ApiRoute(method="POST", path="/tasks/{task_id}/reassign", groups=SUPERVISING),
                        ApiRoute(method="GET", path="/dunning/config", groups=EVERYONE),
                        ApiRoute(method="PUT", path="/dunning/config", groups=ADMIN),
                        ApiRoute(method="POST", path="/dunning/segments/{segment}/promote-challenger", groups=ADMIN),
                        ApiRoute(method="GET", path="/dunning/config/versions/{version}", groups=EVERYONE),
                        ApiRoute(method="GET", path="/dunning/dictionary", groups=EVERYONE),
                        ApiRoute(method="GET", path="/reports/dunning", groups=REPORTING),
                        ApiRoute(method="GET", path="/reports/collection-performance", groups=REPORTING),
                        ApiRoute(method="GET", path="/reports/collectors", groups=REPORTING),
                    )
                ),
            ),
            grants=Grants(table=Access.READ_WRITE),
            memory_mb=512,
            timeout_seconds=29,
        ),
        Function(
            name="publish_events",
            description="Publish the events that committed changes carry (the outbox), from the table's stream",
            triggers=(StreamTrigger(name="outbox", table="ledger", require_attribute="outbox"),),
            grants=Grants(put_events=True),
            memory_mb=256,
            timeout_seconds=60,
        ),
        Function(
            name="gl_daybook",
            description="Postings off the table's stream, staged by business date for the general-ledger export",
            triggers=(
                StreamTrigger(
                    name="gl-daybook",
                    table="ledger",
                    require_attribute="postings",  # journal entries
                    or_attributes=("journal_key",),  # items' and payables' own records
                    batch_size=1000,
                ),
            ),
            grants=Grants(table=Access.READ, buckets={"outbound": Access.WRITE}),
            memory_mb=512,
            timeout_seconds=120,
        ),
        Function(
            name="gl_export",
            description="Each day: the day before's postings as double-entry lines, gl/<date>/journal.csv and .parquet",
            triggers=(
                ScheduleTrigger(
                    name="gl-export",
                    cron="cron(0 2 * * ? *)",
                    input={"scheduled_time": "<aws.scheduler.scheduled-time>"},
                ),
            ),
            grants=Grants(table=Access.READ_WRITE, buckets={"inbound": Access.READ, "outbound": Access.READ_WRITE}),
            layers=("analytics",),
            memory_mb=1024,
            timeout_seconds=900,
        ),
        Function(
            name="bi_export",
            description="Each day: what changed the day before (postings, items, accounts, payments, customers, "
            "cycles, contacts, tasks) as Parquet by table and date, once",
            triggers=(
                ScheduleTrigger(
                    name="bi-export",
                    cron="cron(30 2 * * ? *)",  # after the general-ledger export closed the day's postings
                    input={"scheduled_time": "<aws.scheduler.scheduled-time>"},
                ),
            ),
            grants=Grants(table=Access.READ_WRITE, buckets={"outbound": Access.READ, "analytics": Access.READ_WRITE}),
            layers=("analytics",),
            memory_mb=1024,
            timeout_seconds=900,
        ),
        Function(
            name="verify_ledger",
            description="Each night: recompute every balance from the journal; a metric counts the differences",
            triggers=(ScheduleTrigger(name="verify-ledger", cron="cron(30 3 * * ? *)"),),
            grants=Grants(table=Access.READ),
            memory_mb=1024,
            timeout_seconds=900,
        ),
        Function(
            name="load_policy_events",
            description="Policy events (files under policy-events/ and the policy-events queue) into the sub-ledger",
            triggers=(
                S3Trigger(bucket="inbound", prefixes=("policy-events/",), queue="policy-event-files"),
                SqsTrigger(queue="policy-events", batch_size=10),
            ),
            grants=Grants(
                table=Access.READ_WRITE,
                buckets={"inbound": Access.READ_WRITE},
                send_to_queues=("policy-events",),
                put_events=True,
            ),
            memory_mb=1024,
            timeout_seconds=840,
        ),
        Function(
            name="settle_policies",
            description="Policies follow money and dunning: commission on collection, reinstatement, notices, "
            "cancellation for non-payment",
            triggers=(
                BusTrigger(
                    rule="policy-settlement",
                    sources=("receivables.payments", "receivables.dunning", "receivables.insurance"),
                    detail_types=(
                        "PaymentReceived",
                        "PaymentReversed",
                        "PaymentPartReturned",
                        "ClaimOffset",
                        "ClaimOffsetReversed",
                        "PartyNetted",
                        "CreditApplied",
                        "PaymentAllocatedManually",
                        "PaymentUnallocated",
                        "PolicyNoticeSent",
                        "PolicyCancellationRequested",
                    ),
                ),
            ),
            grants=Grants(table=Access.READ_WRITE, buckets={"inbound": Access.READ}),
            memory_mb=512,
            timeout_seconds=60,
        ),
        Function(
            name="agency_statements",
            description="On the 1st of each month: each agency's statement, commission netted; PDF and CSV, e-mailed",
            triggers=(
                ScheduleTrigger(
                    name="agency-statements",
                    cron="cron(0 7 1 * ? *)",
                    input={"scheduled_time": "<aws.scheduler.scheduled-time>"},
                ),
            ),
            grants=Grants(
                table=Access.READ_WRITE,
                buckets={"inbound": Access.READ, "outbound": Access.WRITE},
                send_email=True,
            ),
            memory_mb=1024,
            timeout_seconds=600,
        ),
        Function(
            name="insurance_api",
            description="REST API of the insurance sub-ledger: parties, statements, policies, levies, commission plans",
            triggers=(
                ApiTrigger(
                    routes=(
                        ApiRoute(method="GET", path="/parties/{party_id}", groups=EVERYONE),
                        ApiRoute(method="GET", path="/parties/{party_id}/statement", groups=EVERYONE),
                        ApiRoute(method="GET", path="/policies/{policy_id}", groups=EVERYONE),
                        ApiRoute(method="GET", path="/customers/{customer_id}/policies", groups=EVERYONE),
                        ApiRoute(method="GET", path="/insurance/levies", groups=EVERYONE),
                        ApiRoute(method="PUT", path="/insurance/levies", groups=ADMIN),
                        ApiRoute(method="GET", path="/insurance/commission-plans/{plan_id}", groups=REPORTING),
                        ApiRoute(method="PUT", path="/insurance/commission-plans/{plan_id}", groups=ADMIN),
                        ApiRoute(method="GET", path="/exceptions", groups=REPORTING),
                        ApiRoute(method="POST", path="/exceptions/{exception_id}/resolve", groups=FINANCE),
                        ApiRoute(method="GET", path="/payables", groups=REPORTING),
                        ApiRoute(method="GET", path="/payables/{payable_id}", groups=REPORTING),
                        ApiRoute(method="POST", path="/payables/{payable_id}/approve", groups=FINANCE),
                        ApiRoute(method="POST", path="/parties/{party_id}/netting", groups=FINANCE),
                        ApiRoute(method="GET", path="/transfers/{end_to_end_id}", groups=REPORTING),
                        ApiRoute(method="GET", path="/gl/{date}", groups=FINANCE),
                    )
                ),
            ),
            grants=Grants(table=Access.READ_WRITE, buckets={"inbound": Access.READ_WRITE}),
            memory_mb=512,
            timeout_seconds=29,
        ),
        Function(
            name="send_deferred_sms",
            description="Send the SMS that waited for quiet hours to end",
            triggers=(
                ScheduleTrigger(
                    name="deferred-sms",
                    cron="cron(5 9-20 * * ? *)",
                    input={"scheduled_time": "<aws.scheduler.scheduled-time>"},
                ),
            ),
            grants=Grants(table=Access.READ_WRITE, send_sms=True),
            memory_mb=512,
            timeout_seconds=300,
        ),
    ),
)


def create_table_request(table: Table, physical_name: str) -> dict[str, object]:
    """The DynamoDB CreateTable request for ``table``: what the local stack and the tests create (CDK builds the same
    keys and indexes from the same ``Table``)."""
    attributes = {table.partition_key, table.sort_key}
    indexes = []
    for index in table.indexes:
        attributes |= {index.partition_key, index.sort_key}
        projection: dict[str, object] = {"ProjectionType": index.projection}
        if index.projection == "INCLUDE":
            projection["NonKeyAttributes"] = list(index.include)
        indexes.append(
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": projection,
            }
        )
    request: dict[str, object] = {
        "TableName": physical_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in sorted(attributes)],
        "KeySchema": [
            {"AttributeName": table.partition_key, "KeyType": "HASH"},
            {"AttributeName": table.sort_key, "KeyType": "RANGE"},
        ],
    }
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    if table.stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return request
