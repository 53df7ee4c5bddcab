"""`receivables gl show --date D`: the day's lines read back from the Parquet file simulate copies out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from receivables.accounting.gl import PostingFact, gl_lines
from receivables.adapters.general_ledger import default_chart, journal_parquet
from receivables_local.cli import app
from typer.testing import CliRunner

DAY = date(2026, 11, 24)
CHART = default_chart()


def test_gl_show_prints_the_days_lines_from_the_parquet_file(tmp_path):
    received = PostingFact(
        line_id="L1",
        business_date=DAY,
        account_id="ACC-1",
        currency="TRY",
        kind="payment_received",
        operation="receive",
        target="payment",
        target_id="P-1",
        amount=Decimal("-100.00"),
        entry_id="E1",
        party="C-1",
    )
    lines, _ = gl_lines([received], CHART, DAY)
    folder = tmp_path / "outbound" / "gl" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "journal.parquet").write_bytes(journal_parquet(lines))

    shown = CliRunner().invoke(app, ["gl", "show", "--date", DAY.isoformat(), "--outbound", str(tmp_path / "outbound")])

    assert shown.exit_code == 0, shown.output
    assert "102" in shown.output and "TRY: 2 lines, debit 100.00, credit 100.00" in shown.output
    missing = CliRunner().invoke(app, ["gl", "show", "--date", "2026-11-01", "--outbound", str(tmp_path)])
    assert missing.exit_code != 0 and "no export for 2026-11-01" in missing.output
