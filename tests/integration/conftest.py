"""Handlers and adapters against moto's in-process AWS, with every resource created from the topology.

Each handler runs as its function (``Stack.handler``), seeing only that function's environment, with the local
stack's grant guard on every client it builds; a test that reads through a composition root says whose
(``with stack.running_as("api"): ...``). Nothing of any function's environment is in ``os.environ``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws
from receivables import bootstrap
from receivables.execution import ExecutionEnvironment, running_as
from receivables.settings import DEFAULT_NOTIFY_FROM, FUNCTION_SETTINGS
from receivables.topology import TOPOLOGY, Function, create_table_request, env_var, function_environment
from receivables_local.grant_guard import GrantGuard, GrantRefusedError

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "it"
BUSINESS_DATE = "2026-11-24"
# Test settings, given to the functions whose settings read them.
TEST_SETTINGS = {
    "ROWS_PER_CHUNK": "3",  # small chunks, so tests cross chunk boundaries
    # moto's in-process DynamoDB is not safe for concurrent conditional writes: one lane, one review at a time.
    "BANK_FILE_LANES": "1",
    "DUNNING_REVIEW_THREADS": "1",
    "POLICY_EVENT_RETRY_DELAYS": "0,0",  # an event waiting for its policy: two retries at once, then rejected
}


def physical(kind: str, logical: str) -> str:
    return f"{PREFIX}-{logical}"


@dataclass
class Stack:
    s3: Any
    sqs: Any
    dynamodb: Any
    events: Any
    queue_urls: dict[str, str]
    inbound: str
    table: str
    bus_tap_url: str
    _stream: Any = None
    _daybook_stream: Any = None
    refused: list[GrantRefusedError] = field(default_factory=list)
    _environments: dict[str, ExecutionEnvironment] = field(default_factory=dict)

    def environment(self, name: str) -> ExecutionEnvironment:
        """Function ``name``'s own environment, with a grant guard on the clients its roots build."""
        if name not in self._environments:
            function = TOPOLOGY.function(name)
            guard = GrantGuard(TOPOLOGY, function, self.physical, self.refused)
            variables = function_env(function, self.queue_urls)
            self._environments[name] = ExecutionEnvironment(name, variables, guard.install)
        return self._environments[name]

    def physical(self, kind: str, logical: str) -> str:
        return self.queue_urls[logical] if kind == "queue" else physical(kind, logical)

    @contextlib.contextmanager
    def running_as(self, name: str) -> Iterator[None]:
        with running_as(self.environment(name)):
            yield

    def root[T](self, name: str, factory: Callable[[], T]) -> T:
        """A composition root of function ``name``, built (or reused) as that function."""
        with self.running_as(name):
            return factory()

    def handler(self, name: str) -> Callable[[dict[str, Any], Any], Any]:
        """Function ``name``'s handler, imported (its cold start) and invoked as that function."""

        def invoke(event: dict[str, Any], context: Any) -> Any:
            with self.running_as(name):
                return load_handler(name)(event, context)

        return invoke

    def receive(self, queue: str, max_messages: int = 10) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_urls[queue],
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return response.get("Messages", [])

    def publish_outbox(self, context: Any = None) -> int:
        """What Lambda's stream mapping does: committed records carrying events → publish_events."""
        from receivables_local.streams import StreamReader, passes_filter, stream_record

        if self._stream is None:
            arn = self.dynamodb.describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
            # botocore would address the stream by account (<account>.streams-ddb…), which moto does not serve.
            config = Config(account_id_endpoint_mode="disabled")
            streams = boto3.client("dynamodbstreams", region_name="eu-central-1", config=config)
            self._stream = StreamReader(streams, arn)
        trigger = next(t for f in TOPOLOGY.functions if f.name == "publish_events" for t in f.triggers)
        records = [r for r in self._stream.read() if passes_filter(trigger, r)]
        if records:
            event = {"Records": [stream_record(r, self._stream.stream_arn, "eu-central-1") for r in records]}
            result = self.handler("publish_events")(event, context or FakeContext()) or {}
            assert not result.get("batchItemFailures"), result
        return len(records)

    def stage_postings(self, context: Any = None) -> int:
        """What the gl-daybook stream mapping does: every posting record committed since the last call → gl_daybook."""
        from receivables_local.streams import StreamReader, passes_filter, stream_record

        if self._daybook_stream is None:
            arn = self.dynamodb.describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
            config = Config(account_id_endpoint_mode="disabled")
            streams = boto3.client("dynamodbstreams", region_name="eu-central-1", config=config)
            self._daybook_stream = StreamReader(streams, arn)
        trigger = next(t for f in TOPOLOGY.functions if f.name == "gl_daybook" for t in f.triggers)
        records = [r for r in self._daybook_stream.read() if passes_filter(trigger, r)]
        if records:
            event = {"Records": [stream_record(r, self._daybook_stream.stream_arn, "eu-central-1") for r in records]}
            self.handler("gl_daybook")(event, context or FakeContext())
        return len(records)

    def bus_events(self) -> list[dict[str, Any]]:
        self.publish_outbox()
        seen = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.bus_tap_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return seen
            for message in batch:
                seen.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.bus_tap_url, ReceiptHandle=message["ReceiptHandle"])

    def drain(self, context: Any) -> None:
        """Feed every queue to its function until all are empty, as Lambda's event source mappings would."""
        triggers = [
            (f.name, t.queue, t.batch_size) for f in TOPOLOGY.functions for t in f.triggers if t.kind in ("s3", "sqs")
        ]
        progress = True
        while progress:
            progress = self.publish_outbox(context) > 0
            for function, queue, batch_size in triggers:
                messages = self.receive(queue, batch_size)
                if not messages:
                    continue
                progress = True
                result = self.handler(function)(sqs_event(messages, queue), context) or {}
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
                assert not failed, f"{function} failed {failed}"
                for message in messages:
                    self.sqs.delete_message(QueueUrl=self.queue_urls[queue], ReceiptHandle=message["ReceiptHandle"])


