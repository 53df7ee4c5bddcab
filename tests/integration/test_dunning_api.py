"""Dunning commands through the API on moto: holds at every level with their mirrors, promises, installment plans,
collector tasks and configuration versions, over customers and invoices loaded from files."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import date
from decimal import Decimal
from functools import cache

import pytest
from receivables import bootstrap
from receivables.adapters.clock import BusinessClock
from receivables.adapters.dunning_commands_table import DunningCommandsTable
from receivables.adapters.ledger_table import LedgerTable
from receivables.api.app import build
from receivables.api.dunning_routes import router
from receivables.dunning.collectors import task_priority
from receivables.dunning.commands import DunningCommands, DunningConflictError, StoredConfig, UnknownRecordError
from receivables.dunning.config import DEFAULT_CONFIG
from receivables.dunning.records import HoldRecord, TaskRecord, task_id_of

from tests.integration.conftest import API_CALLER, api_event
from tests.integration.test_loading_pipeline import drop

TODAY = date(2026, 11, 24)  # the stack fixture's BUSINESS_DATE

CUSTOMERS = """customer_id,name,type,city,phone,language,email,vip
C1,Ayşe Yılmaz,individual,İstanbul,+905321234567,tr,ayse@example.com,false
C2,Acme Ltd,corporate,Ankara,+903121234567,en,,false
"""

# On 2026-11-24, A1 has INV-1 and INV-2 overdue (150.00) and INV-3 not yet due; C1 also has A3; C2 has A2.
INVOICES = """invoice_id,customer_id,account_id,issue_date,due_date,amount,currency,subscription_id,description
INV-1,C1,A1,2026-10-01,2026-10-15,100.00,TRY,S1,October
INV-2,C1,A1,2026-11-01,2026-11-15,50.00,TRY,S1,November
INV-3,C1,A1,2026-11-20,2026-12-10,30.00,TRY,,December
INV-4,C1,A3,2026-11-01,2026-11-10,20.00,TRY,,
INV-5,C2,A2,2026-10-01,2026-10-20,100.00,TRY,,
"""


class Api:
    def __init__(self, stack, context) -> None:
        self.stack = stack
        self.context = context
        self.app = build(router)

    def __call__(self, method, resource, path, params=None, body=None, query=None, caller=API_CALLER):
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
        with self.stack.running_as("dunning_api"):
            response = self.app.resolve(event, self.context)
        return response["statusCode"], json.loads(response["body"])

    def record(self, pk, sk):
        return self.stack.dynamodb.get_item(
            TableName=self.stack.table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        ).get("Item")

    def holds_on(self, pk, sk):
        return {k: json.loads(v["S"]) for k, v in self.record(pk, sk).get("holds", {}).get("M", {}).items()}

    def reviews(self):
        """The reviews relayed from the outbox; each carries the id consumers de-duplicate by, checked, left out."""
        details = [e["detail"] for e in self.stack.bus_events() if e.get("detail-type") == "DunningReviewRequested"]
        assert all(detail.pop("event_id") for detail in details)
        return details


def commands_on(stack, store=None) -> DunningCommands:
    counter = itertools.count(1)
    return DunningCommands(
        store=store or DunningCommandsTable(stack.dynamodb, stack.table),
        clock=BusinessClock("Europe/Istanbul", TODAY),
        new_id=lambda prefix: f"{prefix}{next(counter):03d}",
    )


@pytest.fixture
def api(stack, context, monkeypatch):
    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    drop(stack, "invoices/i.csv", INVOICES)
    stack.drain(context)
    commands = commands_on(stack)
    monkeypatch.setattr(bootstrap, "dunning_commands", cache(lambda: commands), raising=False)
    client = Api(stack, context)
    client.reviews()  # forget the loading events
    return client


CUSTOMER_HOLD = {"level": "customer", "id": "C1", "reason": "bereavement"}


def post_hold(api, **body):
    return api("POST", "/holds", "/holds", None, body)


# ---------------------------------------------------------------- holds


def test_holds_at_every_level_are_mirrored_where_the_run_reads_them_and_released_with_an_audit_trail(api):
    status, customer_hold = api("POST", "/holds", "/holds", None, CUSTOMER_HOLD, caller="ops.ayse")
    assert status == 201 and customer_hold["status"] == "active" and customer_hold["start"] == "2026-11-24"
    assert customer_hold["audit"][0]["by"] == "ops.ayse" and customer_hold["account_id"] is None
    assert api.holds_on("CUST#C1", "HOLDS") == {customer_hold["hold_id"]: customer_hold}
    # A customer hold re-evaluates every account of the customer at once.
    assert api.reviews() == [{"account_ids": ["A1", "A3"], "reason": f"customer hold {customer_hold['hold_id']} on C1"}]

    _, account_hold = post_hold(api, level="account", id="A1", reason="complaint open", until="2026-12-31")
    _, item_hold = post_hold(api, level="item", id="INV-1", reason="disputed amount")
    assert item_hold["account_id"] == "A1" and item_hold["customer_id"] == "C1"

    # A subscription's account: from the request, or from the SUBID pointer the loader writes; neither is a 422.
    status, body = post_hold(api, level="subscription", id="S-UNBILLED", reason="line moved")
    assert status == 422 and body["error"]["details"][0]["location"] == ["body", "account_id"]
    _, subscription_hold = post_hold(api, level="subscription", id="S1", reason="line moved", account_id="A1")
    status, by_pointer = post_hold(api, level="subscription", id="S1", reason="second look")
    assert status == 201 and by_pointer["account_id"] == "A1"
    mirrored = api.holds_on("ACCT#A1", "ACCOUNT")
    assert set(mirrored) == {h["hold_id"] for h in (account_hold, item_hold, subscription_hold, by_pointer)}
    assert mirrored[account_hold["hold_id"]]["until"] == "2026-12-31"

    status, released = api(
        "DELETE",
        "/holds/{hold_id}",
        f"/holds/{item_hold['hold_id']}",
        {"hold_id": item_hold["hold_id"]},
        caller="ops.mehmet",
    )
    assert status == 200 and released["status"] == "released"
    assert [(a["by"], a["what"]) for a in released["audit"]] == [
        (API_CALLER, "held: disputed amount"),
        ("ops.mehmet", "released"),
    ]
    assert item_hold["hold_id"] not in api.holds_on("ACCT#A1", "ACCOUNT")
    assert api("GET", "/holds/{hold_id}", f"/holds/{item_hold['hold_id']}", {"hold_id": item_hold["hold_id"]}) == (
        200,
        released,
    )
    again = api("DELETE", "/holds/{hold_id}", f"/holds/{item_hold['hold_id']}", {"hold_id": item_hold["hold_id"]})
    assert again[0] == 409 and "already released" in again[1]["error"]["message"]

    status, _ = api(
        "DELETE", "/holds/{hold_id}", f"/holds/{customer_hold['hold_id']}", {"hold_id": customer_hold["hold_id"]}
    )
    assert status == 200 and api.holds_on("CUST#C1", "HOLDS") == {}


def test_hold_requests_that_cannot_be_honoured_are_refused_with_the_reason(api):
    status, body = post_hold(api, level="account", id="A1", reason="x", until="2026-11-23")
    assert status == 422 and body["error"]["details"][0]["location"] == ["body", "until"]
    assert "in the past" in body["error"]["message"]
    assert post_hold(api, level="customer", id="C9", reason="x")[0] == 404
    assert post_hold(api, level="item", id="NOPE", reason="x")[0] == 404
    assert post_hold(api, level="subscription", id="S9", reason="x", account_id="A1")[0] == 404
    assert post_hold(api, level="galaxy", id="A1", reason="x")[0] == 422
    assert post_hold(api, level="account", id="A1", reason="")[0] == 422
    assert api("GET", "/holds/{hold_id}", "/holds/NOPE", {"hold_id": "NOPE"})[0] == 404
    assert api("DELETE", "/holds/{hold_id}", "/holds/NOPE", {"hold_id": "NOPE"})[0] == 404
    assert api.record("ACCT#A1", "ACCOUNT").get("holds") is None  # nothing half-written


# ---------------------------------------------------------------- promises


def test_a_promise_records_what_is_open_and_a_second_one_waits_for_the_first(api):
    path = "/accounts/A1/promises"
    status, promise = api(
        "POST",
        "/accounts/{account_id}/promises",
        path,
        {"account_id": "A1"},
        {"amount": "60.00", "date": "2026-12-01"},
        caller="agent.7",
    )
    assert status == 201 and promise["amount"] == "60.00" and promise["status"] == "open"
    assert promise["open_at_promise"] == {"INV-1": "100.00", "INV-2": "50.00", "INV-3": "30.00"}
    assert promise["created_on"] == "2026-11-24" and promise["created_by"] == "agent.7"
    assert json.loads(api.record("ACCT#A1", "ACCOUNT")["promise"]["S"]) == promise
    assert json.loads(api.record(f"PROMISE#{promise['promise_id']}", "PROMISE")["doc"]["S"]) == promise
    assert api.reviews()[0]["account_ids"] == ["A1"]

    status, body = api(
        "POST", "/accounts/{account_id}/promises", path, {"account_id": "A1"}, {"amount": "10.00", "date": "2026-12-02"}
    )
    assert status == 409 and "an open promise exists until 2026-12-01" in body["error"]["message"]
    pid = promise["promise_id"]
    assert api("GET", "/promises/{promise_id}", f"/promises/{pid}", {"promise_id": pid}) == (200, promise)

    too_far = {"amount": "10.00", "date": "2027-03-01"}
    status, body = api(
        "POST", "/accounts/{account_id}/promises", "/accounts/A2/promises", {"account_id": "A2"}, too_far
    )
    assert status == 422 and body["error"]["details"][0]["location"] == ["body", "date"]
    three_decimals = {"amount": "10.001", "date": "2026-12-01"}
    assert (
        api("POST", "/accounts/{account_id}/promises", "/accounts/A2/promises", {"account_id": "A2"}, three_decimals)[0]
        == 422
    )
    unknown = api(
        "POST",
        "/accounts/{account_id}/promises",
        "/accounts/A9/promises",
        {"account_id": "A9"},
        {"amount": "10.00", "date": "2026-12-01"},
    )
    assert unknown[0] == 404
    assert api("GET", "/promises/{promise_id}", "/promises/NOPE", {"promise_id": "NOPE"})[0] == 404


# ---------------------------------------------------------------- plans


def post_plan(api, account_id="A1", caller=API_CALLER, **body):
    request = {"installments": 7, "first_due_date": "2026-12-01", "interval_days": 30} | body
    path = f"/accounts/{account_id}/plans"
    return api("POST", "/accounts/{account_id}/plans", path, {"account_id": account_id}, request, caller=caller)


def test_a_plan_restructures_the_overdue_items_into_installments_split_to_the_cent(api):
    status, plan = post_plan(api, caller="agent.7")
    assert status == 201 and plan["total"] == "150.00" and plan["currency"] == "TRY"
    assert plan["restructured"] == {"INV-1": "100.00", "INV-2": "50.00"}  # INV-3 is not due yet
    installments = plan["installments"]
    assert [i["amount"] for i in installments] == ["21.48"] + ["21.42"] * 6  # the remainder on the first
    assert sum(Decimal(i["amount"]) for i in installments) == Decimal("150.00")
    assert [i["due_date"] for i in installments[:3]] == ["2026-12-01", "2026-12-31", "2027-01-30"]
    assert installments[0]["item_id"] == f"{plan['plan_id']}-1"

    for item_id in ("INV-1", "INV-2"):
        item = api.record(f"ITEM#{item_id}", "ITEM")
        assert item["open_amount"]["N"] == "0.00" and item["status"]["S"] == "restructured"
        assert item["restructured_into"]["S"] == plan["plan_id"] and item["amount"]["N"] != "0.00"
    first = api.record(f"ITEM#{plan['plan_id']}-1", "ITEM")
    assert first["kind"]["S"] == "installment" and first["gsi1pk"]["S"] == "ACCT#A1"
    assert first["description"]["S"] == f"Installment 1/7 of plan {plan['plan_id']}"
    assert first["source_file"]["S"] == f"plan:{plan['plan_id']}" and first["source_line"]["N"] == "1"
    assert json.loads(api.record("ACCT#A1", "ACCOUNT")["plan"]["S"]) == plan

    # The ledger sees the same debt, now as installments.
    account = LedgerTable(api.stack.dynamodb, api.stack.table, clock=BusinessClock("UTC", TODAY)).get_account("A1")
    assert account.balance == Decimal("180.00")
    assert {i.item_id: i.status.value for i in account.items if i.item_id.startswith("INV")} == {
        "INV-1": "restructured",
        "INV-2": "restructured",
        "INV-3": "open",
    }
    assert api("GET", "/plans/{plan_id}", f"/plans/{plan['plan_id']}", {"plan_id": plan["plan_id"]}) == (200, plan)
    status, body = post_plan(api)
    assert status == 409 and "is active" in body["error"]["message"]
    assert api.reviews()[0] == {"account_ids": ["A1"], "reason": f"plan {plan['plan_id']}: 150.00 in 7 installments"}


def test_plan_requests_outside_the_configured_bounds_or_with_nothing_overdue_are_refused(api):
    status, body = post_plan(api, installments=13)
    assert status == 422 and body["error"]["details"][0]["location"] == ["body", "installments"]
    assert post_plan(api, interval_days=3)[0] == 422
    assert post_plan(api, first_due_date="2026-11-01")[0] == 422
    assert post_plan(api, account_id="A9")[0] == 404
    assert api("GET", "/plans/{plan_id}", "/plans/NOPE", {"plan_id": "NOPE"})[0] == 404
    # A3's only item is overdue but held: nothing is left to restructure.
    post_hold(api, level="item", id="INV-4", reason="disputed")
    status, body = post_plan(api, account_id="A3")
    assert status == 422 and "nothing overdue" in body["error"]["message"]


class PaidMeanwhile(DunningCommandsTable):
    """A payment lands on INV-1 after the plan read the account's items and before it is written."""

    def account_items(self, account_id):
        items = super().account_items(account_id)
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": "ITEM#INV-1"}, "sk": {"S": "ITEM"}},
            UpdateExpression="SET open_amount = :paid",
            ExpressionAttributeValues={":paid": {"N": "40.00"}},
        )
        return items


