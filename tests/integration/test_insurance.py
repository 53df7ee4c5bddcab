"""The insurance sub-ledger through its handlers: parties, policy events from files and the queue, commission on
collection, and the API that reads it back."""

from __future__ import annotations

import json

import pytest
from receivables.adapters.verification import LedgerVerifier

from tests.integration.conftest import API_CALLER, api_event
from tests.integration.test_loading_pipeline import drop, report

CUSTOMERS = """customer_id,name,type,city,phone,language,email
C-1,Ayşe Yılmaz,individual,İstanbul,+905321110001,tr,ayse@example.com
C-2,Mehmet Kaya,individual,Ankara,+905321110002,tr,
"""
PARTIES = """party_id,kind,name,tax_id,commission_plan,billing
AG-1,agency,Güven Aracılık,1234567890,agency-std,agency
TAX-1,tax_authority,Gelir İdaresi,9876543217,,
"""
PLAN = {"rates": {"home": "0.15", "default": "0.10"}, "payable": "on_collection"}


def issued(event_id, policy_id, customer_id, **fields):
    return {
        "type": "PolicyIssued",
        "event_id": event_id,
        "policy_id": policy_id,
        "customer_id": customer_id,
        "branch": "home",
        "start_date": "2026-11-01",
        "end_date": "2027-11-01",
        "currency": "TRY",
        "covers": [{"cover": "fire", "net_premium": "800.00"}, {"cover": "theft", "net_premium": "200.00"}],
        "payment_plan": {"installments": 4, "first_due_date": "2026-11-20", "down_payment_percent": 25},
        **fields,
    }


def jsonl(*events):
    return "\n".join(json.dumps(e) for e in events) + "\n"


def api(stack, context, resource, path, params, query=None, method="GET", body=None):
    event = api_event(
        method,
        resource,
        path,
        caller=API_CALLER,
        pathParameters=params,
        queryStringParameters=query,
        body=json.dumps(body) if body is not None else None,
    )
    response = stack.handler("insurance_api")(event, context)
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def insured(stack, context):
    drop(stack, "customers/crm.csv", CUSTOMERS)
    drop(stack, "parties/channels.csv", PARTIES)
    drop(stack, "config/insurance/commission-plans/agency-std.json", json.dumps(PLAN))
    stack.drain(context)
    drop(
        stack,
        "policy-events/pas-1.jsonl",
        jsonl(
            issued("E-1", "POL-1", "C-1", channel={"party_id": "AG-1", "billing": "direct"}),
            issued(
                "E-2",
                "POL-2",
                "C-2",
                branch="kasko",
                covers=[{"cover": "kasko", "net_premium": "2000"}],
                payment_plan={"installments": 2, "first_due_date": "2026-12-01"},
                channel={"party_id": "AG-1", "billing": "agency"},
            ),
        ),
    )
    stack.drain(context)


def test_an_issued_policy_posts_its_installments_with_levies_and_commission(stack, context, insured):
    status, policy = api(stack, context, "/policies/{policy_id}", "/policies/POL-1", {"policy_id": "POL-1"})
    assert status == 200
    assert (policy["net_premium"], policy["levies"], policy["gross_premium"]) == (
        "1000.00",
        {"BSMV": "50.00", "YSV": "80.00"},
        "1130.00",
    )
    assert [(i["item_id"], i["due_date"], i["amount"], i["status"]) for i in policy["installments"]] == [
        ("POL-1-T1", "2026-11-20", "282.50", "open"),
        ("POL-1-T2", "2026-12-20", "282.50", "open"),
        ("POL-1-T3", "2027-01-20", "282.50", "open"),
        ("POL-1-T4", "2027-02-20", "282.50", "open"),
    ]
    assert policy["installments"][0]["components"] == {"premium": "250.00", "BSMV": "12.50", "YSV": "20.00"}
    assert {(c["amount"], c["status"]) for c in policy["commissions"]} == {("37.50", "accrued")}
    assert policy["account_id"] == "CARI-C-1-TRY"
    # Agency billing: the agency owes the gross premium on its own current account.
    status, agency = api(stack, context, "/parties/{party_id}", "/parties/AG-1", {"party_id": "AG-1"})
    assert status == 200 and agency["kind"] == "agency"
    assert [(a["account_id"], a["receivable"], a["payable"], a["net"]) for a in agency["accounts"]] == [
        ("CARI-AG-1-TRY", "2100.00", "0.00", "2100.00")
    ]
    status, listed = api(
        stack, context, "/customers/{customer_id}/policies", "/customers/C-2/policies", {"customer_id": "C-2"}
    )
    assert status == 200 and [p["policy_id"] for p in listed] == ["POL-2"] and listed[0]["billing"] == "agency"
    assert LedgerVerifier(stack.dynamodb, stack.table).verify().verified


