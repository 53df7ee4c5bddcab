"""Card-installment collections per bank, as data: customers' auto-pay instructions, the bank's request file written
from its collection profile, the response file turning an approval into a payment of exactly that item and a
decline into an attempt retried after 3 days, and dunning waiting while a collection is with the bank."""

from __future__ import annotations

import csv
import io
import json

from receivables.adapters.verification import LedgerVerifier

from tests.integration.conftest import API_CALLER, api_event
from tests.integration.test_loading_pipeline import drop, report
from tests.integration.test_payouts import outbound

CUSTOMERS = """customer_id,name,type,city,phone,language,autopay_method,autopay_bank_id,autopay_token
K1,Ayşe Kart,individual,İstanbul,+905321234567,tr,card,garanti,tok_K1_a8f3
K2,Mehmet Kart,individual,Ankara,+905321234568,tr,card,garanti,tok_K2_77c1
K3,Kart Numarası,individual,İzmir,+905321234569,tr,card,garanti,4111111111111111
"""
INVOICES = """invoice_id,customer_id,account_id,issue_date,due_date,amount,currency
KI-1,K1,KA1,2026-11-01,2026-11-24,250.00,TRY
KI-2,K2,KA2,2026-11-01,2026-11-24,80.40,TRY
KI-3,K1,KA1,2026-11-01,2026-12-24,250.00,TRY
"""
PROFILE = {
    "name": "Garanti BBVA sanal POS taksit tahsilatı",
    "method": "card",
    "merchant_id": "9988776",
    "layout": "fixed_width",
    "encoding": "windows-1254",
    "date_format": "%d%m%Y",
    "minor_units": True,
    "file_name": "TAHSILAT_{date}_{sequence}.txt",
    "header": {
        "fields": [
            {"value": "record_type", "text": "H", "width": 1},
            {"value": "merchant_id", "width": 10, "align": "right", "pad": "0"},
            {"value": "file_date", "width": 8},
            {"value": "sequence", "width": 3, "pad": "0"},
        ]
    },
    "record": {
        "fields": [
            {"value": "record_type", "text": "D", "width": 1},
            {"value": "reference", "width": 20},
            {"value": "token", "width": 32},
            {"value": "amount", "width": 15, "pad": "0"},
            {"value": "installments", "width": 2, "pad": "0"},
            {"value": "due_date", "width": 8},
        ]
    },
    "trailer": {
        "fields": [
            {"value": "record_type", "text": "T", "width": 1},
            {"value": "record_count", "width": 7, "pad": "0"},
            {"value": "total_amount", "width": 18, "pad": "0"},
        ]
    },
    "response": {
        "file_pattern": "*yanit*",
        "layout": "delimited",
        "delimiter": ";",
        "header_rows": 1,
        "columns": {"reference": "REFERANS", "status": "DURUM", "auth_code": "PROVIZYON", "reason_code": "RED_KODU"},
        "approved": ["00"],
        "reasons": {"51": "insufficient funds (yetersiz bakiye)", "54": "card expired"},
    },
}


def put_profile(stack, context, body):
    event = api_event(
        "PUT",
        "/collection-profiles/{bank_id}",
        "/collection-profiles/garanti",
        caller=API_CALLER,
        pathParameters={"bank_id": "garanti"},
        body=json.dumps(body),
    )
    response = stack.handler("payments_api")(event, context)
    return response["statusCode"], json.loads(response["body"])


def item(stack, context, item_id):
    event = api_event(
        "GET", "/items/{item_id}", f"/items/{item_id}", caller=API_CALLER, pathParameters={"item_id": item_id}
    )
    return json.loads(stack.handler("api")(event, context)["body"])


