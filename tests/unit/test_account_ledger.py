"""Ledger rules under any sequence of invoices, payments, reversals and manual moves (hypothesis state machine)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from receivables.payments.account_ledger import AccountLedger, ItemState, LedgerRuleError, PaymentStatus

D = date(2026, 11, 1)
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)


def item(item_id, amount, due_in=0):
    return ItemState(item_id, "invoice", D, D + timedelta(days=due_in), Decimal(amount), Decimal(amount), "TRY")


def test_overpayment_becomes_credit_that_pays_the_next_invoice():
    ledger = AccountLedger("A1", "TRY", items=[item("I1", "100.00")])
    ledger.receive("P1", Decimal("150.00"), "TRY", D)
    assert ledger.items["I1"].open_amount == 0 and ledger.unapplied_credit == Decimal("50.00")
    postings = ledger.add_item(item("I2", "80.00", due_in=30))
    assert [(p.item_id, p.amount) for p in postings] == [("I2", Decimal("50.00"))]
    assert ledger.balance == Decimal("30.00") and ledger.payments["P1"].status is PaymentStatus.APPLIED


def test_reversal_reopens_exactly_what_the_payment_paid():
    ledger = AccountLedger("A1", "TRY", items=[item("I1", "100.00"), item("I2", "100.00", 10)])
    ledger.receive("P1", Decimal("60.00"), "TRY", D)
    ledger.receive("P2", Decimal("60.00"), "TRY", D)
    ledger.reverse("P1", "AC04 closed account")
    assert ledger.items["I1"].open_amount == Decimal("60.00") and ledger.items["I2"].open_amount == Decimal("80.00")
    assert ledger.payments["P1"].status is PaymentStatus.REVERSED and not ledger.payments["P1"].allocations
    assert ledger.reverse("P1", "again") == []


def test_manual_moves_are_validated():
    ledger = AccountLedger("A1", "TRY", items=[item("I1", "10.00")])
    ledger.receive("P1", Decimal("5.00"), "TRY", D)
    with pytest.raises(LedgerRuleError, match="cannot take back"):
        ledger.unallocate("P1", "I1", Decimal("6.00"), "x")
    ledger.unallocate("P1", "I1", Decimal("5.00"), "wrong invoice")
    with pytest.raises(LedgerRuleError, match="cannot allocate"):
        ledger.allocate_manually("P1", "I1", Decimal("5.01"), "x")
    with pytest.raises(LedgerRuleError, match="is in EUR"):
        ledger.receive("P2", Decimal("1"), "EUR", D)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.ledger = AccountLedger("A1", "TRY")
        self.billed = Decimal(0)
        self.n = 0

    def next_id(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    @rule(amount=money, due_in=st.integers(-30, 30))
    def bill(self, amount, due_in):
        self.ledger.add_item(item(self.next_id("I"), amount, due_in))
        self.billed += amount

    @rule(amount=money)
    def pay(self, amount):
        self.ledger.receive(self.next_id("P"), amount, "TRY", D)

    @precondition(lambda self: self.ledger.payments)
    @rule(data=st.data())
    def reverse(self, data):
        self.ledger.reverse(data.draw(st.sampled_from(sorted(self.ledger.payments))), "MS03")

    @precondition(lambda self: any(p.allocations for p in self.ledger.payments.values()))
    @rule(data=st.data())
    def move_back(self, data):
        payment = data.draw(st.sampled_from([p for p in self.ledger.payments.values() if p.allocations]))
        item_id = data.draw(st.sampled_from(sorted(payment.allocations)))
        self.ledger.unallocate(payment.payment_id, item_id, payment.allocations[item_id], "operator")
        self.ledger.apply_credit()

    @invariant()
    def rules_hold(self):
        ledger = self.ledger
        for payment in ledger.payments.values():
            assert payment.unapplied >= 0
            if payment.reversed:
                assert not payment.allocations and payment.unapplied == 0
            else:
                assert sum(payment.allocations.values(), Decimal(0)) + payment.unapplied == payment.amount
        paid_to = {}
        for payment in ledger.payments.values():
            for item_id, amount in payment.allocations.items():
                assert amount > 0
                paid_to[item_id] = paid_to.get(item_id, Decimal(0)) + amount
        for it in ledger.items.values():
            assert 0 <= it.open_amount == it.amount - paid_to.get(it.item_id, Decimal(0))
        opens = sum((i.open_amount for i in ledger.items.values()), Decimal(0))
        assert ledger.balance == opens - ledger.unapplied_credit
        # Credit is never left idle while something is open, except money a person holds back to place by hand.
        automatic = sum((p.unapplied for p in ledger.payments.values() if not p.reversed and not p.held), Decimal(0))
        assert automatic == 0 or opens == 0
        assert sum((i.amount for i in ledger.items.values()), Decimal(0)) == self.billed


TestLedgerRules = LedgerMachine.TestCase


def test_amounts_and_currencies_are_guarded():
    ledger = AccountLedger("A1", "TRY", items=[item("I1", "10.00")])
    with pytest.raises(LedgerRuleError, match="positive"):
        ledger.receive("P0", Decimal("-50"), "TRY", D)
    eur = ItemState("E1", "invoice", D, D, Decimal("5"), Decimal("5"), "EUR")
    with pytest.raises(LedgerRuleError, match="cannot be on account"):
        ledger.add_item(eur)


def test_money_taken_back_by_hand_is_not_re_applied_automatically():
    ledger = AccountLedger("A1", "TRY", items=[item("I1", "10.00")])
    ledger.receive("P1", Decimal("10.00"), "TRY", D)
    ledger.unallocate("P1", "I1", Decimal("10.00"), "wrong customer")
    assert ledger.add_item(item("I2", "5.00", 10)) == []  # the held money waits for a person
    ledger.allocate_manually("P1", "I2", Decimal("5.00"), "the right invoice")
    assert ledger.items["I2"].open_amount == 0 and ledger.payments["P1"].unapplied == Decimal("5.00")


def test_a_policy_with_the_not_held_filter_leaves_held_items_alone():
    from dataclasses import replace

    from receivables.payments.allocation import AllocationPolicy, NotHeldFilter, SortKey

    policy = AllocationPolicy(
        name="not held, oldest first", eligibility=(NotHeldFilter(),), order=(SortKey(key="due_date"),)
    )
    disputed = replace(item("I1", "50.00", due_in=0), held=True)
    ledger = AccountLedger("A1", "TRY", items=[disputed, item("I2", "50.00", due_in=10)], policy=policy)
    ledger.receive("P1", Decimal("80.00"), "TRY", date(2026, 11, 24))
    assert ledger.items["I1"].open_amount == Decimal("50.00")  # disputed: untouched
    assert ledger.items["I2"].open_amount == Decimal("0.00")
    assert ledger.payments["P1"].unapplied == Decimal("30.00")
