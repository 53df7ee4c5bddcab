"""Composition roots: each function's dependencies, built once per cold start from validated settings.

Every factory is cached with :func:`per_function`: once per process in Lambda, where the process is one function, and
once per function where several share a process (the local runtime, the integration tests), so that no function
reuses a root built under another's environment. :data:`COMPOSITION_ROOTS` names what each function builds.

Tests and the local runtime call :func:`reset` to force the next invocation to build afresh (a new cold start),
e.g. after changing the business date.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import boto3
from botocore.config import Config

from receivables import execution
from receivables.accounting.export import GeneralLedgerExport
from receivables.adapters.adjustments_table import AdjustmentsTable, S3AdjustmentRules
from receivables.adapters.bank_profiles import S3CollectionProfiles, S3ProfileSource
from receivables.adapters.bi_export import BiExport
from receivables.adapters.card_collection_table import CardCollectionTable, card_payment_writer
from receivables.adapters.clock import BusinessClock
from receivables.adapters.creditors import S3CreditorSource, S3PayingBankSource
from receivables.adapters.direct_debit_table import CollectionTable
from receivables.adapters.disbursement_table import PayoutTable
from receivables.adapters.dunning_commands_table import DunningCommandsTable, TableSequence
from receivables.adapters.dunning_table import CycleReader, DunningTable
from receivables.adapters.general_ledger import S3ChartSource, S3Daybook, S3GlFiles, TableGlRecords, TableTargets
from receivables.adapters.insurance_config import S3InsuranceRules
from receivables.adapters.insurance_table import AgencyTableWrites, InsuranceTable, PolicyTableWrites
from receivables.adapters.journal_table import AccountJournal
from receivables.adapters.ledger_table import LedgerTable
from receivables.adapters.load_registry import LoadRegistryTable
from receivables.adapters.messaging import (
    BatchingEventBridgePublisher,
    EventBridgePublisher,
    SqsChunkQueue,
    SqsRetryQueue,
)
from receivables.adapters.messengers import AwsMessenger, S3LetterBox
from receivables.adapters.outbox import OutboxPublisher
from receivables.adapters.payments_table import AllocationPolicyTable, PayerDirectoryTable, PaymentsTable
from receivables.adapters.report_sources import ReportSources
from receivables.adapters.run_log import RunLogTable
from receivables.adapters.s3_files import S3FileStore
from receivables.adapters.statement_output import S3ReinsuranceStatementOutput, S3StatementOutput
from receivables.adapters.story_table import AccountStoryTable
from receivables.adapters.verification import LedgerVerifier
from receivables.adjustments.service import Adjustments
from receivables.card_collection.service import EVENT_SOURCE as CARD_SOURCE
from receivables.card_collection.service import CardCollections
from receivables.collections.daily_run import DailyRunPlanner
from receivables.direct_debit.model import CreditorBank
from receivables.direct_debit.service import EVENT_SOURCE as DIRECT_DEBIT_SOURCE
from receivables.direct_debit.service import CollectionStatusReports, DirectDebitService
from receivables.disbursement.service import EVENT_SOURCE as PAYOUT_SOURCE
from receivables.disbursement.service import (
    PayoutBookings,
    PayoutService,
    PayoutStatusReports,
    StatusReportRouter,
)
from receivables.dunning.commands import DunningCommands
from receivables.dunning.service import EVENT_SOURCE as DUNNING_SOURCE
from receivables.dunning.service import DunningReview
from receivables.insurance.agency_bill import AgencyBill
from receivables.insurance.commissions import CommissionSettlement
from receivables.insurance.follow_up import PolicyFollowUp
from receivables.insurance.intake import EVENT_SOURCE as INSURANCE_SOURCE
from receivables.insurance.intake import LedgerFollowUp, PolicyEventIntake
from receivables.insurance.payables import Payables
from receivables.insurance.policy_changes import PolicyChanges
from receivables.insurance.reinsurance import Reinsurance, ReinsuranceStatements
from receivables.insurance.service import PolicyEventService
from receivables.loading.service import EVENT_SOURCE, LoadingService
from receivables.payments.manual import ManualPayments
from receivables.payments.operations import AccountOperations
from receivables.payments.service import EVENT_SOURCE as PAYMENTS_SOURCE
from receivables.payments.service import BankFileService, CreditApplication, payment_events
from receivables.settings import (
    AgencyStatementSettings,
    BankFileSettings,
    BiExportSettings,
    CardCollectionSettings,
    DailyRunSettings,
    DaybookSettings,
    DeferredSmsSettings,
    DirectDebitSettings,
    DunningCommandsSettings,
    DunningSettings,
    GlExportSettings,
    InsuranceApiSettings,
    LoaderSettings,
    MessengerSettings,
    PaymentsApiSettings,
    PayoutSettings,
    PlannerSettings,
    PolicyEventSettings,
    PolicySettlementSettings,
    PublisherSettings,
    ReportSettings,
    TableSettings,
)
from receivables.story.service import Stories

_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 6}, max_pool_connections=32)
_CACHES: list[Any] = []


def per_function[R](factory: Callable[..., R]) -> Callable[..., R]:
    """``functools.cache``, keyed by the function being invoked as well (:mod:`receivables.execution`)."""

    @functools.cache
    def build(function: str | None, *args: Any) -> R:
        return factory(*args)

    @functools.wraps(factory)
    def cached(*args: Any) -> R:
        environment = execution.current()
        return build(environment.function if environment else None, *args)

    _CACHES.append(build)
    cached.cache_clear = build.cache_clear  # type: ignore[attr-defined]
    return cached


@per_function
def aws_client(service: str) -> Any:
    client = boto3.client(service, config=_BOTO_CONFIG)
    environment = execution.current()
    if environment is not None and environment.prepare_client is not None:
        environment.prepare_client(service, client)
    return client


@per_function
def allocation_policies(table_name: str) -> AllocationPolicyTable:
    return AllocationPolicyTable(aws_client("dynamodb"), table_name)


@per_function
def bank_profile_store() -> S3ProfileSource:
    return S3ProfileSource(aws_client("s3"), manual_payments_settings().inbound_bucket)


def _clock(settings: TableSettings) -> BusinessClock:
    return BusinessClock(settings.business_timezone, settings.business_date)


def _adjustments(settings: Any, clock: Any) -> Adjustments:
    return Adjustments(
        store=AdjustmentsTable(aws_client("dynamodb"), settings.table_name),
        operations=_account_operations(settings, clock),
        rules=S3AdjustmentRules(aws_client("s3"), settings.inbound_bucket),
        clock=clock,
    )


@per_function
def adjustments() -> Adjustments:
    """Billing adjustments through the API (payments_api)."""
    settings = manual_payments_settings()
    return _adjustments(settings, _clock(settings))


def _loading_service(settings: LoaderSettings, chunk_queue_url: str | None) -> LoadingService:
    clock = _clock(settings)
    dynamodb = aws_client("dynamodb")
    return LoadingService(
        adjustments=_adjustments(settings, clock),
        credit=CreditApplication(
            operations=AccountOperations(
                store=PaymentsTable(dynamodb, settings.table_name, policies=allocation_policies(settings.table_name)),
                clock=clock,
                completion=payment_events,
            )
        ),
        files=S3FileStore(aws_client("s3")),
        registry=LoadRegistryTable(dynamodb, settings.table_name, clock=clock),
        ledger=LedgerTable(dynamodb, settings.table_name, clock=clock, write_workers=settings.ledger_write_workers),
        chunks=SqsChunkQueue(aws_client("sqs"), chunk_queue_url) if chunk_queue_url else None,
        events=EventBridgePublisher(aws_client("events"), settings.event_bus_name, EVENT_SOURCE),
        clock=clock,
        rows_per_chunk=settings.rows_per_chunk,
    )


@per_function
def planner_service() -> LoadingService:
    settings = PlannerSettings.from_environment()
    return _loading_service(settings, settings.file_chunks_queue_url)


@per_function
def chunk_loader_service() -> LoadingService:
    return _loading_service(LoaderSettings.from_environment(), None)


@per_function
def bank_file_service() -> BankFileService:
    settings = BankFileSettings.from_environment()
    dynamodb = aws_client("dynamodb")
    payouts = PayoutTable(dynamodb, settings.table_name, clock=_clock(settings))
    payout_events = EventBridgePublisher(aws_client("events"), settings.event_bus_name, PAYOUT_SOURCE)
    return BankFileService(
        files=S3FileStore(aws_client("s3")),
        store=PaymentsTable(dynamodb, settings.table_name, policies=allocation_policies(settings.table_name)),
        directory=PayerDirectoryTable(dynamodb, settings.table_name),
        profiles=S3ProfileSource(aws_client("s3"), settings.inbound_bucket),
        events=BatchingEventBridgePublisher(aws_client("events"), settings.event_bus_name, PAYMENTS_SOURCE),
        clock=_clock(settings),
        status_reports=StatusReportRouter(
            direct_debits=CollectionStatusReports(
                store=CollectionTable(dynamodb, settings.table_name),
                events=EventBridgePublisher(aws_client("events"), settings.event_bus_name, DIRECT_DEBIT_SOURCE),
            ),
            payouts=PayoutStatusReports(store=payouts, events=payout_events),
        ),
        outgoing=PayoutBookings(store=payouts, events=payout_events),
        collections=_card_collections(settings, outbound_bucket=""),
        lanes=settings.lanes,
    )


def _card_collections(settings: Any, *, outbound_bucket: str) -> CardCollections:
    clock = _clock(settings)
    dynamodb = aws_client("dynamodb")
    payments = PaymentsTable(dynamodb, settings.table_name, policies=allocation_policies(settings.table_name))
    return CardCollections(
        store=CardCollectionTable(dynamodb, settings.table_name, clock=clock),
        payments=card_payment_writer(dynamodb, settings.table_name, payments, clock),
        profiles=S3CollectionProfiles(aws_client("s3"), settings.inbound_bucket),
        files=S3FileStore(aws_client("s3")),
        outbound_bucket=outbound_bucket,
        events=EventBridgePublisher(aws_client("events"), settings.event_bus_name, CARD_SOURCE),
        clock=clock,
    )


@per_function
def card_collection_settings() -> CardCollectionSettings:
    return CardCollectionSettings.from_environment()


@per_function
def card_collections() -> CardCollections:
    """The daily card and bank-scheme collection run (functions/collect_by_card)."""
    settings = card_collection_settings()
    return _card_collections(settings, outbound_bucket=settings.outbound_bucket)


@per_function
def collection_profile_store() -> S3CollectionProfiles:
    """``GET|PUT /collection-profiles/{bank_id}``."""
    return S3CollectionProfiles(aws_client("s3"), manual_payments_settings().inbound_bucket)


@per_function
def payout_settings() -> PayoutSettings:
    return PayoutSettings.from_environment()


@per_function
def payout_service() -> PayoutService:
    settings = payout_settings()
    clock = _clock(settings)
    return PayoutService(
        store=PayoutTable(aws_client("dynamodb"), settings.table_name, clock=clock),
        banks=S3PayingBankSource(aws_client("s3"), settings.inbound_bucket),
        files=S3FileStore(aws_client("s3")),
        outbound_bucket=settings.outbound_bucket,
        events=EventBridgePublisher(aws_client("events"), settings.event_bus_name, PAYOUT_SOURCE),
        clock=clock,
    )


@per_function
def direct_debit_settings() -> DirectDebitSettings:
    return DirectDebitSettings.from_environment()


@per_function
def direct_debit_service() -> DirectDebitService:
    settings = direct_debit_settings()
    return DirectDebitService(
        store=CollectionTable(aws_client("dynamodb"), settings.table_name),
        creditors=S3CreditorSource(
            aws_client("s3"),
            settings.inbound_bucket,
            fallback=CreditorBank.model_validate_json(settings.default_creditor) if settings.default_creditor else None,
        ),
        files=S3FileStore(aws_client("s3")),
        outbound_bucket=settings.outbound_bucket,
        events=EventBridgePublisher(aws_client("events"), settings.event_bus_name, DIRECT_DEBIT_SOURCE),
        clock=_clock(settings),
    )


@per_function
def collection_table() -> CollectionTable:
    settings = DirectDebitSettings.from_environment()
    return CollectionTable(aws_client("dynamodb"), settings.table_name)


@per_function
def manual_payments_settings() -> PaymentsApiSettings:
    return PaymentsApiSettings.from_environment()


@per_function
def manual_payments() -> ManualPayments:
    settings = manual_payments_settings()
    return ManualPayments(
        store=PaymentsTable(
            aws_client("dynamodb"), settings.table_name, policies=allocation_policies(settings.table_name)
        ),
        clock=_clock(settings),
    )


@per_function
def ledger_reader() -> LedgerTable:
    settings = TableSettings.from_environment()
    return LedgerTable(aws_client("dynamodb"), settings.table_name, clock=_clock(settings))


@per_function
def stories() -> Stories:
    """An account's timeline and a customer's summary (the read API)."""
    settings = TableSettings.from_environment()
    return Stories(store=AccountStoryTable(aws_client("dynamodb"), settings.table_name), clock=_clock(settings))


def read_api_today() -> date:
    """Today's business date in the read API (the reports' default "as of")."""
    return _clock(ReportSettings.from_environment()).today()


@per_function
def report_sources() -> ReportSources:
    settings = ReportSettings.from_environment()
    return ReportSources(
        dynamodb=aws_client("dynamodb"),
        s3=aws_client("s3"),
        table=settings.table_name,
        outbound_bucket=settings.outbound_bucket,
        analytics_bucket=settings.analytics_bucket,
        clock=_clock(settings),
    )


@per_function
def account_journal() -> AccountJournal:
    return AccountJournal(aws_client("dynamodb"), TableSettings.from_environment().table_name)


@per_function
def ledger_verifier() -> LedgerVerifier:
    return LedgerVerifier(aws_client("dynamodb"), TableSettings.from_environment().table_name)


@per_function
def outbox_publisher() -> OutboxPublisher:
    return OutboxPublisher(aws_client("events"), PublisherSettings.from_environment().event_bus_name)


@per_function
def daily_run_settings() -> DailyRunSettings:
    return DailyRunSettings.from_environment()


@per_function
def daily_run_planner() -> DailyRunPlanner:
    settings = daily_run_settings()
    clock = _clock(settings)
    dynamodb = aws_client("dynamodb")
    return DailyRunPlanner(
        accounts_due=LedgerTable(dynamodb, settings.table_name, clock=clock).accounts_due,
        log=RunLogTable(dynamodb, settings.table_name, clock=clock),
        events=EventBridgePublisher(aws_client("events"), settings.event_bus_name, "receivables.collections"),
        fan_out=SqsChunkQueue(aws_client("sqs"), settings.dunning_queue_url),
    )


@per_function
def dunning_settings() -> DunningSettings:
    return DunningSettings.from_environment()


@per_function
def dunning_commands_settings() -> DunningCommandsSettings:
    return DunningCommandsSettings.from_environment()


@per_function
def deferred_sms_settings() -> DeferredSmsSettings:
    return DeferredSmsSettings.from_environment()


# The dunning table, its cycle reader and the messenger serve the worker, the API and the deferred SMS sender: each
# reads just the settings they need, from whichever of those functions is running.
@per_function
def dunning_table() -> DunningTable:
    return DunningTable(aws_client("dynamodb"), TableSettings.from_environment().table_name)


@per_function
def cycle_reader() -> CycleReader:
    return CycleReader(aws_client("dynamodb"), TableSettings.from_environment().table_name)


@per_function
def dunning_messenger() -> AwsMessenger:
    return AwsMessenger(aws_client("ses"), aws_client("sns"), MessengerSettings.from_environment().notify_from)


@per_function
def dunning_commands() -> DunningCommands:
    settings = dunning_commands_settings()
    dynamodb = aws_client("dynamodb")
    return DunningCommands(
        store=DunningCommandsTable(dynamodb, settings.table_name),
        clock=_clock(settings),
        new_id=TableSequence(dynamodb, settings.table_name),
    )


@per_function
def dunning_review() -> DunningReview:
    settings = dunning_settings()
    return DunningReview(
        store=dunning_table(),
        messenger=dunning_messenger(),
        letters=S3LetterBox(aws_client("s3"), settings.outbound_bucket),
        events=BatchingEventBridgePublisher(aws_client("events"), settings.event_bus_name, DUNNING_SOURCE),
        clock=_clock(settings),
        company_name=settings.company_name,
        threads=settings.review_threads,
    )


@per_function
def policy_event_settings() -> PolicyEventSettings:
    return PolicyEventSettings.from_environment()


@per_function
def policy_event_intake() -> PolicyEventIntake:
    settings = policy_event_settings()
    clock = _clock(settings)
    dynamodb = aws_client("dynamodb")
    store = InsuranceTable(dynamodb, settings.table_name, clock=clock)
    rules = S3InsuranceRules(aws_client("s3"), settings.inbound_bucket)
    operations = AccountOperations(
        store=PaymentsTable(dynamodb, settings.table_name, policies=allocation_policies(settings.table_name)),
        clock=clock,
        completion=payment_events,
    )
    return PolicyEventIntake(
        service=PolicyEventService(
            store=store,
            rules=rules,
            clock=clock,
            changes=PolicyChanges(
                store=store, writes=PolicyTableWrites(clock), operations=operations, rules=rules, clock=clock
            ),
            claims=Payables(
                store=store, writes=PolicyTableWrites(clock), operations=operations, rules=rules, clock=clock
            ),
            reinsurance=Reinsurance(store=store, writes=PolicyTableWrites(clock), rules=rules, clock=clock),
        ),
        files=S3FileStore(aws_client("s3")),
        retries=SqsRetryQueue(aws_client("sqs"), settings.policy_events_queue_url),
        events=EventBridgePublisher(aws_client("events"), settings.event_bus_name, INSURANCE_SOURCE),
        follow_up=LedgerFollowUp(
            ledger=LedgerTable(dynamodb, settings.table_name, clock=clock),
            credit=CreditApplication(operations=operations),
        ),
        clock=clock,
        retry_delays=settings.retry_delays,
    )


@per_function
def policy_follow_up() -> PolicyFollowUp:
    settings = PolicySettlementSettings.from_environment()
    clock = _clock(settings)
    dynamodb = aws_client("dynamodb")
    store = InsuranceTable(dynamodb, settings.table_name, clock=clock)
    rules = S3InsuranceRules(aws_client("s3"), settings.inbound_bucket)
    writes = PolicyTableWrites(clock)
    operations = AccountOperations(
        store=PaymentsTable(dynamodb, settings.table_name, policies=allocation_policies(settings.table_name)),
        clock=clock,
        completion=payment_events,
    )
    return PolicyFollowUp(
        store=store,
        directory=store,
        writes=writes,
        operations=operations,
        changes=PolicyChanges(store=store, writes=writes, operations=operations, rules=rules, clock=clock),
        commissions=CommissionSettlement(store=store),
        agency_bill=AgencyBill(
            store=store, writes=AgencyTableWrites(), operations=operations, output=None, rules=rules, clock=clock
        ),
        rules=rules,
        clock=clock,
    )


def _agency_bill(settings: TableSettings, inbound_bucket: str, output: S3StatementOutput | None) -> AgencyBill:
    clock = _clock(settings)
    dynamodb = aws_client("dynamodb")
    return AgencyBill(
        store=InsuranceTable(dynamodb, settings.table_name, clock=clock),
        writes=AgencyTableWrites(),
        operations=AccountOperations(
            store=PaymentsTable(dynamodb, settings.table_name, policies=allocation_policies(settings.table_name)),
            clock=clock,
            completion=payment_events,
        ),
        output=output,
        rules=S3InsuranceRules(aws_client("s3"), inbound_bucket),
        clock=clock,
    )


@per_function
def agency_statement_settings() -> AgencyStatementSettings:
    return AgencyStatementSettings.from_environment()


@per_function
def agency_statements() -> AgencyBill:
    settings = agency_statement_settings()
    messenger = AwsMessenger(aws_client("ses"), aws_client("sns"), settings.notify_from)
    output = S3StatementOutput(aws_client("s3"), settings.outbound_bucket, messenger, settings.company_name)
    return _agency_bill(settings, settings.inbound_bucket, output)


def _payables(settings: Any) -> Payables:
    clock = _clock(settings)
    dynamodb = aws_client("dynamodb")
    return Payables(
        store=InsuranceTable(dynamodb, settings.table_name, clock=clock),
        writes=PolicyTableWrites(clock),
        operations=_account_operations(settings, clock),
        rules=S3InsuranceRules(aws_client("s3"), settings.inbound_bucket),
        clock=clock,
    )


def _account_operations(settings: Any, clock: Any) -> AccountOperations:
    return AccountOperations(
        store=PaymentsTable(
            aws_client("dynamodb"), settings.table_name, policies=allocation_policies(settings.table_name)
        ),
        clock=clock,
        completion=payment_events,
    )


@per_function
def insurance_payables() -> Payables:
    """Approving payables through the API (four eyes), netting a party."""
    return _payables(insurance_api_settings())


@per_function
def reinsurance_statements() -> ReinsuranceStatements:
    """The quarter's hesap cetveli per reinsurer, then its settlement (run with the agency statements)."""
    settings = agency_statement_settings()
    clock = _clock(settings)
    store = InsuranceTable(aws_client("dynamodb"), settings.table_name, clock=clock)
    return ReinsuranceStatements(
        store=store,
        lines=store,
        writes=PolicyTableWrites(clock),
        operations=_account_operations(settings, clock),
        netting=_payables(settings),
        output=S3ReinsuranceStatementOutput(aws_client("s3"), settings.outbound_bucket, settings.company_name),
        rules=S3InsuranceRules(aws_client("s3"), settings.inbound_bucket),
        clock=clock,
    )


