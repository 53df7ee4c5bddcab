"""Payment commands through the API handler: suspense, manual allocation and unallocation, counter receipts."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from tests.integration.conftest import API_CALLER, api_event
from tests.integration.test_bank_files import FIXTURES, loaded, payments
from tests.integration.test_loading_pipeline import drop

EVENT = json.loads((Path(__file__).parents[2] / "events" / "api_get_account.json").read_text())


def call(stack, context, method, resource, path, params=None, body=None, caller=API_CALLER):
    event = api_event(
        method,
        resource,
        path,
        caller=caller,
        pathParameters=params,
        body=json.dumps(body) if body is not None else None,
    )
    response = stack.handler("payments_api")(event, context)
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def with_suspense(stack, context):
    loaded(stack, context)
    drop(stack, "banks/garanti/2026-11-20.xml", (FIXTURES / "garanti-camt053-2026-11-20.xml").read_bytes())
    stack.drain(context)
    return payments(stack)["GAR-REF-0002"]["payment_id"]["S"]


def test_a_payment_in_suspense_is_assigned_and_allocated_by_hand(stack, context, with_suspense):
    status, listed = call(stack, context, "GET", "/suspense", "/suspense")
    assert status == 200 and [p["payment_id"] for p in listed] == [with_suspense]

    path = f"/payments/{with_suspense}/allocations"
    status, body = call(
        stack,
        context,
        "POST",
        "/payments/{payment_id}/allocations",
        path,
        {"payment_id": with_suspense},
        {"account_id": "A1", "allocations": [{"item_id": "INV-1", "amount": "50.00"}]},
    )
    assert status == 422 and body["error"]["code"] == "ledger_rule"  # 40.00 cannot give 50.00

    status, body = call(
        stack,
        context,
        "POST",
        "/payments/{payment_id}/allocations",
        path,
        {"payment_id": with_suspense},
        {"account_id": "A1", "allocations": [{"item_id": "INV-1", "amount": "15.00"}], "note": "customer called"},
        caller="fin.zeynep",
    )
    assert status == 200 and body["account_id"] == "A1" and body["unapplied_amount"] == "25.00"
    # The journal names who allocated: the caller's identity, as the request context gave it.
    by_hand = [p for p in body["postings"] if p["kind"] in ("payment_assigned", "allocation")]
    assert by_hand and {p["cause"]["actor"] for p in by_hand} == {"fin.zeynep"}
    assert body["allocations"] == [{"item_id": "INV-1", "amount": "15.00", "reason": "manual: customer called"}]
    assert call(stack, context, "GET", "/suspense", "/suspense")[1] == []

    status, body = call(
        stack,
        context,
        "DELETE",
        "/payments/{payment_id}/allocations/{item_id}",
        f"{path}/INV-1",
        {"payment_id": with_suspense, "item_id": "INV-1"},
    )
    assert status == 200 and body["allocations"] == [] and body["unapplied_amount"] == "40.00"
    # The reopened item is announced (dunning re-plans, commission on it stops being payable): it was not, before.
    announced = [e for e in stack.bus_events() if e.get("detail-type") == "PaymentUnallocated"]
    assert [(e["detail"]["payment_id"], e["detail"]["account_id"]) for e in announced] == [(with_suspense, "A1")]


def test_a_receipt_for_an_unknown_account_is_404_naming_it(stack, context):
    loaded(stack, context)
    receipt = {"receipt_id": "TILL-1", "account_id": "NOPE", "currency": "TRY", "value_date": "2026-11-20"}
    receipt["tenders"] = [{"type": "cash", "amount": "10.00"}]
    status, body = call(stack, context, "POST", "/receipts", "/receipts", body=receipt)
    assert status == 404
    assert body == {"error": {"code": "not_found", "message": "account NOPE not found", "details": []}}
    status, body = call(stack, context, "GET", "/payments/{payment_id}", "/payments/P-NONE", {"payment_id": "P-NONE"})
    assert status == 404 and body["error"]["message"] == "payment P-NONE not found"


def test_a_counter_receipt_with_several_tenders_is_one_payment_once(stack, context):
    loaded(stack, context)
    receipt = {
        "receipt_id": "TILL-7-0001",
        "account_id": "A1",
        "currency": "TRY",
        "value_date": "2026-11-24",
        "tenders": [{"type": "cash", "amount": "100.00"}, {"type": "card", "amount": "50.50", "reference": "POS-99"}],
    }
    status, body = call(stack, context, "POST", "/receipts", "/receipts", None, receipt)
    assert status == 200 and body["amount"] == "150.50" and body["match"]["method"] == "manual"
    assert [(a["item_id"], a["amount"]) for a in body["allocations"]] == [("INV-1", "100.50"), ("INV-2", "50.00")]

    again = call(stack, context, "POST", "/receipts", "/receipts", None, receipt)
    assert again == (200, body)
    changed = {**receipt, "tenders": [{"type": "cash", "amount": "1.00"}]}
    assert call(stack, context, "POST", "/receipts", "/receipts", None, changed)[0] == 409


def test_unknown_payment_is_404(stack, context):
    status, body = call(stack, context, "GET", "/payments/{payment_id}", "/payments/NOPE", {"payment_id": "NOPE"})
    assert status == 404 and body["error"]["code"] == "not_found"


def test_an_account_types_allocation_order_is_configuration_set_through_the_api(stack, context):
    loaded(stack, context)
    # Newest first, for accounts of type "standard" (the type every loaded account gets).
    newest_first = {"name": "newest first", "order": [{"key": "due_date", "descending": True}]}
    status, body = call(
        stack,
        context,
        "PUT",
        "/allocation-policies/{account_type}",
        "/allocation-policies/standard",
        {"account_type": "standard"},
        newest_first,
    )
    assert status == 200 and body["version"] == 1 and body["policies"]["standard"]["name"] == "newest first"
    assert body["changed_by"] == API_CALLER
    status, body = call(
        stack,
        context,
        "PUT",
        "/allocation-policies/{account_type}",
        "/allocation-policies/standard",
        {"account_type": "standard"},
        {"name": "broken", "order": []},
    )
    assert status == 422

    drop(stack, "banks/garanti/overpay.xml", OVERPAYMENT_BY_ACCOUNT)
    stack.drain(context)
    paid = payments(stack)["ACCT-REF-1"]
    # INV-2 (due 2026-11-15) before INV-1 (due 2026-10-15): the configured order, not FIFO.
    assert [a["M"]["item_id"]["S"] for a in paid["allocations"]["L"]] == ["INV-2"]
    assert "newest first" in paid["allocations"]["L"][0]["M"]["reason"]["S"]


def test_a_bank_is_onboarded_by_putting_its_profile(stack, context):
    profile = {
        "bank_id": "ziraat",
        "name": "Ziraat Bankası hesap hareketleri",
        "layout": "delimited",
        "encoding": "windows-1254",
        "delimiter": ";",
        "header_rows": 1,
        "decimal_separator": ",",
        "thousands_separator": ".",
        "date_format": "%d.%m.%Y",
        "default_currency": "TRY",
        "columns": {"booking_date": "Tarih", "amount": "Tutar", "reference": "Referans", "remittance": "Açıklama"},
    }

    def put_profile(body, caller=API_CALLER):
        params = {"bank_id": "ziraat"}
        return call(stack, context, "PUT", "/bank-profiles/{bank_id}", "/bank-profiles/ziraat", params, body, caller)

    status, body = put_profile(profile, caller="ops.şule")
    assert status == 200, body
    stored = stack.s3.head_object(Bucket=stack.inbound, Key="config/banks/ziraat.json")
    assert stored["Metadata"] == {"changed-by": "ops.%C5%9Fule"}  # who onboarded the bank, header-safe
    status, body = call(
        stack, context, "GET", "/bank-profiles/{bank_id}", "/bank-profiles/ziraat", {"bank_id": "ziraat"}
    )
    assert status == 200 and body["bank_id"] == "ziraat"
    status, body = put_profile({**profile, "decimal_separator": "x"})
    assert status == 422 and body["error"]["code"] == "invalid_profile" and body["error"]["details"]
    assert call(stack, context, "GET", "/bank-profiles/{bank_id}", "/bank-profiles/nope", {"bank_id": "nope"})[0] == 404


OVERPAYMENT_BY_ACCOUNT = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>
<GrpHdr><MsgId>N1</MsgId><CreDtTm>2026-11-24T10:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>N1</Id><Acct><Id><IBAN>TR120006200000000012345678</IBAN></Id></Acct>
<Ntry><Amt Ccy="TRY">99.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-11-24</Dt></BookgDt><AcctSvcrRef>ACCT-REF-1</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>Hesap A1 odeme</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"""


