"""The dunning review on moto: the default strategy's steps fire on their days, once, through SES, SNS and the print
bucket; a payment ends the cycle and a suspension is followed by a reconnect."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from receivables import bootstrap

from tests.integration.test_loading_pipeline import drop

CUSTOMERS = """customer_id,name,type,city,phone,language,email,vip
C1,Ayşe Yılmaz,individual,İstanbul,+905321234567,tr,ayse@example.com,false
C2,Mehmet Kaya,individual,Ankara,+905321234568,tr,,false
C3,Büyük Müşteri,corporate,İzmir,+905321234569,en,vip@example.com,true
"""
INVOICES = """invoice_id,customer_id,account_id,issue_date,due_date,amount,currency
INV-1,C1,A1,2026-10-01,2026-11-01,250.00,TRY
INV-2,C2,A2,2026-10-01,2026-11-01,99.90,TRY
INV-3,C3,A3,2026-10-01,2026-11-01,5000.00,TRY
"""
ZONE = ZoneInfo("Europe/Istanbul")


def contacts(stack, account_id):
    response = stack.dynamodb.query(
        TableName=stack.table,
        KeyConditionExpression="pk = :p AND begins_with(sk, :c)",
        ExpressionAttributeValues={":p": {"S": f"ACCT#{account_id}"}, ":c": {"S": "CONTACT#"}},
    )
    return [json.loads(i["doc"]["S"]) for i in response["Items"]]


def account(stack, account_id):
    return stack.dynamodb.get_item(
        TableName=stack.table, Key={"pk": {"S": f"ACCT#{account_id}"}, "sk": {"S": "ACCOUNT"}}
    )["Item"]


def review(stack, day: date, *accounts: str):
    run_at = datetime.combine(day, datetime.min.time(), tzinfo=ZONE).replace(hour=9)
    return stack.root("dunning_worker", bootstrap.dunning_review).review(list(accounts), today=day, run_at=run_at)


def loaded(stack, context):
    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    drop(stack, "invoices/i.csv", INVOICES)
    stack.drain(context)


def test_steps_fire_on_their_days_once_each_and_vip_is_exempt(stack, context):
    loaded(stack, context)
    review(stack, date(2026, 11, 4), "A1", "A2", "A3")  # 3 days overdue: the e-mail step (SMS without an address)
    assert [(c["step"], c["channel"], c["status"]) for c in contacts(stack, "A1")] == [("email", "email", "sent")]
    assert [(c["step"], c["channel"]) for c in contacts(stack, "A2")] == [("email", "sms")]
    assert contacts(stack, "A3") == []
    state = json.loads(account(stack, "A3")["dunning_state"]["S"])
    assert state["segment"] == "vip" and state["strategy"] is None

    review(stack, date(2026, 11, 4), "A1")  # the same day again: nothing twice
    assert len(contacts(stack, "A1")) == 1
    assert account(stack, "A1")["next_action_on"]["S"] == "2026-11-11"  # day 10

    review(stack, date(2026, 11, 21), "A1")  # day 20: the letter, into the print bucket
    letter = next(c for c in contacts(stack, "A1") if c["step"] == "letter")
    outbound = f"{stack.inbound.removesuffix('inbound')}outbound"
    pdf = stack.s3.get_object(Bucket=outbound, Key=letter["detail"])["Body"].read()
    assert pdf.startswith(b"%PDF")
    skipped = json.loads(account(stack, "A1")["dunning_state"]["S"])["skipped"]
    assert skipped == ["sms"]  # day 10 was missed: superseded by the letter


def test_a_suspension_is_followed_by_a_reconnect_when_the_customer_pays(stack, context):
    loaded(stack, context)
    review(stack, date(2026, 12, 2), "A1")  # day 31: only the suspension fires
    assert [(c["step"], c.get("action")) for c in contacts(stack, "A1")] == [("suspend", "suspend")]
    suspended = [e for e in stack.bus_events() if e["detail-type"] == "ServiceSuspensionRequested"]
    assert [e["detail"]["account_id"] for e in suspended] == ["A1"]

    stack.dynamodb.update_item(
        TableName=stack.table,
        Key={"pk": {"S": "ITEM#INV-1"}, "sk": {"S": "ITEM"}},
        UpdateExpression="SET open_amount = :z",
        ExpressionAttributeValues={":z": {"N": "0"}},
    )
    review(stack, date(2026, 12, 3), "A1")
    assert ("reconnect", "reconnect") in [(c["step"], c.get("action")) for c in contacts(stack, "A1")]
    assert [
        e["detail"]["account_id"] for e in stack.bus_events() if e["detail-type"] == "ServiceReconnectionRequested"
    ] == ["A1"]
    state = json.loads(account(stack, "A1")["dunning_state"]["S"])
    assert state["cycle_started"] is None and state["stage"] is None
    assert "next_action_on" not in account(stack, "A1")


def test_each_cycle_is_recorded_for_the_champion_challenger_report(stack, context):
    from receivables.dunning.reports import strategy_report

    loaded(stack, context)
    review(stack, date(2026, 11, 4), "A1", "A2")
    stack.dynamodb.update_item(
        TableName=stack.table,
        Key={"pk": {"S": "ITEM#INV-1"}, "sk": {"S": "ITEM"}},
        UpdateExpression="SET open_amount = :z",
        ExpressionAttributeValues={":z": {"N": "0"}},
    )
    review(stack, date(2026, 11, 9), "A1")
    rows = stack.root("dunning_api", bootstrap.cycle_reader).cycles(["standard"], date(2026, 11, 1))
    assert sorted((r.account_id, r.contacts, r.ended) for r in rows) == [
        ("A1", 1, date(2026, 11, 9)),
        ("A2", 1, None),
    ]
    [report] = strategy_report(rows)
    assert (report.strategy, report.arm, report.cycles, report.cycles_ended) == ("standard", "champion", 2, 1)
    assert str(report.collected) == "250.00" and str(report.median_days_to_pay) == "5"


def test_an_sms_due_in_quiet_hours_waits_for_them_to_end_and_is_then_sent_once(stack, context):
    from receivables.dunning.service import send_deferred

    loaded(stack, context)
    late_evening = datetime(2026, 11, 4, 22, 30, tzinfo=ZONE)
    worker = stack.root("dunning_worker", bootstrap.dunning_review)
    worker.review(["A2"], today=date(2026, 11, 4), run_at=late_evening)  # A2 has no e-mail
    [contact] = contacts(stack, "A2")
    assert (contact["channel"], contact["status"], contact["send_at"]) == (
        "sms",
        "deferred",
        "2026-11-05T09:00:00+03:00",
    )

    with stack.running_as("send_deferred_sms"):
        table, messenger = bootstrap.dunning_table(), bootstrap.dunning_messenger()
    assert send_deferred(table, messenger, datetime(2026, 11, 5, 8, 59, tzinfo=ZONE)) == 0
    assert send_deferred(table, messenger, datetime(2026, 11, 5, 9, 5, tzinfo=ZONE)) == 1
    assert send_deferred(table, messenger, datetime(2026, 11, 5, 10, 5, tzinfo=ZONE)) == 0  # never twice
    [contact] = contacts(stack, "A2")
    assert contact["status"] == "sent" and contact["detail"]


def test_the_legal_handoff_carries_the_case_file(stack, context):
    loaded(stack, context)
    stack.dynamodb.update_item(  # 50.00 of INV-1 was paid before the account went to legal
        TableName=stack.table,
        Key={"pk": {"S": "ITEM#INV-1"}, "sk": {"S": "ITEM"}},
        UpdateExpression="SET open_amount = :o",
        ExpressionAttributeValues={":o": {"N": "200.00"}},
    )
    review(stack, date(2026, 11, 4), "A1")  # the e-mail
    review(stack, date(2027, 1, 2), "A1")  # day 62: the legal hand-off
    [handoff] = [e["detail"] for e in stack.bus_events() if e["detail-type"] == "LegalHandoffRequested"]
    case = handoff["case_file"]
    assert case["items"] == [
        {"item_id": "INV-1", "due_date": "2026-11-01", "amount": "250.00", "open_amount": "200.00", "status": "open"}
    ]
    assert case["payments"] == [{"item_id": "INV-1", "paid": "50.00"}]
    assert [c["step"] for c in case["contacts"]] == ["email", "legal_handoff"]
    assert case["customer"]["name"] == "Ayşe Yılmaz" and case["promises"] == []


def test_a_strategy_counting_turkish_business_days_skips_republic_day_and_the_weekend(stack, context):
    from receivables.dunning.config import DEFAULT_CONFIG

    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    drop(stack, "invoices/i.csv", INVOICES.replace("2026-11-01,250.00", "2026-10-27,250.00"))
    stack.drain(context)
    document = DEFAULT_CONFIG.model_dump(mode="json")
    standard = next(s for s in document["strategies"] if s["id"] == "standard")
    standard["business_days"] = True
    stored = stack.root("dunning_api", bootstrap.dunning_commands).publish_config(document, by="test")
    assert stored.config.version == 2

    # Due Tue 27 Oct: Wed 28 (1), Thu 29 Republic Day, Fri 30 (2), the weekend, Mon 2 Nov (3).
    review(stack, date(2026, 10, 30), "A1")
    assert contacts(stack, "A1") == []  # three calendar days, two business days
    review(stack, date(2026, 11, 2), "A1")
    [email] = contacts(stack, "A1")
    assert (email["step"], email["date"], email["config_version"]) == ("email", "2026-11-02", 2)


# ---------------------------------------------------------------- explanations


def get_account_dunning(stack, context, account_id: str, query: dict[str, str] | None = None):
    """GET /accounts/{account_id}/dunning through the dunning API's resolver."""
    import copy
    from pathlib import Path

    from receivables.api.app import build
    from receivables.api.dunning_routes import router

    event = json.loads((Path(__file__).parents[2] / "events" / "api_get_account.json").read_text())
    event = copy.deepcopy(event) | {
        "resource": "/accounts/{account_id}/dunning",
        "path": f"/accounts/{account_id}/dunning",
        "pathParameters": {"account_id": account_id},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
    }
    event["requestContext"].update(resourcePath="/accounts/{account_id}/dunning", httpMethod="GET")
    with stack.running_as("dunning_api"):
        response = build(router).resolve(event, context)
    return response["statusCode"], json.loads(response["body"])


