"""Claims' payables through the policy-events paths and the API: withholding to the tax authority, offsetting against
the policyholder's overdue installments, four-eyes approval above the threshold, cancellation."""

from __future__ import annotations

import json

from receivables.adapters.verification import LedgerVerifier

from tests.integration.conftest import API_CALLER, api_event
from tests.integration.test_insurance import api, insured, jsonl  # noqa: F401 (insured is a fixture)
from tests.integration.test_loading_pipeline import drop, report

GARAGE = """party_id,kind,name,tax_id
GAR-1,service_provider,Usta Oto Servis,1111111106
"""


def claim(event_id, claim_id, payee, amount, **fields):
    return {
        "type": "ClaimPaymentApproved",
        "event_id": event_id,
        "claim_id": claim_id,
        "policy_id": "POL-1",
        "payee": payee,
        "amount": amount,
        "currency": "TRY",
        "due_date": "2026-11-30",
        **fields,
    }


def approve(stack, context, payable_id, caller):
    event = api_event(
        "POST",
        "/payables/{payable_id}/approve",
        f"/payables/{payable_id}/approve",
        caller=caller,
        pathParameters={"payable_id": payable_id},
    )
    response = stack.handler("insurance_api")(event, context)
    return response["statusCode"], json.loads(response["body"])


def payable(stack, context, payable_id):
    return api(stack, context, "/payables/{payable_id}", f"/payables/{payable_id}", {"payable_id": payable_id})


def test_claims_become_payables_withheld_offset_and_approved_by_a_second_person(stack, context, insured):  # noqa: F811
    drop(stack, "parties/garages.csv", GARAGE)
    stack.drain(context)
    drop(
        stack,
        "policy-events/claims-1.jsonl",
        jsonl(
            # To the policyholder: first settles POL-1's overdue first installment (282.50, due 2026-11-20).
            claim("CE-1", "CLM-1", "C-1", "1000.00"),
            # To a garage, above the approval threshold, 20 % withheld for the tax authority.
            claim("CE-2", "CLM-2", "GAR-1", "80000.00", withholding_percent=20),
            claim("CE-3", "CLM-3", "C-2", "10.00"),
            claim("CE-4", "X" * 34, "GAR-1", "10.00"),
        ),
    )
    stack.drain(context)
    assert [(r["line"], r["reason"]) for r in report(stack, "policy-events/claims-1.jsonl")] == [
        ("3", "event CE-3: payee: C-2 is neither a known party nor the policyholder of POL-1"),
        ("4", "event CE-4: claim_id: String should have at most 33 characters"),
    ]
    status, offset = payable(stack, context, "CLM-1-C")
    assert status == 200
    assert (offset["amount"], offset["open_amount"], offset["status"], offset["account_id"]) == (
        "1000.00",
        "717.50",
        "approved",
        "CARI-C-1-TRY",
    )
    assert offset["offsets"] == {"POL-1-T1": "282.50"}
    _, policy = api(stack, context, "/policies/{policy_id}", "/policies/POL-1", {"policy_id": "POL-1"})
    assert policy["installments"][0]["status"] == "paid"
    (announced,) = [e for e in stack.bus_events() if e.get("detail-type") == "ClaimOffset"]
    assert announced["detail"]["items"] == {"POL-1-T1": "282.50"}
    stack.handler("settle_policies")(announced, context)
    _, policy = api(stack, context, "/policies/{policy_id}", "/policies/POL-1", {"policy_id": "POL-1"})
    assert policy["commissions"][0]["status"] == "payable"  # settled by offset counts as paid

    _, garage = payable(stack, context, "CLM-2-C")
    assert (garage["amount"], garage["status"], garage["party_id"]) == ("64000.00", "open", "GAR-1")
    _, withheld = payable(stack, context, "CLM-2-W")
    assert (withheld["amount"], withheld["status"], withheld["account_id"]) == (
        "16000.00",
        "approved",
        "CARI-TAX-1-TRY",
    )
    status, waiting = api(stack, context, "/payables", "/payables", None, {"status": "open"})
    assert status == 200 and [p["payable_id"] for p in waiting] == ["CLM-2-C"]

    # Four eyes: the event's source created it, so any person may approve; the approver cannot approve twice.
    status, body = approve(stack, context, "CLM-2-C", API_CALLER)
    assert status == 200 and body["status"] == "approved" and body["approved_by"]
    status, body = approve(stack, context, "CLM-2-C", API_CALLER)
    assert status == 409 and "not waiting for approval" in body["error"]["message"]
    assert approve(stack, context, "NOPE-C", API_CALLER)[0] == 404
    status, listed = api(stack, context, "/payables", "/payables", None, {"party_id": "GAR-1"})
    assert [(p["payable_id"], p["status"]) for p in listed] == [("CLM-2-C", "approved")]

    # The same event twice is one payable; the claim withdrawn reopens what its offset settled.
    cancel = {"type": "ClaimPaymentCancelled", "event_id": "CE-9", "claim_id": "CLM-1", "reason": "fraud suspected"}
    drop(stack, "policy-events/claims-2.jsonl", jsonl(claim("CE-1", "CLM-1", "C-1", "1000.00"), cancel))
    stack.drain(context)
    rejected = stack.s3.list_objects_v2(Bucket=stack.inbound, Prefix="rejected/policy-events/claims-2.jsonl")
    assert "Contents" not in rejected
    _, offset = payable(stack, context, "CLM-1-C")
    assert (offset["open_amount"], offset["status"]) == ("0.00", "cancelled")
    _, policy = api(stack, context, "/policies/{policy_id}", "/policies/POL-1", {"policy_id": "POL-1"})
    assert policy["installments"][0]["open_amount"] == "282.50"
    assert LedgerVerifier(stack.dynamodb, stack.table).verify().verified


