"""Payout planning, pure: what a run pays, what it skips and why, which bank, and message ids that name the content."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from receivables.disbursement.model import (
    MAX_TRANSFERS,
    Payee,
    PayingBank,
    PayoutCandidate,
    PayoutConfigError,
    load_paying_bank,
    paying_bank,
    plan_payouts,
)

RUN = date(2026, 11, 30)
BANK = PayingBank(bank_id="isbank", name="Örnek Sigorta", iban="TR330006100519786457841326", default=True)
GOOD_IBAN = "TR290006400000112345678901"
PAYEES = {
    "GAR-1": Payee("GAR-1", "Usta Oto", GOOD_IBAN),
    "GAR-2": Payee("GAR-2", "Çelik", None),
    "GAR-3": Payee("GAR-3", "Kaporta", "TR000006400000112345678901"),
}


def candidate(payable_id: str, party_id: str = "GAR-1", **overrides) -> PayoutCandidate:
    values = {
        "payable_id": payable_id,
        "kind": "claim",
        "party_id": party_id,
        "account_id": f"CARI-{party_id}-TRY",
        "amount": Decimal("100.00"),
        "currency": "TRY",
        "due_date": RUN,
        "claim_id": payable_id.removesuffix("-C"),
    }
    return PayoutCandidate(**(values | overrides))


def test_due_approved_payables_are_paid_oldest_first_and_the_rest_skipped_with_a_reason():
    plan = plan_payouts(
        RUN,
        [
            candidate("CLM-2-C"),
            candidate("CLM-1-C", due_date=date(2026, 11, 1)),
            candidate("CLM-3-C", due_date=date(2026, 12, 1)),  # not due: neither paid nor skipped
            candidate("RI-1", kind="reinsurance"),  # settled by the statement
            candidate("CLM-4-C", party_id="GAR-2"),
            candidate("CLM-5-C", party_id="GAR-3"),
            candidate("CLM-6-C", party_id="GAR-9"),
        ],
        PAYEES,
        BANK,
    )

    (message,) = plan.messages
    assert [t.payable_id for t in message.transfers] == ["CLM-1-C", "CLM-2-C"]
    assert message.transfers[0].remittance == "Hasar odemesi CLM-1 CLM-1-C"
    assert message.total == Decimal("200.00")
    assert {s.payable_id: s.reason for s in plan.skipped} == {
        "CLM-4-C": "payee GAR-2 has no IBAN to pay to",
        "CLM-5-C": "payee GAR-3's IBAN is not valid: Invalid checksum digits",
        "CLM-6-C": "payee GAR-9 is not known",
    }


def test_a_transfer_rejected_for_an_iban_waits_until_the_iban_changes():
    rejected = candidate("CLM-1-C", rejected_iban=GOOD_IBAN)

    assert plan_payouts(RUN, [rejected], PAYEES, BANK).messages == ()
    corrected = {"GAR-1": Payee("GAR-1", "Usta Oto", "TR330006100519786457841326")}
    assert len(plan_payouts(RUN, [rejected], corrected, BANK).messages) == 1


def test_message_ids_name_the_content_and_fit_the_schema():
    first = plan_payouts(RUN, [candidate("CLM-1-C")], PAYEES, BANK).messages[0]
    same = plan_payouts(RUN, [candidate("CLM-1-C")], PAYEES, BANK).messages[0]
    other = plan_payouts(RUN, [candidate("CLM-1-C", amount=Decimal("1.00"))], PAYEES, BANK).messages[0]

    assert first.message_id == same.message_id != other.message_id
    assert first.message_id.startswith("PO20261130") and len(first.message_id) <= 33  # room for "-n" PmtInfIds


def test_a_large_run_is_split_into_messages_of_at_most_the_limit():
    many = [candidate(f"CLM-{n:05d}-C") for n in range(MAX_TRANSFERS + 5)]

    plan = plan_payouts(RUN, many, PAYEES, BANK)

    assert [len(m.transfers) for m in plan.messages] == [MAX_TRANSFERS, 5]


def test_the_default_bank_pays_else_the_only_one_else_none():
    other = PayingBank(bank_id="garanti", name="Örnek", iban=GOOD_IBAN)
    plain = BANK.model_copy(update={"default": False})

    assert paying_bank({"isbank": BANK, "garanti": other}) is BANK
    assert paying_bank({"garanti": other}) is other
    assert paying_bank({"isbank": plain, "garanti": other}) is None
    assert paying_bank({}) is None


def test_paying_bank_configuration_is_checked_and_named():
    bank = load_paying_bank(
        '{"name": "İş Bankası", "iban": "TR33 0006 1005 1978 6457 8413 26", "default": true}', bank_id="isbank"
    )
    assert (bank.bank_id, bank.pain001_version, bank.default) == ("isbank", "001.001.03", True)

    with pytest.raises(PayoutConfigError, match="config/disbursement/isbank: iban"):
        load_paying_bank('{"name": "x", "iban": "TR00"}', bank_id="isbank")
    with pytest.raises(PayoutConfigError, match="pain001_version"):
        load_paying_bank(
            json.dumps({"name": "x", "iban": GOOD_IBAN, "pain001_version": "001.001.12"}), bank_id="isbank"
        )
    with pytest.raises(PayoutConfigError, match="expected an object"):
        load_paying_bank("[]", bank_id="isbank")
    with pytest.raises(PayoutConfigError, match="differs from the file's name"):
        load_paying_bank(json.dumps({"bank_id": "akbank", "name": "x", "iban": GOOD_IBAN}), bank_id="isbank")