def test_a_payment_between_reading_and_writing_a_plan_fails_it_whole(api, monkeypatch):
    commands = commands_on(api.stack, PaidMeanwhile(api.stack.dynamodb, api.stack.table))
    monkeypatch.setattr(bootstrap, "dunning_commands", cache(lambda: commands), raising=False)
    status, body = post_plan(api)
    assert status == 409 and "item INV-1 changed meanwhile" in body["error"]["message"]
    assert api.record("ITEM#INV-2", "ITEM")["open_amount"]["N"] == "50.00"  # nothing restructured
    assert "status" not in api.record("ITEM#INV-2", "ITEM")
    assert api.record("ITEM#PL001-1", "ITEM") is None and api.record("PLAN#PL001", "PLAN") is None
    assert "plan" not in api.record("ACCT#A1", "ACCOUNT")
    assert api.reviews() == []


# ---------------------------------------------------------------- collector tasks


def put_task(stack, account_id, customer_id, overdue, days):
    """A task as the worker writes it: the doc, and the sparse index keys of its group's open queue."""
    task = TaskRecord(
        task_id=f"{account_id}#1#call",
        account_id=account_id,
        customer_id=customer_id,
        group="retail",
        priority=task_priority(Decimal(overdue), days),
        overdue_amount=Decimal(overdue),
        days_overdue=days,
        step="call",
        created_on=TODAY,
    )
    stack.dynamodb.put_item(
        TableName=stack.table,
        Item={
            "pk": {"S": f"TASK#{task.task_id}"},
            "sk": {"S": "TASK"},
            "entity": {"S": "task"},
            "doc": {"S": task.model_dump_json()},
            "gsi2pk": {"S": "TASKS#retail#open"},
            "gsi2sk": {"S": f"{task.priority}#{task.task_id}"},
        },
    )
    return task


