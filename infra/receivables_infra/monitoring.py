"""Alarms that page someone, and one dashboard that shows the system at a glance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import ids

PERIOD = Duration.minutes(5)


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
        # Subscriptions (e-mail, chat, pager) are added per environment, outside the stack. Not KMS-encrypted:
        # CloudWatch alarms cannot publish to a topic under the AWS-managed aws/sns key, and the notifications
        # carry alarm names and metric values only, never customer data.
        self.alarm_topic = sns.Topic(self, ids.ALARM_TOPIC, display_name=f"{service} alarms", enforce_ssl=True)
        action = cw_actions.SnsAction(self.alarm_topic)
        self.alarms: list[cloudwatch.Alarm] = []

        for name, dlq in sorted(dead_letter_queues.items()):
            # Anything in a DLQ is a message that failed every retry: someone must look at it.
            self._alarm(
                f"{ids.pascal(name)}DlqNotEmpty",
                dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"),
                description=f"Messages in the dead-letter queue of '{name}'",
                action=action,
            )
        for name, function in sorted(functions.items()):
            self._alarm(
                f"{ids.pascal(name)}Errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                description=f"Function '{name}' raised errors",
                action=action,
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
                action=action,
                threshold=3_600_000,
            )
        if gl_exported:
            self._alarm(
                "GlExportUnbalanced",
                cloudwatch.Metric(
                    namespace="Receivables",
                    metric_name="GlExportsUnbalanced",
                    dimensions_map={"service": service},
                    period=Duration.days(1),
                    statistic="Maximum",
                ),
                description="A general-ledger export whose debits and credits differ in some currency",
                action=action,
            )

        if ledger_checked:
            # The nightly proof of every balance from the journal (functions/verify_ledger): one difference is one
            # too many.
            self._alarm(
                "LedgerDifferences",
                cloudwatch.Metric(
                    namespace="Receivables",
                    metric_name="LedgerDifferences",
                    dimensions_map={"service": service},
                    period=Duration.days(1),
                    statistic="Maximum",
                ),
                description="verify_ledger found stored balances that the journal does not prove",
                action=action,
            )

        self.dashboard = cloudwatch.Dashboard(self, ids.DASHBOARD, dashboard_name=f"{service}-overview")
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

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        description: str,
        action: cloudwatch.IAlarmAction,
        threshold: float = 0,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            alarm_description=description,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        self.alarms.append(alarm)


def _graph(title: str, metrics: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=metrics, width=8)