def cycle_record(stack, account_id, cycle):
    return stack.dynamodb.get_item(
        TableName=stack.table, Key={"pk": {"S": f"ACCT#{account_id}"}, "sk": {"S": f"CYCLE#{cycle:06d}"}}
    )["Item"]


def test_each_step_each_stage_change_and_the_state_keep_the_explanation_and_the_api_returns_it(stack, context):
    # Given A1 e-mailed on day 3, suspended on day 31 and paid in full the day after
    loaded(stack, context)
    review(stack, date(2026, 11, 4), "A1")
    review(stack, date(2026, 12, 2), "A1")
    stack.dynamodb.update_item(
        TableName=stack.table,
        Key={"pk": {"S": "ITEM#INV-1"}, "sk": {"S": "ITEM"}},
        UpdateExpression="SET open_amount = :z",
        ExpressionAttributeValues={":z": {"N": "0"}},
    )
    review(stack, date(2026, 12, 3), "A1")

    # Then each contact record says why its step was taken
    why = {c["step"]: c["explanation"] for c in contacts(stack, "A1")}
    assert why["email"].startswith("A1 on 2026-11-04 (config v1): overdue 250.00 TRY in 1 item(s)")
    assert "fired email (day 3, email, template reminder)" in why["email"]
    assert "sms, letter superseded by suspend; fired suspend (day 30, action suspend)" in why["suspend"]
    assert "reconnect: the account was suspended in cycle 1" in why["reconnect"]
    # the account keeps the latest decision's, beside its dunning state
    latest = json.loads(account(stack, "A1")["dunning_explanation"]["S"])
    assert (latest["business_date"], latest["config_version"]) == ("2026-12-03", 1)
    assert latest["text"] == why["reconnect"] and latest["text"].endswith("nothing further scheduled")
    # and the cycle record each change of its stage
    changes = [json.loads(v["S"]) for v in cycle_record(stack, "A1", 1)["explanations"]["L"]]
    assert [(c["business_date"], c["event"], c["step"]) for c in changes] == [
        ("2026-11-04", "started", "email"),
        ("2026-12-02", None, "suspend"),
        ("2026-12-03", "ended", None),
    ]
    assert [c["text"] for c in changes] == [why["email"], why["suspend"], why["reconnect"]]

    # When the API is asked
    status, body = get_account_dunning(stack, context, "A1")

    # Then it shows the state, the latest explanation, the cycle with its stage changes and the steps with theirs
    assert status == 200
    assert body["state"]["cycle_number"] == 1 and body["state"]["cycle_started"] is None
    assert body["next_action_on"] is None and body["explanation"] == latest
    [cycle] = body["cycles"]
    assert (cycle["cycle"], cycle["started"], cycle["ended"], cycle["contacts"]) == (1, "2026-11-04", "2026-12-03", 2)
    assert cycle["explanations"] == changes
    assert [(c["step"], c["explanation"]) for c in body["contacts"]] == [
        ("email", why["email"]),
        ("suspend", why["suspend"]),
        ("reconnect", why["reconnect"]),
    ]
    assert get_account_dunning(stack, context, "A9")[0] == 404


