"""Reinsurers' accounts: a cession puts the ceded premium (payable) and the reinsurance commission (receivable) on the
reinsurer's current account, a claim recovery a receivable; the payout run never takes them one by one; the quarterly
statement (CSV and PDF) lists them with the balance, nets the two sides and gathers the rest into one settlement
payable that the next payout run pays in one transfer."""

from __future__ import annotations

import csv
import io
import json

from receivables.adapters.verification import LedgerVerifier

from tests.integration.test_claims import payable
from tests.integration.test_insurance import api, insured, jsonl  # noqa: F401 (insured is a fixture)
from tests.integration.test_loading_pipeline import drop, report
from tests.integration.test_payouts import outbound

BANK = {"name": "Örnek Sigorta A.Ş.", "iban": "TR330006100519786457841326", "bic": "ISBKTRIS"}
REINSURERS = """party_id,kind,name,tax_id,iban
RE-1,reinsurer,Anadolu Re,1111111106,TR320010009999901234567890
"""


def cession(event_id, **fields):
    return {
        "type": "ReinsuranceCession",
        "event_id": event_id,
        "policy_id": "POL-1",
        "reinsurer": "RE-1",
        "ceded_premium": "1000.00",
        "reinsurance_commission": "250.00",
        "treaty": "QS-2026",
        "period": "2026-Q4",
        **fields,
    }


def test_a_reinsurer_is_settled_by_its_quarterly_statement_and_one_transfer(stack, context, insured):  # noqa: F811
    drop(stack, "parties/reinsurers.csv", REINSURERS)
    drop(stack, "config/disbursement/isbank.json", json.dumps(BANK))
    stack.drain(context)
    drop(
        stack,
        "policy-events/reinsurance.jsonl",
        jsonl(
            cession("RC-1"),
            {
                "type": "ClaimRecoveryDue",
                "event_id": "RR-1",
                "claim_id": "CLM-9",
                "reinsurer": "RE-1",
                "amount": "300.00",
                "currency": "TRY",
            },
            cession("RC-2", reinsurer="AG-1"),  # not a reinsurer
            cession("RC-3", treaty=None),  # neither treaty nor facultative
        ),
    )
    stack.drain(context)
    _, reinsurer = api(stack, context, "/parties/{party_id}", "/parties/RE-1", {"party_id": "RE-1"})
    assert [(a["receivable"], a["payable"], a["net"]) for a in reinsurer["accounts"]] == [
        ("550.00", "1000.00", "-450.00")
    ]
    assert payable(stack, context, "RC-1-RP")[1]["kind"] == "reinsurance"
    rejected = {r["line"]: r["reason"] for r in report(stack, "policy-events/reinsurance.jsonl")}
    assert set(rejected) == {"3", "4"}
    assert "RC-2" in rejected["3"] and "not a reinsurer" in rejected["3"]
    assert "RC-3" in rejected["4"] and "treaty or facultative" in rejected["4"]

    # The daily payout run never pays a reinsurance payable on its own.
    assert stack.handler("pay_out")({"business_date": "2026-12-31"}, context)["files"] == []

    run = stack.handler("agency_statements")({"business_date": "2027-01-01"}, context)
    (statement,) = run["reinsurance"]
    assert (statement["statement_id"], statement["balance"]) == ("RE-RE-1-2026Q4", "-450.00")
    files = outbound(stack, "statements/2026-Q4/RE-RE-1-2026Q4")
    rows = list(csv.reader(io.StringIO(files["statements/2026-Q4/RE-RE-1-2026Q4.csv"].decode())))
    assert sorted((r[1], r[2], r[7]) for r in rows[1:4]) == [
        ("CLM-9-RR", "claim_recovery", "300.00"),
        ("RC-1-RK", "reinsurance_commission", "250.00"),
        ("RC-1-RP", "ceded_premium", "-1000.00"),
    ]
    assert rows[-1][0] == "BALANCE" and rows[-1][-1] == "-450.00"
    assert files["statements/2026-Q4/RE-RE-1-2026Q4.pdf"].startswith(b"%PDF")
    # Netted, and the rest gathered into one settlement payable.
    assert statement["settlement"] == "RS-RE-1-2026Q4"
    settlement = payable(stack, context, "RS-RE-1-2026Q4")[1]
    assert (settlement["amount"], settlement["status"]) == ("450.00", "approved")
    assert payable(stack, context, "RC-1-RP")[1]["open_amount"] == "0.00"
    _, reinsurer = api(stack, context, "/parties/{party_id}", "/parties/RE-1", {"party_id": "RE-1"})
    assert [(a["receivable"], a["payable"], a["net"]) for a in reinsurer["accounts"]] == [("0.00", "450.00", "-450.00")]
    # The same day again settles nothing twice.
    again = stack.handler("agency_statements")({"business_date": "2027-01-01"}, context)
    assert again["reinsurance"][0]["settlement"] == "RS-RE-1-2026Q4"

    paid = stack.handler("pay_out")({"business_date": "2027-01-01"}, context)
    assert [(f["transactions"], f["total"]) for f in paid["files"]] == [(1, "450.00")]
    assert LedgerVerifier(stack.dynamodb, stack.table).verify().verified
