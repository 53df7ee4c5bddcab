"""Every AWS resource of the topology, created on the embedded stack under physical names
``<prefix>-<logical>``.

Everything here is derived from :data:`receivables.topology.TOPOLOGY`; adding a queue, an index or a trigger
there is all it takes for the local stack to have it. Two things are local-only and say so in their names:

* the *tap*: a catch-all rule on the bus whose target is the queue ``<prefix>-local-bus-tap``. moto cannot
  invoke a Lambda target (a rule with one makes PutEvents fail), so the runtime reads every bus event from the
  tap and routes it to the BusTrigger functions itself; the demo summary reads the same events.
* the rules of BusTriggers are created with their event patterns but without targets, for the same reason;
  they exist so that the local bus looks like the deployed one (``aws events list-rules``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from receivables.settings import DEFAULT_NOTIFY_FROM
from receivables.topology import (
    BusTrigger,
    ResourceKind,
    S3Trigger,
    StreamTrigger,
    Table,
    Topology,
    create_table_request,
)

TAP_QUEUE = "local-bus-tap"
TAP_RULE = "local-bus-tap"
DLQ_SUFFIX = "-dlq"


@dataclass(frozen=True, slots=True)
class QueueInfo:
    logical: str
    name: str
    url: str
    arn: str
    dlq_url: str | None = None


@dataclass(frozen=True)
class Resources:
    """Physical names of what :func:`provision` created, looked up by logical name."""

    prefix: str
    buckets: dict[str, str]
    queues: dict[str, QueueInfo]
    table: str
    bus: str
    tap: QueueInfo
    bus_rules: dict[str, str] = field(default_factory=dict)
    # Dead-letter queues of bus rules' and stream triggers' targets, by their topology name.
    trigger_dlqs: dict[str, QueueInfo] = field(default_factory=dict)
    stream_arn: str | None = None

    def physical(self, kind: ResourceKind, logical: str) -> str:
        """The ``physical`` callback of :func:`receivables.topology.function_environment`."""
        match kind:
            case "bucket":
                return self.buckets[logical]
            case "queue":
                return self.queues[logical].url
            case "table":
                return self.table
            case "bus":
                return self.bus
        raise ValueError(f"unknown resource kind {kind!r}")


def physical_name(prefix: str, logical: str) -> str:
    return f"{prefix}-{logical}"


def provision(topology: Topology, clients: Callable[[str], Any], prefix: str) -> Resources:
    """Create every resource; call on an empty stack (after :meth:`EmbeddedStack.reset` when reusing one)."""
    buckets = _create_buckets(topology, clients("s3"), prefix)
    queues = {q.name: _create_queue(clients("sqs"), prefix, q.name, q) for q in topology.queues}
    tap = _create_queue(clients("sqs"), prefix, TAP_QUEUE, None)
    _connect_s3_notifications(topology, clients("s3"), clients("sqs"), buckets, queues)
    table = create_table(clients("dynamodb"), physical_name(prefix, topology.table.name), topology.table)
    bus, rules = _create_bus(topology, clients("events"), clients("sqs"), prefix, tap)
    trigger_dlqs = {
        name: _create_queue(clients("sqs"), prefix, name, None)
        for name in [t.dead_letter_queue for _f, t in topology.triggers_of_kind(BusTrigger)]
        + [t.dead_letter_queue for _f, t in topology.triggers_of_kind(StreamTrigger)]
    }
    stream_arn = clients("dynamodb").describe_table(TableName=table)["Table"].get("LatestStreamArn")
    # SES sends only from verified identities; in AWS verifying the sender is an operator's setup step.
    clients("ses").verify_email_identity(EmailAddress=DEFAULT_NOTIFY_FROM)
    return Resources(
        prefix=prefix,
        buckets=buckets,
        queues=queues,
        table=table,
        bus=bus,
        tap=tap,
        bus_rules=rules,
        trigger_dlqs=trigger_dlqs,
        stream_arn=stream_arn,
    )


def _create_buckets(topology: Topology, s3: Any, prefix: str) -> dict[str, str]:
    names = {}
    for bucket in topology.buckets:
        name = physical_name(prefix, bucket.name)
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
        names[bucket.name] = name
    return names


def _queue_arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _create_queue(sqs: Any, prefix: str, logical: str, spec: Any | None) -> QueueInfo:
    """A queue and, when the topology declares it (``spec``), its DLQ with the redrive policy."""
    name = physical_name(prefix, logical)
    if spec is None:
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        return QueueInfo(logical=logical, name=name, url=url, arn=_queue_arn(sqs, url))
    retention = str(spec.retention_days * 86_400)
    dlq_url = sqs.create_queue(
        QueueName=name + DLQ_SUFFIX,
        # AWS keeps DLQ messages for the maximum, 14 days, so they outlive their source's retention.
        Attributes={"MessageRetentionPeriod": str(14 * 86_400)},
    )["QueueUrl"]
    redrive = {
        "deadLetterTargetArn": _queue_arn(sqs, dlq_url),
        "maxReceiveCount": str(spec.max_receive_count),
    }
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(spec.visibility_timeout_seconds),
            "MessageRetentionPeriod": retention,
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    return QueueInfo(logical=logical, name=name, url=url, arn=_queue_arn(sqs, url), dlq_url=dlq_url)


def _allow_service_to_send(sqs: Any, queue: QueueInfo, service: str, source_arns: list[str]) -> None:
    """The queue policy AWS requires before S3 / EventBridge may deliver; moto does not check it, AWS does."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sqs:SendMessage",
                "Resource": queue.arn,
                "Condition": {"ArnLike": {"aws:SourceArn": sorted(source_arns)}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue.url, Attributes={"Policy": json.dumps(policy)})