@per_function
def insurance_exceptions() -> AgencyBill:
    """Resolving exceptions through the API (a write-off runs on the agency's account)."""
    settings = insurance_api_settings()
    return _agency_bill(settings, settings.inbound_bucket, None)


@per_function
def insurance_api_settings() -> InsuranceApiSettings:
    return InsuranceApiSettings.from_environment()


@per_function
def payout_reader() -> PayoutTable:
    """``GET /transfers/{end_to_end_id}``: a payable's transfer as the bank last answered it."""
    settings = insurance_api_settings()
    return PayoutTable(aws_client("dynamodb"), settings.table_name, clock=_clock(settings))


@per_function
def insurance_reader() -> InsuranceTable:
    settings = insurance_api_settings()
    return InsuranceTable(aws_client("dynamodb"), settings.table_name, clock=_clock(settings))


@per_function
def insurance_rules() -> S3InsuranceRules:
    return S3InsuranceRules(aws_client("s3"), insurance_api_settings().inbound_bucket)


def reset() -> None:
    """Forget every composition root (and boto3 client) of every function: the next invocation is a cold start."""
    for build in _CACHES:
        build.cache_clear()


# What each function of the topology builds at cold start: every factory its handler and its routes call. A test
# builds them for each function from only the environment CDK gives it (tests/infra/test_function_environments.py);
# a function missing here fails tests/unit/test_function_settings.py.
@per_function
def gl_daybook_settings() -> DaybookSettings:
    return DaybookSettings.from_environment()


