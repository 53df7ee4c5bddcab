"""Least privilege: each function's role holds exactly what its topology Grants name, and nothing broader."""

from __future__ import annotations

import json
from typing import Any

import pytest
from receivables.permissions import permissions
from receivables.topology import TOPOLOGY, Access, BusTrigger, S3Trigger, SqsTrigger, StreamTrigger
from receivables_infra.grants import BUCKET_ACTIONS, OBJECT_ACTIONS, TABLE_ACTIONS

from .cfn import actions, as_list, lambda_functions, ref, resources, role_statements

FUNCTIONS = {f.name: f for f in TOPOLOGY.functions}
TABLE_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
# Wildcard resources no policy can avoid: X-Ray has no resource-level permissions.
RESOURCE_STAR_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# What a DynamoDB-stream event source needs (ListStreams has no resource-level permissions).
EVENT_SOURCE_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"}
STREAM_ACTIONS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}


def reads_the_stream(name: str) -> bool:
    return any(isinstance(t, StreamTrigger) for t in FUNCTIONS[name].triggers)


def has_a_dead_letter_destination(name: str) -> bool:
    return any(isinstance(t, StreamTrigger | BusTrigger) for t in FUNCTIONS[name].triggers)


def statements_of(template: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return role_statements(template, lambda_functions(template)[FUNCTIONS[name].description])


def test_the_api_function_cannot_write_anything(template: dict[str, Any]) -> None:
    granted = actions(statements_of(template, "api"))
    assert not granted & TABLE_WRITES
    # It reads the general-ledger daybook's staged postings (the cash report); it writes nowhere.
    assert not any(a.startswith(("s3:Put", "s3:Delete", "s3:Abort", "sqs:Send", "events:")) for a in granted)
    assert set(TABLE_ACTIONS[Access.READ]) <= granted


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_grants_match_the_topology(template: dict[str, Any], name: str) -> None:
    grants = FUNCTIONS[name].grants
    granted = actions(statements_of(template, name))

    table_actions = {a for a in granted if a.startswith("dynamodb:")}
    expected_table = set(TABLE_ACTIONS[grants.table]) if grants.table else set()
    assert table_actions == expected_table | (STREAM_ACTIONS if reads_the_stream(name) else set())

    s3_actions = {a for a in granted if a.startswith("s3:")}
    expected_s3 = {a for access in grants.buckets.values() for a in OBJECT_ACTIONS[access] + BUCKET_ACTIONS[access]}
    assert s3_actions == expected_s3

    sends = "sqs:SendMessage" in granted
    # A stream event source's on-failure destination, and an asynchronous invocation's, is written by the
    # function's role (its own dead-letter queue, named in the topology).
    assert sends == bool(grants.send_to_queues) or (sends and has_a_dead_letter_destination(name))
    assert ("events:PutEvents" in granted) == grants.put_events


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_the_role_holds_exactly_the_permissions_the_local_stack_checks(template: dict[str, Any], name: str) -> None:
    # What the function's own code may call; its log group, X-Ray and its trigger's queue (the event source mapping
    # receives and deletes) are the platform's.
    # The same holds for a stream event source (it reads the stream) and for the dead-letter destinations of the
    # stream and of asynchronous invocations (Lambda writes there on the function's behalf).
    consumer = [s for s in statements_of(template, name) if "sqs:ReceiveMessage" in as_list(s["Action"])]
    destinations = [s for s in statements_of(template, name) if "DlqQueue" in json.dumps(s["Resource"])]
    own = actions([s for s in statements_of(template, name) if s not in consumer and s not in destinations])
    # A function may also send to a queue it consumes (policy events sent back to retry): CDK merges that grant into
    # the consumer's statement, whose receive-side actions are the platform's.
    own |= {
        a for s in consumer if "sqs:SendMessage" in as_list(s["Action"]) for a in as_list(s["Action"])
    } - EVENT_SOURCE_ACTIONS
    own -= STREAM_ACTIONS if reads_the_stream(name) else set()
    expected = {a for p in permissions(TOPOLOGY, FUNCTIONS[name].grants) for a in p.actions}
    assert {a for a in own if not a.startswith(("logs:", "xray:"))} == expected


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_wildcard_actions_and_no_star_resources(template: dict[str, Any], name: str) -> None:
    for statement in statements_of(template, name):
        statement_actions = as_list(statement["Action"])
        assert not any(a == "*" or a.endswith(":*") or "*" in a for a in statement_actions), statement
        if "*" in as_list(statement["Resource"]):
            # Publishing an SMS to a phone number has no resource to name; only functions granted SMS may.
            allowed = RESOURCE_STAR_ACTIONS | ({"sns:Publish"} if FUNCTIONS[name].grants.send_sms else set())
            allowed |= {"dynamodb:ListStreams"} if reads_the_stream(name) else set()
            assert set(statement_actions) <= allowed, statement


@pytest.mark.parametrize("name", sorted(n for n, f in FUNCTIONS.items() if f.grants.table))
def test_table_access_names_each_index(template: dict[str, Any], name: str) -> None:
    table_id = next(iter(resources(template, "AWS::DynamoDB::Table")))
    (statement,) = [s for s in statements_of(template, name) if "dynamodb:GetItem" in as_list(s["Action"])]
    rendered = json.dumps(statement["Resource"])
    assert "/index/*" not in rendered
    for index in TOPOLOGY.table.indexes:
        assert f"/index/{index.name}" in rendered
    assert {ref(r) for r in as_list(statement["Resource"])} >= {table_id}


def test_each_function_only_consumes_its_own_queue(template: dict[str, Any]) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    consumers: dict[str, set[str]] = {}
    for name in FUNCTIONS:
        for statement in statements_of(template, name):
            if "sqs:ReceiveMessage" in as_list(statement["Action"]):
                consumers.setdefault(name, set()).update(ref(r) for r in as_list(statement["Resource"]))
    for name, consumed in consumers.items():
        assert consumed <= set(queues)
        queue_triggers = TOPOLOGY.triggers_of_kind(S3Trigger) + TOPOLOGY.triggers_of_kind(SqsTrigger)
        own = {t.queue for f, t in queue_triggers if f.name == name}
        assert len(consumed) == len(own), f"{name} may receive from {consumed}, its triggers read {own}"
    queue_driven = {f.name for f, _ in TOPOLOGY.triggers_of_kind(S3Trigger) + TOPOLOGY.triggers_of_kind(SqsTrigger)}
    assert set(consumers) == queue_driven