def test_a_second_cycle_and_the_cycles_shown_are_the_latest(stack, context):
    loaded(stack, context)
    review(stack, date(2026, 11, 4), "A1")  # cycle 1: the e-mail
    for open_amount, day in (("0", date(2026, 11, 5)), ("250.00", date(2026, 11, 6))):
        stack.dynamodb.update_item(
            TableName=stack.table,
            Key={"pk": {"S": "ITEM#INV-1"}, "sk": {"S": "ITEM"}},
            UpdateExpression="SET open_amount = :o",
            ExpressionAttributeValues={":o": {"N": open_amount}},
        )
        review(stack, day, "A1")  # paid: cycle 1 ends; the payment returned: cycle 2 starts with the e-mail again

    status, body = get_account_dunning(stack, context, "A1", {"cycles": "1"})
    assert status == 200 and [c["cycle"] for c in body["cycles"]] == [2]
    assert [(c["cycle"], c["step"]) for c in body["contacts"]] == [(2, "email")]
    assert body["explanation"]["text"].startswith("A1 on 2026-11-06")
    status, body = get_account_dunning(stack, context, "A1")
    assert [c["cycle"] for c in body["cycles"]] == [2, 1]
    assert [(c["cycle"], c["step"]) for c in body["contacts"]] == [(1, "email"), (2, "email")]
    assert get_account_dunning(stack, context, "A1", {"cycles": "0"})[0] == 422


