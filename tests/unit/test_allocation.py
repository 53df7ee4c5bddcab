from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from receivables.payments.allocation import FIFO, AllocationPolicy, OpenItem, SortKey, allocate

D = date(2026, 11, 24)


def item(item_id, due, amount, kind="invoice", issue=None, currency="TRY", held=False):
    due_date = D + timedelta(days=due)
    return OpenItem(
        item_id=item_id,
        account_id="A1",
        kind=kind,
        issue_date=issue or due_date - timedelta(days=15),
        due_date=due_date,
        open_amount=Decimal(amount),
        currency=currency,
        held=held,
    )


def test_fifo_pays_the_oldest_due_first_and_keeps_the_rest_unapplied():
    items = [item("I3", 5, "30.00"), item("I1", -20, "50.00"), item("I2", -5, "40.00")]
    result = allocate(Decimal("100.00"), items, value_date=D, currency="TRY")
    assert [(a.item_id, str(a.amount)) for a in result.allocations] == [
        ("I1", "50.00"),
        ("I2", "40.00"),
        ("I3", "10.00"),
    ]
    assert result.unapplied == 0 and "fifo" in result.explanation


def test_named_items_are_paid_first_in_the_order_they_appear():
    items = [item("I1", -20, "50.00"), item("I2", -5, "40.00"), item("I3", 5, "30.00")]
    result = allocate(Decimal("60.00"), items, value_date=D, currency="TRY", first=["I3", "I2"])
    assert [(a.item_id, str(a.amount)) for a in result.allocations] == [("I3", "30.00"), ("I2", "30.00")]
    assert "named" in result.allocations[0].reason


def test_fees_then_interest_then_principal_by_policy():
    policy = AllocationPolicy(
        name="tr-legal", order=(SortKey(key="kind", rank=("fee", "interest", "invoice")), SortKey(key="due_date"))
    )
    items = [item("P1", -30, "100.00"), item("INT1", -1, "5.00", kind="interest"), item("F1", 0, "2.00", kind="fee")]
    result = allocate(Decimal("10.00"), items, policy=policy, value_date=D, currency="TRY")
    assert [a.item_id for a in result.allocations] == ["F1", "INT1", "P1"]


def test_other_currencies_never_take_money_and_overpayment_stays_unapplied():
    items = [item("I1", -1, "10.00"), item("E1", -50, "10.00", currency="EUR")]
    result = allocate(Decimal("25.00"), items, value_date=D, currency="TRY")
    assert [a.item_id for a in result.allocations] == ["I1"] and result.unapplied == Decimal("15.00")


def test_eligibility_filters():
    policy = AllocationPolicy.model_validate(
        {
            "name": "past-due-only",
            "eligibility": [{"filter": "due_by", "days": -1}, {"filter": "not_held"}],
            "order": [{"key": "due_date"}],
        }
    )
    items = [item("I1", -3, "10.00"), item("I2", 10, "10.00"), item("H1", -9, "10.00", held=True)]
    assert [
        a.item_id for a in allocate(Decimal("50"), items, policy=policy, value_date=D, currency="TRY").allocations
    ] == ["I1"]


def test_policies_are_validated_data():
    with pytest.raises(ValidationError):
        AllocationPolicy.model_validate({"name": "x", "order": []})
    with pytest.raises(ValidationError, match="rank applies only"):
        SortKey(key="due_date", rank=("fee",))
    assert FIFO.describe() == "policy fifo: due_date, issue_date, item_id"


@pytest.mark.parametrize(
    "policy",
    [
        {"name": "x", "order": [{"key": "due_date", "descending": 0}]},  # schemathesis: 0 was taken as false
        {"name": "x", "order": [{"key": "due_date", "descending": "yes"}]},
        {"name": "x", "eligibility": [{"filter": "due_by", "days": "3"}], "order": [{"key": "due_date"}]},
    ],
)
def test_a_policy_takes_its_flags_and_numbers_as_json_types_them(policy):
    with pytest.raises(ValidationError):
        AllocationPolicy.model_validate(policy)


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000"), places=2)


@given(payment=amounts, opens=st.lists(amounts, max_size=12), named=st.lists(st.integers(0, 11), max_size=4))
def test_money_is_conserved_and_no_item_is_overpaid(payment, opens, named):
    items = [item(f"I{n}", n - 6, str(a)) for n, a in enumerate(opens)]
    result = allocate(payment, items, value_date=D, currency="TRY", first=[f"I{n}" for n in named])
    by_id = {i.item_id: i for i in items}
    assert result.applied + result.unapplied == payment
    assert all(0 < a.amount <= by_id[a.item_id].open_amount for a in result.allocations)
    assert len({a.item_id for a in result.allocations}) == len(result.allocations)
    assert result.unapplied == 0 or result.applied == sum((i.open_amount for i in items), Decimal(0))
