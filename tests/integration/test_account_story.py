"""An account's whole story in one call, and a customer on one screen."""

from __future__ import annotations

import json

from tests.integration.conftest import api_event
from tests.integration.test_bank_files import loaded


def call(
    stack, context, function, method, resource, path, params=None, body=None, query=None, caller="ops.ayse", raw=False
):
    event = api_event(
        method,
        resource,
        path,
        caller=caller,
        pathParameters=params,
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        body=json.dumps(body) if body is not None else None,
    )
    response = stack.handler(function)(event, context)
    return response["statusCode"], response["body"] if raw else json.loads(response["body"])


def test_the_timeline_tells_every_event_in_order_with_who_did_it_and_the_summary_adds_it_up(stack, context):
    loaded(stack, context)
    # Dunning sees the overdue account: a cycle starts, its first step is decided.
    stack.handler("dunning_worker")({"detail": {"account_id": "A1"}}, context)
    receipt = {
        "receipt_id": "TILL-1",
        "account_id": "A1",
        "currency": "TRY",
        "value_date": "2026-11-24",
        "tenders": [{"type": "cash", "amount": "60.00"}],
    }
    assert (
        call(stack, context, "payments_api", "POST", "/receipts", "/receipts", body=receipt, caller="till.7")[0] == 200
    )
    adjustment = {
        "adjustment_id": "ADJ-1",
        "item_id": "INV-2",
        "kind": "credit_note",
        "amount": "9.50",
        "reason": "goodwill",
    }
    status, _ = call(
        stack, context, "payments_api", "POST", "/adjustments", "/adjustments", body=adjustment, caller="fin.zeynep"
    )
    assert status == 201
    hold = {"level": "account", "id": "A1", "reason": "customer disputes INV-2"}
    assert call(stack, context, "dunning_api", "POST", "/holds", "/holds", body=hold, caller="sup.mert")[0] == 201
    stack.drain(context)

    route = "/accounts/{account_id}/timeline"
    status, body = call(stack, context, "api", "GET", route, "/accounts/A1/timeline", {"account_id": "A1"})
    assert status == 200 and body["next_cursor"] is None
    events = body["events"]
    kinds = [e["kind"] for e in events]
    assert {"item", "payment", "adjustment", "hold", "cycle"} <= set(kinds)
    assert [e["date"] for e in events] == sorted(e["date"] for e in events)
    by_kind = {e["kind"]: e for e in events}
    assert by_kind["payment"]["by"] == "till.7" and by_kind["payment"]["amount"] == "60.00"
    assert by_kind["adjustment"]["by"] == "fin.zeynep" and "applied" in by_kind["adjustment"]["what"]
    assert by_kind["hold"]["by"] == "sup.mert" and "customer disputes INV-2" in by_kind["hold"]["what"]
    assert {e["ids"]["item_id"] for e in events if e["kind"] == "item"} == {"INV-1", "INV-2"}

    # Filtered and paginated: two at a time, payments and adjustments only.
    query = {"kind": "payment,adjustment", "limit": "1"}
    status, first = call(
        stack, context, "api", "GET", route, "/accounts/A1/timeline", {"account_id": "A1"}, query=query
    )
    assert status == 200 and [e["kind"] for e in first["events"]] == ["payment"] and first["next_cursor"]
    query["cursor"] = first["next_cursor"]
    status, second = call(
        stack, context, "api", "GET", route, "/accounts/A1/timeline", {"account_id": "A1"}, query=query
    )
    assert [e["kind"] for e in second["events"]] == ["adjustment"] and second["next_cursor"] is None
    status, missing = call(stack, context, "api", "GET", route, "/accounts/NOPE/timeline", {"account_id": "NOPE"})
    assert status == 404 and missing["error"]["message"] == "account NOPE not found"

    status, summary = call(
        stack, context, "api", "GET", "/customers/{customer_id}/summary", "/customers/C1/summary", {"customer_id": "C1"}
    )
    assert status == 200 and summary["name"] == "Ayşe Yılmaz"
    (account,) = summary["accounts"]
    # INV-1 100.50 due 10-15 got 60.00 on 11-24 (40 days late); INV-2 99.50 due 11-15 was credited 9.50.
    assert account["account_id"] == "A1" and account["balance"] == "130.50" and account["overdue_amount"] == "130.50"
    assert summary["balance"] == {"TRY": "130.50"} and summary["last_payment_date"] == "2026-11-24"
    assert [(p["item_id"], p["amount"], p["days_late"]) for p in summary["payment_history"]] == [("INV-1", "60.00", 40)]
    assert account["stage"] is not None or account["strategy"] is None
