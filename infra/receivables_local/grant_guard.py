"""Each handler may call only what its function is granted, checked on the local stack as IAM would in AWS.

moto and DynamoDB Local accept any call with any credentials, so a handler that reads a bucket its function is not
granted works locally and fails in AWS with AccessDenied. :class:`GrantGuard` closes that gap: installed on every
boto3 client a function's composition roots build (``ExecutionEnvironment.prepare_client``), it works out, before a
call is sent, which IAM actions on which resources the call needs and refuses it with :class:`GrantRefusedError`
unless the function's topology grants allow them. What a grant allows comes from :mod:`receivables.permissions`,
the same actions CDK writes into the function's role (``tests/infra/test_iam.py``), so the two cannot disagree.

Only what IAM checks per resource is modelled: the table, bucket, queue and bus a call names. Conditions, KMS and
the SES identity or SMS destination (``Resource`` patterns the roles do not narrow) are not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from receivables.permissions import ResourceScope, allows, missing_grant
from receivables.topology import Function, ResourceKind, Topology

Physical = Callable[[ResourceKind, str], str]
# The local runtime's logger (receivables_local.environment.RUNTIME_LOGGER), written to .local/logs/functions.log.
log = logging.getLogger("receivables_local")


class GrantRefusedError(PermissionError):
    """A handler called AWS outside its function's grants: this call would be AccessDenied in AWS."""

    def __init__(self, function: str, operation: str, action: str, resource: str, fix: str) -> None:
        super().__init__(f"function {function!r} called {operation}, which needs {action} on {resource}: {fix}")
        self.function = function
        self.operation = operation
        self.action = action


@dataclass(frozen=True, slots=True)
class Need:
    """One IAM action a call needs, on one resource as the call names it (a physical name, a queue URL)."""

    action: str
    scope: ResourceScope | Literal["unsupported"]  # unsupported: a service no grant covers
    resource: str | None


# botocore operations whose IAM action is not "<service>:<OperationName>".
_S3_ACTIONS = {
    "HeadObject": ("objects", "s3:GetObject"),
    "ListObjectsV2": ("bucket", "s3:ListBucket"),
    "ListObjects": ("bucket", "s3:ListBucket"),
    "HeadBucket": ("bucket", "s3:ListBucket"),
    "CreateMultipartUpload": ("objects", "s3:PutObject"),
    "UploadPart": ("objects", "s3:PutObject"),
    "CompleteMultipartUpload": ("objects", "s3:PutObject"),
    "CopyObject": ("objects", "s3:PutObject"),  # and s3:GetObject on the source, below
    "UploadPartCopy": ("objects", "s3:PutObject"),
    "DeleteObjects": ("objects", "s3:DeleteObject"),
}
_TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
_SQS_SEND = {"SendMessageBatch": "sqs:SendMessage"}


def needs(prefix: str, operation: str, params: Mapping[str, Any]) -> Iterator[Need]:
    """The IAM actions (service ``prefix``, e.g. ``s3``) the call ``operation(**params)`` needs, per resource."""
    default = f"{prefix}:{operation}"
    match prefix:
        case "dynamodb":
            if operation in ("TransactWriteItems", "TransactGetItems"):
                for item in params.get("TransactItems", []):
                    for kind, request in item.items():
                        yield Need(_TRANSACT_ITEM_ACTIONS.get(kind, default), "table", request.get("TableName"))
            elif operation in ("BatchGetItem", "BatchWriteItem"):
                for table in params.get("RequestItems", {}):
                    yield Need(default, "table", table)
            else:
                yield Need(default, "table", params.get("TableName"))
        case "s3":
            scope, action = _S3_ACTIONS.get(operation, ("objects", default))
            yield Need(action, scope, params.get("Bucket"))
            if operation in ("CopyObject", "UploadPartCopy"):
                yield Need("s3:GetObject", "objects", _copy_source_bucket(params.get("CopySource")))
        case "sqs":
            queue = params.get("QueueUrl") or params.get("QueueName")
            yield Need(_SQS_SEND.get(operation, default), "queue", queue)
        case "events":
            buses = {entry.get("EventBusName", "default") for entry in params.get("Entries", [])} or {"default"}
            for bus in sorted(buses):
                yield Need(default, "bus", bus)
        case "ses":
            yield Need(default, "email", None)
        case "sns":
            yield Need(default, "sms", None)
        case _:
            yield Need(default, "unsupported", None)