@per_function
def gl_daybook() -> S3Daybook:
    settings = gl_daybook_settings()
    return S3Daybook(aws_client("s3"), settings.outbound_bucket, aws_client("dynamodb"), settings.table_name)


@per_function
def bi_export_settings() -> BiExportSettings:
    return BiExportSettings.from_environment()


@per_function
def bi_export() -> BiExport:
    settings = bi_export_settings()
    return BiExport(
        dynamodb=aws_client("dynamodb"),
        s3=aws_client("s3"),
        table=settings.table_name,
        outbound_bucket=settings.outbound_bucket,
        analytics_bucket=settings.analytics_bucket,
    )


@per_function
def gl_export_settings() -> GlExportSettings:
    return GlExportSettings.from_environment()


@per_function
def gl_export() -> GeneralLedgerExport:
    settings = gl_export_settings()
    s3, dynamodb = aws_client("s3"), aws_client("dynamodb")
    return GeneralLedgerExport(
        daybook=S3Daybook(s3, settings.outbound_bucket, dynamodb, settings.table_name),
        targets=TableTargets(dynamodb, settings.table_name),
        files=S3GlFiles(s3, settings.outbound_bucket),
        records=TableGlRecords(dynamodb, settings.table_name),
        charts=S3ChartSource(s3, settings.inbound_bucket),
    )


