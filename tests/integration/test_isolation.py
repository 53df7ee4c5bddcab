"""Each handler runs as its function: only its own environment, only its own grants."""

from __future__ import annotations

import pytest
from receivables import bootstrap
from receivables.topology import env_var
from receivables_local.grant_guard import GrantRefusedError


def test_a_call_outside_the_functions_grants_is_refused_before_it_is_sent(stack):
    dynamodb = stack.root("api", lambda: bootstrap.aws_client("dynamodb"))
    item = {"pk": {"S": "X"}, "sk": {"S": "Y"}}

    with pytest.raises(GrantRefusedError, match=r"function 'api' called dynamodb\.PutItem.*table=Access\.READ_WRITE"):
        dynamodb.put_item(TableName=stack.table, Item=item)

    assert "Item" not in stack.dynamodb.get_item(TableName=stack.table, Key=item)
    stack.refused.clear()  # seen; the fixture fails a test that leaves a refusal behind


def test_functions_sharing_the_process_never_share_settings_or_roots(stack):
    worker = stack.root("dunning_worker", bootstrap.dunning_table)
    sender = stack.root("send_deferred_sms", bootstrap.dunning_table)

    assert worker is not sender
    assert env_var("bus", "receivables") not in stack.environment("send_deferred_sms").variables
    with stack.running_as("send_deferred_sms"), pytest.raises(ValueError, match="BUS_RECEIVABLES_NAME"):
        bootstrap.dunning_settings()  # the worker's settings: the sender has no bus