def tasks(api, status="open"):
    code, body = api(
        "GET", "/collectors/{group}/tasks", "/collectors/retail/tasks", {"group": "retail"}, query={"status": status}
    )
    assert code == 200
    return [t["task_id"] for t in body]


def test_collectors_work_their_queue_by_priority_and_a_promise_outcome_creates_the_promise(api):
    put_task(api.stack, "A2", "C2", "100.00", 35)
    put_task(api.stack, "A1", "C1", "150.00", 40)
    assert tasks(api) == ["A1#1#call", "A2#1#call"]  # the larger overdue amount first

    claim = ("POST", "/tasks/{task_id}/claim", "/tasks/A2%231%23call/claim", {"task_id": "A2#1#call"})
    status, claimed = api(*claim, caller="agent.7")
    assert status == 200 and claimed["status"] == "claimed" and claimed["claimed_by"] == "agent.7"
    status, body = api(*claim, caller="agent.9")
    assert status == 409 and "claimed by agent.7" in body["error"]["message"]
    assert tasks(api) == ["A1#1#call"] and tasks(api, "claimed") == ["A2#1#call"]

    outcome = ("POST", "/tasks/{task_id}/outcome", "/tasks/A2%231%23call/outcome", {"task_id": "A2#1#call"})
    status, body = api(*outcome, {"outcome": "promise"})
    assert status == 422 and body["error"]["details"][0]["location"] == ["body", "promise"]
    status, body = api(
        "POST",
        "/tasks/{task_id}/outcome",
        "/tasks/A1%231%23call/outcome",
        {"task_id": "A1#1#call"},
        {"outcome": "no_answer"},
    )
    assert status == 409 and "claim it first" in body["error"]["message"]

    status, body = api(
        *outcome,
        {"outcome": "promise", "note": "pays Friday", "promise": {"amount": "100.00", "date": "2026-11-27"}},
        caller="agent.7",
    )
    assert status == 200
    task, promise = body["task"], body["promise"]
    assert (task["status"], task["outcome"], task["note"], task["closed_on"], task["closed_by"]) == (
        "done",
        "promise",
        "pays Friday",
        "2026-11-24",
        "agent.7",
    )
    assert promise["account_id"] == "A2" and promise["created_by"] == "agent.7" and promise["amount"] == "100.00"
    assert json.loads(api.record("ACCT#A2", "ACCOUNT")["promise"]["S"]) == promise
    stored = api.record("TASK#A2#1#call", "TASK")
    # Out of the work queues, into the group's closed tasks by the day it closed (the collectors report reads them).
    assert stored["gsi2pk"]["S"] == "TASKS#retail#done" and stored["gsi2sk"]["S"].startswith("2026-11-24#")
    assert json.loads(stored["doc"]["S"]) == task
    assert tasks(api, "claimed") == []
    assert api(*outcome, {"outcome": "paid"})[0] == 409  # done is done
    assert api.reviews()[-1] == {"account_ids": ["A2"], "reason": f"task A2#1#call: promise ({promise['promise_id']})"}

    unknown = ("POST", "/tasks/{task_id}/claim", "/tasks/NOPE/claim", {"task_id": "NOPE"})
    assert api(*unknown)[0] == 404


