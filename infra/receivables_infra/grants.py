"""Least-privilege IAM from a function's :class:`~receivables.topology.Grants`, with the actions of
:mod:`receivables.permissions` (which the local stack checks every call against).

Table and bucket permissions are written out instead of using CDK's ``grant_read``/``grant_read_write``, which
grant wildcard actions (``s3:GetObject*``, ``s3:List*``, ``s3:DeleteObject*``…) and every index
(``table/index/*``). Here each access level is a short, reviewable action list and the table's indexes are
named one by one from the topology, so the only wildcard left is "objects in this bucket", which S3 cannot
express otherwise. Queues and the bus use CDK's grants, which are already exact (one ARN, no wildcard
actions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import Aws
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from receivables.permissions import (
    BUCKET_ACTIONS,
    OBJECT_ACTIONS,
    SEND_EMAIL_ACTIONS,
    SEND_SMS_ACTIONS,
    TABLE_ACTIONS,
)
from receivables.topology import Grants, ResourceKind, Table

from .nag import acknowledge, arn_finding


@dataclass(frozen=True, kw_only=True)
class GrantableResources:
    """The deployed resources a function's grants and environment refer to, by logical name."""

    table_spec: Table
    table: dynamodb.ITable
    buckets: Mapping[str, s3.IBucket]
    queues: Mapping[str, sqs.IQueue]
    event_bus: events.IEventBus
    dead_letter_queues: Mapping[str, sqs.IQueue] = field(default_factory=dict)

    def physical(self, kind: ResourceKind, logical_name: str) -> str:
        """Adapter for :func:`receivables.topology.function_environment`: CDK tokens for names and URLs."""
        match kind:
            case "table":
                return self.table.table_name
            case "bucket":
                return self._lookup(self.buckets, "bucket", logical_name).bucket_name
            case "queue":
                return self._lookup(self.queues, "queue", logical_name).queue_url
            case "bus":
                return self.event_bus.event_bus_name
        raise ValueError(f"unknown resource kind {kind!r}")

    def bucket(self, name: str) -> s3.IBucket:
        return self._lookup(self.buckets, "bucket", name)

    def queue(self, name: str) -> sqs.IQueue:
        return self._lookup(self.queues, "queue", name)

    def dead_letter_queue(self, name: str) -> sqs.IQueue:
        return self._lookup(self.dead_letter_queues, "dead-letter queue", name)

    @staticmethod
    def _lookup[T](items: Mapping[str, T], kind: str, name: str) -> T:
        try:
            return items[name]
        except KeyError:
            known = ", ".join(sorted(items)) or "none"
            raise KeyError(
                f"topology refers to {kind} {name!r}, which the topology does not define ({known})"
            ) from None


def apply_grants(role: iam.Role, grants: Grants, resources: GrantableResources) -> None:
    """Give ``role`` exactly what ``grants`` names."""
    if grants.table is not None:
        table_arn = resources.table.table_arn
        index_arns = [f"{table_arn}/index/{index.name}" for index in resources.table_spec.indexes]
        role.add_to_policy(
            iam.PolicyStatement(actions=list(TABLE_ACTIONS[grants.table]), resources=[table_arn, *index_arns])
        )

    for name, access in sorted(grants.buckets.items()):
        bucket = resources.bucket(name)
        if BUCKET_ACTIONS[access]:
            role.add_to_policy(iam.PolicyStatement(actions=list(BUCKET_ACTIONS[access]), resources=[bucket.bucket_arn]))
        role.add_to_policy(
            iam.PolicyStatement(actions=list(OBJECT_ACTIONS[access]), resources=[bucket.arn_for_objects("*")])
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            f"Object-level access to the '{name}' bucket: S3 object ARNs need a key pattern; the functions "
            "work on objects whose keys arrive at runtime, and the actions are an explicit short list.",
            findings=(arn_finding(bucket, "/*"),),
        )

    for name in grants.send_to_queues:
        resources.queue(name).grant_send_messages(role)

    if grants.put_events:
        resources.event_bus.grant_put_events_to(role)

    if grants.send_email:
        # Scoped to identities of this account and region: which sender is verified is an operator's setup step.
        identities = f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:identity/*"
        role.add_to_policy(iam.PolicyStatement(actions=list(SEND_EMAIL_ACTIONS), resources=[identities]))
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            "SES sending from the account's verified identities: the sender address is configuration (NOTIFY_FROM).",
            findings=("Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*",),
        )

    if grants.send_sms:
        # SNS direct SMS publishing has no topic to scope to: a phone number is not an ARN.
        role.add_to_policy(iam.PolicyStatement(actions=list(SEND_SMS_ACTIONS), resources=["*"]))
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            "SMS are published to phone numbers, which SNS does not express as resources; only sns:Publish.",
            findings=("Resource::*",),
        )
