"""The local runtime's emulation of AWS (event source mappings, partial batch failures, DLQs, bus targets,
schedules, the API Gateway adapter), exercised with handler doubles on the real embedded stack."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from receivables import bootstrap, execution
from receivables.topology import TOPOLOGY, BusTrigger, Function, Grants, env_var
from receivables_local.embedded import EmbeddedStack
from receivables_local.handlers import HandlerRegistry
from receivables_local.http_api import ApiGateway, HttpApi
from receivables_local.session import LocalSession

from .conftest import BUSINESS_DATE

pytestmark = pytest.mark.e2e


class Recorder:
    """A handler double: records (event, context) and answers with ``respond(event)``."""

    def __init__(self, respond: Any = None) -> None:
        self.calls: list[tuple[dict[str, Any], Any]] = []
        self.respond = respond

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.calls.append((event, context))
        return self.respond(event) if self.respond else None

    @property
    def records(self) -> list[dict[str, Any]]:
        return [record for event, _ in self.calls for record in event["Records"]]


@pytest.fixture
def doubles(session: LocalSession) -> dict[str, Recorder]:
    recorders = {f.name: Recorder() for f in session.topology.functions}
    for name, recorder in recorders.items():
        session.registry.override(name, recorder)
    return recorders


def test_s3_drop_reaches_function_as_real_sqs_event(session: LocalSession, doubles: dict[str, Recorder]) -> None:
    session.upload("customers/März list+1.csv", b"customer_id\n")
    session.upload("elsewhere/ignored.csv", b"x")  # no notification for prefixes outside the trigger

    session.runtime.run_until_idle()

    planner = doubles["plan_inbound_file"]
    assert len(planner.calls) == 1, "one invocation; moto's s3:TestEvent is not passed on"
    event, context = planner.calls[0]
    (record,) = event["Records"]
    queue = session.resources.queues["inbound-files"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue.arn
    assert record["awsRegion"] == "eu-central-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"messageId", "receiptHandle", "body", "messageAttributes", "md5OfBody"} <= record.keys()
    s3_record = json.loads(record["body"])["Records"][0]
    # Completed to S3's shape: "/" kept, the rest form-encoded, fields moto leaves out present.
    assert s3_record["s3"]["object"]["key"] == "customers/M%C3%A4rz+list%2B1.csv"
    assert s3_record["s3"]["bucket"]["name"] == session.inbound_bucket
    assert {"userIdentity", "requestParameters", "responseElements"} <= s3_record.keys()
    assert context.function_name == "receivables-local-plan_inbound_file"
    assert context.memory_limit_in_mb == session.topology.function("plan_inbound_file").memory_mb
    assert context.invoked_function_arn.endswith(":function:receivables-local-plan_inbound_file")
    assert 0 < context.get_remaining_time_in_millis() <= 840_000
    assert context.aws_request_id
    assert doubles["load_file_chunk"].calls == []


def _send(session: LocalSession, queue: str, bodies: list[str]) -> None:
    url = session.resources.queues[queue].url
    for body in bodies:
        session.clients("sqs").send_message(QueueUrl=url, MessageBody=body)


def _dlq_bodies(session: LocalSession, queue: str) -> list[str]:
    url = session.resources.queues[queue].dlq_url
    messages = session.clients("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def test_partial_batch_failure_retries_only_failed_records_then_dead_letters_them(
    session: LocalSession, doubles: dict[str, Recorder]
) -> None:
    def fail_poison(event: dict[str, Any]) -> dict[str, Any]:
        failed = [r["messageId"] for r in event["Records"] if r["body"].startswith("poison")]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    loader = doubles["load_file_chunk"]
    loader.respond = fail_poison
    (poller,) = [p for p in session.runtime.pollers if p.function.name == "load_file_chunk"]
    poller.batch_size = 10  # several records per batch, so that the failure is partial
    _send(session, "file-chunks", ["ok-1", "poison-1", "ok-2"])

    started = time.perf_counter()
    session.runtime.run_until_idle()

    bodies = [r["body"] for r in loader.records]
    max_receives = session.topology.queue("file-chunks").max_receive_count
    assert bodies.count("ok-1") == bodies.count("ok-2") == 1
    assert bodies.count("poison-1") == max_receives
    receive_counts = [r["attributes"]["ApproximateReceiveCount"] for r in loader.records if r["body"] == "poison-1"]
    assert receive_counts == [str(n) for n in range(1, max_receives + 1)]
    assert session.runtime.dead_letters() == {
        "inbound-files": 0,
        "bank-files": 0,
        "dunning-accounts": 0,
        "file-chunks": 1,
        "policy-event-files": 0,
        "policy-events": 0,
        "dunning-review-events-dlq": 0,
        "policy-settlement-events-dlq": 0,
        "outbox-dlq": 0,
        "gl-daybook-dlq": 0,
    }
    assert _dlq_bodies(session, "file-chunks") == ["poison-1"]
    # Not a speed target: the queue's visibility timeout is minutes, so this only fails if retries waited for it.
    assert time.perf_counter() - started < 60, "failed records must come back at once, not after the timeout"


def test_handler_exception_fails_the_whole_batch(session: LocalSession, doubles: dict[str, Recorder]) -> None:
    attempts = {"n": 0}

    def fail_first_time(event: dict[str, Any]) -> None:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise RuntimeError("cold start hiccup")

    loader = doubles["load_file_chunk"]
    loader.respond = fail_first_time
    (poller,) = [p for p in session.runtime.pollers if p.function.name == "load_file_chunk"]
    poller.batch_size = 10
    _send(session, "file-chunks", ["a", "b"])

    session.runtime.run_until_idle()

    assert [sorted(r["body"] for r in e["Records"]) for e, _ in loader.calls] == [["a", "b"], ["a", "b"]]
    assert session.runtime.invocations[0].error == "RuntimeError: cold start hiccup"
    assert _dlq_bodies(session, "file-chunks") == []


def test_invalid_item_identifier_fails_the_whole_batch(session: LocalSession, doubles: dict[str, Recorder]) -> None:
    loader = doubles["load_file_chunk"]
    calls = {"n": 0}

    def bogus_once(event: dict[str, Any]) -> dict[str, Any] | None:
        calls["n"] += 1
        return {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]} if calls["n"] == 1 else None

    loader.respond = bogus_once
    _send(session, "file-chunks", ["x"])
    session.runtime.run_until_idle()
    assert [r["body"] for r in loader.records] == ["x", "x"]


@pytest.fixture
def bus_session(stack: EmbeddedStack) -> Iterator[LocalSession]:
    """The topology plus a function with a BusTrigger (none exists yet in the real one)."""
    audit = Function(
        name="audit_files",
        description="test double",
        triggers=(BusTrigger(rule="file-events", sources=("receivables.loading",), detail_types=("FileLoaded",)),),
        grants=Grants(),
    )
    topology = TOPOLOGY.model_copy(update={"functions": (*TOPOLOGY.functions, audit)})
    stack.reset()
    with LocalSession(stack, BUSINESS_DATE, topology=topology, registry=HandlerRegistry()) as local:
        yield local


def test_bus_events_reach_matching_bus_targets_and_the_tap(bus_session: LocalSession) -> None:
    audit, planner = Recorder(), Recorder()

    def publish(event: dict[str, Any]) -> None:
        # What a handler does: a boto3 client from the environment, the bus name from the topology's variable.
        events = boto3.client("events")
        bus = execution.variables()[env_var("bus", TOPOLOGY.event_bus)]
        entries = [
            {
                "Source": "receivables.loading",
                "DetailType": dt,
                "Detail": json.dumps({"n": i}),
                "EventBusName": bus,
            }
            for i, dt in enumerate(["FileLoaded", "FileRejected"])
        ]
        assert events.put_events(Entries=entries)["FailedEntryCount"] == 0

    planner.respond = publish
    bus_session.registry.override("plan_inbound_file", planner)
    bus_session.registry.override("audit_files", audit)
    bus_session.upload("invoices/a.csv", b"x")

    bus_session.runtime.run_until_idle()

    assert [e["detail-type"] for e in bus_session.runtime.bus.events] == ["FileLoaded", "FileRejected"]
    ((event, context),) = audit.calls
    assert event["detail-type"] == "FileLoaded" and event["detail"] == {"n": 0}
    assert event["source"] == "receivables.loading" and event["account"]
    assert context.function_name.endswith("-audit_files")
    rules = bus_session.clients("events").list_rules(EventBusName=bus_session.resources.bus)["Rules"]
    assert {r["Name"] for r in rules} == {
        "receivables-local-file-events",
        "receivables-local-dunning-review",
        "receivables-local-policy-settlement",
        "receivables-local-local-bus-tap",
    }


def test_failing_bus_target_is_retried_like_an_async_invocation(bus_session: LocalSession) -> None:
    def boom(event: dict[str, Any]) -> None:
        raise ValueError("nope")

    bus_session.registry.override("audit_files", Recorder(boom))
    bus_session.clients("events").put_events(
        Entries=[
            {
                "Source": "receivables.loading",
                "DetailType": "FileLoaded",
                "Detail": "{}",
                "EventBusName": bus_session.resources.bus,
            }
        ]
    )
    bus_session.runtime.run_until_idle()
    assert [i.source for i in bus_session.runtime.invocations] == ["bus"] * 3
    assert len(bus_session.runtime.bus.failures) == 1
    # Not dropped: kept in the rule's dead-letter queue for an operator.
    dead = {k: v for k, v in bus_session.runtime.dead_letters().items() if v}
    assert dead == {f"{bus_session.topology.functions[-1].triggers[0].rule}-events-dlq": 1}


def test_schedules_fire_with_the_business_date(session: LocalSession, doubles: dict[str, Recorder]) -> None:
    session.runtime.fire_schedules(BUSINESS_DATE)
    ((event, context),) = doubles["plan_daily_run"].calls
    assert event == {"scheduled_time": "2026-11-24T06:00:00Z", "business_date": "2026-11-24"}  # 09:00 Istanbul
    assert context.function_name.endswith("-plan_daily_run")


def test_each_handler_sees_only_its_own_functions_environment(
    session: LocalSession, doubles: dict[str, Recorder]
) -> None:
    seen: dict[str, dict[str, str]] = {}
    for name, recorder in doubles.items():
        recorder.respond = lambda event, name=name: seen.setdefault(name, dict(execution.variables()))
    session.runtime.fire_schedules(BUSINESS_DATE)
    session.upload("invoices/a.csv", b"x")
    session.runtime.run_until_idle()

    assert seen.keys() == {
        "plan_inbound_file",
        "direct_debits",
        "pay_out",
        "collect_by_card",
        "gl_export",
        "bi_export",
        "plan_daily_run",
        "send_deferred_sms",
        "verify_ledger",
    }
    planner = seen["plan_inbound_file"]
    assert planner[env_var("bucket", "inbound")] == session.inbound_bucket
    assert planner[env_var("queue", "file-chunks")] == session.resources.queues["file-chunks"].url
    assert planner[env_var("table", "ledger")] == session.resources.table
    assert planner["AWS_ENDPOINT_URL"] == session.stack.endpoints.aws
    assert planner["AWS_ENDPOINT_URL_DYNAMODB"] == session.stack.endpoints.dynamodb
    assert planner["BUSINESS_DATE"] == "2026-11-24"
    # Another function's resources are not there, nor in the process environment everything shares.
    assert env_var("bucket", "outbound") not in planner
    assert (
        env_var("bucket", "outbound") in seen["direct_debits"]
        and "DIRECT_DEBIT_DEFAULT_CREDITOR" in seen["direct_debits"]
    )
    assert not {env_var("bus", "receivables"), env_var("bucket", "outbound")} & seen["send_deferred_sms"].keys()
    assert not any(name.startswith(("TABLE_", "BUCKET_", "QUEUE_", "BUS_")) for name in os.environ)
    table = session.clients("dynamodb").describe_table(TableName=session.resources.table)["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {i.name for i in TOPOLOGY.table.indexes}


def test_a_handler_calling_outside_its_grants_is_refused_as_aws_would(
    session: LocalSession, doubles: dict[str, Recorder]
) -> None:
    def post_letter(event: dict[str, Any]) -> None:
        s3 = bootstrap.aws_client("s3")  # what a composition root does
        s3.put_object(Bucket=session.resources.buckets["outbound"], Key="letters/a.pdf", Body=b"%PDF")

    doubles["send_deferred_sms"].respond = post_letter
    session.runtime.fire_schedules(BUSINESS_DATE)

    [(function, _, error)] = session.runtime.schedule_failures
    assert function == "send_deferred_sms" and error.startswith("GrantRefusedError: function 'send_deferred_sms'")
    assert "s3:PutObject on bucket 'outbound'" in error and 'add buckets={"outbound": Access.WRITE}' in error
    assert len(session.refused) == 3  # the schedule's invocation and its two retries
    assert "Contents" not in session.s3().list_objects_v2(Bucket=session.resources.buckets["outbound"])
    session.refused.clear()  # seen; the fixture fails a test that leaves a refusal behind


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_http_requests_become_api_gateway_proxy_events(session: LocalSession) -> None:
    def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event["path"] == "/items/boom":
            raise RuntimeError("handler bug")
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}

    session.registry.override("api", echo)
    with HttpApi(ApiGateway(session.topology, session.runtime.invoker)) as api:
        status, event = _get(f"{api.url}/accounts/A-1?expand=items&tag=x&tag=y")
        assert status == 200
        assert event["resource"] == "/accounts/{account_id}"
        assert event["path"] == "/accounts/A-1"
        assert event["httpMethod"] == "GET"
        assert event["pathParameters"] == {"account_id": "A-1"}
        assert event["queryStringParameters"] == {"expand": "items", "tag": "y"}
        assert event["multiValueQueryStringParameters"] == {"expand": ["items"], "tag": ["x", "y"]}
        assert event["requestContext"]["resourcePath"] == "/accounts/{account_id}"
        assert event["requestContext"]["stage"] == "local"
        assert event["requestContext"]["requestId"]
        assert event["body"] is None and event["isBase64Encoded"] is False
        assert "User-Agent" in event["headers"]

        # Several functions serve the API, so a path no route matches gets API Gateway's own answer.
        status, body = _get(f"{api.url}/no/such/route")
        assert (status, body) == (403, {"message": "Missing Authentication Token"})

        status, body = _get(f"{api.url}/items/boom")
        assert (status, body) == (502, {"message": "Internal server error"})

        # Any method reaches the gateway, as API Gateway takes them all: one no route has is its 403 (schemathesis
        # sent TRACE and QUERY, and http.server answered 501 itself).
        for method in ("TRACE", "QUERY", "BREW"):
            request = urllib.request.Request(f"{api.url}/accounts/A-1", method=method)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            assert (refused.value.code, json.loads(refused.value.read())) == (
                403,
                {"message": "Missing Authentication Token"},
            )
