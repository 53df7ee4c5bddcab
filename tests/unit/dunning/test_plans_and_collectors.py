from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from receivables.dunning import DEFAULT_CONFIG, PlanError, assign_collector_group, split_installments, task_priority


def test_installments_are_split_to_the_cent_with_the_remainder_on_the_first():
    plan = split_installments(Decimal("100.00"), 3, date(2026, 4, 1), 30)
    assert plan == [
        (date(2026, 4, 1), Decimal("33.34")),
        (date(2026, 5, 1), Decimal("33.33")),
        (date(2026, 5, 31), Decimal("33.33")),
    ]


@given(
    cents=st.integers(min_value=1, max_value=10**12),
    n=st.integers(min_value=1, max_value=60),
    interval=st.integers(min_value=1, max_value=92),
)
def test_installments_always_add_up_to_the_total(cents, n, interval):
    total = Decimal(cents) / 100
    if cents < n:
        with pytest.raises(PlanError, match=r"at least 0\.01"):
            split_installments(total, n, date(2026, 4, 1), interval)
        return
    plan = split_installments(total, n, date(2026, 4, 1), interval)
    amounts = [amount for _, amount in plan]
    assert sum(amounts) == total and len(plan) == n
    assert all(a == amounts[-1] for a in amounts[1:]) and amounts[0] - amounts[-1] < Decimal("0.01") * n
    assert all(a.as_tuple().exponent == -2 for a in amounts)
    assert [d for d, _ in plan] == [date(2026, 4, 1) + timedelta(days=interval * k) for k in range(n)]


@pytest.mark.parametrize(
    ("total", "n", "interval", "message"),
    [
        ("100.00", 0, 30, "at least 1"),
        ("100.00", 2, 0, "interval_days"),
        ("0", 2, 30, "greater than 0"),
        ("1.005", 2, 30, "more than 2 decimals"),
    ],
)
def test_impossible_plans_are_refused(total, n, interval, message):
    with pytest.raises(PlanError, match=message):
        split_installments(Decimal(total), n, date(2026, 4, 1), interval)


def test_collector_groups_follow_the_configured_rules_in_order():
    corporate = {"customer_type": "corporate", "overdue_amount": Decimal("50000.01")}
    assert assign_collector_group(DEFAULT_CONFIG, corporate) == "corporate"
    assert assign_collector_group(DEFAULT_CONFIG, corporate | {"overdue_amount": Decimal("50000")}) == "retail"
    assert (
        assign_collector_group(DEFAULT_CONFIG, {"customer_type": "individual", "overdue_amount": Decimal("9e9")})
        == "retail"
    )


def test_tasks_order_by_amount_then_days():
    tasks = {
        "small-old": task_priority(Decimal("100.00"), 90),
        "big-new": task_priority(Decimal("90000.00"), 3),
        "big-old": task_priority(Decimal("90000.00"), 40),
        "tiny": task_priority(Decimal("0.01"), 1),
    }
    assert sorted(tasks, key=tasks.get) == ["big-old", "big-new", "small-old", "tiny"]
    assert len({len(k) for k in tasks.values()}) == 1  # fixed width: usable as a DynamoDB sort key