def _connect_s3_notifications(
    topology: Topology, s3: Any, sqs: Any, buckets: dict[str, str], queues: dict[str, QueueInfo]
) -> None:
    configurations: dict[str, list[dict[str, Any]]] = {}
    senders: dict[str, set[str]] = {}
    for _function, trigger in topology.triggers_of_kind(S3Trigger):
        queue = queues[trigger.queue]
        bucket = buckets[trigger.bucket]
        senders.setdefault(trigger.queue, set()).add(f"arn:aws:s3:::{bucket}")
        for key_prefix in trigger.prefixes:
            configurations.setdefault(bucket, []).append(
                {
                    "Id": f"{trigger.queue}-{key_prefix}".replace("/", "-").strip("-"),
                    "QueueArn": queue.arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": key_prefix}]}},
                }
            )
    # The policy first: S3 validates the destination when the notification configuration is put.
    for logical, arns in senders.items():
        _allow_service_to_send(sqs, queues[logical], "s3.amazonaws.com", list(arns))
    for bucket, queue_configurations in configurations.items():
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": queue_configurations}
        )


def create_table(dynamodb: Any, name: str, table: Table) -> str:
    """The table as the topology describes it: keys, every GSI and its projection, TTL."""
    dynamodb.create_table(**create_table_request(table, name))
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    if table.ttl_attribute:
        # DynamoDB Local accepts the setting (and never expires anything); set for parity with AWS.
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
        )
    return name


def _create_bus(topology: Topology, events: Any, sqs: Any, prefix: str, tap: QueueInfo) -> tuple[str, dict[str, str]]:
    bus = physical_name(prefix, topology.event_bus)
    events.create_event_bus(Name=bus)
    rules: dict[str, str] = {}
    for _function, trigger in topology.triggers_of_kind(BusTrigger):
        rule = physical_name(prefix, trigger.rule)
        # An empty tuple in the topology filters nothing (EventBridge rejects empty lists in a pattern).
        pattern = {
            key: list(values)
            for key, values in (("source", trigger.sources), ("detail-type", trigger.detail_types))
            if values
        } or {"source": [{"prefix": ""}]}
        events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
        rules[trigger.rule] = rule
    tap_rule = physical_name(prefix, TAP_RULE)
    # An empty prefix matches every source, i.e. every event on the bus.
    rule_arn = events.put_rule(Name=tap_rule, EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": ""}]}))[
        "RuleArn"
    ]
    events.put_targets(Rule=tap_rule, EventBusName=bus, Targets=[{"Id": "tap", "Arn": tap.arn}])
    _allow_service_to_send(sqs, tap, "events.amazonaws.com", [rule_arn])
    return bus, rules