def test_a_promise_outcome_that_breaks_the_promise_rules_leaves_the_task_claimed(api):
    put_task(api.stack, "A2", "C2", "100.00", 35)
    api("POST", "/tasks/{task_id}/claim", "/tasks/A2%231%23call/claim", {"task_id": "A2#1#call"}, caller="a")
    api(
        "POST",
        "/accounts/{account_id}/promises",
        "/accounts/A2/promises",
        {"account_id": "A2"},
        {"amount": "10.00", "date": "2026-12-01"},
    )
    status, body = api(
        "POST",
        "/tasks/{task_id}/outcome",
        "/tasks/A2%231%23call/outcome",
        {"task_id": "A2#1#call"},
        {"outcome": "promise", "promise": {"amount": "50.00", "date": "2026-12-05"}},
    )
    assert status == 409 and "open promise" in body["error"]["message"]
    assert tasks(api, "claimed") == ["A2#1#call"]


# ---------------------------------------------------------------- configuration


def test_configuration_versions_are_validated_stored_and_read_back(api):
    status, body = api("GET", "/dunning/config", "/dunning/config")
    assert status == 200 and body["version"] == 1 and body["created_by"] == "shipped" and body["created_at"] is None
    document = body["config"]

    bad = copy.deepcopy(document)
    bad["segments"][0]["rule"] = "loyalty_points > 10"
    status, body = api("PUT", "/dunning/config", "/dunning/config", None, bad)
    assert status == 422 and body["error"]["code"] == "validation_error"
    assert "segment 'vip': rule 'loyalty_points > 10' is invalid" in body["error"]["details"][0]["message"]
    assert api.record("CONFIG#dunning", "CURRENT") is None

    changed = copy.deepcopy(document) | {"promise_grace_days": 5}
    changed.pop("version")
    status, body = api("PUT", "/dunning/config", "/dunning/config", None, changed, caller="ops.lead")
    assert status == 200 and body["version"] == 2 and body["created_by"] == "ops.lead"
    assert body["config"]["promise_grace_days"] == 5 and body["config"]["version"] == 2
    assert api("GET", "/dunning/config", "/dunning/config") == (200, body)

    current = api.record("CONFIG#dunning", "CURRENT")
    assert current["version"]["N"] == "2"
    stored = api.record("CONFIG#dunning", "V#00000002")
    assert stored["entity"]["S"] == "dunning_config" and json.loads(stored["doc"]["S"])["promise_grace_days"] == 5

    versions = "/dunning/config/versions/{version}"
    assert api("GET", versions, "/dunning/config/versions/1", {"version": "1"})[1]["config"] == document
    assert api("GET", versions, "/dunning/config/versions/2", {"version": "2"}) == (200, body)
    assert api("GET", versions, "/dunning/config/versions/3", {"version": "3"})[0] == 404

    status, dictionary = api("GET", "/dunning/dictionary", "/dunning/dictionary")
    assert status == 200 and dictionary["config_version"] == 2
    assert {"name": "vip", "type": "boolean"}.items() <= next(
        f for f in dictionary["fields"] if f["name"] == "vip"
    ).items()

    # Two editors who both read version 2: the second one loses instead of overwriting.
    late = StoredConfig(DEFAULT_CONFIG.model_copy(update={"version": 3}), created_by="late")
    store = DunningCommandsTable(api.stack.dynamodb, api.stack.table)
    store.save_config(late, replaces=2)
    with pytest.raises(DunningConflictError):
        store.save_config(late.__class__(DEFAULT_CONFIG.model_copy(update={"version": 4}), "later"), replaces=2)


