"""The operational reports of the read API: cash from the day's staged postings, the stage distribution from the
open dunning cycles, the suspense aging from the suspense index — JSON and CSV."""

from __future__ import annotations

from tests.integration.test_account_story import call
from tests.integration.test_bank_files import FIXTURES, loaded
from tests.integration.test_loading_pipeline import drop


def test_cash_stages_and_suspense_reports_reflect_what_just_happened(stack, context):
    loaded(stack, context)
    receipt = {
        "receipt_id": "TILL-1",
        "account_id": "A1",
        "currency": "TRY",
        "value_date": "2026-11-24",
        "tenders": [{"type": "cash", "amount": "60.00"}],
    }
    assert call(stack, context, "payments_api", "POST", "/receipts", "/receipts", body=receipt)[0] == 200
    drop(stack, "banks/garanti/2026-11-20.xml", (FIXTURES / "garanti-camt053-2026-11-20.xml").read_bytes())
    stack.drain(context)
    stack.handler("dunning_worker")({"detail": {"account_ids": ["A1", "A2"]}}, context)
    stack.stage_postings(context)

    status, cash = call(stack, context, "api", "GET", "/reports/cash", "/reports/cash", query={"date": "2026-11-24"})
    assert status == 200
    (try_line,) = cash  # EUR: only billed that day, no money moved
    # The till's 60.00 and the camt's three entries: 150.00 + 40.00 (into suspense) + 25.00 by IBAN.
    assert try_line["currency"] == "TRY" and try_line["received"] == "275.00" and try_line["into_suspense"] == "40.00"
    assert try_line["allocated"] == "200.00"  # INV-1 and INV-2 paid off; the rest waits as credit or in suspense
    assert try_line["unapplied_change"] == "75.00" and try_line["returned"] == "0.00"

    status, csv_body = call(
        stack,
        context,
        "api",
        "GET",
        "/reports/cash",
        "/reports/cash",
        query={"date": "2026-11-24", "format": "csv"},
        raw=True,
    )
    assert status == 200 and csv_body.splitlines()[0].startswith("date,currency,received,into_suspense,")

    status, stages = call(stack, context, "api", "GET", "/reports/stages", "/reports/stages")
    assert status == 200 and all(line["accounts"] >= 1 for line in stages)

    status, waiting = call(stack, context, "api", "GET", "/reports/suspense-aging", "/reports/suspense-aging")
    assert status == 200
    assert [(w["what"], w["bucket"], w["count"], w["amount"]) for w in waiting] == [("suspense", "0-7", 1, "40.00")]