def test_a_cycle_record_keeps_a_bounded_number_of_stage_changes_and_a_call_task_its_explanation(stack, context):
    from receivables.dunning.config import DEFAULT_CONFIG
    from receivables.dunning.records import MAX_STAGE_CHANGES

    # Given a strategy with more steps than a cycle record keeps explanations for, one a call task
    loaded(stack, context)
    steps = [{"name": f"call{n}", "offset_days": n, "channel": "ivr", "template": "reminder"} for n in range(3, 18)]
    steps[2] = {"name": "call5", "offset_days": 5, "channel": "call_task"}
    document = DEFAULT_CONFIG.model_dump(mode="json")
    document["strategies"] = [
        {"id": "standard", "steps": steps} if s["id"] == "standard" else s for s in document["strategies"]
    ]
    stack.root("dunning_api", bootstrap.dunning_commands).publish_config(document, by="test")

    # When A1 is reviewed every day until every step fired, then pays
    for n in range(4, 19):  # due 2026-11-01: day 3 is 11-04
        review(stack, date(2026, 11, n), "A1")
    assert len(contacts(stack, "A1")) == len(steps)
    stack.dynamodb.update_item(
        TableName=stack.table,
        Key={"pk": {"S": "ITEM#INV-1"}, "sk": {"S": "ITEM"}},
        UpdateExpression="SET open_amount = :z",
        ExpressionAttributeValues={":z": {"N": "0"}},
    )
    review(stack, date(2026, 11, 19), "A1")

    # Then the cycle record kept the first stage changes and the end, no more (the count is kept from the state's
    # fired steps, one place per step and one for the start: here the start came with call3, so one place is left)
    changes = [json.loads(v["S"]) for v in cycle_record(stack, "A1", 1)["explanations"]["L"]]
    assert len(changes) == MAX_STAGE_CHANGES - 1
    assert [c["step"] for c in changes[:-1]] == [s["name"] for s in steps[: MAX_STAGE_CHANGES - 2]]
    assert (changes[0]["event"], changes[-1]["event"]) == ("started", "ended")
    # and the collector task says why it was created
    [task] = stack.root("dunning_api", bootstrap.dunning_commands).tasks("retail")
    assert task.step == "call5" and "fired call5 (day 5, call_task, group retail)" in task.explanation


