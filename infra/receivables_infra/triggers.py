"""What makes each function run: S3 → SQS notifications, SQS event sources, schedules and bus rules.

API routes are the exception; they belong to the REST API (see :mod:`.api`).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as lambda_destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct
from receivables.topology import (
    BusTrigger,
    Function,
    Queue,
    S3Trigger,
    ScheduleTrigger,
    SqsTrigger,
    StreamTrigger,
    Topology,
)

from . import ids
from .compute import ReceivablesFunction
from .grants import GrantableResources
from .nag import acknowledge, arn_finding

# CDK's singleton that writes bucket notification configurations (a Lambda-backed custom resource).
_NOTIFICATIONS_HANDLER_ID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"


# EventBridge's own retries of a delivery to Lambda that failed (not of the function's errors: Lambda retries those).
EVENTBRIDGE_DELIVERY_RETRIES = 8


class TriggerError(ValueError):
    """A trigger in the topology cannot work as described."""


class Triggers(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topology: Topology,
        functions: Mapping[str, ReceivablesFunction],
        resources: GrantableResources,
    ) -> None:
        super().__init__(scope, construct_id)
        self._topology = topology
        self._functions = functions
        self._resources = resources

        for spec, s3_trigger in topology.triggers_of_kind(S3Trigger):
            self._s3_via_sqs(spec, s3_trigger)
        for spec, sqs_trigger in topology.triggers_of_kind(SqsTrigger):
            self._sqs(spec, sqs_trigger)
        for spec, schedule_trigger in topology.triggers_of_kind(ScheduleTrigger):
            self._schedule(spec, schedule_trigger)
        for spec, bus_trigger in topology.triggers_of_kind(BusTrigger):
            self._bus_rule(spec, bus_trigger)
        for spec, stream_trigger in topology.triggers_of_kind(StreamTrigger):
            self._stream(spec, stream_trigger)

        if topology.triggers_of_kind(S3Trigger):
            _acknowledge_notifications_handler(Stack.of(self))

    def _function(self, spec: Function) -> lambda_.Function:
        return self._functions[spec.name].function

    def _s3_via_sqs(self, spec: Function, trigger: S3Trigger) -> None:
        bucket = self._resources.bucket(trigger.bucket)
        destination = s3n.SqsDestination(self._resources.queue(trigger.queue))
        for prefix in trigger.prefixes:
            bucket.add_event_notification(
                s3.EventType.OBJECT_CREATED, destination, s3.NotificationKeyFilter(prefix=prefix)
            )
        self._consume(spec, trigger.queue, batch_size=trigger.batch_size)

    def _sqs(self, spec: Function, trigger: SqsTrigger) -> None:
        self._consume(
            spec,
            trigger.queue,
            batch_size=trigger.batch_size,
            max_batching_window_seconds=trigger.max_batching_window_seconds,
            max_concurrency=trigger.max_concurrency,
        )

    def _consume(
        self,
        spec: Function,
        queue_name: str,
        *,
        batch_size: int,
        max_batching_window_seconds: int = 0,
        max_concurrency: int | None = None,
    ) -> None:
        queue = self._resources.queue(queue_name)
        _check_visibility_timeout(spec, self._topology.queue(queue_name))
        window = Duration.seconds(max_batching_window_seconds) if max_batching_window_seconds else None
        self._function(spec).add_event_source(
            event_sources.SqsEventSource(
                queue,
                batch_size=batch_size,
                max_batching_window=window,
                max_concurrency=max_concurrency,
                # Handlers report the failed records of a batch; only those are redelivered (and, after
                # max_receive_count deliveries, moved to the DLQ) instead of the whole batch.
                report_batch_item_failures=True,
            )
        )

    def _schedule(self, spec: Function, trigger: ScheduleTrigger) -> None:
        function = self._function(spec)
        # An explicit role (CDK would otherwise make a shared one at stack level), so the acknowledgment below
        # sits on exactly this schedule's permissions; the target grants it lambda:InvokeFunction.
        role = iam.Role(
            self,
            f"{ids.schedule(trigger.name)}Role",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description=f"EventBridge Scheduler role of the {trigger.name} schedule",
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            "CDK's Lambda schedule target grants invoke on the function and its versions/aliases (<arn>:*); "
            "the wildcard covers only qualifiers of this one function.",
            findings=(arn_finding(function, ":*"),),
        )
        scheduler.Schedule(
            self,
            ids.schedule(trigger.name),
            description=f"{trigger.name}: {spec.description}"[:512],
            schedule=scheduler.ScheduleExpression.expression(trigger.cron, TimeZone.of(trigger.timezone)),
            target=scheduler_targets.LambdaInvoke(
                function, input=scheduler.ScheduleTargetInput.from_object(dict(trigger.input)), role=role
            ),
        )

    def _bus_rule(self, spec: Function, trigger: BusTrigger) -> None:
        function = self._function(spec)
        dlq = self._resources.dead_letter_queue(trigger.dead_letter_queue)
        events.Rule(
            self,
            ids.bus_rule(trigger.rule),
            description=f"{trigger.rule} → {spec.name}",
            event_bus=self._resources.event_bus,
            event_pattern=events.EventPattern(source=list(trigger.sources), detail_type=list(trigger.detail_types)),
            targets=[
                events_targets.LambdaFunction(
                    function,
                    # Events EventBridge cannot hand to Lambda at all (throttled, no permission) are kept too.
                    dead_letter_queue=dlq,
                    retry_attempts=EVENTBRIDGE_DELIVERY_RETRIES,
                    max_event_age=Duration.seconds(trigger.max_event_age_seconds),
                )
            ],
        )
        # The function runs the event asynchronously: what it still fails on after its retries is kept, not dropped.
        bus_triggers = [t for t in spec.triggers if isinstance(t, BusTrigger)]
        if bus_triggers[0] is not trigger:
            raise TriggerError(f"function {spec.name!r} has more than one bus trigger; give it one rule")
        function.configure_async_invoke(
            retry_attempts=trigger.retry_attempts,
            max_event_age=Duration.seconds(trigger.max_event_age_seconds),
            on_failure=lambda_destinations.SqsDestination(dlq),
        )

    def _stream(self, spec: Function, trigger: StreamTrigger) -> None:
        self._function(spec).add_event_source(
            event_sources.DynamoEventSource(
                self._resources.table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=trigger.batch_size,
                retry_attempts=trigger.retry_attempts,
                bisect_batch_on_error=True,
                report_batch_item_failures=True,
                on_failure=event_sources.SqsDlq(self._resources.dead_letter_queue(trigger.dead_letter_queue)),
                # Only records written with events reach the function: the same filter as the local runtime's.
                filters=[
                    lambda_.FilterCriteria.filter(
                        {
                            "eventName": lambda_.FilterRule.is_equal("INSERT"),
                            "dynamodb": {"NewImage": {attribute: {"S": lambda_.FilterRule.exists()}}},
                        }
                    )
                    for attribute in trigger.required_attributes
                ],
            )
        )


def _check_visibility_timeout(spec: Function, queue: Queue) -> None:
    # Lambda refuses an SQS event source whose visibility timeout is shorter than the function timeout (a
    # message would reappear while still being processed). Fail at synth with the fix instead of at deploy.
    if queue.visibility_timeout_seconds < spec.timeout_seconds:
        raise TriggerError(
            f"queue {queue.name!r} has a visibility timeout of {queue.visibility_timeout_seconds}s but "
            f"function {spec.name!r} may run {spec.timeout_seconds}s; raise the queue's "
            "visibility_timeout_seconds in the topology"
        )


def _acknowledge_notifications_handler(stack: Stack) -> None:
    handler = stack.node.try_find_child(_NOTIFICATIONS_HANDLER_ID)
    if handler is None:  # CDK renamed its singleton: the nag test then shows the findings to acknowledge.
        return
    acknowledge(
        handler,
        "AwsSolutions-IAM4",
        "CDK's own custom resource that writes S3 notification configurations uses "
        "AWSLambdaBasicExecutionRole; it runs only during deployments and is not configurable.",
        findings=("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",),
    )
