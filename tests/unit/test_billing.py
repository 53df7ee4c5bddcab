from datetime import date
from decimal import Decimal

from receivables.domain.billing import AccountRef, ExistingInvoice, plan_invoice_batch
from receivables.domain.records import Invoice

INV = Invoice("I1", "C1", "A1", date(2026, 11, 1), date(2026, 11, 15), Decimal("10.00"), "TRY", None, None)


def plan(rows, *, customers=("C1", "C2"), accounts=None, existing=None, file_id="F"):
    return plan_invoice_batch(
        rows, known_customers=set(customers), accounts=accounts or {}, existing=existing or {}, file_id=file_id
    )


def test_first_sight_opens_the_account_and_sets_the_first_overdue_day():
    result = plan([(2, INV)])
    assert result.new_accounts == {"A1": AccountRef("A1", "C1", "TRY")}
    assert [d.line for d in result.new_items] == [2]
    assert result.next_action_on == {"A1": date(2026, 11, 16)}


def test_identical_resend_is_skipped_and_changed_resend_is_a_named_conflict():
    stored = {"I1": ExistingInvoice(INV, "", source=("OTHER", 9))}
    result = plan([(2, INV), (3, INV._replace(amount=Decimal("12.00")))], existing=stored)
    assert result.skipped == [2]
    assert result.rejected[0][0] == 3 and "I1" in result.rejected[0][1] and "10.00 → 12.00" in result.rejected[0][1]
    assert not result.new_items


def test_rows_this_file_loaded_before_an_interruption_count_as_loaded():
    result = plan([(2, INV)], existing={"I1": ExistingInvoice(INV, "", source=("F", 2))})
    assert result.loaded_before == [2] and not result.skipped


def test_duplicates_inside_one_batch_are_judged_against_the_first():
    result = plan([(2, INV), (3, INV), (4, INV._replace(due_date=date(2026, 12, 1)))])
    assert [d.line for d in result.new_items] == [2] and result.skipped == [3] and result.rejected[0][0] == 4


def test_account_rules():
    accounts = {"A1": AccountRef("A1", "C1", "TRY", next_action_on=date(2026, 11, 1))}
    result = plan(
        [
            (2, INV._replace(invoice_id="I2", customer_id="C2")),
            (3, INV._replace(invoice_id="I3", currency="EUR")),
            (4, INV._replace(invoice_id="I4", customer_id="C9")),
            (5, INV._replace(invoice_id="I5")),
        ],
        accounts=accounts,
    )
    reasons = dict(result.rejected)
    assert "belongs to customer C1" in reasons[2]
    assert "kept in TRY" in reasons[3]
    assert "unknown customer C9" in reasons[4]
    assert [d.line for d in result.new_items] == [5]
    assert result.next_action_on == {}  # the account already has an earlier next action
