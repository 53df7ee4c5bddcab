"""Ledger rules under any sequence of invoices, payments, reversals and manual moves, in steps of any size — and
the journal of postings they return proves the state at every step (hypothesis state machine)."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from receivables.domain.journal import (
    Cause,
    JournalEntry,
    PostingKind,
    StoredAccount,
    StoredItem,
    StoredPayment,
    differences,
)
from receivables.payments.account_ledger import AccountLedger, ItemState, LedgerRuleError, PaymentStatus

D = date(2026, 11, 1)
CAUSE = Cause(kind="bank_entry", source="banks/b1/statement.xml", position="entry 1")
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)


def item(item_id, amount, due_in=0):
    return ItemState(item_id, "invoice", D, D + timedelta(days=due_in), Decimal(amount), Decimal(amount), "TRY")


def receive(ledger, payment_id, amount, limit=None, first=()):
    return ledger.receive(payment_id, Decimal(amount), "TRY", D, cause=CAUSE, first=first, limit=limit)


def stored(ledger):
    return StoredAccount(
        ledger.account_id,
        items=[StoredItem(i.item_id, i.amount, i.open_amount) for i in ledger.items.values()],
        payments=[
            StoredPayment(p.payment_id, p.unapplied, dict(p.allocations), p.reversed) for p in ledger.payments.values()
        ],
        unapplied_credit=ledger.unapplied_credit,
    )


def entry(postings, n=1):
    return JournalEntry(
        entry_id=f"E{n}",
        account_id="A1",
        currency="TRY",
        business_date=D,
        recorded_at=datetime(2026, 11, 1, 12, tzinfo=UTC),
        operation="test",
        cause=CAUSE,
        postings=tuple(postings),
    )


def test_overpayment_becomes_credit_that_pays_the_next_invoice():
    ledger = AccountLedger("A1", "TRY", items=[item("I1", "100.00")])
    receive(ledger, "P1", "150.00")
    assert ledger.items["I1"].open_amount == 0 and ledger.unapplied_credit == Decimal("50.00")
    step = ledger.add_item(item("I2", "80.00", due_in=30))
    assert [(p.kind, p.side.value, p.item_id, p.amount) for p in step.postings] == [
        (PostingKind.CREDIT_APPLIED, "item", "I2", Decimal("-50.00")),
        (PostingKind.CREDIT_APPLIED, "payment", "I2", Decimal("50.00")),
    ]
    assert ledger.balance == Decimal("30.00") and ledger.payments["P1"].status is PaymentStatus.APPLIED


def test_reversal_reopens_exactly_what_the_payment_paid_and_returns_its_money():
    ledger = AccountLedger("A1", "TRY", items=[item("I1", "100.00"), item("I2", "100.00", 10)])
    journal = [receive(ledger, "P1", "60.00").postings, receive(ledger, "P2", "60.00").postings]
    step = ledger.reverse("P1", "AC04 closed account", cause=CAUSE)
    journal.append(step.postings)
    assert step.done and step.postings[-1].kind is PostingKind.PAYMENT_RETURNED
    assert sum(p.amount for p in step.postings) == Decimal("60.00")  # the balance goes back up by the payment
    assert ledger.items["I1"].open_amount == Decimal("60.00") and ledger.items["I2"].open_amount == Decimal("80.00")
    assert ledger.payments["P1"].status is PaymentStatus.REVERSED and not ledger.payments["P1"].allocations
    assert ledger.reverse("P1", "again", cause=CAUSE).postings == []
    assert differences(stored(ledger), [entry(p, n) for n, p in enumerate(journal)]) == []


def test_a_payment_of_many_items_is_received_and_reversed_in_bounded_steps():
    ledger = AccountLedger("A1", "TRY", items=[item(f"I{n:03}", "10.00", n) for n in range(250)])
    steps = [receive(ledger, "P1", "2500.00", limit=50)]
    while not steps[-1].done:
        assert ledger.pending_payments()[0].pending.kind == "receive"
        steps.append(ledger.continue_pending("P1", limit=50))
    assert len(steps) == 5 and all(len({p.item_id for p in s.postings if p.item_id}) <= 50 for s in steps)
    assert all(i.open_amount == 0 for i in ledger.items.values()) and ledger.payments["P1"].unapplied == 0
    steps.append(ledger.reverse("P1", "MS03", cause=CAUSE, limit=50))
    while not steps[-1].done:
        # Mid-reversal the money is neither spendable credit nor gone: automatic application leaves it alone.
        assert ledger.apply_credit(limit=50).postings == []
        steps.append(ledger.continue_pending("P1", limit=50))
    assert all(i.open_amount == Decimal("10.00") for i in ledger.items.values())
    assert ledger.payments["P1"].reversed and ledger.balance == Decimal("2500.00")
    assert differences(stored(ledger), [entry(s.postings, n) for n, s in enumerate(steps)]) == []


def test_manual_moves_are_validated():
    ledger = AccountLedger("A1", "TRY", items=[item("I1", "10.00")])
    receive(ledger, "P1", "5.00")
    with pytest.raises(LedgerRuleError, match="cannot take back"):
        ledger.unallocate("P1", "I1", Decimal("6.00"), "x")
    ledger.unallocate("P1", "I1", Decimal("5.00"), "wrong invoice")
    with pytest.raises(LedgerRuleError, match="cannot allocate"):
        ledger.allocate_manually("P1", [("I1", Decimal("5.01"))], "x", cause=CAUSE)
    with pytest.raises(LedgerRuleError, match="is in EUR"):
        ledger.receive("P2", Decimal("1"), "EUR", D, cause=CAUSE)


def test_a_manual_allocation_of_many_lines_is_checked_whole_then_applied_in_steps():
    ledger = AccountLedger("A1", "TRY", items=[item(f"I{n}", "1.00", n) for n in range(7)])
    receive(ledger, "P1", "7.00")
    for n in range(7):
        ledger.unallocate("P1", f"I{n}", Decimal("1.00"), "redo")
    with pytest.raises(LedgerRuleError, match="cannot take"):
        ledger.allocate_manually("P1", [("I1", Decimal("0.60")), ("I1", Decimal("0.60"))], "x", cause=CAUSE)
    lines = [(f"I{n}", Decimal("1.00")) for n in range(7)]
    steps = [ledger.allocate_manually("P1", lines, "by hand", cause=CAUSE, limit=3)]
    while not steps[-1].done:
        steps.append(ledger.continue_pending("P1", limit=3))
    assert len(steps) == 3 and ledger.payments["P1"].unapplied == 0
    assert all(i.open_amount == 0 for i in ledger.items.values())


def test_a_returned_part_comes_out_of_credit_first_then_out_of_what_was_paid_last():
    ledger = AccountLedger(
        "A1", "TRY", items=[item("I1", "100.00"), item("I2", "100.00", 30), item("I3", "100.00", 60)]
    )
    journal = [receive(ledger, "R1", "350.00").postings]  # all three paid, 50.00 credit
    step = ledger.return_part("R1", "tender 2", Decimal("120.00"), "cheque 123 returned: karşılıksız", cause=CAUSE)
    journal.append(step.postings)
    # 50.00 from the credit, 70.00 reopened on I3 (due last); I1 and I2 stay paid.
    assert [(i.item_id, i.open_amount) for i in ledger.items.values()] == [
        ("I1", Decimal(0)),
        ("I2", Decimal(0)),
        ("I3", Decimal("70.00")),
    ]
    payment = ledger.payments["R1"]
    assert payment.unapplied == 0 and payment.returned == {"tender 2": Decimal("120.00")} and not payment.reversed
    assert step.postings[-1].kind is PostingKind.PART_RETURNED and sum(p.amount for p in step.postings) == Decimal(
        "120.00"
    )
    assert ledger.return_part("R1", "tender 2", Decimal("120.00"), "again", cause=CAUSE).postings == []
    with pytest.raises(LedgerRuleError, match=r"230\.00 left"):
        ledger.return_part("R1", "tender 3", Decimal("231.00"), "too much", cause=CAUSE)
    # What is left returned too: the payment is reversed, nothing of it stays.
    last = ledger.return_part("R1", "tender 1", Decimal("230.00"), "note unpaid", cause=CAUSE, limit=1)
    steps = [last]
    while not steps[-1].done:
        steps.append(ledger.continue_pending("R1", limit=1))
    journal += [s.postings for s in steps]
    assert len(steps) == 3 and steps[-1].postings[-1].kind is PostingKind.PAYMENT_RETURNED
    assert payment.reversed and not payment.allocations and payment.unapplied == 0
    assert all(i.open_amount == i.amount for i in ledger.items.values())
    assert differences(stored(ledger), [entry(p, n) for n, p in enumerate(journal)]) == []


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.ledger = AccountLedger("A1", "TRY")
        self.billed = Decimal(0)
        self.n = 0
        self.journal: list[JournalEntry] = []

    def next_id(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    def record(self, step):
        self.journal.append(entry(step.postings, len(self.journal)))
        return step

    @rule(amount=money, due_in=st.integers(-30, 30), limit=st.sampled_from([None, 1, 2]))
    def bill(self, amount, due_in, limit):
        self.record(self.ledger.add_item(item(self.next_id("I"), amount, due_in), limit=limit))
        self.billed += amount

    @rule(amount=money, limit=st.sampled_from([None, 1, 2]))
    def pay(self, amount, limit):
        self.record(receive(self.ledger, self.next_id("P"), amount, limit=limit))

    @precondition(lambda self: any(not p.pending for p in self.ledger.payments.values()))
    @rule(data=st.data(), limit=st.sampled_from([None, 1, 2]))
    def reverse(self, data, limit):
        candidates = sorted(p.payment_id for p in self.ledger.payments.values() if not p.pending)
        self.record(self.ledger.reverse(data.draw(st.sampled_from(candidates)), "MS03", cause=CAUSE, limit=limit))

    @precondition(lambda self: any(not p.pending and not p.reversed for p in self.ledger.payments.values()))
    @rule(data=st.data(), limit=st.sampled_from([None, 1, 2]))
    def return_a_part(self, data, limit):
        payment = data.draw(
            st.sampled_from([p for p in self.ledger.payments.values() if not p.pending and not p.reversed])
        )
        left = payment.amount - sum(payment.returned.values(), Decimal(0))
        amount = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=left, places=2))
        part = self.next_id("tender ")
        self.record(
            self.ledger.return_part(payment.payment_id, part, amount, "cheque bounced", cause=CAUSE, limit=limit)
        )

    @precondition(lambda self: any(p.allocations and not p.pending for p in self.ledger.payments.values()))
    @rule(data=st.data())
    def move_back(self, data):
        payment = data.draw(
            st.sampled_from([p for p in self.ledger.payments.values() if p.allocations and not p.pending])
        )
        item_id = data.draw(st.sampled_from(sorted(payment.allocations)))
        self.record(self.ledger.unallocate(payment.payment_id, item_id, payment.allocations[item_id], "operator"))

    @precondition(lambda self: self.ledger.pending_payments())
    @rule(limit=st.sampled_from([1, 2]))
    def next_step(self, limit):
        self.record(self.ledger.continue_pending(self.ledger.pending_payments()[0].payment_id, limit=limit))

    @rule()
    def settle(self):
        """What the runner does after every operation: finish what is pending, then apply free credit."""
        while pending := self.ledger.pending_payments():
            self.record(self.ledger.continue_pending(pending[0].payment_id, limit=2))
        while self.record(self.ledger.apply_credit(limit=2)).postings:
            pass
        opens = sum((i.open_amount for i in self.ledger.items.values()), Decimal(0))
        # Credit is never left idle while something is open, except money a person holds back to place by hand.
        automatic = sum((p.unapplied for p in self.ledger.payments.values() if p.spendable), Decimal(0))
        assert automatic == 0 or opens == 0

    @invariant()
    def rules_hold(self):
        ledger = self.ledger
        for payment in ledger.payments.values():
            assert payment.unapplied >= 0
            returned = sum(payment.returned.values(), Decimal(0))
            if payment.reversed:
                assert not payment.allocations and payment.unapplied == 0
            else:
                assert sum(payment.allocations.values(), Decimal(0)) + payment.unapplied + returned == payment.amount
        paid_to = {}
        for payment in ledger.payments.values():
            for item_id, amount in payment.allocations.items():
                assert amount > 0
                paid_to[item_id] = paid_to.get(item_id, Decimal(0)) + amount
        for it in ledger.items.values():
            assert 0 <= it.open_amount == it.amount - paid_to.get(it.item_id, Decimal(0))
        opens = sum((i.open_amount for i in ledger.items.values()), Decimal(0))
        assert ledger.balance == opens - ledger.unapplied_credit
        assert sum((i.amount for i in ledger.items.values()), Decimal(0)) == self.billed

    @invariant()
    def the_journal_proves_the_state(self):
        assert differences(stored(self.ledger), self.journal) == []
        proven = sum((i.amount for i in self.ledger.items.values()), Decimal(0)) + sum(
            (e.balance_effect for e in self.journal), Decimal(0)
        )
        assert proven == self.ledger.balance


TestLedgerRules = LedgerMachine.TestCase


def test_amounts_and_currencies_are_guarded():
    ledger = AccountLedger("A1", "TRY", items=[item("I1", "10.00")])
    with pytest.raises(LedgerRuleError, match="positive"):
        receive(ledger, "P0", "-50")
    eur = ItemState("E1", "invoice", D, D, Decimal("5"), Decimal("5"), "EUR")
    with pytest.raises(LedgerRuleError, match="cannot be on account"):
        ledger.add_item(eur)


def test_money_taken_back_by_hand_is_not_re_applied_automatically():
    ledger = AccountLedger("A1", "TRY", items=[item("I1", "10.00")])
    receive(ledger, "P1", "10.00")
    ledger.unallocate("P1", "I1", Decimal("10.00"), "wrong customer")
    assert ledger.add_item(item("I2", "5.00", 10)).postings == []  # the held money waits for a person
    ledger.allocate_manually("P1", [("I2", Decimal("5.00"))], "the right invoice", cause=CAUSE)
    assert ledger.items["I2"].open_amount == 0 and ledger.payments["P1"].unapplied == Decimal("5.00")


def test_a_policy_with_the_not_held_filter_leaves_held_items_alone():
    from receivables.payments.allocation import AllocationPolicy, NotHeldFilter, SortKey

    policy = AllocationPolicy(
        name="not held, oldest first", eligibility=(NotHeldFilter(),), order=(SortKey(key="due_date"),)
    )
    disputed = replace(item("I1", "50.00", due_in=0), held=True)
    ledger = AccountLedger("A1", "TRY", items=[disputed, item("I2", "50.00", due_in=10)], policy=policy)
    ledger.receive("P1", Decimal("80.00"), "TRY", date(2026, 11, 24), cause=CAUSE)
    assert ledger.items["I1"].open_amount == Decimal("50.00")  # disputed: untouched
    assert ledger.items["I2"].open_amount == Decimal("0.00")
    assert ledger.payments["P1"].unapplied == Decimal("30.00")


def test_the_journal_names_every_difference_with_its_account_and_item():
    ledger = AccountLedger("A1", "TRY", items=[item("I1", "100.00")])
    step = receive(ledger, "P1", "40.00")
    ledger.items["I1"].open_amount = Decimal("70.00")  # a write that bypassed the journal
    found = differences(stored(ledger), [entry(step.postings)])
    assert [d.describe() for d in found] == ["account A1: item I1 open amount is 70.00 stored, 60.00 by the journal"]