def test_the_store_reports_a_vanished_target_and_reads_a_current_pointer_without_its_document(api):
    store = DunningCommandsTable(api.stack.dynamodb, api.stack.table)
    orphan = HoldRecord(
        hold_id="HL-ORPHAN",
        level="account",
        target_id="A9",
        customer_id="C1",
        account_id="A9",
        reason="x",
        start=TODAY,
        created_by="api",
    )
    with pytest.raises(UnknownRecordError, match="account A9 not found"):
        store.create_hold(orphan)
    assert api.record("HOLD#HL-ORPHAN", "HOLD") is None and api.record("ACCT#A9", "ACCOUNT") is None

    # A CURRENT record that only names its version (as the contract allows) is followed to the version's record.
    version_two = StoredConfig(DEFAULT_CONFIG.model_copy(update={"version": 2}), created_by="ops")
    store.save_config(version_two, replaces=None)
    api.stack.dynamodb.put_item(
        TableName=api.stack.table,
        Item={"pk": {"S": "CONFIG#dunning"}, "sk": {"S": "CURRENT"}, "version": {"N": "2"}},
    )
    assert store.current_config() == version_two


def test_a_plan_of_exactly_one_full_transaction_is_written_with_its_review(api):
    """90 overdue items + 7 installments + the plan, the account's mirror and the journal entry: DynamoDB's 100 —
    the review it asks for rides in the journal entry, not in a 101st record."""
    rows = "".join(f"BIG-{n:03d},C2,A7,2026-10-01,2026-10-{1 + n % 28:02d},1.00,TRY,,\n" for n in range(90))
    drop(api.stack, "invoices/big.csv", INVOICES.splitlines()[0] + "\n" + rows)
    api.stack.drain(api.context)
    api.reviews()
    status, plan = post_plan(api, account_id="A7", installments=7)
    assert status == 201, plan
    assert plan["total"] == "90.00" and len(plan["restructured"]) == 90
    assert api.reviews() == [{"account_ids": ["A7"], "reason": f"plan {plan['plan_id']}: 90.00 in 7 installments"}]


