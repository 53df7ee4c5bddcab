"""What an endorsement, a cancellation and an agency statement do to a current account, as postings (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from receivables.domain.journal import PostingKind
from receivables.insurance.changes import PolicyItem, plan_cancellation, plan_endorsement
from receivables.insurance.statements import build_statement, judge_remittance, previous_month, statement_id
from receivables.payments.allocation import FIFO, OpenItem


def item(no, due, amount, open_amount, *, commission="0.00", status="accrued", kind="premium_installment"):
    return PolicyItem(
        item_id=f"P-T{no}",
        no=no,
        kind=kind,
        due_date=due,
        amount=D(amount),
        open_amount=D(open_amount),
        components={"premium": D(amount)},
        commission=D(commission),
        commission_status=status if D(commission) else None,
    )


def other(item_id, due, open_amount):
    return OpenItem(
        item_id=item_id, account_id="A", issue_date=due, due_date=due, open_amount=D(open_amount), currency="TRY"
    )


def test_a_reduction_beyond_what_is_open_pays_the_payers_other_items_then_is_owed_back():
    items = [item(1, date(2027, 1, 1), "100.00", "30.00"), item(2, date(2027, 2, 1), "100.00", "100.00")]
    change = plan_endorsement(
        endorsement_id="Z1",
        policy_id="P",
        branch="kasko",
        components_change={"premium": D("-200.00")},
        items=items,
        open_now={"P-T1": D("30.00"), "P-T2": D("100.00")},
        other_open=[other("INV-9", date(2026, 12, 1), "50.00")],
        allocation_policy=FIFO,
        effective_date=date(2026, 12, 15),
        billing="remaining",
        separate_due_date=date(2026, 12, 30),
        commission_rate=D("0.10"),
        today=date(2026, 12, 15),
        currency="TRY",
    )
    kinds = [(p.kind, p.item_id, p.amount) for p in change.postings]
    assert kinds == [
        (PostingKind.PREMIUM_ADJUSTED, "P-T1", D("-30.00")),
        (PostingKind.PREMIUM_ADJUSTED, "P-T2", D("-100.00")),
        (PostingKind.REFUND_APPLIED, "INV-9", D("-50.00")),
    ]
    assert change.refund_payable == D("20.00")  # 70 refunded: 50 paid INV-9, 20 owed to the payer
    assert change.items["P-T1"].amount == D("0.00") and change.items["P-T2"].amount == D("0.00")


def test_a_cancellation_closes_what_is_open_bills_the_earned_rest_and_claws_commission_back():
    items = [
        item(1, date(2026, 1, 1), "500.00", "0.00", commission="50.00", status="payable"),
        item(2, date(2026, 7, 1), "500.00", "500.00", commission="50.00"),
    ]
    change = plan_cancellation(
        policy_id="P",
        components={"premium": D("1000.00")},
        items=items,
        open_now={"P-T1": D("0.00"), "P-T2": D("500.00")},
        other_open=[],
        allocation_policy=FIFO,
        start_date=date(2026, 1, 1),
        end_date=date(2027, 1, 1),
        effective_date=date(2026, 10, 1),  # 273 of 365 days: 747.95 earned
        short_rate_percent=None,
        balance_due_days=10,
        commission_rate=D("0.10"),
        today=date(2026, 10, 1),
        currency="TRY",
        reason="request",
    )
    assert [(p.kind, p.item_id, p.amount) for p in change.postings] == [
        (PostingKind.ITEM_CANCELLED, "P-T2", D("-500.00"))
    ]
    assert change.items["P-T2"].status == "cancelled" and change.items["P-T2"].commission_status == "cancelled"
    (balance,) = change.new_items
    assert (balance.item_id, balance.amount, balance.due_date) == ("P-CB", D("247.95"), date(2026, 10, 11))
    assert balance.commission == D("24.80")  # 74.80 earned by the channel, 50.00 already payable
    assert change.commission is None and change.summary["overdue"] == "500.00"


def test_an_early_cancellation_refunds_and_takes_back_the_commission_on_unearned_premium():
    items = [item(1, date(2026, 1, 1), "1000.00", "0.00", commission="100.00", status="payable")]
    change = plan_cancellation(
        policy_id="P",
        components={"premium": D("1000.00")},
        items=items,
        open_now={"P-T1": D("0.00")},
        other_open=[],
        allocation_policy=FIFO,
        start_date=date(2026, 1, 1),
        end_date=date(2027, 1, 1),
        effective_date=date(2026, 2, 1),  # 31 days: 84.93 earned
        short_rate_percent=D("10"),  # + 10 % of 915.07 kept: 91.51
        balance_due_days=10,
        commission_rate=D("0.10"),
        today=date(2026, 2, 1),
        currency="TRY",
        reason="request",
    )
    assert change.refund_payable == D("1000.00") - D("84.93") - D("91.51")
    assert change.commission is not None and change.commission.amount == D("8.49") - D("100.00")


def line_item(no, due, open_amount, commission, status="accrued"):
    return ("POL-1", item(no, due, open_amount, open_amount, commission=commission, status=status))


def test_a_statement_lists_last_months_open_items_with_commission_netted():
    assert previous_month(date(2027, 2, 1)) == ("2027-01", date(2027, 1, 1), date(2027, 1, 31))
    statement = build_statement(
        party_id="AG-1",
        account_id="CARI-AG-1-TRY",
        currency="TRY",
        issued_on=date(2027, 2, 1),
        items=[
            line_item(1, date(2027, 1, 5), "105.00", "10.00"),
            line_item(2, date(2027, 2, 5), "105.00", "10.00"),  # next month's
            line_item(3, date(2026, 12, 5), "105.00", "10.00"),  # last year's, already stated
        ],
    )
    assert statement is not None and statement.statement_id == statement_id("AG-1", "2027-01") == "ST-AG-1-2027-01"
    assert [(line.item_id, line.gross, line.commission) for line in statement.lines] == [
        ("P-T1", D("105.00"), D("10.00"))
    ]
    assert statement.net_due == D("95.00")


def test_a_remittance_is_settled_written_off_within_tolerance_or_an_exception():
    statement = build_statement(
        party_id="AG-1",
        account_id="A",
        currency="TRY",
        issued_on=date(2027, 2, 1),
        items=[line_item(1, date(2027, 1, 5), "105.00", "10.00")],
    )
    assert statement is not None
    tolerance = D("1.00")
    judge = judge_remittance
    assert judge(statement, {"P-T1": D("95.00")}, credit=D(0), tolerance=tolerance).status == "waiting"
    assert judge(statement, {"P-T1": D("0.00")}, credit=D(0), tolerance=tolerance).status == "settled"
    short = judge(statement, {"P-T1": D("0.60")}, credit=D(0), tolerance=tolerance)
    assert (short.status, short.difference) == ("written_off", D("-0.60"))
    over = judge(statement, {"P-T1": D("0.00")}, credit=D("5.00"), tolerance=tolerance)
    assert (over.status, over.difference) == ("exception", D("5.00")) and "overpayment of 5.00" in over.reason
