"""The REST API handler against moto: the event shapes API Gateway sends, the answers clients rely on."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from receivables.topology import TOPOLOGY
from receivables_local.http_api import ApiGateway, Request

from tests.integration.test_loading_pipeline import CUSTOMERS, INVOICES, drop

EVENT = json.loads((Path(__file__).parents[2] / "events" / "api_get_account.json").read_text())


def get(stack, context, resource: str, path: str, params: dict[str, str]) -> tuple[int, dict]:
    event = copy.deepcopy(EVENT)
    event.update(resource=resource, path=path, pathParameters=params or None)
    event["requestContext"].update(resourcePath=resource)
    response = stack.handler("api")(event, context)
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def loaded(stack, context):
    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    drop(stack, "invoices/i.csv", INVOICES)
    stack.drain(context)
    return stack


def test_account_shows_balance_and_items_with_open_amounts(loaded, context):
    status, body = get(loaded, context, "/accounts/{account_id}", "/accounts/A1", {"account_id": "A1"})
    assert status == 200
    assert body["balance"] == "200.00" and body["currency"] == "TRY" and body["customer_id"] == "C1"
    assert [(i["item_id"], i["amount"], i["open_amount"], i["status"]) for i in body["items"]] == [
        ("INV-1", "100.50", "100.50", "open"),
        ("INV-2", "99.50", "99.50", "open"),
    ]
    assert body["next_action_on"] == "2026-11-24"  # overdue when loaded (INV-1 was due 2026-10-15): reviewed from today


def test_customer_and_item(loaded, context):
    status, customer = get(loaded, context, "/customers/{customer_id}", "/customers/C1", {"customer_id": "C1"})
    assert status == 200 and customer["account_ids"] == ["A1"] and customer["iban"].startswith("TR33")
    status, item = get(loaded, context, "/items/{item_id}", "/items/INV-3", {"item_id": "INV-3"})
    assert status == 200 and item["amount"] == "1000.00" and item["currency"] == "EUR"
    assert item["source"] == {"file": "invoices/i.csv", "line": 4}


def test_unknown_ids_are_404_with_the_error_shape(loaded, context):
    for resource, path, params, message in [
        ("/customers/{customer_id}", "/customers/NOPE", {"customer_id": "NOPE"}, "customer NOPE not found"),
        ("/accounts/{account_id}", "/accounts/NOPE", {"account_id": "NOPE"}, "account NOPE not found"),
        ("/items/{item_id}", "/items/NOPE", {"item_id": "NOPE"}, "item NOPE not found"),
        ("/accounts/{account_id}/journal", "/accounts/NOPE/journal", {"account_id": "NOPE"}, "account NOPE not found"),
    ]:
        status, body = get(loaded, context, resource, path, params)
        assert status == 404
        # The route's own message, not the resolver's "no route …" (which once answered every 404).
        assert body == {"error": {"code": "not_found", "message": message, "details": []}}


def test_only_an_unknown_path_says_no_route(stack, context):
    status, body = get(stack, context, "/nowhere/{x}", "/nowhere/1", {"x": "1"})
    assert status == 404 and body["error"] == {"code": "not_found", "message": "no route GET /nowhere/1", "details": []}


def test_malformed_id_is_422(loaded, context):
    # API Gateway hands the handler the decoded path.
    status, body = get(loaded, context, "/items/{item_id}", "/items/ bad", {"item_id": " bad"})
    assert status == 422
    assert body["error"]["code"] == "validation_error" and body["error"]["details"]


def test_health(stack, context):
    status, body = get(stack, context, "/health", "/health", {})
    assert status == 200 and body["status"] == "ok"


class _StackInvoker:
    """The local API Gateway's invoker, calling the functions of the moto stack."""

    def __init__(self, stack, context) -> None:
        self.stack, self.context = stack, context

    def invoke(self, function_name, event, source="api", attempt=1):
        return self.stack.handler(function_name)(event, self.context)

    def record(self, invocation) -> None:
        pass


def test_an_item_id_with_a_slash_is_read_back_percent_encoded(stack, context):
    # Billing's ids may hold '/' (IDENTIFIER allows it). In a URL it is %2F: API Gateway (REST) routes on the encoded
    # path, so it stays one segment, and hands the path over still encoded; the route decodes the id.
    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    drop(stack, "invoices/i.csv", INVOICES.replace("INV-3,", "INV/2026/3,"))
    stack.drain(context)
    gateway = ApiGateway(TOPOLOGY, _StackInvoker(stack, context))

    response = gateway.handle(Request("GET", "/items/INV%2F2026%2F3", [("Accept", "application/json")], b""))
    assert response.status == 200
    assert json.loads(response.body)["item_id"] == "INV/2026/3"

    status, item = get(stack, context, "/items/{item_id}", "/items/INV%2F2026%2F3", {"item_id": "INV/2026/3"})
    assert status == 200 and item["item_id"] == "INV/2026/3" and item["amount"] == "1000.00"
    status, body = get(stack, context, "/items/{item_id}", "/items/INV%232026", {"item_id": "INV#2026"})
    assert status == 422 and body["error"]["details"][0]["location"] == ["path", "item_id"]  # '#' is never an id's


def test_the_local_gateway_names_the_caller_as_api_gateway_does_for_an_iam_user():
    from receivables.api.caller import actor_of
    from receivables_local.http_api import LOCAL_CALLER, proxy_event

    def context(request: Request) -> dict:
        return proxy_event(request, None, None)["requestContext"]

    plain = Request("POST", "/holds", [], b"{}")
    named = Request("POST", "/holds", [("X-Local-Caller", "ops.ayse")], b"{}")
    replayed = Request("POST", "/holds", [("X-Local-Caller", "ops.ayse")], b"{}", caller="fin.zeynep")  # "as"
    assert [actor_of(context(r)) for r in (plain, named, replayed)] == [LOCAL_CALLER, "ops.ayse", "fin.zeynep"]
    identity = context(named)["identity"]
    assert identity["userArn"].endswith(":user/ops.ayse") and identity["user"] == context(named)["identity"]["user"]
    assert identity["user"] != context(replayed)["identity"]["user"]  # one IAM user id per name