def test_four_eyes_refuses_the_identity_that_last_changed_a_payable(stack, context, insured):  # noqa: F811
    drop(stack, "parties/garages.csv", GARAGE)
    stack.drain(context)
    drop(stack, "policy-events/claims-3.jsonl", jsonl(claim("CE-5", "CLM-5", "GAR-1", "60000.00")))
    stack.drain(context)
    # The garage payable changed by a person (here: a cancellation would; a corrected IBAN later) names them.
    stack.dynamodb.update_item(
        TableName=stack.table,
        Key={"pk": {"S": "PAYABLE#CLM-5-C"}, "sk": {"S": "PAYABLE"}},
        UpdateExpression="SET changed_by = :me",
        ExpressionAttributeValues={":me": {"S": "operator.ali"}},
    )
    status, body = approve(stack, context, "CLM-5-C", "arn:aws:iam::123456789012:user/operator.ali")
    assert status == 403 and "four eyes" in body["error"]["message"]


def net(stack, context, party_id, body):
    event = api_event(
        "POST",
        "/parties/{party_id}/netting",
        f"/parties/{party_id}/netting",
        caller=API_CALLER,
        pathParameters={"party_id": party_id},
        body=json.dumps(body),
    )
    response = stack.handler("insurance_api")(event, context)
    return response["statusCode"], json.loads(response["body"])


def test_a_party_owed_and_owing_is_netted_oldest_first_each_side_posted(stack, context, insured):  # noqa: F811
    # AG-1 owes POL-2's agency-billed installments (1050.00 each) and is owed two claim payments.
    drop(
        stack,
        "policy-events/claims-4.jsonl",
        jsonl(
            claim("CE-6", "CLM-6", "AG-1", "300.00", due_date="2026-12-15"),
            claim("CE-7", "CLM-7", "AG-1", "900.00", due_date="2026-12-10"),
        ),
    )
    stack.drain(context)
    status, body = net(stack, context, "AG-1", {"amount": "100.00"})
    assert status == 200
    assert body["netted"] == [
        {
            "account_id": "CARI-AG-1-TRY",
            "currency": "TRY",
            "amount": "100.00",
            "lines": [{"item_id": "POL-2-T1", "payable_id": "CLM-7-C", "amount": "100.00"}],
        }
    ]
    status, body = net(stack, context, "AG-1", {})
    # What both sides allow: 1,100.00 more of the payables, against the oldest installment first.
    assert [(line["item_id"], line["payable_id"], line["amount"]) for line in body["netted"][0]["lines"]] == [
        ("POL-2-T1", "CLM-7-C", "800.00"),
        ("POL-2-T1", "CLM-6-C", "150.00"),
        ("POL-2-T2", "CLM-6-C", "150.00"),
    ]
    assert payable(stack, context, "CLM-6-C")[1]["status"] == "paid"
    _, agency = api(stack, context, "/parties/{party_id}", "/parties/AG-1", {"party_id": "AG-1"})
    assert [(a["receivable"], a["payable"], a["net"]) for a in agency["accounts"]] == [("900.00", "0.00", "900.00")]
    assert net(stack, context, "AG-1", {})[1]["netted"] == []
    assert net(stack, context, "NOPE", {})[0] == 404
    assert LedgerVerifier(stack.dynamodb, stack.table).verify().verified
