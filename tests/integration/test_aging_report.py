"""Aging through the read API from the BI export's open-item snapshot (and, for today, today's activity), with the
same totals the shipped SQL gives over the exported Parquet files in DuckDB."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from receivables_local.reports import run

from tests.integration.conftest import physical
from tests.integration.test_account_story import call
from tests.integration.test_bank_files import FIXTURES, loaded
from tests.integration.test_loading_pipeline import drop


def download(stack, bucket: str, target: Path) -> Path:
    for obj in stack.s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        path = target / obj["Key"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(stack.s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
    return target


def test_aging_from_the_snapshot_agrees_with_duckdb_over_the_export_and_today_reflects_a_payment(
    stack, context, tmp_path
):
    loaded(stack, context)  # business date 2026-11-24: INV-1 100.50 (due 10-15), INV-2 99.50 (11-15), INV-3 EUR
    stack.stage_postings(context)
    result = stack.handler("bi_export")({"export_date": "2026-11-24"}, context)
    assert result["rows"]["items"] == 3 and not result["again"]
    again = stack.handler("bi_export")({"export_date": "2026-11-24"}, context)
    assert again["again"] and again["files"] == result["files"]  # exactly once per day

    query = {"date": "2026-11-24", "by": "account_type"}
    status, body = call(stack, context, "api", "GET", "/reports/aging", "/reports/aging", query=query)
    assert status == 200
    api = {(line["value"], line["currency"], line["bucket"]): (line["items"], line["open_amount"]) for line in body}
    assert api[("standard", "TRY", "31-60")] == (1, "100.50")  # INV-1: 40 days past due
    assert api[("standard", "TRY", "1-30")] == (1, "99.50")

    _columns, rows = run(
        "aging",
        download(stack, physical("bucket", "analytics"), tmp_path),
        as_of="2026-11-24",
        dimension="account_type",
    )
    duck = {(r[0], r[1], r[2]): (r[3], f"{r[4]:.2f}") for r in rows}
    assert duck == api

    status, dso = call(
        stack, context, "api", "GET", "/reports/dso", "/reports/dso", query={"date": "2026-11-24", "days": "30"}
    )
    assert status == 200
    try_dso = next(line for line in dso if line["currency"] == "TRY")
    assert (try_dso["receivables"], try_dso["billed"], try_dso["dso"]) == ("200.00", "200.00", "30.0")
    status, _ = call(
        stack, context, "api", "GET", "/reports/roll-rates", "/reports/roll-rates", query={"month": "2026-11"}
    )
    assert status == 404  # nothing was exported for the month's start (2026-10-31)

    # A payment shows in today's aging at once: the snapshot with today's activity read as it is now.
    drop(stack, "banks/garanti/2026-11-20.xml", (FIXTURES / "garanti-camt053-2026-11-20.xml").read_bytes())
    stack.drain(context)
    stack.stage_postings(context)
    status, today = call(stack, context, "api", "GET", "/reports/aging", "/reports/aging", query={"by": "segment"})
    assert status == 200
    open_now = {line["currency"]: Decimal(line["open_amount"]) for line in today}
    assert open_now == {"TRY": Decimal("25.00"), "EUR": Decimal("1000.00")}  # 175.00 of INV-1 and INV-2 paid
    status, missing = call(
        stack, context, "api", "GET", "/reports/aging", "/reports/aging", query={"date": "2026-11-01"}
    )
    assert status == 404 and "no BI export for 2026-11-01" in missing["error"]["message"]