# ---------------------------------------------------------------- who acted


def test_the_actor_is_the_callers_identity_never_a_name_in_the_body_or_query(api):
    status, hold = api(
        "POST",
        "/holds",
        "/holds",
        None,
        {"level": "account", "id": "A1", "reason": "complaint", "created_by": "someone.else"},
        query={"by": "someone.else"},
        caller="ops.ayse",
    )
    assert status == 201 and hold["created_by"] == "ops.ayse" and hold["audit"][0]["by"] == "ops.ayse"
    status, body = api(
        "DELETE", "/holds/{hold_id}", f"/holds/{hold['hold_id']}", {"hold_id": hold["hold_id"]}, caller="ops.mehmet"
    )
    assert status == 200 and body["audit"][-1]["by"] == "ops.mehmet"


@pytest.mark.parametrize(
    ("method", "resource", "path", "params", "body"),
    [
        ("POST", "/holds", "/holds", None, {"level": "account", "id": "A1", "reason": "complaint"}),
        ("POST", "/accounts/{account_id}/promises", "/accounts/A1/promises", {"account_id": "A1"},
         {"amount": "10.00", "date": "2026-11-30"}),
        ("POST", "/tasks/{task_id}/claim", "/tasks/A2%231%23call/claim", {"task_id": "A2#1#call"}, None),
        ("PUT", "/dunning/config", "/dunning/config", None, {}),
    ],
)  # fmt: skip
def test_a_change_without_a_caller_identity_is_403_and_writes_nothing(api, method, resource, path, params, body):
    put_task(api.stack, "A2", "C2", "100.00", 35)
    status, answer = api(method, resource, path, params, body, caller=None)
    assert status == 403 and answer["error"]["code"] == "forbidden"
    assert "no caller identity" in answer["error"]["message"]
    assert api.reviews() == [] and json.loads(api.record("TASK#A2#1#call", "TASK")["doc"]["S"])["status"] == "open"
    # Reads need no identity of their own beyond what API Gateway checked.
    assert api("GET", "/dunning/config", "/dunning/config", caller=None)[0] == 200


