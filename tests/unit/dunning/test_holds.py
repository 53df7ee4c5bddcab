"""One rule decides whether a hold is in force, for the dunning run, the dunning commands and the allocation of
payments alike: from its first day (``start``) to its last (``until``), both included, while it is not released."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from receivables.domain.journal import Cause
from receivables.dunning import DEFAULT_CONFIG, DunningState, Hold, decide
from receivables.dunning.records import HoldRecord, hold_in_force
from receivables.payments.account_ledger import AccountLedger, ItemState
from receivables.payments.allocation import FIFO, AllocationPolicy, NotHeldFilter

from tests.unit.dunning.builders import account, day, item

TODAY = date(2026, 11, 24)
NOT_HELD_FIFO = AllocationPolicy(name="not held, then fifo", eligibility=(NotHeldFilter(),), order=FIFO.order)


def hold(target_id: str, start: date, until: date | None = None, **kwargs) -> HoldRecord:
    values = {
        "hold_id": f"HL-{target_id}",
        "level": "item",
        "target_id": target_id,
        "customer_id": "C1",
        "account_id": "A1",
        "reason": "dispute",
        "start": start,
        "until": until,
        "created_by": "test",
    } | kwargs
    return HoldRecord(**values)


EXPIRED = hold("I1", start=TODAY - timedelta(days=30), until=TODAY - timedelta(days=1))
FUTURE = hold("I2", start=TODAY + timedelta(days=1))
ACTIVE = hold("I3", start=TODAY - timedelta(days=3), until=TODAY)


@pytest.mark.parametrize(
    ("start", "until", "in_force"),
    [
        (TODAY, None, True),
        (TODAY, TODAY, True),  # until is the last day held
        (TODAY - timedelta(days=9), TODAY - timedelta(days=1), False),  # expired
        (TODAY + timedelta(days=1), None, False),  # starts tomorrow
        (None, TODAY, True),  # no start known: in force up to its last day
    ],
)
def test_a_hold_is_in_force_from_its_first_day_to_its_last(start, until, in_force):
    assert hold_in_force(TODAY, start=start, until=until) is in_force
    assert Hold(reason="x", start=start, until=until).active_on(TODAY) is in_force
    assert item(held=True, hold_start=start, hold_until=until).held_on(TODAY) is in_force
    if start is not None:
        assert hold("I1", start=start, until=until).active_on(TODAY) is in_force


def test_a_released_hold_is_not_in_force_whatever_its_dates():
    assert not hold("I1", start=TODAY, status="released").active_on(TODAY)


def test_an_account_hold_that_starts_later_does_not_stop_todays_step():
    later = Hold(reason="dispute", start=day(4))
    decision = decide(DEFAULT_CONFIG, account(), DunningState(), day(3), holds=[later])
    assert [f.step for f in decision.fired] == ["email"]
    assert "on hold" not in decision.explanation


def test_an_item_hold_that_starts_later_leaves_the_item_overdue_today():
    acc = account(item("I1", "150.00", held=True, hold_start=day(4)))
    today = decide(DEFAULT_CONFIG, acc, DunningState(), day(3))
    assert today.overdue_amount == Decimal("150.00") and [f.step for f in today.fired] == ["email"]
    from_its_start = decide(DEFAULT_CONFIG, acc, today.state, day(4))
    assert from_its_start.overdue_amount == 0 and from_its_start.cycle_event == "ended"


def test_only_a_hold_in_force_keeps_an_item_out_of_an_allocation_that_leaves_held_items_alone():
    # Given three items due in the same order as their ids, one under an expired hold, one under a hold that starts
    # tomorrow and one under a hold in force today
    holds = {h.target_id: h for h in (EXPIRED, FUTURE, ACTIVE)}
    items = [
        ItemState(i, "invoice", date(2026, 10, 1), date(2026, 10, n), Decimal("50.00"), Decimal("50.00"), "TRY")
        for n, i in enumerate(("I1", "I2", "I3"), start=1)
    ]
    held = [replace(i, held=holds[i.item_id].active_on(TODAY)) for i in items]
    ledger = AccountLedger("A1", "TRY", items=held, policy=NOT_HELD_FIFO)
    # When a payment of 150.00 arrives
    ledger.receive("P1", Decimal("150.00"), "TRY", TODAY, cause=Cause(kind="system", source="test"))
    # Then the expired and the future hold take nothing out of FIFO; the one in force does
    assert {i: ledger.items[i].open_amount for i in ("I1", "I2", "I3")} == {
        "I1": Decimal("0.00"),
        "I2": Decimal("0.00"),
        "I3": Decimal("50.00"),
    }
    assert ledger.payments["P1"].unapplied == Decimal("50.00")