def test_the_same_event_twice_is_one_policy_and_a_changed_one_a_conflict_naming_the_fields(stack, context, insured):
    drop(
        stack,
        "policy-events/pas-2.jsonl",
        jsonl(
            issued("E-1", "POL-1", "C-1", channel={"party_id": "AG-1", "billing": "direct"}),
            issued("E-1", "POL-1", "C-1", branch="fire", channel={"party_id": "AG-1", "billing": "direct"}),
            issued("E-3", "POL-1", "C-2"),
            issued("E-4", "POL-4", "C-404"),
            issued("E-5", "POL-5", "C-1", channel={"party_id": "TAX-1"}),
        ),
    )
    stack.drain(context)
    assert [(r["line"], r["reason"]) for r in report(stack, "policy-events/pas-2.jsonl")] == [
        ("2", "event E-1: conflict: already received with different content (branch); never applied"),
        ("3", "event E-3: policy_id: policy POL-1 was already issued by another event"),
        ("4", "event E-4: customer_id: unknown customer C-404"),
        (
            "5",
            "event E-5: channel.party_id: party TAX-1 is a tax_authority, not a sales channel (agency, broker or bank)",
        ),
    ]
    status, policy = api(stack, context, "/policies/{policy_id}", "/policies/POL-1", {"policy_id": "POL-1"})
    assert status == 200 and policy["branch"] == "home" and len(policy["installments"]) == 4


def test_an_event_for_a_policy_not_yet_known_waits_then_is_rejected_with_the_reason(stack, context, insured):
    endorsement = {
        "type": "EndorsementIssued",
        "event_id": "E-9",
        "policy_id": "POL-9",
        "endorsement_id": "Z-1",
        "effective_date": "2026-12-05",
        "covers": [{"cover": "fire", "net_premium_change": "100.00"}],
    }
    stack.sqs.send_message(QueueUrl=stack.queue_urls["policy-events"], MessageBody=json.dumps(endorsement))
    stack.drain(context)
    listed = stack.s3.list_objects_v2(Bucket=stack.inbound, Prefix="rejected/policy-events-queue.")["Contents"]
    (only,) = [o["Key"] for o in listed]
    body = stack.s3.get_object(Bucket=stack.inbound, Key=only)["Body"].read().decode()
    assert "event E-9: policy_id: unknown policy POL-9 after 3 attempts" in body


def test_commission_becomes_payable_when_its_installment_is_paid_in_full(stack, context, insured):
    camt = CAMT054.replace("{amount}", "282.50").replace("{reference}", "POL-1")
    drop(stack, "banks/yapikredi/camt054-1.xml", camt)
    stack.drain(context)
    for event in stack.bus_events():
        if event.get("detail-type") in ("PaymentReceived", "CreditApplied"):
            stack.handler("settle_policies")(event, context)
    _, policy = api(stack, context, "/policies/{policy_id}", "/policies/POL-1", {"policy_id": "POL-1"})
    assert [i["status"] for i in policy["installments"]] == ["paid", "open", "open", "open"]
    assert [c["status"] for c in policy["commissions"]] == ["payable", "accrued", "accrued", "accrued"]
    _, agency = api(stack, context, "/parties/{party_id}", "/parties/AG-1", {"party_id": "AG-1"})
    assert [(a["receivable"], a["payable"], a["net"]) for a in agency["accounts"]] == [("2100.00", "37.50", "2062.50")]
    _, statement = api(
        stack,
        context,
        "/parties/{party_id}/statement",
        "/parties/AG-1/statement",
        {"party_id": "AG-1"},
        {"from": "2026-11-24"},
    )
    (account,) = statement["statements"]
    assert account["opening_balance"] == "0.00" and account["closing_balance"] == "2062.50"
    assert [(line["kind"], line["amount"]) for line in account["lines"]] == [
        ("item_posted", "1050.00"),
        ("item_posted", "1050.00"),
        ("payable_posted", "-37.50"),
    ]
    # Settling twice changes nothing.
    for event in stack.bus_events():
        stack.handler("settle_policies")(event, context)
    assert LedgerVerifier(stack.dynamodb, stack.table).verify().verified


