"""People with roles on the local stack: moto's Cognito issues the tokens, the local API checks them as API
Gateway's authorizer would, and each route's groups decide — a collector cannot publish configuration, a
supervisor's hold names the supervisor, systems keep IAM."""

from __future__ import annotations

import json

from receivables_local.cli import app
from receivables_local.http_api import ApiGateway, Request
from receivables_local.people import LocalUserPool
from typer.testing import CliRunner

from tests.e2e.conftest import requires_handlers

pytestmark = [requires_handlers]

CUSTOMERS = "customer_id,name,type,city,phone,language\nC1,Ayşe Yılmaz,individual,İstanbul,+905321234567,tr\n"
INVOICES = (
    "invoice_id,customer_id,account_id,issue_date,due_date,amount,currency\nI1,C1,A1,2026-10-01,2026-10-15,100.00,TRY\n"
)


def send(gateway, method, path, body=None, caller=None, token=None):
    headers = [("content-type", "application/json")] + ([("Authorization", f"Bearer {token}")] if token else [])
    data = json.dumps(body).encode() if body is not None else b""
    response = gateway.handle(Request(method, path, headers, data, caller=caller))
    return response.status, json.loads(response.body or b"{}")


def test_route_groups_hold_for_people_and_systems_keep_iam(session, stack):
    session.upload("customers/c.csv", CUSTOMERS.encode())
    session.upload("invoices/i.csv", INVOICES.encode())
    session.runtime.run_until_idle()
    gateway = ApiGateway(session.topology, session.runtime.invoker, LocalUserPool(stack.clients()))

    status, config = send(gateway, "GET", "/dunning/config", caller="ali@collector")
    assert status == 200  # collectors read the configuration…
    document = {k: v for k, v in config["config"].items() if k != "version"}
    status, body = send(gateway, "PUT", "/dunning/config", document, caller="ali@collector")
    assert status == 403 and body["error"]["code"] == "forbidden"  # …and cannot publish it
    assert body["error"]["message"] == "ali (collector) may not PUT /dunning/config: it is for admin"
    assert send(gateway, "PUT", "/dunning/config", document, caller="deniz@admin")[0] == 200

    hold = {"level": "account", "id": "A1", "reason": "customer disputes I1"}
    assert send(gateway, "POST", "/holds", hold, caller="ali@collector")[0] == 403
    status, body = send(gateway, "POST", "/holds", hold, caller="mert@supervisor")
    assert status == 201 and body["created_by"] == "mert"

    # A system signs with IAM and may call every route; a forged token is refused before any function runs.
    assert send(gateway, "PUT", "/dunning/config", document, caller="deploy-pipeline")[0] == 200
    assert send(gateway, "GET", "/accounts/A1", token="not.a.token")[0] == 401

    # The CLI prints a token the API takes, as a person of that group.
    result = CliRunner().invoke(
        app, ["local", "user", "add", "zeynep", "--group", "finance", "--endpoint-url", stack.endpoints.aws]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    status, body = send(gateway, "GET", "/accounts/A1", token=token)
    assert status == 200 and body["account_id"] == "A1"
    assert send(gateway, "POST", "/holds", hold, token=token)[0] == 403
    bad = CliRunner().invoke(
        app, ["local", "user", "add", "x", "--group", "boss", "--endpoint-url", stack.endpoints.aws]
    )
    assert bad.exit_code == 1 and "'boss' is not a group" in bad.output
