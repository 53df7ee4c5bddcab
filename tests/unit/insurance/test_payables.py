"""Claims' payables as the domain plans them: withholding, offsetting oldest due first, approval thresholds from
configuration, four eyes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from receivables.insurance.config import default_payables, load_payables
from receivables.insurance.payables import (
    DueInstallment,
    PayableFacts,
    PayableStateError,
    SameIdentityError,
    check_approval,
    plan_claim,
)

RULES = default_payables()


def due(item_id, day, amount):
    return DueInstallment(item_id, date(2026, 11, day), Decimal(amount))


def test_withholding_comes_off_the_gross_half_up_and_the_net_settles_the_oldest_installments_first():
    plan = plan_claim(Decimal("1000.05"), Decimal("17.5"), [due("T2", 20, "300.00"), due("T1", 10, "100.00")], RULES)
    assert plan.withheld == Decimal("175.01")  # 175.00875 → 175.01
    assert plan.net == Decimal("825.04")
    assert plan.offsets == (("T1", Decimal("100.00")), ("T2", Decimal("300.00")))
    assert (plan.open_after, plan.status, plan.withholding_status) == (Decimal("425.04"), "approved", "approved")


def test_a_claim_used_up_by_its_offset_is_paid_and_a_large_one_waits_for_approval():
    assert plan_claim(Decimal("50.00"), None, [due("T1", 10, "80.00")], RULES).status == "paid"
    assert plan_claim(Decimal("50000.00"), None, [], RULES).status == "approved"  # at the threshold
    assert plan_claim(Decimal("50000.01"), None, [], RULES).status == "open"
    stricter = load_payables('{"approval_thresholds": {"claim": "100.00"}}')
    assert plan_claim(Decimal("100.01"), None, [], stricter).status == "open"
    assert stricter.offsets("direct") and not stricter.offsets("agency")  # the shipped offset rule is kept
    assert load_payables('{"offset_claims": {"direct": false}}').offsets("direct") is False


def payable(**changes):
    base = {
        "payable_id": "CLM-1-C",
        "kind": "claim",
        "account_id": "CARI-GAR-1-TRY",
        "party_id": "GAR-1",
        "amount": Decimal("60000.00"),
        "open_amount": Decimal("60000.00"),
        "currency": "TRY",
        "status": "open",
        "due_date": date(2026, 12, 1),
        "created_by": "claims.clerk",
    }
    return PayableFacts(**(base | changes))


def test_four_eyes_refuses_the_creator_and_the_last_changer_and_approval_is_once():
    with pytest.raises(SameIdentityError, match=r"claims\.clerk created it"):
        check_approval(payable(), "claims.clerk")
    with pytest.raises(SameIdentityError, match="last changed"):
        check_approval(payable(changed_by="ops.ayse"), "ops.ayse")
    check_approval(payable(changed_by="ops.ayse"), "manager.mert")
    with pytest.raises(PayableStateError, match=r"approved by manager\.mert, not waiting"):
        check_approval(payable(status="approved", approved_by="manager.mert"), "someone")