def test_a_payment_allocated_out_of_suspense_keeps_what_the_bank_said(stack, context, with_suspense):
    before = payments(stack)["GAR-REF-0002"]
    status, body = call(
        stack,
        context,
        "POST",
        "/payments/{payment_id}/allocations",
        f"/payments/{with_suspense}/allocations",
        {"payment_id": with_suspense},
        {"account_id": "A1", "allocations": [{"item_id": "INV-1", "amount": "15.00"}]},
    )
    assert status == 200
    assert (body["bank_id"], body["bank_reference"]) == ("garanti", "GAR-REF-0002")
    assert body["match"]["reason"] == before["match_reason"]["S"]
    # The person's decision sits beside the bank's: the suspense account gives the payment up, the account takes it.
    kinds = [(p["kind"], p["side"], p["amount"]) for p in body["postings"]]
    assert ("payment_assigned", "payment", "-40.00") in kinds and ("allocation", "payment", "15.00") in kinds


def test_money_going_out_waits_in_suspense_and_cannot_pay_an_invoice(stack, context):
    from tests.integration.test_bank_files import _mt940

    loaded(stack, context)
    # A return whose original we never received: it is money out, kept for a person, marked as such.
    drop(
        stack,
        "banks/garanti/mt940-r.sta",
        _mt940("S9", ":61:2611211121D75,00NTRFNONREF//GAR-MT-RET", ":86:IADE MD06 bilinmeyen tahsilat"),
    )
    stack.drain(context)
    (returned,) = [p for p in payments(stack).values() if p["bank_reference"]["S"] == "GAR-MT-RET"]
    status, listed = call(stack, context, "GET", "/suspense", "/suspense")
    assert status == 200 and [p["outgoing"] for p in listed] == [True]
    payment_id = returned["payment_id"]["S"]
    status, body = call(
        stack,
        context,
        "POST",
        "/payments/{payment_id}/allocations",
        f"/payments/{payment_id}/allocations",
        {"payment_id": payment_id},
        {"account_id": "A1", "allocations": [{"item_id": "INV-1", "amount": "10.00"}]},
    )
    assert status == 422 and "money going out" in body["error"]["message"]