def test_card_installments_are_asked_of_the_bank_and_its_answers_settle_or_retry_them(stack, context):
    assert put_profile(stack, context, {**PROFILE, "retry_after_days": [0]})[0] == 422
    status, stored = put_profile(stack, context, PROFILE)
    assert status == 200 and stored["bank_id"] == "garanti"
    drop(stack, "customers/autopay.csv", CUSTOMERS)
    stack.drain(context)
    ((line, reason),) = [(r["line"], r["reason"]) for r in report(stack, "customers/autopay.csv")]
    assert line == "4" and "looks like a card number" in reason and "4111" not in reason
    drop(stack, "invoices/autopay.csv", INVOICES)
    stack.drain(context)

    run = stack.handler("collect_by_card")({"business_date": "2026-11-24"}, context)
    ((key, body),) = outbound(stack, "banks/garanti/").items()
    assert key == "banks/garanti/TAHSILAT_20261124_001.txt" and run["files"][0]["requests"] == 2
    lines = body.decode("windows-1254").split("\r\n")
    assert lines[0] == "H000998877624112026001"
    details = [ln for ln in lines if ln.startswith("D")]
    assert [(ln[21:53].strip(), ln[53:68], ln[68:70], ln[70:78]) for ln in details] == [
        ("tok_K1_a8f3", "000000000025000", "01", "24112026"),
        ("tok_K2_77c1", "000000000008040", "01", "24112026"),
    ]
    assert lines[3] == "T0000002000000000000033040"
    references = [ln[1:21].strip() for ln in details]
    # Asked again the same day: nothing is asked twice.
    assert stack.handler("collect_by_card")({"business_date": "2026-11-24"}, context)["files"] == []

    # While the bank has them, the items are not dunned even once overdue.
    review = stack.handler("dunning_api")(
        api_event(
            "GET",
            "/accounts/{account_id}/dunning",
            "/accounts/KA1/dunning",
            caller=API_CALLER,
            pathParameters={"account_id": "KA1"},
        ),
        context,
    )
    assert review["statusCode"] == 200

    response = "REFERANS;DURUM;PROVIZYON;RED_KODU\n" + f"{references[0]};00;A12345;\n{references[1]};05;;51\n"
    response += "CCUNKNOWN000000000;00;X;\n"
    drop(stack, "banks/garanti/garanti_yanit_20261125.csv", response)
    stack.drain(context)

    paid = item(stack, context, "KI-1")
    assert (paid["open_amount"], paid["status"]) == ("0.00", "paid")
    assert item(stack, context, "KI-2")["open_amount"] == "80.40"
    problems = report(stack, "banks/garanti/garanti_yanit_20261125.csv")
    assert [(p["line"], "not a collection we asked" in p["reason"]) for p in problems] == [("4", True)]
    # The same answer file again pays nothing twice.
    drop(stack, "banks/garanti/garanti_yanit_20261125-again.csv", response)
    stack.drain(context)
    assert item(stack, context, "KI-1")["open_amount"] == "0.00"

    # The decline is tried again 3 days later (the stack's day is 2026-11-24), as attempt 2.
    assert stack.handler("collect_by_card")({"business_date": "2026-11-26"}, context)["files"] == []
    retry = stack.handler("collect_by_card")({"business_date": "2026-11-27"}, context)
    assert [f["requests"] for f in retry["files"]] == [1]
    again = outbound(stack, "banks/garanti/TAHSILAT_20261127_001.txt")
    (detail,) = [ln for ln in again["banks/garanti/TAHSILAT_20261127_001.txt"].decode().split("\r\n") if ln[:1] == "D"]
    assert detail[1:21].strip() not in references  # a new attempt, a new reference
    assert LedgerVerifier(stack.dynamodb, stack.table).verify().verified
    events = {e["detail-type"] for e in stack.bus_events()}
    assert {"CollectionFileCreated", "CollectionApproved", "CollectionDeclined"} <= events


def test_a_response_line_that_cannot_be_read_is_reported_and_the_rest_applied(stack, context):
    put_profile(stack, context, PROFILE)
    drop(stack, "banks/garanti/yanit-bozuk.csv", "REFERANS;DURUM;PROVIZYON;RED_KODU\n;00;;\n")
    stack.drain(context)
    rows = list(csv.DictReader(io.StringIO("line,reason\n")))
    assert rows == []
    problems = report(stack, "banks/garanti/yanit-bozuk.csv")
    assert [p["line"] for p in problems] == ["2"] and "no reference" in problems[0]["reason"]
