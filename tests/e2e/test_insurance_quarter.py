"""Issue 10, "Done when": parties, customers, policy events (issue, endorsement up and down, cancellation by request),
bank files paying installments, an agency remittance net of commission, an unpaid installment through warning →
cancellation, and a late payment that reinstates — replayed with ``simulate`` — give the STATE.json the insurance
rules define, to the cent, and ``verify`` holds. ``scenarios/insurance_quarter/README.md`` works every figure out."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from receivables_local.embedded import EmbeddedStack
from receivables_local.scenario import SimulationResult, simulate
from receivables_local.state import schema_path

from .conftest import requires_handlers

pytestmark = [pytest.mark.e2e, requires_handlers]

SCENARIO = Path(__file__).parent / "scenarios" / "insurance_quarter"
UNTIL = date(2027, 2, 10)


@pytest.fixture(scope="module")
def replay(stack: EmbeddedStack, tmp_path_factory: pytest.TempPathFactory) -> tuple[SimulationResult, Path]:
    out = tmp_path_factory.mktemp("insurance") / "STATE.json"
    return simulate(SCENARIO, UNTIL, out, stack=stack), out


@pytest.fixture(scope="module")
def state(replay: tuple[SimulationResult, Path]) -> dict:
    return replay[0].state


def policy(state: dict, policy_id: str) -> dict:
    return next(p for p in state["policies"] if p["policy_id"] == policy_id)


def installments(state: dict, policy_id: str) -> list[tuple[str, str, str, str]]:
    return [
        (i["due_date"], i["amount"], i["open_amount"], i["status"]) for i in policy(state, policy_id)["installments"]
    ]


def test_the_replay_is_clean_verified_and_valid(replay: tuple[SimulationResult, Path]) -> None:
    result, out = replay
    assert (result.failures, result.dead_letters, result.differences) == ([], {}, [])
    assert result.state["verified"] is True
    jsonschema.validate(json.loads(out.read_text()), json.loads(schema_path().read_text()))


def test_every_rejection_names_the_event_and_the_field(state: dict) -> None:
    assert [(r["file"], r["line"], r["reason"]) for r in state["rejections"]] == [
        ("channels.csv", 5, "tax_id: 1234567891 is not a valid VKN (its check digit does not hold)"),
        (
            "pas-2026-12-01.jsonl",
            5,
            "event E-2: conflict: already received with different content (covers[0].net_premium); never applied",
        ),
        (
            "pas-2026-12-01.jsonl",
            6,
            "event E-9: policy_id: unknown policy POL-9 after 6 attempts (EndorsementIssued for a policy never issued)",
        ),
        ("pas-2026-12-01.jsonl", 7, "event E-10: payment_plan.installments: Input should be less than or equal to 12"),
    ]


def test_an_issued_policy_bills_levies_per_component_and_installments_to_the_cent(state: dict) -> None:
    pol4 = policy(state, "POL-4")
    assert (pol4["net_premium"], pol4["levies"], pol4["gross_premium"]) == ("1200.00", {"BSMV": "60.00"}, "1260.00")
    assert installments(state, "POL-4")[0] == ("2027-01-05", "105.00", "0.00", "paid")
    assert installments(state, "POL-4")[11] == ("2027-12-05", "105.00", "105.00", "open")
    assert policy(state, "POL-1")["installments"][0]["components"] == {
        "premium": "333.34",
        "BSMV": "16.68",
        "GH": "6.68",
        "THGF": "16.68",
    }


def test_endorsements_up_and_down_spread_over_the_installments_not_yet_due(state: dict) -> None:
    pol2 = policy(state, "POL-2")
    assert (pol2["net_premium"], pol2["levies"], pol2["gross_premium"]) == (
        "1120.00",
        {"BSMV": "56.00", "YSV": "92.00"},
        "1268.00",
    )
    assert pol2["installments"][1]["components"] == {"premium": "290.00", "BSMV": "14.50", "YSV": "24.00"}
    pol1 = policy(state, "POL-1")
    assert (pol1["net_premium"], pol1["gross_premium"]) == ("700.00", "784.00")
    assert [i["amount"] for i in pol1["installments"]] == ["373.38", "205.31", "205.31"]


def test_a_cancellation_by_request_bills_what_was_earned(state: dict) -> None:
    pol3 = policy(state, "POL-3")
    assert (pol3["status"], pol3["cancelled_on"], pol3["cancellation_reason"]) == ("cancelled", "2027-01-01", "request")
    assert [i[3] for i in installments(state, "POL-3")] == ["cancelled", "cancelled"]
    balance = next(i for i in state["items"] if i["item_id"] == "POL-3-CB")
    assert (balance["kind"], balance["amount"], balance["due_date"], balance["policy_id"]) == (
        "cancellation_balance",
        "178.35",
        "2027-01-11",
        "POL-3",
    )


def test_warning_then_cancellation_for_non_payment_and_a_late_payment_reinstates(state: dict) -> None:
    pol1, pol2 = policy(state, "POL-1"), policy(state, "POL-2")
    assert (pol1["status"], pol1["cancelled_on"], pol1["cancellation_reason"]) == (
        "cancelled",
        "2027-01-31",
        "non_payment",
    )
    assert pol1["notices"] == [{"date": "2027-01-20", "deadline": "2027-01-30"}]
    assert pol2["status"] == "reinstated"
    assert pol2["notices"] == [
        {"date": "2026-12-15", "deadline": "2026-12-25"},
        {"date": "2027-01-15", "deadline": "2027-01-25"},
    ]
    assert [i[2:] for i in installments(state, "POL-2")] == [
        ("0.00", "paid"),
        ("0.00", "paid"),
        ("328.50", "open"),
        ("328.50", "open"),
    ]
    assert [(a["account_id"], a["action"], a["date"], a["policy_id"]) for a in state["actions"]] == [
        ("CARI-C-200-TRY", "cancel_policy", "2027-01-26", "POL-2"),
        ("CARI-C-100-TRY", "cancel_policy", "2027-01-31", "POL-1"),
    ]
    letters = [(n["account_id"], n["date"]) for n in state["notifications"] if n["step"] == "notice"]
    assert letters == [
        ("CARI-C-200-TRY", "2026-12-15"),
        ("CARI-C-200-TRY", "2027-01-15"),
        ("CARI-C-100-TRY", "2027-01-20"),
    ]


def test_payments_are_matched_by_installment_policy_and_statement(state: dict) -> None:
    methods = sorted((p["match"]["method"], p["account_id"], p["allocations"][0]["item_id"]) for p in state["payments"])
    assert methods == [
        ("invoice_reference", "CARI-C-200-TRY", "POL-2-T1"),
        ("policy_reference", "CARI-C-100-TRY", "POL-1-T1"),
        ("policy_reference", "CARI-C-200-TRY", "POL-2-T2"),
        ("statement_reference", "CARI-AG-1-TRY", "POL-3-CB"),
    ]


def test_commission_follows_collection_cancellation_reinstatement_and_the_statement(state: dict) -> None:
    lines = {(c["policy_id"], c["installment_no"]): (c["amount"], c["status"]) for c in state["commissions"]}
    assert lines[("POL-2", 1)] == ("37.50", "payable")  # clawed back at the cancellation, restored at reinstatement
    assert lines[("POL-2", 2)] == ("43.50", "payable")  # paid by the reinstating credit
    assert lines[("POL-2", 3)] == ("43.50", "accrued")
    assert lines[("POL-3", 1)] == lines[("POL-3", 2)] == ("100.00", "cancelled")
    assert lines[("POL-3", 0)] == ("16.99", "paid")  # on the cancellation balance, netted on the statement
    assert lines[("POL-4", 1)] == ("10.00", "paid") and lines[("POL-4", 2)] == ("10.00", "accrued")
    assert state["exceptions"] == []


def test_every_party_has_its_current_account(state: dict) -> None:
    assert state["parties"] == [
        {"party_id": "AG-1", "kind": "agency", "receivable": "1155.00", "payable": "81.00", "net": "1074.00"},
        {"party_id": "BR-1", "kind": "broker", "receivable": "0.00", "payable": "0.00", "net": "0.00"},
        {"party_id": "C-100", "kind": "customer", "receivable": "0.00", "payable": "242.35", "net": "-242.35"},
        {"party_id": "C-200", "kind": "customer", "receivable": "657.00", "payable": "0.00", "net": "657.00"},
        {"party_id": "TAX-1", "kind": "tax_authority", "receivable": "0.00", "payable": "0.00", "net": "0.00"},
    ]


def test_the_agency_statement_goes_out_as_csv_and_pdf(replay: tuple[SimulationResult, Path]) -> None:
    outbound = replay[1].parent / "outbound" / "statements" / "2027-01"
    assert (outbound / "ST-AG-1-2027-01.csv").read_text().splitlines() == [
        "statement_id,policy_id,item_id,installment_no,due_date,gross,commission,net",
        "ST-AG-1-2027-01,POL-4,POL-4-T1,1,2027-01-05,105.00,10.00,95.00",
        "ST-AG-1-2027-01,POL-3,POL-3-CB,0,2027-01-11,178.35,16.99,161.36",
        "TOTAL,,,,,283.35,26.99,256.36",
    ]
    assert (outbound / "ST-AG-1-2027-01.pdf").read_bytes().startswith(b"%PDF-")