def test_call_tasks_go_to_collectors_round_robin_under_capacity_and_stay_with_the_account(stack, context):
    from receivables.dunning.config import DEFAULT_CONFIG

    loaded(stack, context)
    document = DEFAULT_CONFIG.model_dump(mode="json")
    document["strategies"] = [
        {"id": "standard", "steps": [{"name": "call", "offset_days": 1, "channel": "call_task"},
                                     {"name": "call_again", "offset_days": 5, "channel": "call_task"}]}
        if s["id"] == "standard" else s
        for s in document["strategies"]
    ]  # fmt: skip
    for group in document["collector_groups"]:
        group["collectors"] = [{"name": "ali", "capacity": 1}, {"name": "veli", "capacity": 5}]
    commands = stack.root("dunning_api", bootstrap.dunning_commands)
    commands.publish_config(document, by="test")

    review(stack, date(2026, 11, 2), "A1", "A2")  # both due 11-01: each gets its day-1 call
    tasks = {t.account_id: t for g in ("retail", "corporate") for t in commands.tasks(g)}
    assert sorted(t.assigned_to for t in tasks.values()) == ["ali", "veli"]  # round-robin
    ali_account = next(a for a, t in tasks.items() if t.assigned_to == "ali")

    # The second call of the same cycle stays with the account's collector, over capacity or not.
    review(stack, date(2026, 11, 6), "A1", "A2")
    later = {
        t.account_id: t for g in ("retail", "corporate") for t in commands.tasks(g, limit=50) if t.step == "call_again"
    }
    assert later[ali_account].assigned_to == "ali"

    # A supervisor reassigns; a collector outside the group is refused.
    moved = commands.reassign_task(later[ali_account].task_id, "veli", by="sup.mert")
    assert moved.assigned_to == "veli" and moved.status == "open"
    import pytest
    from receivables.dunning.commands import DunningRequestError

    with pytest.raises(DunningRequestError, match="not a collector of group"):
        commands.reassign_task(later[ali_account].task_id, "stranger", by="sup.mert")
    counts = stack.dynamodb.get_item(
        TableName=stack.table, Key={"pk": {"S": "ASSIGN#" + moved.group}, "sk": {"S": "COUNTS"}}
    )
    assert counts["Item"]["open#veli"]["N"] >= "1"
