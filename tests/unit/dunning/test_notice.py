"""A legal notice (a step with notice_days): it demands what is overdue, and the step after waits for its deadline."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from receivables.dunning import DEFAULT_CONFIG, DunningState, ItemFacts, decide
from receivables.dunning.engine import AccountFacts, CustomerFacts


def account(*items):
    return AccountFacts(
        account_id="CARI-C-1-TRY",
        customer=CustomerFacts(customer_id="C-1", language="tr", phone="+905321110001"),
        account_type="policyholder",
        currency="TRY",
        items=tuple(items),
    )


def installment(open_amount="100.00", due=date(2027, 1, 10), item_id="POL-1-T2", branch="kasko"):
    return ItemFacts(
        item_id=item_id, due_date=due, open_amount=D(open_amount), amount=D("100.00"), policy_id="POL-1", branch=branch
    )


def run(days, *items_by_day):
    state = DunningState()
    decisions = []
    for n, day in enumerate(days):
        decision = decide(DEFAULT_CONFIG, account(*items_by_day[min(n, len(items_by_day) - 1)]), state, day)
        state = decision.state
        decisions.append(decision)
    return decisions


def test_policyholders_get_a_notice_on_day_5_and_cancellation_the_day_after_its_deadline():
    due = date(2027, 1, 10)
    days = [due + timedelta(days=n) for n in (1, 5, 15, 16)]
    decisions = run(days, [installment()])
    assert decisions[0].state.strategy == "policy_warning"
    assert [d.fired[0].step if d.fired else None for d in decisions] == ["reminder", "notice", None, "cancel_policy"]
    notice = decisions[1].state.notice
    assert notice is not None and (notice.date, notice.deadline) == (date(2027, 1, 15), date(2027, 1, 25))
    assert notice.items == {"POL-1-T2": D("100.00")}
    assert decisions[1].next_review_on == date(2027, 1, 26)  # the day after the deadline
    assert [a.action.value for a in decisions[3].actions] == ["cancel_policy"]  # day 16: 01-26


def test_a_notice_paid_by_its_deadline_cancels_nothing_and_life_waits_thirty_days():
    due = date(2027, 1, 10)
    paid = run([due + timedelta(days=n) for n in (1, 5, 16)], [installment()], [installment()], [installment("0.00")])
    assert not paid[2].actions and paid[2].cycle_event == "ended"
    life = run([due + timedelta(days=n) for n in (1, 5, 16, 36)], [installment(branch="life")])
    assert life[1].state.strategy == "policy_warning_life" and life[1].state.notice.deadline == date(2027, 2, 14)
    assert not life[2].actions and [a.action.value for a in life[3].actions] == ["cancel_policy"]
