"""The BI export end to end: a replay's days exported as Parquet once a day, read back with DuckDB by the reports'
own SQL, with the totals STATE.json and the API report give."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from receivables_local.embedded import EmbeddedStack
from receivables_local.reports import run
from receivables_local.scenario import simulate

from .conftest import requires_handlers

pytestmark = [requires_handlers]

BANKS = Path(__file__).parents[1] / "fixtures" / "banks" / "integration"
CUSTOMERS = """customer_id,name,type,city,phone,language,iban
C1,Ayşe Yılmaz,individual,İstanbul,+905321234567,tr,TR330006100519786457841326
C2,Acme Ltd,corporate,Ankara,+903121234567,en,
"""
ACCOUNTS = "account_id,customer_id,account_type\nA1,C1,residential\nA2,C2,corporate\n"
INVOICES = """invoice_id,customer_id,account_id,issue_date,due_date,amount,currency
INV-1,C1,A1,2026-10-01,2026-10-15,100.50,TRY
INV-2,C1,A1,2026-11-01,2026-11-15,99.50,TRY
INV-3,C2,A2,2026-08-01,2026-08-10,300.00,TRY
INV-4,C2,A2,2026-11-01,2026-12-20,40.00,TRY
"""
ADJUSTMENTS = "adjustment_id,item_id,kind,amount,reason\nADJ-1,INV-3,credit_note,50.00,agreed discount\n"


def test_the_parquet_export_reads_in_duckdb_with_the_totals_of_state(stack: EmbeddedStack, tmp_path: Path) -> None:
    root = tmp_path / "scenario"
    files = {
        "2026-11-19/customers/crm.csv": CUSTOMERS.encode(),
        "2026-11-19/accounts/crm.csv": ACCOUNTS.encode(),
        "2026-11-19/invoices/billing.csv": INVOICES.encode(),
        "2026-11-20/banks/garanti/statement.xml": (BANKS / "garanti-camt053-2026-11-20.xml").read_bytes(),
        "2026-11-21/adjustments/billing.csv": ADJUSTMENTS.encode(),
    }
    for relative, data in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    out = tmp_path / "out" / "STATE.json"
    state = simulate(root, date(2026, 11, 22), out, stack=stack).state
    analytics = out.parent / "analytics"
    control = json.loads((analytics / "bi/_control/date=2026-11-20/control.json").read_text())
    assert control["rows"]["postings"] > 0 and control["rows"]["payments"] == 3

    # As of the last exported day (the 22nd exports the 21st), by account type: what STATE.json says is open.
    columns, rows = run("aging", analytics, as_of="2026-11-21", dimension="account_type")
    assert columns == ["account_type", "currency", "bucket", "items", "open_amount"]
    by_type: dict[str, Decimal] = {}
    for account_type, _currency, _bucket, _items, amount in rows:
        by_type[account_type] = by_type.get(account_type, Decimal(0)) + amount
    types = {a["account_id"]: a["account_type"] for a in state["accounts"]}
    expected: dict[str, Decimal] = {}
    for item in state["items"]:
        if Decimal(item["open_amount"]) > 0:
            account_type = types[item["account_id"]]
            expected[account_type] = expected.get(account_type, Decimal(0)) + Decimal(item["open_amount"])
    assert by_type == expected
    buckets = {(r[0], r[2]): (r[3], r[4]) for r in rows}
    assert buckets[("corporate", "91-180")] == (1, Decimal("250.00"))  # INV-3, 103 days past due, credited 50.00
    assert buckets[("corporate", "not_due")] == (1, Decimal("40.00"))

    columns, rows = run("cash", analytics, as_of="2026-11-20")
    cash = dict(zip(columns, rows[0], strict=True))
    assert cash["received"] == Decimal("215.00") and cash["into_suspense"] == Decimal("40.00")


def test_the_report_cli_runs_the_sql_over_an_export_and_says_when_there_is_none(tmp_path: Path) -> None:
    from receivables.adapters.bi_export import parquet
    from receivables_local.cli import app
    from typer.testing import CliRunner

    items = tmp_path / "analytics" / "bi" / "items" / "date=2026-11-20"
    items.mkdir(parents=True)
    row = {
        "item_id": "I1",
        "account_id": "A1",
        "due_date": date(2026, 10, 1),
        "open_amount": Decimal("12.34"),
        "amount": Decimal("12.34"),
        "currency": "TRY",
        "city": "İzmir",
    }
    (items / "part-0000.parquet").write_bytes(parquet("items", [row]))
    result = CliRunner().invoke(
        app,
        [
            "report",
            "aging",
            "--date",
            "2026-11-21",
            "--analytics",
            str(tmp_path / "analytics"),
            "--by",
            "city",
            "--csv",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["city,currency,bucket,items,open_amount", "İzmir,TRY,31-60,1,12.34"]
    missing = CliRunner().invoke(app, ["report", "cash", "--date", "2026-11-21", "--analytics", str(tmp_path / "x")])
    assert missing.exit_code == 1 and "no BI export under" in missing.output
