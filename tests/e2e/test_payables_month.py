"""Issue 11, "Done when": claims (one offset against an overdue installment, one to a garage above the approval
threshold approved by a second person, one with withholding), a refund, a commission payable, a reinsurance cession
and recovery, a pain.001 out with a pain.002 rejecting one transfer and a camt.054 debit booking paying the others, a
card-installment request and a response declining it, its retry and the approval — replayed with ``simulate`` — give
the STATE.json the rules define, to the cent; every outbound XML validates against its XSD; the general-ledger export
balances every day; ``verify`` holds. ``scenarios/payables_month/README.md`` works every figure out."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from receivables.adapters.general_ledger import read_journal_parquet
from receivables_local.embedded import EmbeddedStack
from receivables_local.scenario import SimulationResult, simulate
from receivables_local.state import schema_path

from .conftest import requires_handlers

pytestmark = [pytest.mark.e2e, requires_handlers]

SCENARIO = Path(__file__).parent / "scenarios" / "payables_month"
UNTIL = date(2027, 1, 2)
XSD = Path(__file__).resolve().parents[2].parent / "shared" / "bank-samples" / "xsd"


@pytest.fixture(scope="module")
def replay(stack: EmbeddedStack, tmp_path_factory: pytest.TempPathFactory) -> tuple[SimulationResult, Path]:
    out = tmp_path_factory.mktemp("payables") / "STATE.json"
    return simulate(SCENARIO, UNTIL, out, stack=stack), out


@pytest.fixture(scope="module")
def state(replay: tuple[SimulationResult, Path]) -> dict:
    return replay[0].state


def outbound(replay: tuple[SimulationResult, Path]) -> Path:
    return replay[1].parent / "outbound"


def test_the_replay_is_clean_verified_and_valid(replay: tuple[SimulationResult, Path]) -> None:
    result, out = replay
    assert (result.failures, result.dead_letters, result.differences) == ([], {}, [])
    assert result.state["verified"] is True
    jsonschema.validate(json.loads(out.read_text()), json.loads(schema_path().read_text()))
    # The card number in the customer file is refused without being repeated.
    assert result.state["rejections"] == [
        {
            "file": "crm.csv",
            "line": 4,
            "reason": "autopay_token: looks like a card number (PAN); send the card vault's token instead",
        }
    ]


def test_payables_and_their_transfers_to_the_cent(state: dict) -> None:
    assert [
        (p["payable_id"], p["party_id"], p["kind"], p["amount"], p["open_amount"], p["status"])
        for p in state["payables"]
    ] == [
        ("CLM-1-C", "C-1", "claim", "300.00", "0.00", "paid"),  # 282.50 offset against POL-1-T1, 17.50 paid out
        ("CLM-2-C", "GAR-1", "claim", "60000.00", "0.00", "paid"),  # above 50,000.00: approved by hasar.muduru
        ("CLM-3-C", "EXP-1", "claim", "800.00", "800.00", "rejected"),  # AC04 in the pain.002
        ("CLM-3-W", "TAX-1", "tax", "200.00", "0.00", "paid"),  # 20 % withheld
        ("POL-1-T1-K", "AG-1", "commission", "37.50", "37.50", "sent"),  # due 2027-01-01, sent that day
        ("POL-3-R2", "C-4", "refund", "762.30", "0.00", "paid"),
        ("RC-1-RP", "RE-1", "reinsurance", "400.00", "0.00", "paid"),  # netted by the quarterly statement
    ]
    assert [(t["end_to_end_id"], t["amount"], t["status"]) for t in state["transfers"]] == [
        ("CLM-1-C", "17.50", "paid"),
        ("CLM-2-C", "60000.00", "paid"),
        ("CLM-3-C", "800.00", "rejected"),
        ("CLM-3-W", "200.00", "paid"),
        ("POL-1-T1-K", "37.50", "sent"),
        ("POL-3-R2", "762.30", "paid"),
    ]
    assert {t["bank_id"] for t in state["transfers"]} == {"isbank"}


def test_parties_show_receivable_payable_and_net(state: dict) -> None:
    assert [(p["party_id"], p["receivable"], p["payable"], p["net"]) for p in state["parties"]] == [
        ("AG-1", "0.00", "37.50", "-37.50"),
        ("C-1", "847.50", "0.00", "847.50"),
        ("C-2", "630.00", "0.00", "630.00"),
        ("C-4", "0.00", "0.00", "0.00"),
        ("EXP-1", "0.00", "800.00", "-800.00"),
        ("GAR-1", "0.00", "0.00", "0.00"),
        ("RE-1", "29700.00", "0.00", "29700.00"),
        ("TAX-1", "0.00", "0.00", "0.00"),
    ]


def test_the_card_installment_is_declined_retried_and_collected(state: dict, replay) -> None:
    assert state["collections"] == [
        {
            "item_id": "POL-2-T1",
            "bank_id": "garanti",
            "attempt": 1,
            "status": "declined",
            "reason": "yetersiz bakiye (insufficient funds)",
        },
        {"item_id": "POL-2-T1", "bank_id": "garanti", "attempt": 2, "status": "approved", "reason": None},
    ]
    card = next(p for p in state["payments"] if p["payment_id"].startswith("CC-garanti-"))
    assert (card["amount"], card["allocations"], card["match"]["method"]) == (
        "630.00",
        [{"item_id": "POL-2-T1", "amount": "630.00"}],
        "collection",
    )
    folder = outbound(replay) / "banks" / "garanti"
    assert sorted(p.name for p in folder.iterdir()) == ["TAHSILAT_20261205_001.txt", "TAHSILAT_20261209_001.txt"]
    first = (folder / "TAHSILAT_20261205_001.txt").read_bytes().decode("windows-1254").split("\r\n")
    assert first[:3] == [
        "H000998877605122026001",
        "DCCVAPFCNU7M5QS56WN  vault_tok_7Q2M                  0000000000630000105122026",
        "T0000001000000000000063000",
    ]


def test_dunning_waits_while_the_bank_has_the_collection(state: dict) -> None:
    assert [(n["account_id"], n["step"], n["date"]) for n in state["notifications"]] == [
        ("CARI-C-1-TRY", "notice", "2026-12-01"),
        ("CARI-C-2-TRY", "reminder", "2026-12-06"),  # the day of the decline, not the due date
        ("CARI-C-1-TRY", "reminder", "2026-12-26"),
        ("CARI-C-1-TRY", "notice", "2026-12-30"),
    ]


def test_every_outbound_pain001_validates_against_the_official_xsd(replay) -> None:
    files = sorted((outbound(replay) / "banks" / "isbank").glob("pain.001-*.xml"))
    assert len(files) == 2  # the claims and the refund on 12-03, the commission on 01-01
    path = XSD / "pain.001.001.03.xsd"
    if not path.exists():
        pytest.skip("the official pain.001.001.03 XSD is not on this machine")
    import xmlschema

    schema = xmlschema.XMLSchema(str(path), allow="local")
    for file in files:
        schema.validate(file.read_bytes())
    texts = {file.name: file.read_text() for file in files}
    claims = next(name for name, text in texts.items() if "<EndToEndId>CLM-1-C<" in text)
    for e2e in ("CLM-2-C", "CLM-3-C", "CLM-3-W", "POL-3-R2"):
        assert f"<EndToEndId>{e2e}<" in texts[claims]
    assert claims.startswith("pain.001-PO20261203")


def test_the_general_ledger_balances_every_day(state: dict, replay) -> None:
    assert state["gl"] and all(g["debit"] == g["credit"] for g in state["gl"])
    assert [(g["date"], g["debit"]) for g in state["gl"]] == [
        ("2026-12-01", "3156.50"),
        ("2026-12-02", "93653.00"),
        ("2026-12-03", "762.30"),
        ("2026-12-04", "60979.80"),
        ("2026-12-10", "1260.00"),
        ("2027-01-01", "400.00"),
    ]
    day = outbound(replay) / "gl" / "2026-12-04"
    rows = list(csv.DictReader(io.StringIO((day / "journal.csv").read_text())))
    assert len(rows) == len(read_journal_parquet((day / "journal.parquet").read_bytes()))
    # The garage's transfer booked: the payable against the bank.
    assert sorted((r["gl_account"], r["debit"], r["credit"]) for r in rows if r["target_id"] == "CLM-2-C") == [
        ("102", "0.00", "60000.00"),
        ("320", "60000.00", "0.00"),
    ]


def test_the_reinsurer_gets_its_quarterly_statement(replay) -> None:
    statement = outbound(replay) / "statements" / "2026-Q4"
    rows = list(csv.reader(io.StringIO((statement / "RE-RE-1-2026Q4.csv").read_text())))
    assert rows[-4:] == [
        ["PREMIUMS", "", "ceded_premium", "", "", "", "2026-Q4", "-400.00"],
        ["COMMISSIONS", "", "reinsurance_commission", "", "", "", "2026-Q4", "100.00"],
        ["RECOVERIES", "", "claim_recovery", "", "", "", "2026-Q4", "30000.00"],
        ["BALANCE", "", "", "2027-01-01", "", "", "", "29700.00"],
    ]
    assert (statement / "RE-RE-1-2026Q4.pdf").read_bytes().startswith(b"%PDF")
