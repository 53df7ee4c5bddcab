"""Alarms that page someone, and one dashboard that shows the business and the system at a glance.

Every alarm here has its runbook section in ``docs/operations.md`` under its construct id (the middle part of the
alarm's name in AWS, ``<stack>-Monitoring<construct id><hash>-<suffix>``); ``tests/infra/test_operations_runbook.py``
fails the build for an alarm without one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from receivables.dunning.config import Action, Channel

from . import ids

PERIOD = Duration.minutes(5)
# Business figures are read per hour and per day; five-minute bars of a daily batch say nothing.
BUSINESS_PERIOD = Duration.hours(1)
DAY = Duration.days(1)
# What every function's Powertools Metrics writes under (topology.function_environment), with the default
# ``service`` dimension.
METRICS_NAMESPACE = "Receivables"
BUSINESS_TIMEZONE = "Europe/Istanbul"
# The daily run starts at 09:00 (topology schedule ``daily-run``); by 10:00 it has finished, retries included.
DAILY_RUN_DEADLINE = time(10, 0)
# Payments that went to suspense on this many business days in a row: matching is failing, not one odd payer.
SUSPENSE_GROWTH_DAYS = 3
# What functions/load_bank_file emits per outcome of a bank entry (``Payments<Outcome>``).
BANK_ENTRY_OUTCOMES = ("Applied", "Credit", "Unmatched", "Reversed", "Duplicate", "Rejected", "NotCash")
_OFFSET_REFERENCE_DAY = date(2026, 1, 15)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: str,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        queues: Mapping[str, sqs.IQueue],
        rest_api: apigw.RestApi | None,
        ledger_checked: bool = False,
        stream_consumers: Sequence[str] = (),
        gl_exported: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self._service = service
        # Subscriptions (e-mail, chat, pager) are added per environment, outside the stack. Not KMS-encrypted:
        # CloudWatch alarms cannot publish to a topic under the AWS-managed aws/sns key, and the notifications
        # carry alarm names and metric values only, never customer data.
        self.alarm_topic = sns.Topic(self, ids.ALARM_TOPIC, display_name=f"{service} alarms", enforce_ssl=True)
        self._action = cw_actions.SnsAction(self.alarm_topic)
        self.alarms: list[cloudwatch.Alarm] = []

        for name, dlq in sorted(dead_letter_queues.items()):
            # Anything in a DLQ is a message that failed every retry: someone must look at it.
            self._alarm(
                f"{ids.pascal(name)}DlqNotEmpty",
                dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"),
                description=f"Messages in the dead-letter queue of '{name}'",
            )
        for name, function in sorted(functions.items()):
            self._alarm(
                f"{ids.pascal(name)}Errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                description=f"Function '{name}' raised errors",
            )

        for name in sorted(stream_consumers):
            # A stream consumer an hour behind: the outbox is not publishing, or the GL daybook would stage
            # postings after their day's export (docs/general-ledger.md).
            self._alarm(
                f"{ids.pascal(name)}IteratorAge",
                cloudwatch.Metric(
                    namespace="AWS/Lambda",
                    metric_name="IteratorAge",
                    dimensions_map={"FunctionName": functions[name].function_name},
                    period=PERIOD,
                    statistic="Maximum",
                ),
                description=f"The table stream consumer '{name}' is more than an hour behind",
                threshold=3_600_000,
            )
        if gl_exported:
            self._alarm(
                "GlExportUnbalanced",
                self._business_metric("GlExportsUnbalanced", statistic="Maximum", period=DAY),
                description="A general-ledger export whose debits and credits differ in some currency",
            )

        if ledger_checked:
            # The nightly proof of every balance from the journal (functions/verify_ledger): one difference is one
            # too many.
            self._alarm(
                "LedgerDifferences",
                self._business_metric("LedgerDifferences", statistic="Maximum", period=DAY),
                description="verify_ledger found stored balances that the journal does not prove",
            )

        self.business_alarms: list[cloudwatch.Alarm] = []
        if "plan_daily_run" in functions:
            self.business_alarms.append(self._daily_run_alarm())
        if "load_bank_file" in functions:
            self.business_alarms.append(self._suspense_alarm())

        self.dashboard = cloudwatch.Dashboard(self, ids.DASHBOARD, dashboard_name=f"{service}-overview")
        self._business_widgets(functions)
        self._system_widgets(functions, dead_letter_queues, queues, rest_api)

    # -- alarms on the business --------------------------------------------------------------------------------------
    def _daily_run_alarm(self) -> cloudwatch.Alarm:
        """The daily run has not completed by 10:00 Europe/Istanbul.

        CloudWatch cannot evaluate an alarm at a time of day, and an alarm here is "more than nothing" (threshold 0,
        GreaterThan: tests/infra/test_resources.py holds every alarm to it), so the planner reports a heartbeat,
        ``DailyRunsMissed`` = 0, when it finishes (functions/plan_daily_run), and a day with no heartbeat is the
        breach (missing data is BREACHING). The day is a wall-clock window whose midnight is 10:00 in Istanbul: the
        alarm looks once a day, at 10:00, at the 24 hours before, which hold the 09:00 run and its retries.
        """
        return self._alarm(
            "DailyRunNotCompleted",
            self._business_metric("DailyRunsMissed", statistic="Maximum", period=DAY),
            description=f"The daily dunning run (plan_daily_run, 09:00) had not completed by "
            f"{DAILY_RUN_DEADLINE:%H:%M} {BUSINESS_TIMEZONE}",
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            day_ends_in=zone_whose_midnight_is(DAILY_RUN_DEADLINE, BUSINESS_TIMEZONE),
        )

    def _suspense_alarm(self) -> cloudwatch.Alarm:
        # Arrivals into suspense (functions/load_bank_file: PaymentsUnmatched), per business day: an odd payer now and
        # then is normal; payments nobody can match on three days running mean matching or master data is broken.
        # A day without bank files has no datapoint and breaks the run (NOT_BREACHING).
        return self._alarm(
            "SuspenseGrowing",
            self._business_metric("PaymentsUnmatched", period=DAY),
            description=f"Bank payments went to suspense on {SUSPENSE_GROWTH_DAYS} business days in a row",
            evaluation_periods=SUSPENSE_GROWTH_DAYS,
            datapoints_to_alarm=SUSPENSE_GROWTH_DAYS,
            day_ends_in=BUSINESS_TIMEZONE,
        )

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        description: str,
        threshold: float = 0,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        treat_missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
        day_ends_in: str | None = None,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            alarm_description=description,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=treat_missing_data,
        )
        if day_ends_in is not None:
            # A wall-clock window (not the default sliding one): each period is a calendar day in that zone, judged
            # once, when it is complete. The L2 Alarm does not offer it yet.
            cfn = alarm.node.default_child
            assert isinstance(cfn, cloudwatch.CfnAlarm)
            cfn.evaluation_window = cloudwatch.CfnAlarm.EvaluationWindowProperty(
                wall_clock_window=cloudwatch.CfnAlarm.WallClockWindowProperty(timezone=day_ends_in)
            )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def _business_metric(
        self, name: str, *, statistic: str = "Sum", period: Duration = BUSINESS_PERIOD, label: str | None = None
    ) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={"service": self._service},
            period=period,
            statistic=statistic,
            label=label,
        )

    # -- the dashboard ---------------------------------------------------------------------------------------------
    def _business_widgets(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        """What the business asks first: did the files load, were the payments matched, did dunning go out."""
        metric = self._business_metric
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(markdown="## Business (metrics per hour; runbook: docs/operations.md)", width=24)
        )
        self.dashboard.add_widgets(
            _graph(
                "Inbound files: loaded and rejected",
                [
                    metric(name)
                    for name in ("FilesPlanned", "FilesLoaded", "FilesDuplicate", "FilesRejected", "ChunksLoaded")
                ],
            ),
            _graph(
                "Bank payments: matched, credit, suspense",
                [
                    metric(f"Payments{outcome}", label="suspense" if outcome == "Unmatched" else outcome)
                    for outcome in BANK_ENTRY_OUTCOMES
                ],
            ),
            _graph("Payments into suspense per day", [metric("PaymentsUnmatched", period=DAY, label="suspense")]),
        )
        self.dashboard.add_widgets(
            # Names as functions/dunning_worker emits them: Notices<Channel>, Actions<Action>.
            _graph(
                "Dunning steps by channel",
                [metric(f"Notices{_metric_case(c.value)}", label=c.value) for c in Channel],
            ),
            _graph(
                "Dunning actions and accounts reviewed",
                [metric(f"Actions{_metric_case(a.value)}", label=a.value) for a in Action]
                + [metric("AccountsReviewed", label="accounts reviewed")],
            ),
            # Collector tasks are the dunning steps of channel call_task; an agency in arrears is an exception report.
            _graph(
                "Collector tasks and exceptions created",
                [
                    metric(f"Notices{_metric_case(Channel.CALL_TASK.value)}", label="collector tasks"),
                    metric(f"Actions{_metric_case(Action.EXCEPTION_REPORT.value)}", label="exception reports"),
                ],
            ),
        )
        row: list[cloudwatch.IWidget] = []
        if "plan_daily_run" in functions:
            row.append(
                # The heartbeat's sample count is the number of runs that completed that day.
                _graph(
                    "Daily run completed",
                    [metric("DailyRunsMissed", statistic="SampleCount", period=DAY, label="runs completed")],
                )
            )
            row.append(
                _log_query(
                    "Accounts due per daily run",
                    functions["plan_daily_run"],
                    'filter message = "daily run planned"',
                    "stats max(accounts_due) as accounts_due by bin(1d)",
                )
            )
        if "send_deferred_sms" in functions:
            # send_deferred_sms emits no metric; its log line carries what it sent.
            row.append(
                _log_query(
                    "Deferred SMS sent after quiet hours",
                    functions["send_deferred_sms"],
                    'filter message = "deferred SMS sent"',
                    "stats sum(sent) as sent by bin(1h)",
                )
            )
        if row:
            self.dashboard.add_widgets(*row)
        self.dashboard.add_widgets(
            _graph(
                "Ledger proof and general ledger (per day)",
                [
                    metric("LedgerDifferences", statistic="Maximum", period=DAY),
                    metric("GlExportsUnbalanced", statistic="Maximum", period=DAY),
                    metric("GlPostingsUnmapped", period=DAY),
                ],
            ),
            cloudwatch.AlarmStatusWidget(title="Business alarms", alarms=self.business_alarms, width=8)
            if self.business_alarms
            else cloudwatch.TextWidget(markdown="No business alarms in this topology", width=8),
        )

    def _system_widgets(
        self,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        queues: Mapping[str, sqs.IQueue],
        rest_api: apigw.RestApi | None,
    ) -> None:
        self.dashboard.add_widgets(cloudwatch.TextWidget(markdown="## Functions, queues and the API", width=24))
        fns = sorted(functions.items())
        self.dashboard.add_widgets(
            _graph("Invocations", [f.metric_invocations(period=PERIOD, label=n) for n, f in fns]),
            _graph("Errors", [f.metric_errors(period=PERIOD, label=n) for n, f in fns]),
            _graph("Duration p95", [f.metric_duration(period=PERIOD, statistic="p95", label=n) for n, f in fns]),
            _graph("Throttles", [f.metric_throttles(period=PERIOD, label=n) for n, f in fns]),
        )
        self.dashboard.add_widgets(
            _graph(
                "Queue depth",
                [q.metric_approximate_number_of_messages_visible(period=PERIOD, label=n) for n, q in queues.items()],
            ),
            _graph(
                "Oldest message age (s)",
                [q.metric_approximate_age_of_oldest_message(period=PERIOD, label=n) for n, q in queues.items()],
            ),
            _graph(
                "Dead-letter depth",
                [
                    q.metric_approximate_number_of_messages_visible(period=PERIOD, label=n)
                    for n, q in dead_letter_queues.items()
                ],
            ),
        )
        if rest_api is not None:
            self.dashboard.add_widgets(
                _graph("API requests", [rest_api.metric_count(period=PERIOD)]),
                _graph(
                    "API errors",
                    [
                        rest_api.metric_client_error(period=PERIOD),
                        rest_api.metric_server_error(period=PERIOD),
                    ],
                ),
                _graph("API latency p95", [rest_api.metric_latency(period=PERIOD, statistic="p95")]),
            )


def zone_whose_midnight_is(moment: time, zone: str) -> str:
    """The fixed UTC offset (``UTC-07:00``) whose midnight is ``moment`` in ``zone``: a wall-clock day there ends at
    that time of day here. Exact for a zone without daylight saving time (Europe/Istanbul is UTC+3 all year); for
    another it holds only for the half of the year ``_OFFSET_REFERENCE_DAY`` is in."""
    offset = datetime.combine(_OFFSET_REFERENCE_DAY, moment, tzinfo=ZoneInfo(zone)).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    # Midnight in UTC+x is ``moment`` in UTC+o when x = o − moment (modulo a day), brought into −12:00…+11:59.
    minutes = int(offset.total_seconds()) // 60 - (moment.hour * 60 + moment.minute)
    minutes = (minutes + 12 * 60) % (24 * 60) - 12 * 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _metric_case(value: str) -> str:
    """``call_task`` → ``CallTask``: how the handlers spell an outcome in a metric name."""
    return value.title().replace("_", "")


def _graph(title: str, metrics: Sequence[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(metrics), width=8)


def _log_query(title: str, function: lambda_.IFunction, *query: str) -> cloudwatch.LogQueryWidget:
    # The stack's own functions (compute.ReceivablesFunction), each with its log group; an imported one has none.
    assert isinstance(function, lambda_.Function), f"{function} has no log group of its own to query"
    return cloudwatch.LogQueryWidget(
        title=title,
        log_group_names=[function.log_group.log_group_name],
        query_lines=list(query),
        view=cloudwatch.LogQueryVisualizationType.BAR,
        width=8,
    )