@pytest.mark.parametrize(
    ("method", "resource", "path", "params", "body", "query", "field"),
    [
        # schemathesis found "since=0" read as 1970-01-01 (pydantic takes a number as a Unix time)
        ("GET", "/reports/dunning", "/reports/dunning", None, None, {"since": "0"}, ["query", "since"]),
        ("GET", "/reports/dunning", "/reports/dunning", None, None, {"since": "1795500000"}, ["query", "since"]),
        ("POST", "/accounts/{account_id}/promises", "/accounts/A1/promises", {"account_id": "A1"},
         {"amount": "10.00", "date": 1795500000}, None, ["body", "date"]),
        ("POST", "/accounts/{account_id}/plans", "/accounts/A1/plans", {"account_id": "A1"},
         {"installments": "3", "first_due_date": "2026-12-01", "interval_days": 30}, None, ["body", "installments"]),
    ],
)  # fmt: skip
def test_dates_and_numbers_are_taken_only_as_the_document_types_them(
    api, method, resource, path, params, body, query, field
):
    status, answer = api(method, resource, path, params, body, query=query)
    assert status == 422 and answer["error"]["code"] == "validation_error"
    assert answer["error"]["details"][0]["location"][: len(field)] == field


def test_promoting_a_challenger_publishes_a_version_where_it_is_the_champion(api):
    document = api("GET", "/dunning/config", "/dunning/config")[1]["config"]
    document.pop("version")
    gentle = {**document["strategies"][0], "id": "gentle", "steps": document["strategies"][0]["steps"][:2]}
    document["strategies"].append(gentle)
    standard = next(s for s in document["segments"] if s["name"] == "standard")
    standard["challenger"] = {"strategy": "gentle", "percent": 30}
    assert api("PUT", "/dunning/config", "/dunning/config", None, document, caller="ops.lead")[0] == 200

    route = "/dunning/segments/{segment}/promote-challenger"
    status, body = api(
        "POST", route, "/dunning/segments/standard/promote-challenger", {"segment": "standard"}, {}, caller="sup.mert"
    )
    assert status == 200 and body["version"] == 3 and body["created_by"] == "sup.mert"
    promoted = next(s for s in body["config"]["segments"] if s["name"] == "standard")
    assert promoted["strategy"] == "gentle" and promoted["challenger"] is None
    status, body = api("POST", route, "/dunning/segments/standard/promote-challenger", {"segment": "standard"}, {})
    assert status == 409 and body["error"]["message"] == "segment standard has no challenger to promote"
    status, body = api("POST", route, "/dunning/segments/nope/promote-challenger", {"segment": "nope"}, {})
    assert status == 404 and body["error"]["message"] == "segment nope not found"


def test_collection_performance_is_answered_as_json_or_csv(api, stack, context):
    stack.handler("dunning_worker")({"detail": {"account_ids": ["A1", "A2"]}}, context)
    status, body = api(
        "GET", "/reports/collection-performance", "/reports/collection-performance", query={"since": "2026-01-01"}
    )
    assert status == 200 and body["tests"] == []
    assert {(a["segment"], a["strategy"], a["arm"]) for a in body["arms"]} <= {
        ("standard", "standard", "champion"),
        ("vip", "exempt", "champion"),
    }
    assert body["arms"] and all(a["cycles"] >= 1 for a in body["arms"])
    event = api_event(
        "GET",
        "/reports/collection-performance",
        "/reports/collection-performance",
        queryStringParameters={"since": "2026-01-01", "format": "csv"},
        multiValueQueryStringParameters={"since": ["2026-01-01"], "format": ["csv"]},
    )
    with stack.running_as("dunning_api"):
        response = api.app.resolve(event, context)
    assert response["statusCode"] == 200 and response["multiValueHeaders"]["Content-Type"][0].startswith("text/csv")
    header, *rows = response["body"].splitlines()
    assert header.startswith("segment,strategy,arm,cycles,") and len(rows) == len(body["arms"])


