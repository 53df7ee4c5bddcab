"""What each of a function's :class:`~receivables.topology.Grants` allows, as IAM actions on logical resources.

Two readers, so that they cannot disagree: ``infra/receivables_infra/grants.py`` writes these actions into the
function's IAM role, and the local stack (``infra/receivables_local/grant_guard.py``) refuses any AWS call of a
handler that needs an action its function is not granted. ``tests/infra/test_iam.py`` checks the synthesized roles
hold exactly these actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from receivables.topology import Access, Grants, Topology

_TABLE_READ = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
# TransactWriteItems is authorised through these per-item actions; there is no separate permission for it.
_TABLE_WRITE = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
TABLE_ACTIONS: Mapping[Access, tuple[str, ...]] = {
    Access.READ: _TABLE_READ,
    Access.WRITE: _TABLE_WRITE,
    Access.READ_WRITE: tuple(dict.fromkeys(_TABLE_READ + _TABLE_WRITE)),
}

# ListBucket lets a missing key answer 404 rather than 403 and lets a function list a prefix.
_BUCKET_READ = ("s3:ListBucket",)
_OBJECT_READ = ("s3:GetObject",)
# PutObject covers multipart uploads (create/upload part/complete); aborting one is separate.
_OBJECT_WRITE = ("s3:PutObject", "s3:AbortMultipartUpload")
# Moving a file (to quarantine, out of an incoming prefix) is copy + delete, so deleting belongs to read-write
# only.
_OBJECT_READ_WRITE = (*_OBJECT_READ, *_OBJECT_WRITE, "s3:DeleteObject")
OBJECT_ACTIONS: Mapping[Access, tuple[str, ...]] = {
    Access.READ: _OBJECT_READ,
    Access.WRITE: _OBJECT_WRITE,
    Access.READ_WRITE: _OBJECT_READ_WRITE,
}
BUCKET_ACTIONS: Mapping[Access, tuple[str, ...]] = {
    Access.READ: _BUCKET_READ,
    Access.WRITE: (),
    Access.READ_WRITE: _BUCKET_READ,
}
_BUCKET_AND_OBJECT_ACTIONS = {access: BUCKET_ACTIONS[access] + OBJECT_ACTIONS[access] for access in Access}
# What CDK's queue.grant_send_messages and bus.grant_put_events_to grant (grants.py uses them: they are exact).
QUEUE_SEND_ACTIONS = ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
PUT_EVENTS_ACTIONS = ("events:PutEvents",)
SEND_EMAIL_ACTIONS = ("ses:SendEmail", "ses:SendRawEmail")
SEND_SMS_ACTIONS = ("sns:Publish",)

# "objects" are a bucket's objects (arn:…:bucket/*), "bucket" the bucket itself; email and sms name no resource.
ResourceScope = Literal["table", "bucket", "objects", "queue", "bus", "email", "sms"]


@dataclass(frozen=True, slots=True)
class Permission:
    scope: ResourceScope
    name: str | None  # the resource's logical name; None for email and sms
    actions: tuple[str, ...]


def permissions(topology: Topology, grants: Grants) -> tuple[Permission, ...]:
    """Every action ``grants`` allow, on which logical resource."""
    allowed: list[Permission] = []
    if grants.table is not None:
        allowed.append(Permission("table", topology.table.name, TABLE_ACTIONS[grants.table]))
    for bucket, access in sorted(grants.buckets.items()):
        if BUCKET_ACTIONS[access]:
            allowed.append(Permission("bucket", bucket, BUCKET_ACTIONS[access]))
        allowed.append(Permission("objects", bucket, OBJECT_ACTIONS[access]))
    allowed += [Permission("queue", queue, QUEUE_SEND_ACTIONS) for queue in grants.send_to_queues]
    if grants.put_events:
        allowed.append(Permission("bus", topology.event_bus, PUT_EVENTS_ACTIONS))
    if grants.send_email:
        allowed.append(Permission("email", None, SEND_EMAIL_ACTIONS))
    if grants.send_sms:
        allowed.append(Permission("sms", None, SEND_SMS_ACTIONS))
    return tuple(allowed)


def allows(topology: Topology, grants: Grants, scope: ResourceScope, name: str | None, action: str) -> bool:
    return any(p.scope == scope and p.name == name and action in p.actions for p in permissions(topology, grants))


def missing_grant(grants: Grants, scope: ResourceScope, name: str | None, action: str) -> str | None:
    """The grant (as it would be written in topology.py) that would allow ``action``; None if none would."""
    match scope:
        case "table":
            access = _widened(grants.table, action, TABLE_ACTIONS)
            return f"table=Access.{access.name}" if access else None
        case "bucket" | "objects":
            access = _widened(grants.buckets.get(name or ""), action, _BUCKET_AND_OBJECT_ACTIONS)
            return f'buckets={{"{name}": Access.{access.name}}}' if access else None
        case "queue":
            return f'send_to_queues=("{name}",)' if action in QUEUE_SEND_ACTIONS else None
        case "bus":
            return "put_events=True" if action in PUT_EVENTS_ACTIONS else None
        case "email":
            return "send_email=True" if action in SEND_EMAIL_ACTIONS else None
        case "sms":
            return "send_sms=True" if action in SEND_SMS_ACTIONS else None


def _widened(current: Access | None, action: str, table: Mapping[Access, tuple[str, ...]]) -> Access | None:
    """The narrowest access that keeps what ``current`` allows and adds ``action``."""
    keep = set(table[current]) if current else set()
    for access in (Access.READ, Access.WRITE, Access.READ_WRITE):
        if action in table[access] and keep <= set(table[access]):
            return access
    return None
