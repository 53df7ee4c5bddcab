"""The ``receivables`` console script: each command on a stack of its own, as a developer runs it."""

from __future__ import annotations

import io
import re
import urllib.request

import pytest
from receivables_local import cli
from receivables_local.serve import ServeLoop
from rich.console import Console
from typer.testing import CliRunner

from .conftest import requires_handlers

pytestmark = [pytest.mark.e2e, requires_handlers]


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich wraps at the console width


def test_demo_command() -> None:
    result = CliRunner().invoke(
        cli.app,
        ["demo", "--customers", "15", "--seed", "1", "--business-date", "2026-11-24", "--no-serve", "--no-insurance"],
    )
    assert result.exit_code == 0, result.output
    assert "Ledger by currency" in result.output
    assert "The stack stops now" in _flat(result.output)


def test_local_up_serves_until_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=out, width=200))
    health: list[int] = []

    def one_round_then_ctrl_c(loop: ServeLoop) -> None:
        loop.tick()  # fires the schedules (--fire-schedules)
        api = re.search(r"REST API\s+(http://\S+)", out.getvalue())
        assert api, out.getvalue()
        with urllib.request.urlopen(f"{api[1]}/health", timeout=10) as response:
            health.append(response.status)
        raise KeyboardInterrupt

    monkeypatch.setattr(ServeLoop, "run_forever", one_round_then_ctrl_c)

    result = CliRunner().invoke(
        cli.app, ["local", "up", "--port", "0", "--business-date", "2026-11-24", "--fire-schedules"]
    )

    text = _flat(out.getvalue())
    assert result.exit_code == 0, result.output + text
    assert health == [200]
    assert "s3 cp invoices.csv s3://receivables-local-inbound/invoices/invoices.csv" in text
    assert "schedule daily-run fired for 2026-11-24" in text
    assert text.endswith("stopped")