def test_a_dispute_outcome_holds_the_items_and_queues_a_task_for_the_supervisors(api):
    put_task(api.stack, "A1", "C1", "150.00", 40)
    api("POST", "/tasks/{task_id}/claim", "/tasks/A1%231%23call/claim", {"task_id": "A1#1#call"}, caller="agent.7")
    status, body = api(
        "POST",
        "/tasks/{task_id}/outcome",
        "/tasks/A1%231%23call/outcome",
        {"task_id": "A1#1#call"},
        {"outcome": "dispute", "note": "says INV-1 was never delivered", "items": ["INV-1"]},
        caller="agent.7",
    )
    assert status == 200 and body["task"]["outcome"] == "dispute"
    (hold,) = [h for h in api.holds_on("ACCT#A1", "ACCOUNT").values() if h["reason"] == "dispute"]
    assert (hold["level"], hold["target_id"], hold["created_by"]) == ("item", "INV-1", "agent.7")
    status, queue = api("GET", "/collectors/{group}/tasks", "/collectors/supervisors/tasks", {"group": "supervisors"})
    assert status == 200 and [t["task_id"] for t in queue] == [task_id_of("A1#1#call#dispute")]
    assert "says INV-1 was never delivered" in queue[0]["explanation"]


def test_the_collectors_report_counts_each_collectors_tasks_outcomes_and_promises(api):
    put_task(api.stack, "A1", "C1", "150.00", 40)
    put_task(api.stack, "A2", "C2", "100.00", 35)
    api("POST", "/tasks/{task_id}/claim", "/tasks/A1%231%23call/claim", {"task_id": "A1#1#call"}, caller="agent.7")
    status, _ = api(
        "POST",
        "/tasks/{task_id}/outcome",
        "/tasks/A1%231%23call/outcome",
        {"task_id": "A1#1#call"},
        {"outcome": "promise", "promise": {"amount": "50.00", "date": "2026-11-30"}},
        caller="agent.7",
    )
    assert status == 200
    status, body = api("GET", "/reports/collectors", "/reports/collectors", query={"since": "2026-11-01"})
    assert status == 200
    lines = {(line["group"], line["collector"]): line for line in body}
    agent = lines[("retail", "agent.7")]
    assert (agent["done"], agent["outcomes"], agent["promises_made"]) == (1, {"promise": 1}, 1)
    assert lines[("retail", "(unassigned)")]["open"] == 1


def test_a_collector_works_only_their_own_groups_tasks(api, stack, context):
    from receivables.dunning.config import DEFAULT_CONFIG

    document = DEFAULT_CONFIG.model_dump(mode="json")
    for group in document["collector_groups"]:
        if group["name"] == "retail":
            group["collectors"] = [{"name": "ali", "capacity": 5}]
    commands_on(stack).publish_config(document, by="test")
    put_task(stack, "A1", "C1", "150.00", 40)

    def as_person(name, groups, method, resource, path, params=None):
        event = api_event(method, resource, path, caller=None, pathParameters=params)
        event["requestContext"]["authorizer"] = {"claims": {"cognito:username": name, "cognito:groups": groups}}
        with stack.running_as("dunning_api"):
            response = api.app.resolve(event, context)
        return response["statusCode"]

    queue = ("GET", "/collectors/{group}/tasks", "/collectors/retail/tasks", {"group": "retail"})
    assert as_person("veli", "collector", *queue) == 403
    assert as_person("ali", "collector", *queue) == 200
    assert as_person("mert", "supervisor", *queue) == 200
    claim = ("POST", "/tasks/{task_id}/claim", "/tasks/A1%231%23call/claim", {"task_id": "A1#1#call"})
    assert as_person("veli", "collector", *claim) == 403
    assert as_person("ali", "collector", *claim) == 200
