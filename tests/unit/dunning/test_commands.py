"""The dunning commands' use cases against an in-memory store: every rule, every refusal, every conflict."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

import pytest
from receivables.dunning.commands import (
    REVIEW_REQUESTED,
    DunningAccount,
    DunningCommands,
    DunningConflictError,
    DunningItem,
    DunningRequestError,
    InvalidConfigError,
    PromiseTerms,
    StoredConfig,
    UnknownRecordError,
    random_id,
)
from receivables.dunning.config import DEFAULT_CONFIG, PlanSettings
from receivables.dunning.records import HoldRecord, PlanRecord, PromiseRecord, TaskRecord, task_id_of

from tests.unit.fakes import FixedClock, MemoryEvents

TODAY = date(2026, 11, 24)


class MemoryDunningStore:
    """The ``DunningCommandStore`` port in memory, with the same conditions as the DynamoDB adapter."""

    def __init__(self) -> None:
        self.customers: dict[str, dict[str, HoldRecord]] = {}  # customer id -> its mirrored holds
        self.accounts: dict[str, DunningAccount] = {}
        self.items: dict[str, DunningItem] = {}
        self.subscriptions: set[tuple[str, str]] = set()
        self.pointers: dict[str, str] = {}
        self.holds: dict[str, HoldRecord] = {}
        self.promises: dict[str, PromiseRecord] = {}
        self.plans: dict[str, PlanRecord] = {}
        self.task_records: dict[str, TaskRecord] = {}
        self.configs: dict[int, StoredConfig] = {}
        self.current: int | None = None
        self.writes = 0

    # -- reads
    def customer_exists(self, customer_id):
        return customer_id in self.customers

    def account(self, account_id):
        return self.accounts.get(account_id)

    def item(self, item_id):
        return self.items.get(item_id)

    def account_items(self, account_id):
        return sorted((i for i in self.items.values() if i.account_id == account_id), key=lambda i: i.due_date)

    def customer_account_ids(self, customer_id):
        return sorted(a.account_id for a in self.accounts.values() if a.customer_id == customer_id)

    def subscription_exists(self, account_id, subscription_id):
        return (account_id, subscription_id) in self.subscriptions

    def subscription_account(self, subscription_id):
        return self.pointers.get(subscription_id)

    def hold(self, hold_id):
        return self.holds.get(hold_id)

    def promise(self, promise_id):
        return self.promises.get(promise_id)

    def plan(self, plan_id):
        return self.plans.get(plan_id)

    def task(self, task_id):
        return self.task_records.get(task_id)

    def tasks(self, group, status: Literal["open", "claimed"], limit):
        found = [t for t in self.task_records.values() if t.group == group and t.status == status]
        return sorted(found, key=lambda t: (t.priority, t.task_id))[:limit]

    def current_config(self):
        return self.configs[self.current] if self.current else None

    def config_version(self, version):
        return self.configs.get(version)

    # -- writes
    def committed(self, events):
        """A write went through: the events written with it are what the outbox relay publishes."""
        self.writes += 1
        for event in events:
            self.outbox.publish(event.detail_type, event.detail)

    def create_hold(self, hold, *, events=()):
        if hold.hold_id in self.holds:
            raise DunningConflictError(f"hold id {hold.hold_id} is taken")
        if hold.level == "customer":
            if hold.customer_id not in self.customers:
                raise UnknownRecordError(f"customer {hold.customer_id} not found")
            self.customers[hold.customer_id][hold.hold_id] = hold
        else:
            account = self._account(hold.account_id)
            self.accounts[account.account_id] = dataclasses.replace(
                account, holds={**account.holds, hold.hold_id: hold}
            )
        self.holds[hold.hold_id] = hold
        self.committed(events)

    def release_hold(self, before, after, *, events=()):
        if self.holds.get(before.hold_id) != before:
            raise DunningConflictError(f"hold {before.hold_id} changed meanwhile")
        self.holds[before.hold_id] = after
        if before.level == "customer":
            self.customers[before.customer_id].pop(before.hold_id, None)
        else:
            account = self._account(before.account_id)
            holds = {k: v for k, v in account.holds.items() if k != before.hold_id}
            self.accounts[account.account_id] = dataclasses.replace(account, holds=holds)
        self.committed(events)

    def _check_promise(self, promise):
        if promise.promise_id in self.promises:
            raise DunningConflictError(f"promise id {promise.promise_id} is taken")
        if self._account(promise.account_id).promise is not None:
            raise DunningConflictError(f"account {promise.account_id} got an open promise meanwhile")

    def _store_promise(self, promise):
        self.promises[promise.promise_id] = promise
        account = self.accounts[promise.account_id]
        self.accounts[promise.account_id] = dataclasses.replace(account, promise=promise)

    def create_promise(self, promise, *, events=()):
        self._check_promise(promise)
        self._store_promise(promise)
        self.committed(events)

    def create_plan(self, plan, entry, *, events=()):
        self.entries = [*getattr(self, "entries", []), entry]
        account = self._account(plan.account_id)
        for item_id, amount in plan.restructured.items():
            if self.items[item_id].open_amount != amount:
                raise DunningConflictError(f"item {item_id} changed meanwhile")
        if account.plan is not None:
            raise DunningConflictError(f"account {plan.account_id} got an active plan meanwhile")
        for item_id in plan.restructured:
            self.items[item_id] = dataclasses.replace(
                self.items[item_id], open_amount=Decimal("0.00"), status="restructured"
            )
        for installment in plan.installments:
            self.items[installment.item_id] = DunningItem(
                item_id=installment.item_id,
                account_id=plan.account_id,
                customer_id=plan.customer_id,
                kind="installment",
                due_date=installment.due_date,
                open_amount=installment.amount,
                currency=plan.currency,
            )
        self.plans[plan.plan_id] = plan
        self.accounts[plan.account_id] = dataclasses.replace(account, plan=plan)
        self.committed(events)

    def update_task(self, before, after, *, promise=None, holds=(), new_tasks=(), events=()):
        if self.task_records.get(before.task_id) != before:
            raise DunningConflictError(f"task {before.task_id} changed meanwhile")
        if promise is not None:
            self._check_promise(promise)
            self._store_promise(promise)
        for hold in holds:
            self.create_hold(hold)
        for task in new_tasks:
            self.task_records[task.task_id] = task
        self.task_records[before.task_id] = after
        self.committed(events)

    def save_config(self, stored, *, replaces):
        if self.current != replaces or stored.config.version in self.configs:
            raise DunningConflictError("another configuration version was published meanwhile")
        self.configs[stored.config.version] = stored
        self.current = stored.config.version
        self.writes += 1

    def _account(self, account_id):
        if account_id not in self.accounts:
            raise UnknownRecordError(f"account {account_id} not found")
        return self.accounts[account_id]

    # -- given
    def add_account(self, account_id, customer_id="C1", *items):
        self.customers.setdefault(customer_id, {})
        self.accounts[account_id] = DunningAccount(account_id=account_id, customer_id=customer_id, currency="TRY")
        for item in items:
            self.items[item.item_id] = item

    def add_task(self, task_id="A1#1#call", account_id="A1", priority="0001", status="open", **kwargs):
        task = TaskRecord(
            task_id=task_id,
            account_id=account_id,
            customer_id="C1",
            group="retail",
            priority=priority,
            overdue_amount=Decimal("150.00"),
            days_overdue=40,
            step="call",
            created_on=TODAY - timedelta(days=1),
            status=status,
            **kwargs,
        )
        self.task_records[task_id] = task
        return task


def item(item_id, amount="100.00", due=date(2026, 10, 15), account_id="A1", **kwargs) -> DunningItem:
    return DunningItem(
        item_id=item_id,
        account_id=account_id,
        customer_id="C1",
        kind=kwargs.pop("kind", "invoice"),
        due_date=due,
        open_amount=Decimal(amount),
        currency="TRY",
        **kwargs,
    )


@pytest.fixture
def store() -> MemoryDunningStore:
    memory = MemoryDunningStore()
    memory.add_account(
        "A1",
        "C1",
        item("INV-1", "100.00", date(2026, 10, 15), subscription_id="S1"),
        item("INV-2", "50.00", date(2026, 11, 15), subscription_id="S1"),
        item("INV-3", "30.00", date(2026, 12, 10)),  # not yet due
        item("INV-0", "0.00", date(2026, 9, 15)),  # paid
    )
    memory.add_account("A3", "C1", item("INV-4", "20.00", date(2026, 11, 10), account_id="A3"))
    memory.add_account("A2", "C2")  # owes nothing
    memory.subscriptions.add(("A1", "S1"))
    return memory


@pytest.fixture
def events() -> MemoryEvents:
    return MemoryEvents()


@pytest.fixture
def commands(store, events) -> DunningCommands:
    counter = itertools.count(1)
    store.outbox = events  # what the store commits with its events, the relay publishes
    return DunningCommands(store=store, clock=FixedClock(TODAY), new_id=lambda prefix: f"{prefix}{next(counter)}")


def refused(call, field: str | None = None, match: str | None = None) -> DunningRequestError:
    with pytest.raises(DunningRequestError, match=match) as caught:
        call()
    assert caught.value.field == field
    return caught.value


# ---------------------------------------------------------------- holds


def test_a_customer_hold_is_mirrored_on_the_customer_and_reviews_all_its_accounts(commands, store, events):
    hold = commands.create_hold("customer", "C1", "  bereavement ", created_by="ops.ayse")
    assert (hold.hold_id, hold.level, hold.customer_id, hold.account_id) == ("HL1", "customer", "C1", None)
    assert hold.reason == "bereavement" and hold.start == TODAY and hold.until is None and hold.status == "active"
    assert [(a.by, a.what) for a in hold.audit] == [("ops.ayse", "held: bereavement")]
    assert store.customers["C1"] == {"HL1": hold} and store.holds["HL1"] == hold
    assert events.events == [(REVIEW_REQUESTED, {"account_ids": ["A1", "A3"], "reason": "customer hold HL1 on C1"})]


@pytest.mark.parametrize(
    ("level", "target", "account_id"),
    [("account", "A1", None), ("item", "INV-1", None), ("subscription", "S1", "A1")],
)
def test_account_item_and_subscription_holds_are_mirrored_on_the_account(
    commands, store, events, level, target, account_id
):
    hold = commands.create_hold(level, target, "disputed", until=TODAY, account_id=account_id, created_by="ops.ayse")
    assert (hold.target_id, hold.customer_id, hold.account_id, hold.until) == (target, "C1", "A1", TODAY)
    assert hold.audit[0].what == "held: disputed (until 2026-11-24)" and hold.created_by == "ops.ayse"
    assert store.accounts["A1"].holds == {hold.hold_id: hold}
    assert events.events[-1][1]["account_ids"] == ["A1"]


def test_a_subscription_is_found_through_the_loaders_pointer(commands, store):
    refused(
        lambda: commands.create_hold("subscription", "S1", "x", created_by="ops.ayse"), "account_id", "give account_id"
    )
    store.pointers["S1"] = "A1"
    assert commands.create_hold("subscription", "S1", "x", created_by="ops.ayse").account_id == "A1"


@pytest.mark.parametrize(
    ("level", "target", "account_id"),
    [
        ("customer", "C9", None),
        ("account", "A9", None),
        ("item", "NOPE", None),
        ("subscription", "S9", "A1"),
        ("subscription", "S1", "A9"),
    ],
)
def test_holding_what_does_not_exist_is_unknown(commands, store, events, level, target, account_id):
    with pytest.raises(UnknownRecordError):
        commands.create_hold(level, target, "x", account_id=account_id, created_by="ops.ayse")
    assert store.writes == 0 and events.events == []


def test_hold_requests_that_break_a_rule_are_refused_naming_the_field(commands, store):
    refused(lambda: commands.create_hold("galaxy", "A1", "x", created_by="ops.ayse"), "level")
    refused(lambda: commands.create_hold("account", "A1", "   ", created_by="ops.ayse"), "reason")
    refused(lambda: commands.create_hold("account", "A1", "x" * 501, created_by="ops.ayse"), "reason")
    refused(
        lambda: commands.create_hold("account", "A1", "x", until=TODAY - timedelta(days=1), created_by="ops.ayse"),
        "until",
        "past",
    )
    refused(lambda: commands.create_hold("account", "A1", "x", account_id="A1", created_by="ops.ayse"), "account_id")
    refused(lambda: commands.create_hold("account", "A1", "x", created_by=""), "created_by")
    assert store.writes == 0


def test_a_released_hold_leaves_its_mirror_and_keeps_who_released_it(commands, store, events):
    hold = commands.create_hold("item", "INV-1", "disputed", created_by="ops.ayse")
    released = commands.release_hold(hold.hold_id, by="ops.mehmet")
    assert released.status == "released" and store.holds[hold.hold_id] == released
    assert [(a.by, a.what) for a in released.audit] == [("ops.ayse", "held: disputed"), ("ops.mehmet", "released")]
    assert store.accounts["A1"].holds == {}
    assert events.events[-1] == (REVIEW_REQUESTED, {"account_ids": ["A1"], "reason": "item hold HL1 on INV-1 released"})
    assert commands.hold(hold.hold_id) == released

    with pytest.raises(DunningConflictError, match=r"already released on 2026-11-24 by ops\.mehmet"):
        commands.release_hold(hold.hold_id, by="ops.ayse")
    with pytest.raises(UnknownRecordError):
        commands.release_hold("NOPE", by="ops.ayse")
    with pytest.raises(UnknownRecordError):
        commands.hold("NOPE")
    refused(lambda: commands.release_hold(hold.hold_id, by=" "), "by")


def test_releasing_a_customer_hold_reviews_every_account_of_the_customer(commands, store, events):
    hold = commands.create_hold("customer", "C1", "x", created_by="ops.ayse")
    commands.release_hold(hold.hold_id, by="ops.ayse")
    assert store.customers["C1"] == {} and events.events[-1][1]["account_ids"] == ["A1", "A3"]


def test_a_hold_changed_between_reading_and_releasing_is_a_conflict(commands, store):
    hold = commands.create_hold("account", "A1", "x", created_by="ops.ayse")
    original = store.hold

    def stale(hold_id):  # another release landed after this one read the hold
        found = original(hold_id)
        store.holds[hold_id] = found.model_copy(update={"reason": "edited"})
        return found

    store.hold = stale
    with pytest.raises(DunningConflictError):
        commands.release_hold(hold.hold_id, by="ops.ayse")
    assert store.accounts["A1"].holds == {hold.hold_id: hold}


def test_a_customer_without_accounts_needs_no_review(commands, store, events):
    store.customers["C7"] = {}
    commands.create_hold("customer", "C7", "x", created_by="ops.ayse")
    assert events.events == []


# ---------------------------------------------------------------- promises


def test_a_promise_records_each_open_items_amount_and_is_mirrored_on_the_account(commands, store, events):
    promise = commands.create_promise("A1", Decimal("60"), TODAY + timedelta(days=7), created_by="agent.7")
    assert (promise.promise_id, promise.amount, promise.date) == ("PR1", Decimal("60.00"), date(2026, 12, 1))
    assert str(promise.amount) == "60.00"  # stored with two decimals
    assert promise.open_at_promise == {"INV-1": Decimal("100.00"), "INV-2": Decimal("50.00"), "INV-3": Decimal("30.00")}
    assert (promise.created_on, promise.created_by, promise.status) == (TODAY, "agent.7", "open")
    assert store.accounts["A1"].promise == promise and store.promises["PR1"] == promise
    assert events.events == [
        (REVIEW_REQUESTED, {"account_ids": ["A1"], "reason": "promise PR1 to pay 60.00 by 2026-12-01"})
    ]
    assert commands.promise("PR1") == promise


def test_a_second_promise_waits_until_the_open_one_is_kept_or_broken(commands, store):
    commands.create_promise("A1", Decimal("60.00"), date(2026, 12, 1), created_by="ops.ayse")
    with pytest.raises(DunningConflictError, match="an open promise exists until 2026-12-01"):
        commands.create_promise("A1", Decimal("10.00"), date(2026, 12, 2), created_by="ops.ayse")
    assert len(store.promises) == 1


@pytest.mark.parametrize(
    ("amount", "day", "field", "match"),
    [
        ("0", TODAY, "amount", "greater than 0"),
        ("-5", TODAY, "amount", "greater than 0"),
        ("10.001", TODAY, "amount", "more than 2 decimals"),
        ("NaN", TODAY, "amount", "greater than 0"),
        ("1234567890123456", TODAY, "amount", "integer digits"),
        ("10.00", TODAY - timedelta(days=1), "date", "from today"),
        ("10.00", TODAY + timedelta(days=91), "date", "installment plan"),
    ],
)
def test_promise_amounts_and_dates_outside_the_rules_are_refused(commands, store, amount, day, field, match):
    refused(lambda: commands.create_promise("A1", Decimal(amount), day, created_by="ops.ayse"), field, match)
    assert store.writes == 0


def test_the_promise_window_runs_from_today_to_ninety_days(commands):
    assert commands.create_promise("A1", Decimal("10.500"), TODAY, created_by="ops.ayse").amount == Decimal("10.50")
    assert commands.create_promise("A3", Decimal("1"), TODAY + timedelta(days=90), created_by="ops.ayse").date == date(
        2027, 2, 22
    )


def test_a_promise_on_an_unknown_account_or_one_that_owes_nothing_is_refused(commands):
    with pytest.raises(UnknownRecordError):
        commands.create_promise("A9", Decimal("10.00"), TODAY, created_by="ops.ayse")
    refused(lambda: commands.create_promise("A2", Decimal("10.00"), TODAY, created_by="ops.ayse"), None, "owes nothing")
    with pytest.raises(UnknownRecordError):
        commands.promise("NOPE")


# ---------------------------------------------------------------- plans


def test_a_plan_restructures_the_overdue_debt_split_to_the_cent_with_the_remainder_first(commands, store, events):
    plan = commands.create_plan("A1", 7, date(2026, 12, 1), 30, created_by="agent.7")
    assert plan.plan_id == "PL1" and plan.total == Decimal("150.00") and plan.currency == "TRY"
    assert plan.restructured == {"INV-1": Decimal("100.00"), "INV-2": Decimal("50.00")}
    assert [i.amount for i in plan.installments] == [Decimal("21.48")] + [Decimal("21.42")] * 6
    assert [i.item_id for i in plan.installments][:2] == ["PL1-1", "PL1-2"]
    assert plan.installments[-1].due_date == date(2026, 12, 1) + timedelta(days=180)
    assert (plan.created_on, plan.created_by, plan.customer_id, plan.status) == (TODAY, "agent.7", "C1", "active")
    assert store.items["INV-1"].status == "restructured" and store.items["INV-1"].open_amount == 0
    assert store.items["INV-3"].status is None  # not due yet: stays as it is
    assert store.items["PL1-1"].kind == "installment" and store.accounts["A1"].plan == plan
    (entry,) = store.entries  # the journal: what moved out of each item, in the plan's own transaction
    assert entry.operation == "restructure" and entry.cause.actor == "agent.7"
    assert [(p.item_id, p.amount, p.kind.value) for p in entry.postings] == [
        ("INV-1", Decimal("-100.00"), "restructured"),
        ("INV-2", Decimal("-50.00"), "restructured"),
    ]
    assert events.events == [
        (REVIEW_REQUESTED, {"account_ids": ["A1"], "reason": "plan PL1: 150.00 in 7 installments"})
    ]
    assert commands.plan("PL1") == plan


def test_a_second_plan_waits_for_the_first_and_an_open_promise_blocks_a_plan(commands, store):
    commands.create_plan("A1", 2, TODAY, 30, created_by="ops.ayse")
    with pytest.raises(DunningConflictError, match="plan PL1 is active"):
        commands.create_plan("A1", 2, TODAY, 30, created_by="ops.ayse")
    commands.create_promise("A3", Decimal("5.00"), TODAY, created_by="ops.ayse")
    with pytest.raises(DunningConflictError, match="an open promise exists"):
        commands.create_plan("A3", 2, TODAY, 30, created_by="ops.ayse")


def test_held_items_and_restructured_or_paid_items_stay_out_of_a_plan(commands, store):
    commands.create_hold("item", "INV-2", "disputed", created_by="ops.ayse")
    store.items["INV-5"] = item("INV-5", "70.00", date(2026, 10, 1), status="restructured")
    store.items["FEE-1"] = item("FEE-1", "5.00", date(2026, 10, 1), kind="fee")
    plan = commands.create_plan("A1", 1, TODAY, 30, created_by="ops.ayse")
    assert plan.restructured == {"INV-1": Decimal("100.00")} and plan.installments[0].amount == Decimal("100.00")


def test_a_subscription_hold_keeps_its_items_out_of_a_plan_until_it_ends(commands, store):
    commands.create_hold("subscription", "S1", "moved", account_id="A1", until=TODAY, created_by="ops.ayse")
    refused(lambda: commands.create_plan("A1", 1, TODAY, 30, created_by="ops.ayse"), None, "nothing overdue")
    commands._clock = FixedClock(TODAY + timedelta(days=1))  # the hold's last day has passed
    assert set(commands.create_plan("A1", 1, TODAY + timedelta(days=1), 30, created_by="ops.ayse").restructured) == {
        "INV-1",
        "INV-2",
    }


@pytest.mark.parametrize(
    ("installments", "first_due", "interval", "field"),
    [
        (0, TODAY, 30, "installments"),
        (13, TODAY, 30, "installments"),  # the default configuration allows 12
        (2, TODAY, 6, "interval_days"),
        (2, TODAY, 93, "interval_days"),
        (2, TODAY - timedelta(days=1), 30, "first_due_date"),
    ],
)
def test_plans_outside_the_configured_bounds_are_refused(commands, store, installments, first_due, interval, field):
    refused(lambda: commands.create_plan("A1", installments, first_due, interval, created_by="ops.ayse"), field)
    assert store.writes == 0


def test_plan_bounds_come_from_the_configuration_in_force(commands, store):
    looser = DEFAULT_CONFIG.model_copy(update={"version": 2, "plans": PlanSettings(max_installments=24)})
    store.configs[2], store.current = StoredConfig(looser, created_by="ops"), 2
    assert len(commands.create_plan("A1", 24, TODAY, 7, created_by="ops.ayse").installments) == 24


def test_a_plan_with_nothing_overdue_or_for_an_unknown_account_is_refused(commands):
    refused(
        lambda: commands.create_plan("A2", 2, TODAY, 30, created_by="ops.ayse"), None, "nothing overdue on 2026-11-24"
    )
    with pytest.raises(UnknownRecordError):
        commands.create_plan("A9", 2, TODAY, 30, created_by="ops.ayse")
    with pytest.raises(UnknownRecordError):
        commands.plan("NOPE")


def test_a_plan_that_cannot_fit_one_transaction_is_refused_with_the_room_left(commands, store):
    loose = DEFAULT_CONFIG.model_copy(update={"version": 2, "plans": PlanSettings(max_installments=120)})
    store.configs[2], store.current = StoredConfig(loose, created_by="ops"), 2
    for n in range(90):
        store.items[f"OLD-{n}"] = item(f"OLD-{n}", "1.00", date(2026, 1, 1))
    error = refused(
        lambda: commands.create_plan("A1", 20, TODAY, 30, created_by="ops.ayse"), "installments", "at most 100 records"
    )
    assert "at most 5 installments" in str(error)  # 92 overdue items + 5 + the plan, mirror, journal entry = 100
    assert len(commands.create_plan("A1", 5, TODAY, 30, created_by="ops.ayse").installments) == 5


def test_a_plan_too_small_to_split_is_refused(commands, store):
    store.add_account("A5", "C1", item("TINY", "0.05", date(2026, 10, 1), account_id="A5"))
    refused(lambda: commands.create_plan("A5", 6, TODAY, 30, created_by="ops.ayse"), "installments", "at least 0.01")


def test_a_payment_between_reading_and_writing_a_plan_is_a_conflict_and_changes_nothing(commands, store, events):
    original = store.account_items

    def paid_meanwhile(account_id):
        items = original(account_id)
        store.items["INV-1"] = dataclasses.replace(store.items["INV-1"], open_amount=Decimal("40.00"))
        return items

    store.account_items = paid_meanwhile
    with pytest.raises(DunningConflictError, match="INV-1 changed"):
        commands.create_plan("A1", 2, TODAY, 30, created_by="ops.ayse")
    assert store.plans == {} and store.items["INV-2"].status is None and events.events == []


# ---------------------------------------------------------------- collector tasks


def test_tasks_are_listed_most_urgent_first_per_status(commands, store):
    store.add_task("A1#1#call", priority="0002")
    store.add_task("A3#1#call", account_id="A3", priority="0001")
    store.add_task("A2#1#call", account_id="A2", priority="0000", status="claimed", claimed_by="x")
    assert [t.task_id for t in commands.tasks("retail")] == ["A3#1#call", "A1#1#call"]
    assert [t.task_id for t in commands.tasks("retail", "open", limit=1)] == ["A3#1#call"]
    assert [t.task_id for t in commands.tasks("retail", "claimed")] == ["A2#1#call"]
    assert commands.tasks("corporate") == []


def test_a_task_is_claimed_once(commands, store):
    store.add_task()
    claimed = commands.claim_task("A1#1#call", " agent.7 ")
    assert (claimed.status, claimed.claimed_by) == ("claimed", "agent.7") and store.task_records["A1#1#call"] == claimed
    with pytest.raises(DunningConflictError, match=r"claimed by agent\.7"):
        commands.claim_task("A1#1#call", "agent.9")
    with pytest.raises(UnknownRecordError):
        commands.claim_task("NOPE", "agent.7")
    refused(lambda: commands.claim_task("A1#1#call", ""), "collector")


def test_two_collectors_claiming_at_once_one_loses(commands, store):
    task = store.add_task()
    original = store.task

    def raced(task_id):
        found = original(task_id)
        store.task_records[task_id] = task.model_copy(update={"status": "claimed", "claimed_by": "agent.9"})
        return found

    store.task = raced
    with pytest.raises(DunningConflictError):
        commands.claim_task("A1#1#call", "agent.7")
    assert store.task_records["A1#1#call"].claimed_by == "agent.9"


@pytest.mark.parametrize("outcome", ["dispute", "no_answer", "wrong_number", "paid"])
def test_a_claimed_task_is_closed_with_its_outcome_and_the_account_reviewed(commands, store, events, outcome):
    store.add_task(status="claimed", claimed_by="agent.7")
    done, promise = commands.record_outcome("A1#1#call", outcome, note=" called at 10:00 ", by="agent.7")
    assert promise is None
    assert (done.status, done.outcome, done.note, done.closed_on) == ("done", outcome, "called at 10:00", TODAY)
    assert done.closed_by == "agent.7"
    assert store.task_records["A1#1#call"] == done
    assert events.events == [(REVIEW_REQUESTED, {"account_ids": ["A1"], "reason": f"task A1#1#call: {outcome}"})]


def test_a_supervisor_closing_a_collectors_task_is_named_as_the_one_who_closed_it(commands, store):
    store.add_task(status="claimed", claimed_by="agent.7")
    done, _ = commands.record_outcome("A1#1#call", "no_answer", by="supervisor.ece")
    assert (done.claimed_by, done.closed_by) == ("agent.7", "supervisor.ece")
    refused(lambda: commands.record_outcome("A1#1#call", "paid", by="  "), "by")


def test_a_promise_outcome_creates_the_promise_by_the_collector(commands, store, events):
    store.add_task(status="claimed", claimed_by="agent.7")
    done, promise = commands.record_outcome(
        "A1#1#call", "promise", promise=PromiseTerms(Decimal("150.00"), TODAY + timedelta(days=3)), by="agent.7"
    )
    assert done.outcome == "promise" and done.note is None
    assert promise is not None and promise.created_by == "agent.7" and promise.account_id == "A1"
    assert store.accounts["A1"].promise == promise and store.promises[promise.promise_id] == promise
    assert events.events[-1][1]["reason"] == f"task A1#1#call: promise ({promise.promise_id})"


def test_outcomes_need_a_claimed_task_and_a_promise_exactly_when_promised(commands, store):
    store.add_task()
    with pytest.raises(DunningConflictError, match="claim it first"):
        commands.record_outcome("A1#1#call", "paid", by="agent.7")
    store.add_task(status="claimed", claimed_by="agent.7")
    terms = PromiseTerms(Decimal("10.00"), TODAY)
    refused(lambda: commands.record_outcome("A1#1#call", "promise", by="agent.7"), "promise", "needs the promise")
    refused(lambda: commands.record_outcome("A1#1#call", "paid", promise=terms, by="agent.7"), "promise")
    refused(lambda: commands.record_outcome("A1#1#call", "hung_up", by="agent.7"), "outcome")  # type: ignore[arg-type]
    refused(lambda: commands.record_outcome("A1#1#call", "paid", note="", by="agent.7"), "note")
    refused(
        lambda: commands.record_outcome(
            "A1#1#call", "promise", promise=PromiseTerms(Decimal("1"), TODAY + timedelta(days=91)), by="agent.7"
        ),
        "date",
    )
    with pytest.raises(UnknownRecordError):
        commands.record_outcome("NOPE", "paid", by="agent.7")
    assert store.task_records["A1#1#call"].status == "claimed"

    commands.record_outcome("A1#1#call", "paid", by="agent.7")
    with pytest.raises(DunningConflictError, match="is done"):
        commands.record_outcome("A1#1#call", "paid", by="agent.7")


def test_a_promise_outcome_on_an_account_with_an_open_promise_leaves_the_task_claimed(commands, store):
    store.add_task(status="claimed", claimed_by="agent.7")
    commands.create_promise("A1", Decimal("10.00"), TODAY, created_by="ops.ayse")
    with pytest.raises(DunningConflictError, match="open promise"):
        commands.record_outcome("A1#1#call", "promise", promise=PromiseTerms(Decimal("20.00"), TODAY), by="ops.ayse")
    assert store.task_records["A1#1#call"].status == "claimed"


# ---------------------------------------------------------------- configuration


def document(**changes) -> dict:
    return DEFAULT_CONFIG.model_dump(mode="json") | changes


def test_the_shipped_configuration_is_version_one_until_another_is_published(commands):
    stored = commands.current_config()
    assert stored.config == DEFAULT_CONFIG and stored.created_by == "shipped" and stored.created_at is None
    assert commands.config_version(1).config == DEFAULT_CONFIG
    assert commands.dictionary() == (1, DEFAULT_CONFIG.dictionary)


def test_a_published_configuration_is_the_next_version_whatever_version_it_says(commands, store):
    stored = commands.publish_config(document(version=77, promise_grace_days=5), by="ops.lead")
    assert stored.config.version == 2 and stored.config.promise_grace_days == 5
    assert stored.created_by == "ops.lead" and stored.created_at is not None
    assert commands.current_config() == stored and commands.config_version(2) == stored
    without_version = document(promise_grace_days=3)
    without_version.pop("version")
    assert commands.publish_config(without_version, by="ops.ayse").config.version == 3
    assert commands.config_version(2) == stored and commands.dictionary()[0] == 3
    with pytest.raises(UnknownRecordError):
        commands.config_version(4)


def test_an_invalid_configuration_is_refused_with_every_problem_located(commands, store):
    bad = document()
    next(s for s in bad["segments"] if s["name"] == "standard")["strategy"] = "gentle"
    bad["promise_grace_days"] = -1
    with pytest.raises(InvalidConfigError) as caught:
        commands.publish_config(bad, by="ops.ayse")
    problems = caught.value.problems
    assert {"location": ["body", "promise_grace_days"], "type": "greater_than_equal"}.items() <= problems[0].items()
    assert len(problems) == 1  # field errors come first; the cross-checks run once the fields are valid
    bad["promise_grace_days"] = 2
    with pytest.raises(InvalidConfigError, match="segment 'standard': strategy 'gentle' does not exist"):
        commands.publish_config(bad, by="ops.ayse")
    refused(lambda: commands.publish_config(document(), by=""), "by")
    assert store.current is None


def test_two_editors_publishing_from_the_same_version_one_loses(commands, store):
    original = store.current_config

    def raced():
        found = original()
        store.configs[2], store.current = StoredConfig(DEFAULT_CONFIG.model_copy(update={"version": 2}), "other"), 2
        return found

    store.current_config = raced
    with pytest.raises(DunningConflictError):
        commands.publish_config(document(), by="ops.ayse")
    assert store.configs[2].created_by == "other"


def test_default_ids_are_prefixed_and_random():
    assert random_id("PL").startswith("PL") and len(random_id("PL")) == 14 and random_id("PL") != random_id("PL")


def test_a_dispute_holds_the_items_named_or_the_account_and_gives_the_supervisors_a_task(commands, store):
    store.add_task(status="claimed", claimed_by="agent.7")
    done, _ = commands.record_outcome(
        "A1#1#call", "dispute", note="never received INV-1", items=["INV-1"], by="agent.7"
    )
    assert done.outcome == "dispute"
    (hold,) = [h for h in store.holds.values() if h.reason == "dispute"]
    assert (hold.level, hold.target_id, hold.account_id, hold.created_by) == ("item", "INV-1", "A1", "agent.7")
    assert "raised on task A1#1#call" in hold.audit[0].what
    review = store.task_records[task_id_of("A1#1#call#dispute")]
    assert (review.group, review.status, review.step) == ("supervisors", "open", "dispute")
    assert "never received INV-1" in (review.explanation or "")

    store.add_task(status="claimed", claimed_by="agent.7")
    commands.record_outcome("A1#1#call", "dispute", by="agent.7")  # none named: the account is held
    assert any(h.level == "account" and h.target_id == "A1" and h.reason == "dispute" for h in store.holds.values())
    store.add_task(status="claimed", claimed_by="agent.7")
    with pytest.raises(DunningRequestError, match="items are named only with the dispute outcome"):
        commands.record_outcome("A1#1#call", "paid", items=["INV-1"], by="agent.7")
