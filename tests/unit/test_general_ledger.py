"""The chart-of-accounts mapping, pure: signs, the other side by rule, premiums split by component, internal moves
without another side, what no rule maps, the control record, and the shipped chart's own consistency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from receivables.accounting.gl import GlConfigError, PostingFact, gl_lines, load_chart
from receivables.adapters.general_ledger import default_chart

DAY = date(2026, 11, 24)
CHART = default_chart()


def fact(n: int, kind: str, amount: str, target: str = "item", **fields) -> PostingFact:
    values = {
        "line_id": f"L{n:03d}",
        "business_date": DAY,
        "account_id": "CARI-C-1-TRY",
        "currency": "TRY",
        "kind": kind,
        "operation": kind,
        "target": target,
        "target_id": f"T{n}",
        "amount": Decimal(amount),
        "entry_id": f"E{n:03d}",
        "party": "C-1",
    }
    return PostingFact(**(values | fields))


def sides(lines):
    return [(line.gl_account, f"{line.debit:.2f}", f"{line.credit:.2f}") for line in lines]


def test_a_billed_premium_is_receivable_against_revenue_and_each_levy_payable():
    posted = fact(
        1,
        "item_posted",
        "282.50",
        item_kind="premium_installment",
        components={"premium": Decimal("250.00"), "BSMV": Decimal("12.50"), "YSV": Decimal("20.00")},
    )

    lines, control = gl_lines([posted], CHART, DAY)

    assert sides(lines) == [
        ("120", "282.50", "0.00"),
        ("360", "0.00", "12.50"),
        ("360", "0.00", "20.00"),
        ("600", "0.00", "250.00"),
    ]
    assert control.balanced and control.lines == 4 and control.postings == 1


def test_money_in_and_its_allocation_and_a_claim_paid_out():
    lines, control = gl_lines(
        [
            fact(1, "payment_received", "-100.00", target="payment"),
            fact(2, "allocation", "-100.00", entry_id="E9"),
            fact(3, "allocation", "100.00", target="payment", entry_id="E9"),
            fact(4, "payable_posted", "-700.00", target="payable", payable_kind="claim"),
            fact(5, "payable_paid", "700.00", target="payable", payable_kind="claim"),
            fact(6, "payable_posted", "-105.00", target="payable", payable_kind="tax"),
        ],
        CHART,
        DAY,
    )

    assert sides(lines) == [
        ("340", "0.00", "100.00"),
        ("102", "100.00", "0.00"),  # money in
        ("320", "0.00", "700.00"),
        ("620", "700.00", "0.00"),  # the claim owed
        ("320", "700.00", "0.00"),
        ("102", "0.00", "700.00"),  # the transfer booked
        ("360", "0.00", "105.00"),
        ("620", "105.00", "0.00"),  # the withholding owed to the tax office
        ("120", "0.00", "100.00"),
        ("340", "100.00", "0.00"),  # allocated: no other side needed
    ]
    assert control.balanced and not control.unmapped


def test_a_returned_transfer_puts_the_money_back_a_cancelled_claim_takes_the_expense_back():
    lines, _ = gl_lines(
        [
            fact(
                1, "payable_adjusted", "-700.00", target="payable", payable_kind="claim", operation="transfer_returned"
            ),
            fact(2, "payable_adjusted", "300.00", target="payable", payable_kind="claim", operation="claim_cancelled"),
        ],
        CHART,
        DAY,
    )

    assert sides(lines) == [
        ("320", "0.00", "700.00"),
        ("102", "700.00", "0.00"),
        ("320", "300.00", "0.00"),
        ("620", "0.00", "300.00"),
    ]


def test_what_no_rule_maps_goes_to_the_unmapped_account_and_is_counted():
    chart = load_chart(
        """version: 1
accounts: {"120": Receivables, "600": Sales, "999": Unmapped, "340": Advances, "320": Payables}
counter:
  - {kind: item_posted, account: "600"}
"""
    )

    lines, control = gl_lines([fact(1, "written_off", "-10.00")], chart, DAY)

    assert sides(lines) == [("120", "0.00", "10.00"), ("999", "10.00", "0.00")]
    assert control.unmapped == ["L001"] and control.balanced


def test_the_same_posting_staged_twice_is_exported_once_and_late_ones_are_counted():
    late = fact(2, "payment_received", "-5.00", target="payment", business_date=date(2026, 11, 20))

    lines, control = gl_lines([fact(1, "item_posted", "10.00"), fact(1, "item_posted", "10.00"), late], CHART, DAY)

    assert control.postings == 2 and control.lines == 4 and control.late == 1
    assert lines[0].business_date == date(2026, 11, 20)  # late lines keep their own date


def test_a_chart_that_names_some_accounts_must_name_every_one_it_uses():
    with pytest.raises(GlConfigError, match=r"\['700'\] are used by the mapping but not named"):
        load_chart(
            """version: 1
accounts: {"120": R, "340": A, "320": P, "999": U}
counter: [{kind: item_posted, account: "700"}]
"""
        )
    with pytest.raises(GlConfigError, match="counter"):
        load_chart("version: 1\n")
    with pytest.raises(GlConfigError, match="expected a mapping"):
        load_chart("- 1\n")


def test_the_shipped_chart_maps_every_posting_kind():
    from receivables.domain.journal import PostingKind

    mapped = {rule.kind for rule in CHART.counter}
    assert {k.value for k in PostingKind} <= mapped


def test_one_sided_postings_take_their_other_side_from_revenue_and_expense():
    lines, control = gl_lines(
        [fact(1, "refund_applied", "-762.30"), fact(2, "commission_netted", "-26.99")], CHART, DAY
    )

    assert sides(lines) == [
        ("120", "0.00", "762.30"),
        ("600", "762.30", "0.00"),  # premium given back
        ("120", "0.00", "26.99"),
        ("630", "26.99", "0.00"),  # the agency's commission
    ]
    assert control.balanced
