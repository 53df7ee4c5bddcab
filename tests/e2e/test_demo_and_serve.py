"""The demo's sample portfolio and summary, and the long-running loop behind ``local up``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from receivables import execution
from receivables.domain.records import validate_customer, validate_invoice
from receivables.topology import TOPOLOGY, env_var
from receivables_local.demo import run_demo
from receivables_local.embedded import EmbeddedStack
from receivables_local.sample_data import generate
from receivables_local.serve import ServeLoop
from receivables_local.session import LocalSession
from receivables_local.state import read_rejections
from rich.console import Console

from .conftest import BUSINESS_DATE, requires_handlers

pytestmark = pytest.mark.e2e


def test_portfolio_is_deterministic_and_valid_except_for_the_planted_mistakes() -> None:
    first, second = generate(200, 11, BUSINESS_DATE), generate(200, 11, BUSINESS_DATE)
    assert [f.body for f in first.files] == [f.body for f in second.files]
    assert generate(200, 12, BUSINESS_DATE).files[0].body != first.files[0].body

    customers, invoices, eur, other = first.files
    planted_lines = {(p.file, p.line) for p in first.planted}
    rows = list(csv_rows(customers.body))
    bad = [line for line, row in rows if isinstance(validate_customer(row), list)]
    assert {(customers.name, line) for line in bad} == {p for p in planted_lines if p[0] == customers.name}
    assert any(row["iban"] for _, row in rows) and any(row["language"] == "en" for _, row in rows)
    assert all(not isinstance(validate_invoice(json.loads(line)), list) for line in eur.body.splitlines())
    assert other.body.startswith(b"%PDF")
    assert invoices.records > 2 * 200


def csv_rows(body: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """(physical line, row): the header is line 1 and no value spans lines in the generated files."""
    yield from enumerate(csv.DictReader(io.StringIO(body.decode())), start=2)


@requires_handlers
def test_every_planted_mistake_is_rejected_on_its_line(session: LocalSession) -> None:
    portfolio = generate(60, 5, BUSINESS_DATE)
    for sample in portfolio.files:
        session.upload(sample.key, sample.body)
        session.runtime.run_until_idle()

    rejected = {(r.file, r.line) for r in read_rejections(session.s3(), session.inbound_bucket)}
    planted = {(p.file, p.line) for p in portfolio.planted if "identical duplicate" not in p.problem}
    assert rejected == planted


@requires_handlers
def test_demo_loads_and_summarises(stack: EmbeddedStack) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False)

    # The insurance portfolio's replay is tests/e2e/test_insurance_quarter.py's; its tables are tested below.
    code = run_demo(
        console, customers=25, seed=3, business_date=BUSINESS_DATE, serve=False, port=0, stack=stack, insurance=False
    )

    text = out.getvalue()
    assert code == 0, text
    for expected in (
        "Files",
        "Rejections",
        "Ledger by currency",
        "unknown customer C999999",
        "quarantine/invoices/",
        "A collection day",
        "payments matched by invoice_reference / applied",
        "payments matched by unmatched / unapplied",
    ):
        assert expected in text
    assert "/accounts/A000001 → 200" in text


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_serve_loop_follows_the_clock_and_fires_schedules_once_a_day(session: LocalSession) -> None:
    fired: list[dict[str, Any]] = []
    session.registry.override("plan_daily_run", lambda event, context: fired.append(event))
    said: list[str] = []
    clock = FakeClock(datetime(2026, 11, 24, 5, 0, tzinfo=UTC))  # 08:00 in Istanbul, before the 09:00 run
    loop = ServeLoop(session, pinned_date=None, fire_now=False, say=said.append, clock=clock)

    loop.tick()
    assert fired == []
    clock.now = datetime(2026, 11, 24, 6, 0, 1, tzinfo=UTC)
    loop.tick()
    loop.tick()
    assert [e["business_date"] for e in fired] == ["2026-11-24"]

    clock.now = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)  # 00:30 on the 25th in Istanbul
    loop.tick()
    planner = session.topology.function("plan_daily_run")
    assert session.environments.of(planner).variables["BUSINESS_DATE"] == "2026-11-25"
    assert session.business_date == date(2026, 11, 25)
    clock.now = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    loop.tick()
    assert [e["business_date"] for e in fired] == ["2026-11-24", "2026-11-25"]
    assert fired[-1]["scheduled_time"] == "2026-11-25T06:00:00Z"
    assert "business date is now 2026-11-25" in said


def test_serve_loop_can_fire_at_start_and_reports_file_outcomes(session: LocalSession) -> None:
    fired: list[dict[str, Any]] = []
    session.registry.override("plan_daily_run", lambda event, context: fired.append(event))

    def announce(event: dict[str, Any], context: Any) -> None:
        detail = {
            "file": "invoices/a.csv",
            "rows": 3,
            "loaded": 2,
            "skipped": 0,
            "rejected": 1,
            "report": "r.csv",
        }
        bus = execution.variables()[env_var("bus", TOPOLOGY.event_bus)]
        entry = {"Source": "receivables.loading", "DetailType": "FileLoaded", "Detail": json.dumps(detail)}
        boto3.client("events").put_events(Entries=[{**entry, "EventBusName": bus}])

    session.registry.override("plan_inbound_file", announce)
    said: list[str] = []
    clock = FakeClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))  # the 06:00 run is long past: not fired late
    loop = ServeLoop(session, pinned_date=BUSINESS_DATE, fire_now=True, say=said.append, clock=clock)

    session.upload("invoices/a.csv", b"x")
    while loop.tick():
        pass

    assert [e["business_date"] for e in fired] == ["2026-11-24"]
    assert "invoices/a.csv: 3 rows — 2 loaded, 0 skipped, 1 rejected (report: r.csv)" in said


def test_the_demo_shows_the_insurance_portfolio_from_state() -> None:
    from receivables_local.demo import insurance_tables

    state = {
        "policies": [
            {
                "policy_id": "POL-2",
                "branch": "home",
                "billing": "direct",
                "status": "reinstated",
                "cancellation_reason": "non_payment",
                "cancelled_on": "2027-01-26",
                "gross_premium": "1268.00",
                "levies": {"BSMV": "56.00", "YSV": "92.00"},
                "installments": [
                    {"status": "paid", "open_amount": "0.00"},
                    {"status": "open", "open_amount": "328.50"},
                ],
            }
        ],
        "parties": [
            {"party_id": "AG-1", "kind": "agency", "receivable": "1155.00", "payable": "81.00", "net": "1074.00"}
        ],
        "notifications": [
            {"date": "2027-01-15", "account_id": "CARI-C-200-TRY", "channel": "letter", "step": "notice"}
        ],
        "actions": [
            {"date": "2027-01-26", "account_id": "CARI-C-200-TRY", "action": "cancel_policy", "policy_id": "POL-2"}
        ],
        "payments": [
            {
                "value_date": "2027-02-05",
                "account_id": "CARI-C-200-TRY",
                "amount": "328.50",
                "match": {"method": "policy_reference"},
            }
        ],
    }
    console = Console(record=True, width=200)
    for table in insurance_tables(state):
        console.print(table)
    text = console.export_text()
    assert "reinstated (non_payment 2027-01-26)" in text and "BSMV 56.00, YSV 92.00" in text and "1/2" in text
    assert "cancel_policy POL-2" in text and "payment 328.50 (policy_reference)" in text and "1074.00" in text


def test_the_collection_day_tells_its_progress_step_by_step(session: LocalSession) -> None:
    from receivables_local.demo import _collection_day

    session.upload(
        "customers/c.csv", b"customer_id,name,type,city,phone,language\nC1,A,individual,X,+905321234567,tr\n"
    )
    session.upload(
        "invoices/i.csv",
        b"invoice_id,customer_id,account_id,issue_date,due_date,amount,currency\nI1,C1,A1,2026-10-01,2026-10-15,10.00,TRY\n",
    )
    session.runtime.run_until_idle()
    told: list[str] = []
    _collection_day(session, BUSINESS_DATE, told.append)
    assert told[0].startswith("A collection day: statement loaded in")
    names = [trigger.name for _function, trigger in session.runtime.schedules_of(BUSINESS_DATE)]
    assert [message.split(": ", 1)[1].split(" (", 1)[0] for message in told[1:]] == names
    assert "daily-run" in " ".join(names)
