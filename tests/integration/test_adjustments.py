"""Billing adjustments, by file under adjustments/ and through POST /adjustments: each kind posted to the journal
with the item change, exactly once by adjustment id, refusals recorded with their reason, write-offs above the
threshold waiting for a second person."""

from __future__ import annotations

import json

from receivables import bootstrap
from receivables.adapters.adjustments_table import AdjustmentsTable
from receivables.adapters.verification import LedgerVerifier

from tests.integration.conftest import API_CALLER, api_event
from tests.integration.test_bank_files import loaded
from tests.integration.test_loading_pipeline import drop, report

ADJUSTMENTS = """adjustment_id,item_id,kind,amount,new_due_date,reason,date
ADJ-1,INV-1,credit_note,30.00,,roaming charge disputed and accepted,2026-11-23
ADJ-2,INV-2,debit_note,20.00,,late installation fee,
ADJ-3,INV-1,cancel,,,billed twice,
ADJ-4,INV-1,due_date_change,,2026-12-31,payment arrangement,
ADJ-5,INV-3,write_off,15.00,,small balance,
ADJ-6,INV-2,cancel,,,,
ADJ-7,NOPE,credit_note,1.00,,typo,
ADJ-1,INV-1,credit_note,30.00,,roaming charge disputed and accepted,2026-11-23
"""


def item(stack, item_id):
    return stack.dynamodb.get_item(TableName=stack.table, Key={"pk": {"S": f"ITEM#{item_id}"}, "sk": {"S": "ITEM"}})[
        "Item"
    ]


def adjustments(stack):
    return {a.adjustment_id: a for a in AdjustmentsTable(stack.dynamodb, stack.table).all()}


def call(stack, context, method, resource, path, params=None, body=None, caller=API_CALLER):
    event = api_event(
        method, resource, path, caller=caller, pathParameters=params, body=json.dumps(body) if body else None
    )
    response = stack.handler("payments_api")(event, context)
    return response["statusCode"], json.loads(response["body"])


def test_an_adjustments_file_applies_each_kind_once_and_rejects_by_line(stack, context):
    loaded(stack, context)
    drop(stack, "adjustments/billing-2026-11-24.csv", ADJUSTMENTS)
    stack.drain(context)

    assert [(r["line"], r["reason"]) for r in report(stack, "adjustments/billing-2026-11-24.csv")] == [
        (
            "4",
            "adjustment ADJ-3 refused: item INV-1 is partly paid (30.00 of 100.50 paid or credited): a paid item "
            "cannot be cancelled — credit it instead",
        ),
        ("7", "reason: missing (say why the item is adjusted)"),
        ("8", "item_id: item NOPE not found"),
    ]
    inv1, inv2, inv3, note = item(stack, "INV-1"), item(stack, "INV-2"), item(stack, "INV-3"), item(stack, "DN-ADJ-2")
    # The credit note took 30.00 off; the due-date change moved it, index key too (the account's items by due date).
    assert inv1["open_amount"]["N"] == "70.50" and inv1["credited"]["N"] == "30.00"
    assert inv1["due_date"]["S"] == "2026-12-31" and inv1["gsi1sk"]["S"] == "ITEM#2026-12-31#INV-1"
    assert inv2["open_amount"]["N"] == "99.50" and "status" not in inv2  # ADJ-6 was rejected: no reason
    assert inv3["open_amount"]["N"] == "985.00"  # partly written off: still open
    assert (note["kind"]["S"], note["amount"]["N"], note["due_date"]["S"], note["linked_item_id"]["S"]) == (
        "debit_note",
        "20.00",
        "2026-11-15",
        "INV-2",
    )
    recorded = adjustments(stack)
    assert {k: a.status.value for k, a in recorded.items()} == {
        "ADJ-1": "applied",
        "ADJ-2": "applied",
        "ADJ-3": "refused",
        "ADJ-4": "applied",
        "ADJ-5": "applied",
    }
    assert recorded["ADJ-1"].created_by == "adjustments/billing-2026-11-24.csv"
    announced = [e["detail"] for e in stack.bus_events() if e.get("detail-type") == "AdjustmentApplied"]
    assert sorted(e["adjustment_id"] for e in announced) == ["ADJ-1", "ADJ-2", "ADJ-4", "ADJ-5"]
    assert all(e["account_id"] for e in announced)
    entries, _ = stack.root("api", bootstrap.account_journal).page("A1", limit=500)
    by_operation = {e.operation: e for e in entries}
    credit = by_operation["adjustment_credit_note"]
    assert [(p.kind.value, p.item_id, str(p.amount)) for p in credit.postings] == [("credit_note", "INV-1", "-30.00")]
    assert credit.cause.source == "adjustments/billing-2026-11-24.csv" and credit.cause.line == 2
    assert by_operation["adjustment_due_date_change"].postings == ()  # no money: the journal still records it
    assert LedgerVerifier(stack.dynamodb, stack.table).verify().verified

    # The same file again changes nothing; a line sent again in another file is skipped, not applied twice.
    drop(stack, "adjustments/again.csv", ADJUSTMENTS.splitlines()[0] + "\n" + ADJUSTMENTS.splitlines()[1] + "\n")
    stack.drain(context)
    assert item(stack, "INV-1")["open_amount"]["N"] == "70.50"


