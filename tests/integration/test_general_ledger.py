"""Pre-accounting: postings off the stream are staged by business date, and the daily export writes them once as
balanced double-entry lines (gl/<date>/journal.csv and .parquet, control record, GL#<date>), by the chart of
accounts; a posting that arrives for a closed day goes out with the next export under its own date."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal

from receivables.adapters.general_ledger import read_journal_parquet

from tests.integration.test_claims import claim
from tests.integration.test_insurance import api, insured, jsonl  # noqa: F401 (insured is a fixture)
from tests.integration.test_loading_pipeline import drop
from tests.integration.test_payouts import outbound

DAY = "2026-11-24"


def export(stack, context, day=DAY):
    stack.stage_postings(context)
    return stack.handler("gl_export")({"export_date": day}, context)


def test_the_days_postings_go_out_once_as_balanced_double_entry_lines(stack, context, insured):  # noqa: F811
    drop(stack, "parties/garages.csv", "party_id,kind,name,tax_id,iban\nGAR-1,service_provider,Usta Oto,1111111106,\n")
    stack.drain(context)
    drop(stack, "policy-events/claims.jsonl", jsonl(claim("CE-1", "CLM-1", "GAR-1", "700.00")))
    stack.drain(context)

    result = export(stack, context)

    assert result["balanced"] and result["unmapped"] == 0 and result["lines"] > 0
    files = outbound(stack, f"gl/{DAY}/")
    assert set(files) == {f"gl/{DAY}/journal.csv", f"gl/{DAY}/journal.parquet", f"gl/{DAY}/control.json"}
    rows = list(csv.DictReader(io.StringIO(files[f"gl/{DAY}/journal.csv"].decode())))
    parquet = read_journal_parquet(files[f"gl/{DAY}/journal.parquet"])
    assert len(parquet) == len(rows) == result["lines"]
    assert {r["source_line"] for r in rows} == {p["source_line"] for p in parquet}
    # POL-1's premium (1,000.00 net, BSMV 50.00, YSV 80.00): receivable against revenue and taxes payable.
    by_account: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        if r["target_id"].startswith("POL-1-T") and r["posting_kind"] == "item_posted":
            by_account[r["gl_account"]] += Decimal(r["debit"]) - Decimal(r["credit"])
    assert dict(by_account) == {"120": Decimal("1130.00"), "600": Decimal("-1000.00"), "360": Decimal("-130.00")}
    # The claim: the garage's payable against the claims expense, the garage as the sub-ledger key.
    garage = [r for r in rows if r["target_id"] == "CLM-1-C"]
    assert sorted((r["gl_account"], r["debit"], r["credit"], r["party"]) for r in garage) == [
        ("320", "0.00", "700.00", "GAR-1"),
        ("620", "700.00", "0.00", "GAR-1"),
    ]
    control = json.loads(files[f"gl/{DAY}/control.json"])
    assert control["balanced"] and control["lines"] == len(rows)
    (lira,) = control["currencies"]
    assert lira["currency"] == "TRY" and lira["debit"] == lira["credit"]
    status, shown = api(stack, context, "/gl/{date}", f"/gl/{DAY}", {"date": DAY})
    assert status == 200 and shown["lines"] == len(rows) and shown["balanced"]
    assert api(stack, context, "/gl/{date}", "/gl/2026-11-20", {"date": "2026-11-20"})[0] == 404

    # Again: the same files, byte for byte.
    again = export(stack, context)
    assert again["lines"] == result["lines"]
    assert outbound(stack, f"gl/{DAY}/") == files

    # A posting for the closed day (a late claim booked with the same business date) goes into the next export.
    drop(stack, "policy-events/claims-late.jsonl", jsonl(claim("CE-2", "CLM-2", "GAR-1", "300.00")))
    stack.drain(context)
    stack.stage_postings(context)
    assert export(stack, context)["lines"] == result["lines"]  # the closed day does not change
    later = stack.handler("gl_export")({"export_date": "2026-11-25"}, context)
    late = [r for r in outbound_rows(stack, "2026-11-25") if r["target_id"] == "CLM-2-C"]
    assert sorted((r["business_date"], r["gl_account"], r["credit"]) for r in late) == [
        (DAY, "320", "300.00"),
        (DAY, "620", "0.00"),
    ]
    assert later["balanced"]


def outbound_rows(stack, day):
    body = outbound(stack, f"gl/{day}/journal.csv")[f"gl/{day}/journal.csv"]
    return list(csv.DictReader(io.StringIO(body.decode())))