def test_the_levy_table_and_commission_plans_are_configuration_through_the_api(stack, context):
    status, levies = api(stack, context, "/insurance/levies", "/insurance/levies", None)
    assert status == 200 and [levy["code"] for levy in levies["levies"]] == ["BSMV", "YSV", "THGF", "GH"]
    status, body = api(
        stack,
        context,
        "/insurance/levies",
        "/insurance/levies",
        None,
        method="PUT",
        body={"levies": [{"code": "BSMV", "rate": "2"}]},
    )
    assert status == 422 and "rate" in json.dumps(body)
    status, body = api(
        stack,
        context,
        "/insurance/commission-plans/{plan_id}",
        "/insurance/commission-plans/bank-2027",
        {"plan_id": "bank-2027"},
        method="PUT",
        body={"rates": {"default": "0.12"}, "payable": "on_issue"},
    )
    assert status == 200 and body["payable"] == "on_issue"
    stored = stack.s3.head_object(Bucket=stack.inbound, Key="config/insurance/commission-plans/bank-2027.json")
    assert stored["Metadata"]["changed-by"] == API_CALLER
    status, _ = api(stack, context, "/policies/{policy_id}", "/policies/NOPE", {"policy_id": "NOPE"})
    assert status == 404


CAMT054 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>YKB054-1</MsgId><CreDtTm>2026-11-24T10:00:00+03:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>YKB-NTF-1</Id>
      <CreDtTm>2026-11-24T10:00:00+03:00</CreDtTm>
      <Acct><Id><IBAN>TR690006700000006755667788</IBAN></Id><Ccy>TRY</Ccy></Acct>
      <Ntry>
        <NtryRef>000001</NtryRef>
        <Amt Ccy="TRY">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-24</Dt></BookgDt>
        <ValDt><Dt>2026-11-24</Dt></ValDt>
        <AcctSvcrRef>YKB000001</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><AcctSvcrRef>YKB000001</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <Amt Ccy="TRY">{amount}</Amt>
          <CdtDbtInd>CRDT</CdtDbtInd>
          <RmtInf><Ustrd>{reference} taksit</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
