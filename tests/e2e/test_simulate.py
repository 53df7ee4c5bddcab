"""``simulate``: a scenario of dated drops replayed day by day gives the expected, byte-identical
STATE.json."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from receivables_local.cli import app
from receivables_local.embedded import EmbeddedStack
from receivables_local.scenario import ScenarioError, read_scenario, simulate
from receivables_local.state import schema_path
from typer.testing import CliRunner

from .conftest import requires_handlers

pytestmark = [pytest.mark.e2e, requires_handlers]

CUSTOMERS = """customer_id,name,type,city,phone,language
C1,Ayşe Yılmaz,individual,İzmir,+905321234567,tr
C2,Oliver Brown,individual,Antalya,+905441234567,en
"""
DAY_1_INVOICES = """invoice_id,customer_id,account_id,issue_date,due_date,amount,currency
I1,C1,A1,2026-11-01,2026-11-15,100.50,TRY
I2,C1,A1,2026-11-02,2026-12-02,20,TRY
I3,C2,A2,2026-13-01,2026-11-30,5.00,EUR
"""
DAY_3_INVOICES = (
    '{"invoice_id": "I4", "customer_id": "C2", "account_id": "A2", "issue_date": "2026-11-04", '
    '"due_date": "2026-12-04", "amount": "55.55", "currency": "EUR"}\n'
)


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    root = tmp_path / "scenario"
    files = {
        "2026-11-02/customers/crm.csv": CUSTOMERS,
        "2026-11-02/invoices/billing-1.csv": DAY_1_INVOICES,
        # 2026-11-03: no drops, the day still runs (schedules)
        "2026-11-04/invoices/billing-2.jsonl": DAY_3_INVOICES,
        "2026-11-04/invoices/notes.txt": "please call me\n",
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


NOT_IN_DUNNING = {"stage": None, "strategy": None, "segment": None, "cycle_started": None}
EXPECTED_ACCOUNTS = [
    {
        "account_id": "A1",
        "customer_id": "C1",
        "account_type": "standard",
        "currency": "TRY",
        "balance": "120.50",
        "unapplied_credit": "0.00",
        "dunning": NOT_IN_DUNNING,
    },
    {
        "account_id": "A2",
        "customer_id": "C2",
        "account_type": "standard",
        "currency": "EUR",
        "balance": "55.55",
        "unapplied_credit": "0.00",
        "dunning": NOT_IN_DUNNING,
    },
]
EXPECTED_ITEMS = [
    {
        "item_id": i,
        "account_id": a,
        "amount": m,
        "open_amount": m,
        "due_date": d,
        "status": "open",
        "kind": "invoice",
        "policy_id": None,
    }
    for i, a, m, d in (
        ("I1", "A1", "100.50", "2026-11-15"),
        ("I2", "A1", "20.00", "2026-12-02"),
        ("I4", "A2", "55.55", "2026-12-04"),
    )
]


def test_simulation_gives_the_expected_state_twice_identically(
    stack: EmbeddedStack, scenario: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"

    result = simulate(scenario, date(2026, 11, 5), first, stack=stack)
    simulate(scenario, date(2026, 11, 5), second, stack=stack)

    assert first.read_bytes() == second.read_bytes()
    state = json.loads(first.read_text())
    jsonschema.validate(state, json.loads(schema_path().read_text()))
    assert state["as_of"] == "2026-11-05"
    assert state["accounts"] == EXPECTED_ACCOUNTS
    assert state["items"] == EXPECTED_ITEMS
    rejections = [(r["file"], r["line"]) for r in state["rejections"]]
    assert rejections == [("billing-1.csv", 4), ("notes.txt", None)]
    assert state["rejections"][0]["reason"].startswith("issue_date:")
    assert (result.days, result.files, result.failures, result.dead_letters) == (4, 4, [], {})


def test_days_without_drops_still_run_their_schedules(stack: EmbeddedStack, tmp_path: Path) -> None:
    (tmp_path / "s" / "2026-11-01" / "customers").mkdir(parents=True)
    (tmp_path / "s" / "2026-11-01" / "customers" / "c.csv").write_text(CUSTOMERS, encoding="utf-8")

    result = simulate(tmp_path / "s", date(2026, 11, 30), stack=stack)

    assert result.days == 30 and result.failures == []
    # One daily-run plan per day, each a real invocation of the scheduled function.
    assert result.invocations >= 30


def test_only_date_folders_are_days(tmp_path: Path) -> None:
    (tmp_path / "not-a-date").mkdir()
    (tmp_path / "expected-STATE.json").write_text("{}")
    with pytest.raises(ScenarioError, match="no date folders"):
        read_scenario(tmp_path)
    (tmp_path / "2026-11-02" / "invoices").mkdir(parents=True)
    (tmp_path / "2026-11-02" / "invoices" / "a.csv").write_text("x")
    assert list(read_scenario(tmp_path)) == [date(2026, 11, 2)]


def test_keys_keep_nested_prefixes_master_data_first_then_name_order(tmp_path: Path) -> None:
    for relative in (
        "2026-11-02/invoices/b.csv",
        "2026-11-02/banks/garanti/x.txt",
        "2026-11-02/invoices/a.csv",
        "2026-11-02/customers/z.csv",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x")
    (drops,) = read_scenario(tmp_path).values()
    assert [d.key for d in drops] == ["customers/z.csv", "invoices/a.csv", "invoices/b.csv", "banks/garanti/x.txt"]


def test_cli_simulate_writes_state(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "STATE.json"
    result = CliRunner().invoke(app, ["simulate", str(scenario), "--until", "2026-11-04", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["accounts"] == EXPECTED_ACCOUNTS
    assert "2 accounts, 3 items, 2 rejections as of 2026-11-04" in " ".join(result.output.split())


BANK_FIXTURES = Path(__file__).parents[1] / "fixtures" / "banks" / "integration"
PAYING_CUSTOMERS = """customer_id,name,type,city,phone,language,iban
C1,Ayşe Yılmaz,individual,İstanbul,+905321234567,tr,TR330006100519786457841326
"""
PAID_INVOICES = """invoice_id,customer_id,account_id,issue_date,due_date,amount,currency
INV-1,C1,A1,2026-10-01,2026-10-15,100.50,TRY
INV-2,C1,A1,2026-11-01,2026-11-15,99.50,TRY
"""


def test_bank_files_in_a_scenario_become_payments_in_state(stack: EmbeddedStack, tmp_path: Path) -> None:
    root = tmp_path / "payments"
    files = {
        "2026-11-19/customers/crm.csv": PAYING_CUSTOMERS.encode(),
        "2026-11-19/invoices/billing.csv": PAID_INVOICES.encode(),
        "2026-11-20/banks/garanti/statement.xml": (BANK_FIXTURES / "garanti-camt053-2026-11-20.xml").read_bytes(),
        "2026-11-21/banks/garanti/return.xml": (BANK_FIXTURES / "garanti-camt053-2026-11-21-return.xml").read_bytes(),
    }
    for relative, data in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)

    state = simulate(root, date(2026, 11, 21), tmp_path / "STATE.json", stack=stack).state

    jsonschema.validate(state, json.loads(schema_path().read_text()))
    payments = {p["bank_reference"]: p for p in state["payments"]}
    assert payments["GAR-REF-0001"]["status"] == "reversed" and payments["GAR-REF-0001"]["allocations"] == []
    assert payments["GAR-REF-0002"]["account_id"] is None and payments["GAR-REF-0002"]["status"] == "unapplied"
    assert payments["GAR-REF-0002"]["match"]["method"] == "unmatched" and payments["GAR-REF-0002"]["match"]["reason"]
    assert payments["GAR-REF-0003"]["match"]["method"] == "iban"
    assert payments["GAR-REF-0003"]["allocations"] == [{"item_id": "INV-1", "amount": "25.00"}]
    assert [(i["item_id"], i["open_amount"], i["status"]) for i in state["items"]] == [
        ("INV-1", "75.50", "partially_paid"),
        ("INV-2", "99.50", "open"),
    ]
    # First seen on 2026-11-19 already 35 days overdue: only the latest due step (day 30, suspend) fired.
    assert state["accounts"] == [
        {
            "account_id": "A1",
            "customer_id": "C1",
            "account_type": "standard",
            "currency": "TRY",
            "balance": "175.00",
            "unapplied_credit": "0.00",
            "dunning": {
                "stage": "suspend",
                "strategy": "standard",
                "segment": "standard",
                "cycle_started": "2026-11-19",
            },
        }
    ]
    assert state["actions"] == [
        {"account_id": "A1", "action": "suspend", "date": "2026-11-19", "step": "suspend", "policy_id": None}
    ]
    assert state["notifications"] == []


MANDATE_CUSTOMERS = """customer_id,name,type,city,phone,language,email,iban,mandate_id,mandate_date
C1,Çağlar Işık,individual,İstanbul,+905321234567,tr,c1@example.com,TR400006200000000000000001,MND-1,2026-01-15
"""
MANDATE_INVOICES = """invoice_id,customer_id,account_id,issue_date,due_date,amount,currency
INV-DD-1,C1,A1,2026-11-20,2026-12-03,149.90,TRY
"""


def test_mandates_are_collected_by_a_pain008_file_out_of_the_box(stack: EmbeddedStack, tmp_path: Path) -> None:
    root = tmp_path / "dd"
    for relative, text in {
        "2026-12-01/customers/crm.csv": MANDATE_CUSTOMERS,
        "2026-12-01/invoices/billing.csv": MANDATE_INVOICES,
    }.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")

    out = tmp_path / "out" / "STATE.json"
    state = simulate(root, date(2026, 12, 3), out, stack=stack).state

    jsonschema.validate(state, json.loads(schema_path().read_text()))
    [collection] = state["direct_debits"]
    assert (collection["item_id"], collection["amount"], collection["status"]) == ("INV-DD-1", "149.90", "sent")
    assert collection["bank_id"] == "default" and collection["collection_date"] == "2026-12-03"
    [written] = list((out.parent / "outbound" / "banks" / "default").glob("pain.008-*.xml"))
    xml = written.read_bytes()
    assert b"<NbOfTxs>1</NbOfTxs>" in xml and b"Caglar Isik" in xml
    xsd = Path(__file__).resolve().parents[3] / "shared" / "bank-samples" / "xsd" / "pain.008.001.02.xsd"
    if xsd.exists():
        import xmlschema

        xmlschema.XMLSchema(str(xsd), allow="local").validate(xml)