JSON_ROUTES = [  # one JSON route of each API function that takes a body
    ("payments_api", "/receipts"),
    ("dunning_api", "/holds"),
    ("direct_debits", "/direct-debits"),
]


def post_raw(stack, context, function, path, body, *, base64_encoded=False, content_type="application/json"):
    event = copy.deepcopy(EVENT)
    event.update(httpMethod="POST", resource=path, path=path, pathParameters=None, body=body)
    event.update(isBase64Encoded=base64_encoded, headers={**event["headers"], "Content-Type": content_type})
    event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    event["requestContext"].update(resourcePath=path, httpMethod="POST")
    response = stack.handler(function)(event, context)
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(("function", "path"), JSON_ROUTES)
def test_a_body_that_is_not_utf8_is_422_in_the_error_shape(stack, context, function, path):
    # API Gateway hands a body that is not text over base64-encoded; its bytes decode to no string.
    body = base64.b64encode('{"receipt_id": "Ö"}'.encode("latin-1")).decode()
    status, answer = post_raw(stack, context, function, path, body, base64_encoded=True)
    assert status == 422
    assert answer["error"]["code"] == "validation_error"
    assert answer["error"]["message"] == "the request body is not UTF-8 JSON"
    assert answer["error"]["details"] == [
        {"location": ["body"], "message": "invalid UTF-8 at byte 16", "type": "json_invalid"}
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply (more than 64 levels)"),  # RecursionError in json
        ('{"a": ' * 65 + "1" + "}" * 65, "JSON nested too deeply (more than 64 levels)"),  # parses, then too deep
        ('{"amount": NaN}', "NaN is not JSON"),
        ('{"id": "\\ud800"}', "the body is not UTF-8 JSON: a string holds a lone surrogate"),
        ('{"id": ', "Expecting value"),
    ],
)
@pytest.mark.parametrize(("function", "path"), JSON_ROUTES)
def test_a_body_that_is_not_json_is_422_saying_why(stack, context, function, path, body, reason):
    status, answer = post_raw(stack, context, function, path, body)
    assert status == 422
    assert answer["error"]["code"] == "validation_error"
    assert answer["error"]["message"] == f"the request body is not valid JSON: {reason}"
    assert [d["type"] for d in answer["error"]["details"]] == ["json_invalid"]


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "multipart/form-data",  # no boundary: Powertools' own multipart reader raised (502)
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",  # Powertools read it as a form
    ],
)
@pytest.mark.parametrize(("function", "path"), JSON_ROUTES)
def test_a_body_in_any_type_but_json_is_415_in_the_error_shape(stack, context, function, path, content_type):
    status, answer = post_raw(stack, context, function, path, "a=1", content_type=content_type)
    assert status == 415
    assert answer["error"]["code"] == "unsupported_media_type"
    assert answer["error"]["message"] == f"the request body must be application/json, not {content_type}"
    assert set(answer["error"]) == {"code", "message", "details"}
