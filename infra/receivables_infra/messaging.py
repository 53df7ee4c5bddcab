"""SQS queues (each with its dead-letter queue) and the system event bus, from the topology."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from receivables.topology import Queue

from . import ids
from .nag import acknowledge

# The maximum SQS allows: a message that failed max_receive_count times waits here for a human for two weeks.
DLQ_RETENTION = Duration.days(14)


class Messaging(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, queues: tuple[Queue, ...], trigger_dlqs: tuple[str, ...] = ()
    ) -> None:
        super().__init__(scope, construct_id)
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for spec in queues:
            self.queues[spec.name], self.dead_letter_queues[spec.name] = self._queue_with_dlq(spec)
        # Dead-letter queues of bus-rule targets and stream event sources: what failed every retry waits here.
        for name in trigger_dlqs:
            dlq = sqs.Queue(
                self,
                ids.queue(name),
                retention_period=DLQ_RETENTION,
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
            )
            acknowledge(
                dlq,
                "AwsSolutions-SQS3",
                "This queue is itself a dead-letter queue: the target DLQ of an EventBridge rule or the on-failure "
                "destination of a stream event source, which cdk-nag only recognises in SQS redrive policies.",
            )
            self.dead_letter_queues[name] = dlq
        # No explicit name: CDK derives a unique one, which the functions learn from their environment.
        self.event_bus = events.EventBus(self, ids.EVENT_BUS)

    def _queue_with_dlq(self, spec: Queue) -> tuple[sqs.Queue, sqs.Queue]:
        dlq = sqs.Queue(
            self,
            ids.dead_letter_queue(spec.name),
            retention_period=DLQ_RETENTION,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        queue = sqs.Queue(
            self,
            ids.queue(spec.name),
            visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
            retention_period=Duration.days(spec.retention_days),
            # SQS-managed SSE (not KMS): S3 event notifications cannot publish to a queue encrypted with the
            # AWS-managed aws/sqs key, and SSE-SQS needs no key policy.
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receive_count),
        )
        return queue, dlq
