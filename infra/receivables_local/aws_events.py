"""The payloads AWS hands a Lambda function, built the way AWS builds them, and the context object.

Handlers are written against these shapes (and Powertools' models of them), so the local runtime must not
invent simpler ones: an SQS event here has every field the Lambda event source mapping sends.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from receivables_local.embedded import ACCOUNT_ID

# Deterministic request ids: a replayed scenario produces the same ids, should a handler ever record one.
_REQUEST_NAMESPACE = uuid.UUID("6f1c7d0e-4a55-4d3b-9a43-5f0e1d2c3b4a")


@dataclass
class LambdaContext:
    """What ``context`` offers in AWS (the subset Powertools and handlers use)."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str
    region: str
    function_version: str = "$LATEST"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def request_id(function_name: str, sequence: int) -> str:
    return str(uuid.uuid5(_REQUEST_NAMESPACE, f"{function_name}:{sequence}"))


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS API attribute (``StringValue``) → Lambda event attribute (``stringValue``, empty lists)."""
    attribute: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def sqs_record(message: dict[str, Any], queue_arn: str, region: str, body: str | None = None) -> dict[str, Any]:
    """One ``Records[]`` entry as the Lambda SQS event source mapping delivers a received message."""
    body = message["Body"] if body is None else body
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def is_s3_test_event(body: str) -> bool:
    """S3 sends one ``s3:TestEvent`` when a notification configuration is put; skipped locally."""
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    return isinstance(payload, dict) and payload.get("Event") == "s3:TestEvent"


def complete_s3_notification(body: str, sequence: int) -> str:
    """Make moto's S3 notification look like S3's.

    moto leaves out fields S3 always sends (``userIdentity``, ``requestParameters``, ``responseElements``,
    ``bucket.ownerIdentity``, ``object.sequencer``) — Powertools' ``S3Model`` requires them — and encodes
    ``/`` in keys as ``%2F`` where S3 keeps it. Filling the gaps here keeps handlers honest: what parses
    locally parses in AWS.
    """
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    records = payload.get("Records") if isinstance(payload, dict) else None
    if not isinstance(records, list):
        return body
    for record in records:
        if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
            continue
        record.setdefault("userIdentity", {"principalId": "AWS:LOCAL"})
        record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
        record.setdefault("responseElements", {"x-amz-request-id": f"LOCAL{sequence:012d}", "x-amz-id-2": "local"})
        s3 = record.get("s3", {})
        s3.get("bucket", {}).setdefault("ownerIdentity", {"principalId": "LOCAL"})
        obj = s3.get("object")
        if isinstance(obj, dict) and "key" in obj:
            obj["key"] = quote_plus(unquote_plus(obj["key"]), safe="/")
            obj.setdefault("sequencer", f"{sequence:016X}")
    return json.dumps(payload)
