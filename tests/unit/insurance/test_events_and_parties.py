"""Policy events as the policy system sends them, and parties as CRM files carry them: what is taken, and every
rejection naming the field."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from receivables.insurance.commissions import CommissionState, fixes
from receivables.insurance.events import (
    EndorsementIssued,
    EventRejectedError,
    PolicyIssued,
    canonical,
    changed_fields,
    event_schemas,
    parse_event,
    raw_event,
)
from receivables.insurance.parties import PartyKind, tax_id_problem, validate_party

ISSUED = {
    "type": "PolicyIssued",
    "event_id": "E-1",
    "policy_id": "POL-1",
    "customer_id": "C-1",
    "branch": "traffic",
    "start_date": "2026-12-01",
    "end_date": "2027-12-01",
    "currency": "TRY",
    "covers": [{"cover": "traffic", "net_premium": "1000.00"}],
    "payment_plan": {"installments": 3, "first_due_date": "2026-12-15"},
}


def test_an_issued_policy_reads_amounts_as_decimal_and_defaults_the_plan_interval():
    event = parse_event(raw_event(json.dumps(ISSUED)))
    assert isinstance(event, PolicyIssued)
    assert event.covers[0].net_premium == D("1000.00") and event.payment_plan.interval_months == 1
    assert event.billing.value == "direct"
    number = raw_event('{"n": 1000.10}')["n"]
    assert isinstance(number, D) and number == D("1000.10")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"type": "PolicyRenewed"}, "type: 'PolicyRenewed' is not one of"),
        ({"payment_plan": {"installments": 13, "first_due_date": "2026-12-15"}}, "payment_plan.installments"),
        ({"payment_plan": {"installments": "3", "first_due_date": "2026-12-15"}}, "payment_plan.installments"),
        ({"end_date": "2026-11-30"}, "end_date 2026-11-30 is not after start_date"),
        ({"start_date": "01.12.2026"}, "start_date"),
        ({"currency": "XYZ"}, "XYZ"),
        ({"covers": [{"cover": "traffic", "net_premium": "10.001"}]}, "covers.0.net_premium"),
        ({"covers": [{"cover": "traffic", "net_premium": "-1"}]}, "covers.0.net_premium"),
        ({"covers": []}, "covers"),
        ({"channel": {"party_id": "AG-1", "billing": "both"}}, "channel.billing"),
        ({"policy_id": "has space"}, "policy_id"),
    ],
)
def test_a_bad_event_is_rejected_naming_the_field(change, named):
    with pytest.raises(EventRejectedError) as rejected:
        parse_event({**ISSUED, **change})
    assert named in rejected.value.reason and rejected.value.event_id == "E-1"


def test_not_json_and_not_an_object_are_rejected():
    for text in ("{not json", "[1, 2]", "\x00"):
        with pytest.raises(EventRejectedError):
            raw_event(text)


def test_an_endorsement_bills_remaining_by_default_and_takes_negative_changes():
    event = parse_event(
        {
            "type": "EndorsementIssued",
            "event_id": "E-2",
            "policy_id": "POL-1",
            "endorsement_id": "Z-1",
            "effective_date": "2027-01-01",
            "covers": [{"cover": "traffic", "net_premium_change": "-150.00"}],
        }
    )
    assert isinstance(event, EndorsementIssued) and event.billing == "remaining"
    assert event.covers[0].net_premium_change == D("-150.00")


def test_the_same_content_is_the_same_event_whatever_the_spelling_and_differences_are_named():
    respelled = {**ISSUED, "covers": [{"net_premium": 1000, "cover": "traffic"}]}
    assert canonical(respelled) == canonical(ISSUED)
    changed = {**ISSUED, "covers": [{"cover": "traffic", "net_premium": "900"}], "branch": "kasko"}
    assert changed_fields(ISSUED, changed) == ["branch", "covers[0].net_premium"]


def test_a_json_schema_is_published_per_event_type():
    schemas = event_schemas()
    assert set(schemas) == {
        "PolicyIssued",
        "EndorsementIssued",
        "PolicyCancelled",
        "ClaimPaymentApproved",
        "ClaimPaymentCancelled",
        "ReinsuranceCession",
        "ClaimRecoveryDue",
    }
    assert "payment_plan" in schemas["PolicyIssued"]["required"]
    assert schemas["ClaimPaymentApproved"]["properties"]["claim_id"]["maxLength"] == 33


@pytest.mark.parametrize(
    ("tax_id", "problem"),
    [
        ("1234567890", None),  # VKN
        ("10000000146", None),  # TCKN
        ("1234567891", "not a valid VKN"),
        ("10000000147", "not a valid TCKN"),
        ("123", "not a VKN (10 digits) or TCKN (11 digits)"),
        ("12345678901a", "not a VKN"),
    ],
)
def test_turkish_tax_numbers_are_checked_by_their_check_digits(tax_id, problem):
    found = tax_id_problem(tax_id)
    assert (found is None) if problem is None else (problem in found)


def test_a_party_row_is_validated_field_by_field():
    party = validate_party(
        {
            "party_id": "AG-1",
            "kind": "Agency",
            "name": "Güven",
            "tax_id": "1234567890",
            "iban": "tr33 0006 1005 1978 6457 8413 26",
        }
    )
    assert not isinstance(party, list) and party.kind is PartyKind.AGENCY and party.iban == "TR330006100519786457841326"
    problems = validate_party(
        {"party_id": "X#1", "kind": "garage", "name": "", "tax_id": "1", "billing": "cash", "language": "de"}
    )
    assert isinstance(problems, list) and len(problems) == 6
    assert any(p.startswith("kind: 'garage' is not one of agency") for p in problems)


def _state(**fields):
    base = {
        "item_id": "P-T1",
        "open_amount": D("0.00"),
        "item_status": "open",
        "commission": D("10.00"),
        "status": "accrued",
        "payable_exists": False,
        "payable_open": D("0.00"),
    }
    return CommissionState(**{**base, **fields})


def test_commission_follows_its_installment_paid_in_full_and_reopened():
    paid = _state()
    reopened = _state(
        item_id="P-T2", open_amount=D("5.00"), status="payable", payable_exists=True, payable_open=D("10.00")
    )
    paid_out = _state(
        item_id="P-T3", open_amount=D("5.00"), status="payable", payable_exists=True, payable_open=D("0.00")
    )
    partly = _state(item_id="P-T4", open_amount=D("5.00"))
    cancelled = _state(item_id="P-T5", item_status="cancelled")
    assert [(s.item_id, fix) for s, fix in fixes([paid, reopened, paid_out, partly, cancelled])] == [
        ("P-T1", "payable"),
        ("P-T2", "accrued"),
    ]