"""


def receipt_call(stack, context, resource, path, params=None, body=None):
    event = api_event(
        "POST", resource, path, caller=API_CALLER, pathParameters=params, body=json.dumps(body) if body else None
    )
    response = stack.handler("payments_api")(event, context)
    return response["statusCode"], json.loads(response["body"])


def test_an_agency_pays_at_the_counter_and_its_bounced_cheque_reopens_what_it_paid(stack, context, insured):
    receipt = {
        "receipt_id": "TILL-3-0042",
        "party_id": "AG-1",
        "currency": "TRY",
        "value_date": "2026-12-02",
        "tenders": [
            {"type": "cash", "amount": "500.00"},
            {
                "type": "cheque",
                "amount": "1050.00",
                "reference": "CEK-77",
                "maturity_date": "2027-01-15",
                "drawer": "Güven Aracılık Ltd.",
            },
        ],
    }
    status, paid = receipt_call(stack, context, "/receipts", "/receipts", body=receipt)
    # The cheque counts when booked, months before its maturity: the agency's first installment is paid in full.
    assert status == 200 and paid["account_id"] == "CARI-AG-1-TRY" and paid["amount"] == "1550.00"
    assert [(a["item_id"], a["amount"]) for a in paid["allocations"]] == [
        ("POL-2-T1", "1050.00"),
        ("POL-2-T2", "500.00"),
    ]
    assert [(t["number"], t["type"], t["maturity_date"], t["status"]) for t in paid["tenders"]] == [
        (1, "cash", None, "counted"),
        (2, "cheque", "2027-01-15", "counted"),
    ]

    route = "/receipts/{receipt_id}/tenders/{tender}/return"
    bounce = {"reason": "karşılıksız"}
    status, back = receipt_call(
        stack,
        context,
        route,
        "/receipts/TILL-3-0042/tenders/CEK-77/return",
        {"receipt_id": "TILL-3-0042", "tender": "CEK-77"},
        bounce,
    )
    # Out of what it paid last: the second installment's 500.00, then 550.00 of the first.
    assert status == 200 and back["returned_amount"] == "1050.00" and back["unapplied_amount"] == "0.00"
    assert [(a["item_id"], a["amount"]) for a in back["allocations"]] == [("POL-2-T1", "500.00")]
    cheque = back["tenders"][1]
    assert (cheque["status"], cheque["returned_on"]) == ("returned", "2026-11-24")
    assert "karşılıksız" in cheque["return_reason"] and "CEK-77" in cheque["return_reason"]
    assert back["postings"][-1]["kind"] == "payment_part_returned" and back["postings"][-1]["amount"] == "1050.00"
    (announced,) = [e for e in stack.bus_events() if e.get("detail-type") == "PaymentPartReturned"]
    assert announced["detail"] | {"allocations": None, "event_id": None} == {
        "event_id": None,
        "payment_id": paid["payment_id"],
        "account_id": "CARI-AG-1-TRY",
        "part": "tender 2",
        "amount": "1050.00",
        "reversed": False,
        "allocations": None,
        "unapplied": "0.00",
    }
    # Told twice (the bank's letter and the till), the first return stands.
    again = receipt_call(
        stack,
        context,
        route,
        "/receipts/TILL-3-0042/tenders/2/return",
        {"receipt_id": "TILL-3-0042", "tender": "2"},
        {"reason": "again"},
    )
    assert again == (200, back)
    _, policy = api(stack, context, "/policies/{policy_id}", "/policies/POL-2", {"policy_id": "POL-2"})
    assert [(i["item_id"], i["open_amount"]) for i in policy["installments"]] == [
        ("POL-2-T1", "550.00"),
        ("POL-2-T2", "1050.00"),
    ]
    assert LedgerVerifier(stack.dynamodb, stack.table).verify().verified


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"party_id": "AG-9"}, 404, "party AG-9 has no current account in TRY"),
        ({"account_id": "CARI-AG-1-TRY"}, 422, "exactly one of account_id and party_id"),
        ({"tenders": [{"type": "promissory_note", "amount": "10.00"}]}, 422, "needs its maturity_date"),
        ({"tenders": [{"type": "cash", "amount": "10.00", "maturity_date": "2027-01-01"}]}, 422, "no maturity_date"),
    ],
)
def test_a_receipt_names_one_known_payer_and_instruments_carry_their_maturity(
    stack, context, insured, change, status, message
):
    receipt = {"receipt_id": "TILL-3-0050", "party_id": "AG-1", "currency": "TRY", "value_date": "2026-12-02"}
    receipt["tenders"] = [{"type": "cash", "amount": "10.00"}]
    answered, body = receipt_call(stack, context, "/receipts", "/receipts", body=receipt | change)
    assert answered == status and message in json.dumps(body, ensure_ascii=False)


def test_only_a_cheque_or_a_promissory_note_comes_back_and_only_one_the_receipt_has(stack, context, insured):
    receipt = {
        "receipt_id": "TILL-3-0051",
        "party_id": "AG-1",
        "currency": "TRY",
        "value_date": "2026-12-02",
        "tenders": [
            {"type": "cash", "amount": "100.00"},
            {"type": "promissory_note", "amount": "200.00", "reference": "SNT-1", "maturity_date": "2027-03-01"},
        ],
    }
    assert receipt_call(stack, context, "/receipts", "/receipts", body=receipt)[0] == 200
    route = "/receipts/{receipt_id}/tenders/{tender}/return"

    def give_back(receipt_id, tender):
        path = f"/receipts/{receipt_id}/tenders/{tender}/return"
        params = {"receipt_id": receipt_id, "tender": tender}
        return receipt_call(stack, context, route, path, params, {"reason": "protestolu"})

    status, body = give_back("TILL-3-0051", "1")
    assert status == 422 and "is cash: only a cheque or a promissory note" in body["error"]["message"]
    status, body = give_back("TILL-3-0051", "7")
    assert status == 404 and "has no tender 7" in body["error"]["message"]
    assert give_back("TILL-NOPE", "1")[0] == 404
    status, body = give_back("TILL-3-0051", "SNT-1")
    # Its 200.00 had paid part of the first installment: that part reopens; the cash stays.
    assert status == 200 and body["status"] == "applied" and body["returned_amount"] == "200.00"
    assert [(a["item_id"], a["amount"]) for a in body["allocations"]] == [("POL-2-T1", "100.00")]
    assert LedgerVerifier(stack.dynamodb, stack.table).verify().verified


def test_commission_on_an_installment_paid_by_a_bounced_cheque_goes_back_to_accrued(stack, context, insured):
    receipt = {
        "receipt_id": "TILL-3-0060",
        "account_id": "CARI-C-1-TRY",
        "currency": "TRY",
        "value_date": "2026-12-02",
        "tenders": [{"type": "cheque", "amount": "282.50", "reference": "CEK-9", "maturity_date": "2027-02-01"}],
    }
    assert receipt_call(stack, context, "/receipts", "/receipts", body=receipt)[0] == 200

    def follow_the_money():
        for event in stack.bus_events():
            if event.get("detail-type") in ("PaymentReceived", "PaymentPartReturned"):
                stack.handler("settle_policies")(event, context)
        _, policy = api(stack, context, "/policies/{policy_id}", "/policies/POL-1", {"policy_id": "POL-1"})
        return policy["installments"][0]["status"], policy["commissions"][0]["status"]

    assert follow_the_money() == ("paid", "payable")
    route = "/receipts/{receipt_id}/tenders/{tender}/return"
    params = {"receipt_id": "TILL-3-0060", "tender": "1"}
    status, body = receipt_call(
        stack, context, route, "/receipts/TILL-3-0060/tenders/1/return", params, {"reason": "x"}
    )
    assert status == 200 and body["status"] == "reversed"  # all of it came back: nothing of the receipt is left
    assert follow_the_money() == ("open", "accrued")
    assert LedgerVerifier(stack.dynamodb, stack.table).verify().verified
