"""The local stack's grant guard refuses, before sending, what IAM would deny the function in AWS."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from receivables.topology import TOPOLOGY, ResourceKind
from receivables_local.grant_guard import GrantGuard, GrantRefusedError

ACCOUNT = "123456789012"


def physical(kind: ResourceKind, logical: str) -> str:
    if kind == "queue":
        return f"https://sqs.eu-central-1.amazonaws.com/{ACCOUNT}/local-{logical}"
    return f"local-{logical}"


TABLE = physical("table", "ledger")
INBOUND, OUTBOUND = physical("bucket", "inbound"), physical("bucket", "outbound")
BUS = physical("bus", TOPOLOGY.event_bus)


class Guarded:
    """Clients of one function with the guard installed and every allowed call answered by a stub."""

    def __init__(self, function: str) -> None:
        self.guard = GrantGuard(TOPOLOGY, TOPOLOGY.function(function), physical)
        self._session = boto3.session.Session(
            region_name="eu-central-1", aws_access_key_id="x", aws_secret_access_key="x"
        )

    def call(self, service: str, operation: str, response: dict[str, Any] | None = None, **params: Any) -> None:
        """An allowed call answered with ``response``; without one, a call that must be refused before it is sent."""
        client = self._session.client(service)
        self.guard.install(service, client)
        with Stubber(client) as stub:
            if response is None:  # Stubber checks the call order first: expect an error the guard must pre-empt
                stub.add_client_error(operation, "NotRefused")
            else:
                stub.add_response(operation, response, None)
            getattr(client, operation)(**params)


def refused(function: str, service: str, operation: str, **params: Any) -> str:
    guarded = Guarded(function)
    with pytest.raises(GrantRefusedError) as caught:
        guarded.call(service, operation, **params)
    assert guarded.guard.refused == [caught.value], "every refusal is recorded, caught or not"
    return str(caught.value)


KEY = {"pk": {"S": "A"}, "sk": {"S": "B"}}


def test_a_read_only_function_may_read_the_table_but_not_write_it() -> None:
    Guarded("api").call("dynamodb", "get_item", {}, TableName=TABLE, Key=KEY)
    Guarded("api").call("dynamodb", "query", {}, TableName=TABLE, KeyConditionExpression="pk = :p")
    message = refused("api", "dynamodb", "put_item", TableName=TABLE, Item=KEY)
    assert message.startswith("function 'api' called dynamodb.PutItem, which needs dynamodb:PutItem on table 'ledger'")
    assert "add table=Access.READ_WRITE to its Grants" in message


def test_each_item_of_a_transaction_needs_its_own_action() -> None:
    update = {"Update": {"TableName": TABLE, "Key": KEY, "UpdateExpression": "SET a = :a"}}
    Guarded("dunning_api").call("dynamodb", "transact_write_items", {}, TransactItems=[update])
    assert "dynamodb:UpdateItem" in refused("api", "dynamodb", "transact_write_items", TransactItems=[update])


def test_buckets_are_checked_by_name_and_by_access() -> None:
    Guarded("direct_debits").call("s3", "list_objects_v2", {}, Bucket=INBOUND, Prefix="config/")
    Guarded("direct_debits").call("s3", "put_object", {}, Bucket=OUTBOUND, Key="banks/x.xml", Body=b"x")
    Guarded("plan_inbound_file").call(
        "s3", "copy_object", {}, Bucket=INBOUND, Key="quarantine/a", CopySource={"Bucket": INBOUND, "Key": "a"}
    )
    message = refused("direct_debits", "s3", "delete_object", Bucket=INBOUND, Key="config/a.json")
    assert 'add buckets={"inbound": Access.READ_WRITE} to its Grants' in message
    message = refused("dunning_api", "s3", "put_object", Bucket=OUTBOUND, Key="letters/a.pdf", Body=b"x")
    assert "s3:PutObject on bucket 'outbound'" in message and 'buckets={"outbound": Access.WRITE}' in message
    # A copy reads its source and writes its target: direct_debits may read inbound and write outbound only.
    Guarded("direct_debits").call(
        "s3", "copy_object", {}, Bucket=OUTBOUND, Key="a", CopySource={"Bucket": INBOUND, "Key": "a"}
    )
    message = refused("direct_debits", "s3", "copy_object", Bucket=OUTBOUND, Key="a", CopySource=f"{OUTBOUND}/a")
    assert "s3:GetObject on bucket 'outbound'" in message and 'buckets={"outbound": Access.READ_WRITE}' in message


def test_a_resource_outside_the_topology_is_refused() -> None:
    message = refused("load_bank_file", "s3", "get_object", Bucket="someone-elses", Key="a")
    assert "bucket 'someone-elses'" in message and "not a resource of the topology" in message


def test_queues_bus_email_and_sms_each_need_their_grant() -> None:
    daily_run = Guarded("plan_daily_run")
    daily_run.call(
        "sqs",
        "send_message_batch",
        {"Successful": [], "Failed": []},
        QueueUrl=physical("queue", "dunning-accounts"),
        Entries=[{"Id": "1", "MessageBody": "{}"}],
    )
    message = refused(
        "plan_daily_run", "sqs", "send_message", QueueUrl=physical("queue", "file-chunks"), MessageBody=""
    )
    assert "sqs:SendMessage on queue 'file-chunks'" in message and 'send_to_queues=("file-chunks",)' in message

    entry = {"Source": "s", "DetailType": "d", "Detail": "{}", "EventBusName": BUS}
    Guarded("load_bank_file").call("events", "put_events", {"Entries": [{}], "FailedEntryCount": 0}, Entries=[entry])
    assert "put_events=True" in refused("send_deferred_sms", "events", "put_events", Entries=[entry])
    default_bus = refused(
        "load_bank_file", "events", "put_events", Entries=[{k: v for k, v in entry.items() if k != "EventBusName"}]
    )
    assert "bus 'default'" in default_bus

    Guarded("send_deferred_sms").call("sns", "publish", {"MessageId": "m"}, PhoneNumber="+905321234567", Message="x")
    email = {
        "Source": "a@b.c",
        "Destination": {"ToAddresses": ["x@y.z"]},
        "Message": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
    }
    assert "send_email=True" in refused("send_deferred_sms", "ses", "send_email", **email)
    assert "no grant of the topology allows that service" in refused("api", "sts", "get_caller_identity")