def test_a_credit_note_on_a_paid_item_becomes_credit_and_a_large_write_off_needs_four_eyes(stack, context):
    loaded(stack, context)
    receipt = {
        "receipt_id": "TILL-1",
        "account_id": "A1",
        "currency": "TRY",
        "value_date": "2026-11-24",
        "tenders": [{"type": "cash", "amount": "100.50"}],
        "items": ["INV-1"],
    }
    assert call(stack, context, "POST", "/receipts", "/receipts", body=receipt)[0] == 200
    status, body = call(
        stack,
        context,
        "POST",
        "/adjustments",
        "/adjustments",
        body={"adjustment_id": "CN-9", "item_id": "INV-1", "kind": "credit_note", "amount": "40.00", "reason": "promo"},
        caller="fin.zeynep",
    )
    assert status == 201 and body["status"] == "applied" and body["created_by"] == "fin.zeynep"
    assert "40.00 it could not absorb (already paid) held as credit on account A1" in body["explanation"]
    # The credit is spent by the payments machinery on the account's other open item at once.
    assert item(stack, "INV-2")["open_amount"]["N"] == "59.50"

    refused = {"adjustment_id": "X-1", "item_id": "INV-1", "kind": "cancel", "reason": "billed twice"}
    status, body = call(stack, context, "POST", "/adjustments", "/adjustments", body=refused)
    assert status == 422 and body["error"]["code"] == "adjustment_refused"
    assert "credit it instead" in body["error"]["message"]
    status, body = call(stack, context, "POST", "/adjustments", "/adjustments", body={**refused, "reason": "other"})
    assert status == 409  # the id is taken, by other content

    large = {"adjustment_id": "WO-1", "item_id": "INV-3", "kind": "write_off", "amount": "1000.00", "reason": "x"}
    large["amount"] = "1000.00"
    status, body = call(stack, context, "POST", "/adjustments", "/adjustments", body=large, caller="collector.ali")
    assert status == 201 and body["status"] == "applied"  # at the threshold: no approval needed

    bigger = {"adjustment_id": "WO-2", "item_id": "INV-2", "kind": "write_off", "amount": "59.50", "reason": "y"}
    stack.s3.put_object(
        Bucket=stack.inbound, Key="config/adjustments.json", Body=b'{"approval_thresholds": {"write_off": "50.00"}}'
    )
    bootstrap.reset()
    status, body = call(stack, context, "POST", "/adjustments", "/adjustments", body=bigger, caller="collector.ali")
    assert status == 201 and body["status"] == "pending_approval"
    assert item(stack, "INV-2")["open_amount"]["N"] == "59.50"  # nothing moved
    path = "/adjustments/WO-2/approve"
    params = {"adjustment_id": "WO-2"}
    resource = "/adjustments/{adjustment_id}/approve"
    status, body = call(stack, context, "POST", resource, path, params, {}, caller="collector.ali")
    assert status == 403 and "a second person must approve it" in body["error"]["message"]
    status, body = call(stack, context, "POST", resource, path, params, {}, caller="sup.mert")
    assert status == 200 and body["status"] == "applied" and body["decided_by"] == "sup.mert"
    closed = item(stack, "INV-2")
    assert closed["open_amount"]["N"] == "0.00" and closed["status"]["S"] == "written_off"
    assert closed["write_off_reason"]["S"] == "y"
    status, body = call(stack, context, "POST", resource, path, params, {}, caller="sup.mert")
    assert status == 409  # approved once
    assert LedgerVerifier(stack.dynamodb, stack.table).verify().verified