def _copy_source_bucket(source: Any) -> str | None:
    if isinstance(source, Mapping):
        return source.get("Bucket")
    if isinstance(source, str):
        return source.lstrip("/").split("/", 1)[0]
    return None


class GrantGuard:
    """Refuses, before it is sent, every call of one function's clients that its grants do not allow."""

    def __init__(
        self,
        topology: Topology,
        function: Function,
        physical: Physical,
        refused: list[GrantRefusedError] | None = None,
    ) -> None:
        self.topology = topology
        self.function = function
        # Every refusal, also when the handler catches it (a batch record failure, an adapter's error mapping).
        self.refused = refused if refused is not None else []
        self._logical = _logical_names(topology, physical)

    def install(self, service: str, client: Any) -> None:
        """The ``prepare_client`` hook of :class:`receivables.execution.ExecutionEnvironment`."""
        client.meta.events.register("before-parameter-build", self._check)

    def _check(self, params: Mapping[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model
        prefix = service.signing_name or service.endpoint_prefix
        for need in needs(prefix, model.name, params):
            refusal = self._refusal(f"{prefix}.{model.name}", need)
            if refusal is not None:
                self.refused.append(refusal)
                log.error("call outside the function's grants", extra={"fields": {"refusal": str(refusal)}})
                raise refusal

    def _refusal(self, operation: str, need: Need) -> GrantRefusedError | None:
        grants = self.function.grants
        if need.scope == "unsupported":
            fix = "no grant of the topology allows that service"
            return GrantRefusedError(self.function.name, operation, need.action, "any resource", fix)
        if need.scope in ("email", "sms"):
            if allows(self.topology, grants, need.scope, None, need.action):
                return None
            resource, logical = ("SES" if need.scope == "email" else "SNS"), None
        else:
            kind = "bucket" if need.scope in ("bucket", "objects") else need.scope
            logical = self._logical.get((kind, _physical_key(kind, need.resource)))
            resource = f"{kind} {need.resource!r}"
            if logical is None:
                fix = "which is not a resource of the topology"
                return GrantRefusedError(self.function.name, operation, need.action, resource, fix)
            if allows(self.topology, grants, need.scope, logical, need.action):
                return None
            resource = f"{kind} {logical!r} ({need.resource})"
        grant = missing_grant(grants, need.scope, logical, need.action)
        fix = (
            f"add {grant} to its Grants in layers/receivables/receivables/topology.py"
            if grant
            else "no grant of the topology allows that action"
        )
        return GrantRefusedError(self.function.name, operation, need.action, resource, fix)


def _physical_key(kind: str, resource: str | None) -> str | None:
    """How a call names a resource, reduced to its name: a queue URL's last segment is the queue's name (GetQueueUrl
    names the queue itself), an event bus ARN ends in ``event-bus/<name>``."""
    if resource and kind in ("queue", "bus"):
        return resource.rstrip("/").rsplit("/", 1)[-1]
    return resource


def _logical_names(topology: Topology, physical: Physical) -> dict[tuple[str, str | None], str]:
    """(kind, physical name) → logical name, for every resource of the topology."""
    names = {("table", physical("table", topology.table.name)): topology.table.name}
    names |= {("bucket", physical("bucket", b.name)): b.name for b in topology.buckets}
    names |= {("queue", _physical_key("queue", physical("queue", q.name))): q.name for q in topology.queues}
    names[("bus", _physical_key("bus", physical("bus", topology.event_bus)))] = topology.event_bus
    return names  # type: ignore[return-value]
