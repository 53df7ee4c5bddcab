"""The billing rules of the insurance contract (§3–§5), to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st
from receivables.insurance.config import LevyTable, shipped_rules
from receivables.insurance.premium import (
    CoverPremium,
    InstallmentState,
    add_months,
    bill_cancellation,
    bill_endorsement,
    earned_components,
    installment_bills,
    premium_components,
    split_component,
    split_equally,
)

LEVIES = shipped_rules().levies


def test_traffic_carries_bsmv_thgf_and_gh_on_the_net_premium():
    components = premium_components("traffic", [CoverPremium("traffic", D("1000"))], LEVIES)
    assert components == {"premium": D("1000.00"), "BSMV": D("50.00"), "THGF": D("50.00"), "GH": D("20.00")}


def test_fire_tax_is_on_fire_covers_only_and_bsmv_on_the_whole_net_premium():
    covers = [CoverPremium("fire", D("800")), CoverPremium("theft", D("200.55"))]
    assert premium_components("home", covers, LEVIES) == {
        "premium": D("1000.55"),
        "BSMV": D("50.03"),  # 50.0275 half-up
        "YSV": D("80.00"),
    }


@pytest.mark.parametrize("branch", ["life", "health"])
def test_life_and_health_carry_no_bsmv(branch):
    assert premium_components(branch, [CoverPremium("main", D("1200"))], LEVIES) == {"premium": D("1200.00")}


def test_a_levy_is_rounded_half_up_per_policy_on_the_sum_it_applies_to():
    # 0.05 × 0.10 = 0.005 → 0.01 (half-up), where per-cover rounding would give 0.00 + 0.00.
    covers = [CoverPremium("a", D("0.05")), CoverPremium("b", D("0.05"))]
    assert premium_components("kasko", covers, LEVIES)["BSMV"] == D("0.01")


def test_the_levy_table_is_data():
    table = LevyTable.model_validate({"levies": [{"code": "KDV", "rate": "0.20", "branches": ["kasko"]}]})
    assert premium_components("kasko", [CoverPremium("kasko", D("100"))], table) == {
        "premium": D("100.00"),
        "KDV": D("20.00"),
    }


def test_equal_split_puts_the_remainder_cents_on_the_first_part():
    assert split_equally(D("100.00"), 3) == [D("33.34"), D("33.33"), D("33.33")]
    assert split_equally(D("-100.00"), 3) == [D("-33.34"), D("-33.33"), D("-33.33")]


def test_a_down_payment_takes_its_share_half_up_and_the_rest_is_split_from_installment_two():
    assert split_component(D("1000.00"), 4, D("25")) == [D("250.00"), D("250.00"), D("250.00"), D("250.00")]
    assert split_component(D("100.01"), 3, D("33.335")) == [D("33.34"), D("33.34"), D("33.33")]


def test_installments_fall_due_monthly_on_the_same_day_or_the_months_last_day():
    bills = installment_bills({"premium": D("120.00")}, installments=4, first_due_date=date(2026, 11, 30))
    assert [b.due_date for b in bills] == [date(2026, 11, 30), date(2026, 12, 30), date(2027, 1, 30), date(2027, 2, 28)]
    quarterly = installment_bills(
        {"premium": D("90.00")}, installments=3, first_due_date=date(2027, 1, 31), interval_months=3
    )
    assert [b.due_date for b in quarterly] == [date(2027, 1, 31), date(2027, 4, 30), date(2027, 7, 31)]
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)


def test_each_component_is_split_on_its_own_and_installments_add_up_to_the_gross_premium():
    components = premium_components("traffic", [CoverPremium("traffic", D("1000"))], LEVIES)
    bills = installment_bills(components, installments=3, first_due_date=date(2026, 12, 15))
    assert [b.amount for b in bills] == [D("373.38"), D("373.31"), D("373.31")]
    assert bills[0].components == {"premium": D("333.34"), "BSMV": D("16.68"), "THGF": D("16.68"), "GH": D("6.68")}


@given(
    amount=st.decimals(min_value=D("0.01"), max_value=D("10000000"), places=2),
    parts=st.integers(min_value=1, max_value=12),
    down=st.one_of(st.none(), st.decimals(min_value=D("0.01"), max_value=D("99.99"), places=2)),
)
def test_a_split_always_adds_up_to_the_component(amount, parts, down):
    shares = split_component(amount, parts, down)
    assert len(shares) == parts and sum(shares) == amount
    assert all(s == s.quantize(D("0.01")) for s in shares)


def _installments(*rows):
    return [
        InstallmentState(no=n, item_id=f"P-T{n}", due_date=due, components={"premium": amount}, open_amount=open_)
        for n, (due, amount, open_) in enumerate(rows, start=1)
    ]


def test_an_endorsement_spreads_over_the_installments_not_yet_due_and_not_paid():
    installments = _installments(
        (date(2026, 12, 1), D("100.00"), D("0.00")),
        (date(2027, 1, 1), D("100.00"), D("100.00")),
        (date(2027, 2, 1), D("100.00"), D("100.00")),
    )
    bill = bill_endorsement(
        {"premium": D("10.01")},
        installments,
        effective_date=date(2026, 12, 15),
        billing="remaining",
        separate_due_date=date(2026, 12, 30),
    )
    assert [(c.item_id, c.amount, c.open_change) for c in bill.changes] == [
        ("P-T2", D("5.01"), D("5.01")),
        ("P-T3", D("5.00"), D("5.00")),
    ]
    assert bill.refund == 0 and bill.separate_item is None


def test_a_reduction_never_takes_an_installment_below_zero_and_the_rest_is_refunded():
    installments = _installments(
        (date(2027, 1, 1), D("100.00"), D("30.00")), (date(2027, 2, 1), D("100.00"), D("100.00"))
    )
    bill = bill_endorsement(
        {"premium": D("-100.00")},
        installments,
        effective_date=date(2026, 12, 15),
        billing="remaining",
        separate_due_date=date(2026, 12, 30),
    )
    assert [(c.item_id, c.amount, c.open_change) for c in bill.changes] == [
        ("P-T1", D("-50.00"), D("-30.00")),
        ("P-T2", D("-50.00"), D("-50.00")),
    ]
    assert bill.refund == D("20.00")


def test_next_and_separate_billing_and_nothing_left_to_spread_over():
    installments = _installments((date(2027, 1, 1), D("100"), D("100")), (date(2027, 2, 1), D("100"), D("100")))
    common = {"effective_date": date(2026, 12, 15), "separate_due_date": date(2026, 12, 30)}
    nxt = bill_endorsement({"premium": D("30.00")}, installments, billing="next", **common)
    assert [(c.item_id, c.amount) for c in nxt.changes] == [("P-T1", D("30.00"))]
    separate = bill_endorsement({"premium": D("30.00")}, installments, billing="separate", **common)
    assert separate.changes == [] and separate.separate_item.amount == D("30.00")
    late = bill_endorsement(
        {"premium": D("30.00")}, installments, billing="remaining", **{**common, "effective_date": date(2027, 3, 1)}
    )
    assert late.separate_item.due_date == date(2026, 12, 30)
    refund = bill_endorsement({"premium": D("-30.00")}, installments, billing="separate", **common)
    assert refund.refund == D("30.00") and refund.separate_item is None


def test_earned_premium_is_pro_rata_by_days_and_short_rate_keeps_a_share_of_the_unearned_net():
    components = {"premium": D("1000.00"), "BSMV": D("50.00")}
    dates = {"start_date": date(2026, 1, 1), "end_date": date(2027, 1, 1), "effective_date": date(2026, 4, 1)}
    # 90 of 365 days.
    assert earned_components(components, **dates, short_rate_percent=None) == {
        "premium": D("246.58"),
        "BSMV": D("12.33"),
    }
    assert earned_components(components, **dates, short_rate_percent=D("10")) == {
        "premium": D("246.58") + D("75.34"),  # 10 % of 753.42, half-up
        "BSMV": D("12.33"),
    }


def test_a_cancellation_bills_what_is_earned_and_not_paid_or_refunds_the_excess():
    installments = _installments(
        (date(2026, 1, 1), D("525.00"), D("0.00")), (date(2026, 7, 1), D("525.00"), D("525.00"))
    )
    components = {"premium": D("1000.00"), "BSMV": D("50.00")}
    dates = {"start_date": date(2026, 1, 1), "end_date": date(2027, 1, 1)}
    late = bill_cancellation(
        components, installments, **dates, effective_date=date(2026, 10, 1), short_rate_percent=None
    )
    # 273 of 365 days: 747.95 + 37.40 earned, 525.00 paid.
    assert late.earned == {"premium": D("747.95"), "BSMV": D("37.40")}
    assert (late.paid, late.balance_due, late.refund) == (D("525.00"), D("260.35"), D("0.00"))
    assert late.cancelled_open == {"P-T2": D("525.00")}
    # 31 days: 84.93 + 4.25 earned; the rest of what was paid goes back.
    early = bill_cancellation(
        components, installments, **dates, effective_date=date(2026, 2, 1), short_rate_percent=None
    )
    assert (early.balance_due, early.refund) == (D("0.00"), D("435.82"))