API_EVENT = json.loads((Path(__file__).parents[2] / "events" / "api_get_account.json").read_text())
API_CALLER = "back-office"  # the IAM user events/api_get_account.json is signed by


def api_event(
    method: str, resource: str, path: str, *, caller: str | None = API_CALLER, **fields: Any
) -> dict[str, Any]:
    """A REST proxy event like the sample's, signed by the IAM user ``caller`` (None: carrying no identity)."""
    event = json.loads(json.dumps(API_EVENT))
    event.update(httpMethod=method, resource=resource, path=path, **fields)
    event["requestContext"].update(resourcePath=resource, httpMethod=method)
    identity = event["requestContext"]["identity"]
    if caller is None:
        for key in ("caller", "user", "userArn", "accessKey"):
            identity.pop(key, None)
    else:
        identity["userArn"] = f"arn:aws:iam::123456789012:user/{caller}"
    return event


def sqs_event(messages: list[dict[str, Any]], queue: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    name: {"stringValue": a.get("StringValue"), "dataType": a["DataType"]}
                    for name, a in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:eu-central-1:123456789012:{PREFIX}-{queue}",
                "awsRegion": "eu-central-1",
            }
            for m in messages
        ]
    }


_HANDLERS: dict[str, Any] = {}


def load_handler(name: str) -> Callable[[dict[str, Any], Any], Any]:
    if name not in _HANDLERS:
        path = ROOT / "functions" / name / "handler.py"
        spec = importlib.util.spec_from_file_location(f"functions_{name}_handler", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _HANDLERS[name] = module
    return _HANDLERS[name].lambda_handler


@dataclass
class FakeContext:
    function_name: str = "test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-central-1:123456789012:function:test"
    aws_request_id: str = ""

    def __post_init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


@contextlib.contextmanager
def cancelled_transactions_leave_no_stream_records() -> Iterator[None]:
    """moto rolls a cancelled TransactWriteItems back by putting a copy of each table taken before it, stream shard
    included, while the stream's readers keep the live shard: they see the cancelled writes as if committed (an
    outbox event of a refused plan gets published) and nothing written afterwards. DynamoDB streams only what
    committed; this keeps the live shard in place and drops what the cancelled transaction added to it."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        names = {op["TableName"] for item in transact_items for op in item.values() if "TableName" in op}
        shards = {name: backend.tables[name].stream_shard for name in names if name in backend.tables}
        lengths = {name: len(shard.items) for name, shard in shards.items() if shard is not None}
        try:
            original(backend, transact_items)
        except Exception:
            for name, shard in shards.items():
                if shard is not None:
                    del shard.items[lengths[name] :]
                    backend.tables[name].stream_shard = shard
                    shard.table = backend.tables[name]
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]


@pytest.fixture
def stack() -> Iterator[Stack]:
    with mock_aws(), cancelled_transactions_leave_no_stream_records():
        region = "eu-central-1"
        s3 = boto3.client("s3", region_name=region)
        sqs = boto3.client("sqs", region_name=region)
        dynamodb = boto3.client("dynamodb", region_name=region)
        events = boto3.client("events", region_name=region)
        dynamodb.create_table(**create_table_request(TOPOLOGY.table, physical("table", TOPOLOGY.table.name)))
        for bucket in TOPOLOGY.buckets:
            s3.create_bucket(
                Bucket=physical("bucket", bucket.name), CreateBucketConfiguration={"LocationConstraint": region}
            )
        urls = {q.name: sqs.create_queue(QueueName=physical("queue", q.name))["QueueUrl"] for q in TOPOLOGY.queues}
        events.create_event_bus(Name=physical("bus", TOPOLOGY.event_bus))
        boto3.client("ses", region_name=region).verify_email_identity(EmailAddress=DEFAULT_NOTIFY_FROM)
        tap = sqs.create_queue(QueueName=f"{PREFIX}-bus-tap")["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(
            Name="tap",
            EventBusName=physical("bus", TOPOLOGY.event_bus),
            EventPattern=json.dumps({"source": [{"prefix": ""}]}),
        )
        events.put_targets(
            Rule="tap", EventBusName=physical("bus", TOPOLOGY.event_bus), Targets=[{"Id": "tap", "Arn": tap_arn}]
        )
        # One configuration per bucket holding every prefix of every S3 trigger (a put replaces the previous one).
        configurations: dict[str, list[dict]] = {}
        for function, trigger in [(f, t) for f in TOPOLOGY.functions for t in f.triggers if t.kind == "s3"]:
            arn = sqs.get_queue_attributes(QueueUrl=urls[trigger.queue], AttributeNames=["QueueArn"])
            configurations.setdefault(physical("bucket", trigger.bucket), []).extend(
                {
                    "Id": f"{function.name}-{p}",
                    "QueueArn": arn["Attributes"]["QueueArn"],
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": p}]}},
                }
                for p in trigger.prefixes
            )
        for bucket_name, queue_configurations in configurations.items():
            s3.put_bucket_notification_configuration(
                Bucket=bucket_name, NotificationConfiguration={"QueueConfigurations": queue_configurations}
            )
        bootstrap.reset()
        _HANDLERS.clear()
        # S3 announces a configured notification with a test event; the planner must ignore it.
        stack = Stack(
            s3, sqs, dynamodb, events, urls, physical("bucket", "inbound"), physical("table", TOPOLOGY.table.name), tap
        )
        yield stack
        bootstrap.reset()
        # A call outside a function's grants works on moto but is AccessDenied in AWS.
        assert not stack.refused, "handlers called AWS outside their grants:\n" + "\n".join(map(str, stack.refused))


def function_env(function: Function, urls: dict[str, str]) -> dict[str, str]:
    """What CDK gives the function (moto's names and queue URLs), the business date, the test settings it reads."""
    env = function_environment(
        TOPOLOGY, function, lambda kind, logical: urls[logical] if kind == "queue" else physical(kind, logical)
    )
    reads = FUNCTION_SETTINGS[function.name].variables()
    return {**env, "BUSINESS_DATE": BUSINESS_DATE, **{k: v for k, v in TEST_SETTINGS.items() if k in reads}}


__all__ = ["Stack", "env_var", "sqs_event"]