@per_function
def gl_records() -> TableGlRecords:
    """``GET /gl/{date}``: the export's control record."""
    settings = insurance_api_settings()
    return TableGlRecords(aws_client("dynamodb"), settings.table_name)


COMPOSITION_ROOTS: Mapping[str, tuple[Callable[[], object], ...]] = {
    "plan_inbound_file": (planner_service,),
    "load_file_chunk": (chunk_loader_service,),
    "load_bank_file": (bank_file_service,),
    "api": (ledger_reader, account_journal, stories, report_sources),
    "payments_api": (
        manual_payments_settings,
        manual_payments,
        bank_profile_store,
        collection_profile_store,
        adjustments,
    ),
    "direct_debits": (direct_debit_settings, direct_debit_service, collection_table),
    "pay_out": (payout_settings, payout_service),
    "collect_by_card": (card_collection_settings, card_collections),
    "gl_daybook": (gl_daybook_settings, gl_daybook),
    "gl_export": (gl_export_settings, gl_export),
    "bi_export": (bi_export_settings, bi_export),
    "plan_daily_run": (daily_run_settings, daily_run_planner),
    "dunning_worker": (dunning_review,),
    "dunning_api": (dunning_commands, dunning_table, cycle_reader),
    "send_deferred_sms": (deferred_sms_settings, dunning_table, dunning_messenger),
    "publish_events": (outbox_publisher,),
    "verify_ledger": (ledger_verifier,),
    "load_policy_events": (policy_event_settings, policy_event_intake),
    "settle_policies": (policy_follow_up,),
    "insurance_api": (
        insurance_reader,
        payout_reader,
        gl_records,
        insurance_rules,
        account_journal,
        insurance_exceptions,
    ),
    "agency_statements": (agency_statement_settings, agency_statements, reinsurance_statements),
}


def cold_start(function: str) -> None:
    """Build everything ``function`` needs, so that a missing or malformed setting fails its start, not a request."""
    for factory in COMPOSITION_ROOTS[function]:
        factory()
