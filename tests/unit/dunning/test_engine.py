"""Scenarios for every rule of the default configuration: Given an account and its history, When the daily run
decides, Then exactly the documented steps, skips, actions and outcomes follow."""

from datetime import date, timedelta
from decimal import Decimal

from receivables.dunning import (
    DEFAULT_CONFIG,
    Action,
    Channel,
    DunningConfig,
    DunningState,
    Hold,
    PlanFacts,
    PromiseFacts,
    decide,
)
from receivables.dunning.config import STANDARD_STRATEGY

from tests.unit.dunning.builders import DUE, account, day, fired, item, paid, run


def in_cycle_after(acc, *dates, **kwargs) -> DunningState:
    return run(acc, dates, **kwargs)[-1].state


# ------------------------------------------------------------------ cycle and steps


def test_an_account_dunned_daily_gets_each_step_on_its_day_and_nothing_twice():
    acc = account()
    decisions = run(acc, [day(n) for n in range(1, 70)])
    assert fired(decisions) == [
        (day(3), "email"),
        (day(10), "sms"),
        (day(20), "letter"),
        (day(30), "suspend"),
        (day(60), "legal_handoff"),
    ]
    assert decisions[0].cycle_event == "started" and decisions[0].state.cycle_started == day(1)
    assert not any(d.skipped for d in decisions)
    assert decisions[-1].state.summary() == {
        "stage": "legal_handoff",
        "strategy": "standard",
        "segment": "standard",
        "cycle_started": "2026-03-02",
    }
    assert [a.action for d in decisions for a in d.actions] == [Action.SUSPEND, Action.LEGAL_HANDOFF]


def test_an_account_first_seen_late_gets_only_the_latest_due_step():
    decision = decide(DEFAULT_CONFIG, account(), DunningState(), day(25))
    assert [f.step for f in decision.fired] == ["letter"]
    assert [(s.step, s.reason) for s in decision.skipped] == [
        ("email", "superseded by letter"),
        ("sms", "superseded by letter"),
    ]
    assert decision.state.fired == ("letter",) and decision.state.skipped == ("email", "sms")
    assert "email, sms superseded by letter; fired letter" in decision.explanation
    assert decision.next_review_on == day(30) and decision.next_review_reason == "step suspend comes due"


def test_a_run_repeated_on_the_same_day_does_nothing_more():
    first = decide(DEFAULT_CONFIG, account(), DunningState(), day(10))
    again = decide(DEFAULT_CONFIG, account(), first.state, day(10))
    assert [f.step for f in first.fired] == ["sms"] and again.fired == () and again.skipped == ()
    assert again.state == first.state


def test_a_rerun_with_the_old_state_decides_the_same_and_carries_the_same_idempotency_key():
    state = in_cycle_after(account(), day(1))
    one, two = (decide(DEFAULT_CONFIG, account(), state, day(3)) for _ in range(2))
    assert one == two and one.fired[0].idempotency_key == "A1#1#email"


def test_below_the_threshold_no_cycle_starts():
    decision = decide(DEFAULT_CONFIG, account(item(amount="9.99")), DunningState(), day(40))
    assert decision.state.cycle_started is None and decision.fired == ()
    assert decision.next_review_on is None


def test_nothing_is_overdue_on_the_due_date_itself():
    decision = decide(DEFAULT_CONFIG, account(), DunningState(), DUE)
    assert decision.state.cycle_started is None and decision.overdue_amount == 0
    assert decision.next_review_on == day(1) and decision.next_review_reason == "I1 becomes overdue"


def test_a_partial_payment_that_keeps_ten_overdue_keeps_the_cycle_going():
    acc = account()
    state = in_cycle_after(acc, day(1), day(3))
    after_payment = paid(acc, "I1", "10.00")
    decision = decide(DEFAULT_CONFIG, after_payment, state, day(10))
    assert decision.cycle_event is None and [f.step for f in decision.fired] == ["sms"]
    assert decision.overdue_amount == Decimal("10.00")


def test_a_partial_payment_below_ten_ends_the_cycle_without_reconnect():
    acc = account()
    state = in_cycle_after(acc, day(1), day(3))
    decision = decide(DEFAULT_CONFIG, paid(acc, "I1", "9.99"), state, day(10))
    assert decision.cycle_event == "ended" and decision.fired == () and decision.actions == ()
    assert decision.state.summary() == {
        "stage": None,
        "strategy": "standard",
        "segment": "standard",
        "cycle_started": None,
    }


def test_full_payment_after_suspension_ends_the_cycle_and_reconnects_the_same_day():
    acc = account()
    state = in_cycle_after(acc, *(day(n) for n in range(1, 32)))
    assert state.suspended_in_cycle and state.stage == "suspend"
    decision = decide(DEFAULT_CONFIG, paid(acc, "I1", "0.00"), state, day(32))
    assert decision.cycle_event == "ended"
    assert [(a.action, a.step, a.idempotency_key) for a in decision.actions] == [
        (Action.RECONNECT, None, "A1#1#cycle_end:reconnect")
    ]
    assert not decision.state.suspended_in_cycle and decision.state.cycle_number == 1
    assert decision.next_review_on is None


def test_a_later_overdue_starts_a_new_cycle_and_steps_fire_again():
    acc = account()
    state = in_cycle_after(acc, day(1), day(3), day(10))
    state = decide(DEFAULT_CONFIG, paid(acc, "I1", "0.00"), state, day(11)).state
    later = account(item("I1", "0.00"), item("I2", "80.00", due=day(40)))
    decisions = run(later, [day(n) for n in range(41, 51)], state=state)
    assert decisions[0].cycle_event == "started" and decisions[0].state.cycle_number == 2
    assert fired(decisions) == [(day(43), "email"), (day(50), "sms")]
    assert decisions[2].fired[0].idempotency_key == "A1#2#email"


def test_days_overdue_count_from_the_oldest_overdue_item():
    acc = account(item("I1", "5.00", due=DUE), item("I2", "50.00", due=day(5)))
    decision = decide(DEFAULT_CONFIG, acc, DunningState(), day(6))
    assert decision.days_overdue == 6 and decision.overdue_amount == Decimal("55.00")
    assert [f.step for f in decision.fired] == ["email"]


# ------------------------------------------------------------------ segments, channels


def test_vip_customers_are_exempt_but_their_segment_is_recorded():
    decisions = run(account(vip=True), [day(n) for n in range(1, 70)])
    assert fired(decisions) == []
    assert decisions[-1].state.summary() == {
        "stage": None,
        "strategy": None,
        "segment": "vip",
        "cycle_started": "2026-03-02",
    }
    assert "exempt" in decisions[-1].explanation and decisions[-1].next_review_on is None


def test_email_falls_back_to_sms_when_the_customer_has_no_email():
    decision = decide(DEFAULT_CONFIG, account(email=None), in_cycle_after(account(email=None), day(1)), day(3))
    (step,) = decision.fired
    assert (step.step, step.channel, step.fallback_used, step.to, step.template) == (
        "email",
        Channel.SMS,
        True,
        "+905551112233",
        "reminder",
    )


def test_an_opted_out_channel_falls_back_or_is_skipped_with_the_reason():
    opted = account(opted_out=frozenset({Channel.EMAIL}))
    assert decide(DEFAULT_CONFIG, opted, DunningState(), day(3)).fired[0].channel is Channel.SMS
    unreachable = account(email=None, opted_out=frozenset({Channel.SMS}))
    decisions = run(unreachable, [day(n) for n in range(3, 12)])
    assert [(s.step, s.reason) for s in decisions[0].skipped] == [
        ("email", "cannot reach the customer: customer has no e-mail address; fallback sms: customer opted out of sms")
    ]
    assert decisions[0].fired == () and decisions[0].state.stage is None
    assert fired(decisions) == []  # the sms step on day 10 is opted out too, and the e-mail is never retried
    assert decisions[-1].state.skipped == ("email", "sms")


def test_the_decision_never_puts_contact_details_in_the_explanation():
    decision = decide(DEFAULT_CONFIG, account(), DunningState(), day(3))
    assert "ayse@example.com" not in decision.explanation and "+90555" not in decision.explanation


def test_a_call_task_goes_to_the_collector_group_its_rules_pick():
    strategy = STANDARD_STRATEGY.model_copy(
        update={
            "steps": (
                *STANDARD_STRATEGY.steps[:1],
                STANDARD_STRATEGY.steps[1].model_copy(update={"channel": Channel.CALL_TASK}),
            )
        }
    )
    config = DEFAULT_CONFIG.model_copy(update={"version": 2, "strategies": (strategy,)})
    big = account(item(amount="60000.00"), customer_type="corporate")
    decision = decide(config, big, DunningState(), day(10))
    (task,) = decision.fired
    assert (task.step, task.channel, task.collector_group) == ("sms", Channel.CALL_TASK, "corporate")
    assert task.priority is not None


def test_a_step_condition_keeps_the_step_waiting_until_it_holds():
    data = DEFAULT_CONFIG.model_dump(mode="json")
    data["strategies"][0]["steps"][1]["condition"] = 'language == "en"'
    data["strategies"][0]["steps"][2]["min_overdue_amount"] = "500.00"
    config = DunningConfig.model_validate(data | {"version": 2})
    decisions = run(account(), [day(n) for n in range(1, 31)], config=config)
    # sms waits on its condition, the letter on its minimum amount; the suspension supersedes both
    assert fired(decisions) == [(day(3), "email"), (day(30), "suspend")]
    assert [(s.step, s.reason) for s in decisions[-1].skipped] == [
        ("sms", "superseded by suspend"),
        ("letter", "superseded by suspend"),
    ]
    assert "step sms waits: its condition is not met" in decisions[15].explanation


# ------------------------------------------------------------------ holds


def test_an_account_hold_stops_steps_until_it_expires_then_only_the_latest_fires():
    acc = account()
    hold = Hold(reason="dispute", until=day(20))
    state = in_cycle_after(acc, day(1), day(3))
    decisions = run(acc, [day(n) for n in range(4, 23)], state=state, holds=[hold])
    held = decisions[:17]  # days 4..20
    assert all(d.fired == () for d in held)
    assert "on hold (account hold: dispute until 2026-03-21)" in held[6].explanation
    assert held[6].next_review_on == day(21) and held[6].next_review_reason == "account hold ends"
    assert fired(decisions) == [(day(21), "letter")]
    assert [s.step for s in decisions[17].skipped] == ["sms"]


def test_no_cycle_starts_while_the_account_is_held():
    decision = decide(DEFAULT_CONFIG, account(), DunningState(), day(5), holds=[Hold(level="customer", reason="x")])
    assert decision.state.cycle_started is None and decision.next_review_on is None


def test_a_held_account_that_pays_is_still_reconnected():
    acc = account()
    state = in_cycle_after(acc, *(day(n) for n in range(1, 32)))
    decision = decide(DEFAULT_CONFIG, paid(acc, "I1", "0"), state, day(33), holds=[Hold(reason="x")])
    assert [a.action for a in decision.actions] == [Action.RECONNECT]


def test_a_held_item_is_left_out_of_the_overdue_amount_and_days():
    acc = account(item("I1", "500.00", due=DUE, held=True), item("I2", "40.00", due=day(7)))
    decision = decide(DEFAULT_CONFIG, acc, DunningState(), day(10))
    assert decision.overdue_amount == Decimal("40.00") and decision.days_overdue == 3
    assert [f.step for f in decision.fired] == ["email"]
    only_held = account(item("I1", "500.00", due=DUE, held=True, hold_until=day(14)))
    decision = decide(DEFAULT_CONFIG, only_held, DunningState(), day(10))
    assert decision.state.cycle_started is None
    assert decision.next_review_on == day(15) and decision.next_review_reason == "hold on I1 ends"
    after = decide(DEFAULT_CONFIG, only_held, decision.state, day(15))
    assert [f.step for f in after.fired] == ["sms"] and [s.step for s in after.skipped] == ["email"]


# ------------------------------------------------------------------ promises


def promise(amount="150.00", paid_since="0.00"):
    """A promise made on day 5 to pay on day 12."""
    return PromiseFacts(amount=Decimal(amount), date=day(12), created_on=day(5), paid_since_promise=Decimal(paid_since))


def test_a_promise_pauses_the_cycle_until_its_date_plus_grace():
    acc = account()
    state = in_cycle_after(acc, day(1), day(3))
    decisions = run(acc, [day(n) for n in range(5, 15)], state=state, promise=promise())
    assert fired(decisions) == []  # sms was due on day 10, but the promise (day 12 + 2) holds it back
    assert all(d.promise_outcome is None for d in decisions)
    assert decisions[0].next_review_on == day(15) and "promise to pay" in decisions[0].next_review_reason
    assert "dunning paused until 2026-03-15" in decisions[-1].explanation


def test_a_broken_promise_resumes_the_cycle_and_the_latest_due_step_fires_on_that_run():
    acc = account()
    state = in_cycle_after(acc, day(1), day(3))
    state = run(acc, [day(n) for n in range(5, 15)], state=state, promise=promise())[-1].state
    decision = decide(DEFAULT_CONFIG, acc, state, day(21), promise=promise(paid_since="100.00"))
    assert decision.promise_outcome == "broken"
    assert [f.step for f in decision.fired] == ["letter"] and [s.step for s in decision.skipped] == ["sms"]
    first_day = decide(DEFAULT_CONFIG, acc, state, day(15), promise=promise())
    assert first_day.promise_outcome == "broken" and [f.step for f in first_day.fired] == ["sms"]


def test_a_kept_promise_is_closed_and_a_paid_account_leaves_its_cycle():
    acc = account()
    state = in_cycle_after(acc, day(1), day(3))
    decision = decide(DEFAULT_CONFIG, paid(acc, "I1", "0"), state, day(12), promise=promise(paid_since="150.00"))
    assert decision.promise_outcome == "kept" and decision.cycle_event == "ended" and decision.fired == ()


def test_a_kept_promise_for_part_of_the_debt_lets_dunning_resume_on_the_rest():
    acc = account()
    state = in_cycle_after(acc, day(1), day(3))
    rest = paid(acc, "I1", "50.00")
    decision = decide(DEFAULT_CONFIG, rest, state, day(12), promise=promise("100.00", paid_since="100.00"))
    assert decision.promise_outcome == "kept" and [f.step for f in decision.fired] == ["sms"]


# ------------------------------------------------------------------ installment plans


def planned_account(p1_open="100.00"):
    return account(
        item("I1", "150.00", status="restructured"),
        item("OTHER", "50.00", due=day(2)),  # a later bill, outside the plan
        item("P1", p1_open, due=day(31)),
        item("P2", "50.00", due=day(61)),
    )


PLAN = PlanFacts(plan_id="PL1", installment_item_ids=("P1", "P2"))


def test_a_kept_plan_pauses_dunning_until_an_installment_is_missed():
    state = in_cycle_after(account(), day(1), day(3))
    decisions = run(planned_account(), [day(n) for n in range(4, 32)], state=state, plan=PLAN)
    assert fired(decisions) == []
    assert all(d.plan_outcome is None for d in decisions)
    assert "installment plan active and kept: dunning paused" in decisions[0].explanation
    assert decisions[-1].next_review_on == day(32) and decisions[-1].next_review_reason == "P1 becomes overdue"


def test_a_missed_installment_breaks_the_plan_and_dunning_resumes_on_what_is_open_that_day():
    state = in_cycle_after(account(), day(1), day(3))
    state = run(planned_account(), [day(n) for n in range(4, 32)], state=state, plan=PLAN)[-1].state
    decision = decide(DEFAULT_CONFIG, planned_account(), state, day(32), plan=PLAN)
    assert decision.plan_outcome == "broken" and "P1 due 2026-04-01 is unpaid" in decision.explanation
    assert decision.overdue_amount == Decimal("150.00")  # OTHER + P1; the restructured item is closed
    assert decision.days_overdue == 30  # from OTHER, due on day 2
    assert [f.step for f in decision.fired] == ["suspend"]
    assert [s.step for s in decision.skipped] == ["sms", "letter"]


def test_a_paid_installment_keeps_the_plan_and_the_last_completes_it():
    state = in_cycle_after(account(), day(1), day(3))
    on_time = decide(DEFAULT_CONFIG, planned_account(p1_open="0.00"), state, day(32), plan=PLAN)
    assert on_time.plan_outcome is None and on_time.fired == ()
    done = account(item("P1", "0.00", due=day(31)), item("P2", "0.00", due=day(61)))
    assert decide(DEFAULT_CONFIG, done, DunningState(), day(62), plan=PLAN).plan_outcome == "completed"


# ------------------------------------------------------------------ business days


def test_business_day_offsets_skip_republic_day_and_the_weekend():
    data = DEFAULT_CONFIG.model_dump(mode="json")
    data["strategies"][0]["business_days"] = True
    data["strategies"][0]["steps"][1]["offset_days"] = 4
    config = DunningConfig.model_validate(data | {"version": 3})
    due = date(2026, 10, 26)  # Monday; Thursday the 29th is Republic Day
    acc = account(item(due=due))
    decisions = run(acc, [due + timedelta(days=n) for n in range(1, 9)], config=config)
    assert fired(decisions) == [(date(2026, 10, 30), "email"), (date(2026, 11, 2), "sms")]
    assert decisions[0].next_review_on == date(2026, 10, 30)
    assert decisions[4].next_review_on == date(2026, 11, 2)  # after the weekend, not on it
    assert "3 business days overdue" in decisions[4].explanation


# ------------------------------------------------------------------ champion–challenger


def challenged(percent=20, version=1, experiment=""):
    data = DEFAULT_CONFIG.model_dump(mode="json")
    gentle = {**data["strategies"][0], "id": "gentle", "steps": data["strategies"][0]["steps"][:3]}
    data["strategies"].append(gentle)
    standard = next(s for s in data["segments"] if s["name"] == "standard")
    standard["challenger"] = {"strategy": "gentle", "percent": percent, "experiment": experiment}
    return DunningConfig.model_validate(data | {"version": version})


def test_the_challenger_share_matches_its_percent_and_is_stable():
    config = challenged(percent=20)
    ids = [f"ACC-{n:05d}" for n in range(1000)]
    arms = {i: decide(config, account(account_id=i), DunningState(), day(1)).state.arm for i in ids}
    share = sum(arm == "challenger" for arm in arms.values())
    assert 160 <= share <= 240
    assert all(decide(config, account(account_id=i), DunningState(), day(1)).state.arm == arms[i] for i in ids[:100])
    challenger = next(i for i in ids if arms[i] == "challenger")
    assert decide(config, account(account_id=challenger), DunningState(), day(1)).state.strategy == "gentle"


def arms_of(config, ids):
    return {i: decide(config, account(account_id=i), DunningState(), day(1)).state.arm for i in ids}


def test_an_unrelated_publish_never_reshuffles_the_arms_a_wider_challenger_keeps_its_accounts():
    ids = [f"ACC-{n:05d}" for n in range(300)]
    v1, v7 = arms_of(challenged(percent=20, version=1), ids), arms_of(challenged(percent=20, version=7), ids)
    assert v1 == v7  # the configuration's version is not part of the draw
    wider = arms_of(challenged(percent=40, version=8), ids)
    assert all(wider[i] == "challenger" for i in ids if v1[i] == "challenger")
    # A new experiment on the segment draws the arms afresh.
    assert arms_of(challenged(percent=20, version=9, experiment="2027-q1"), ids) != v1


def test_the_arm_never_flips_within_a_cycle_even_when_the_experiment_is_redrawn():
    v1, v2 = challenged(percent=50, version=1), challenged(percent=50, version=2, experiment="again")
    ids = [f"ACC-{n:05d}" for n in range(200)]
    flipping = next(
        i
        for i in ids
        if decide(v1, account(account_id=i), DunningState(), day(1)).state.arm
        != decide(v2, account(account_id=i), DunningState(), day(1)).state.arm
    )
    acc = account(account_id=flipping)
    state = decide(v1, acc, DunningState(), day(1)).state
    later = decide(v2, acc, state, day(3))
    assert later.state.arm == state.arm and later.state.config_version == 2 and later.config_version == 2


def test_a_percent_of_zero_or_a_hundred_puts_everyone_in_one_arm():
    ids = [f"ACC-{n}" for n in range(50)]
    for percent, arm in ((0, "champion"), (100, "challenger")):
        config = challenged(percent=percent)
        assert {decide(config, account(account_id=i), DunningState(), day(1)).state.arm for i in ids} == {arm}


# ------------------------------------------------------------------ next review


def test_next_review_is_the_earliest_of_step_item_and_promise_dates():
    acc = account(item("I1", "150.00"), item("I2", "80.00", due=day(6)))
    decision = decide(DEFAULT_CONFIG, acc, DunningState(), day(3))
    assert decision.next_review_on == day(7) and decision.next_review_reason == "I2 becomes overdue"
    after_all_steps = run(account(), [day(n) for n in range(1, 61)])[-1]
    assert after_all_steps.next_review_on is None and after_all_steps.explanation.endswith("nothing further scheduled")


def test_a_segment_rule_over_days_overdue_means_a_daily_review():
    data = DEFAULT_CONFIG.model_dump(mode="json")
    data["segments"].insert(1, {"name": "fresh", "rule": "days_overdue < 5", "strategy": None})
    config = DunningConfig.model_validate(data | {"version": 4})
    decisions = run(account(), [day(1), day(2)], config=config)
    assert decisions[1].state.segment == "fresh" and decisions[1].next_review_on == day(3)
    assert [f.step for f in decide(config, account(), decisions[1].state, day(5)).fired] == ["email"]


def test_the_explanation_names_the_config_version_and_the_reasons():
    decision = decide(DEFAULT_CONFIG, account(), DunningState(), day(25))
    assert decision.explanation.startswith("A1 on 2026-03-26 (config v1): overdue 150.00 TRY in 1 item(s)")
    assert "fired letter (day 20, letter, template formal_notice)" in decision.explanation
    assert decision.config_version == 1 and decision.state.config_version == 1


def test_an_item_with_the_bank_for_collection_is_not_dunned_until_the_answer():
    pending = account(item(collection_pending=True), autopay_method="card")
    assert fired(run(pending, [day(n) for n in range(1, 12)])) == []
    # The bank declined it (not pending any more): dunning takes it from there, the latest due step only.
    declined = account(item(), autopay_method="card")
    decision = decide(DEFAULT_CONFIG, declined, DunningState(), day(11))
    assert [f.step for f in decision.fired] == ["sms"]


def test_auto_pay_and_mandates_are_facts_segment_rules_can_use():
    from receivables.dunning.engine import build_facts

    acc = account(item(collection_pending=True), autopay_method="card", has_mandate=False)
    facts = build_facts(acc, overdue_amount=Decimal(0), days_overdue=0, open_promise=False)
    assert (facts["autopay_method"], facts["has_mandate"], facts["collection_pending"]) == ("card", False, True)


# ------------------------------------------------------------------ letters and postal addresses


def test_a_letter_goes_to_the_postal_address_and_is_skipped_without_one():
    addressed = account(postal_address=("Moda Cad. 5", "34710 Kadıköy / İstanbul"), postal_address_known=True)
    decision = decide(DEFAULT_CONFIG, addressed, DunningState(), day(25))
    assert [(f.step, f.to) for f in decision.fired] == [("letter", "Moda Cad. 5, 34710 Kadıköy / İstanbul")]

    nowhere = account(postal_address_known=True)
    decision = decide(DEFAULT_CONFIG, nowhere, DunningState(), day(25))
    assert decision.fired == ()
    assert ("letter", "cannot reach the customer: customer has no postal address") in [
        (s.step, s.reason) for s in decision.skipped
    ]

    # Master data that never carried addresses says nothing: the letter is printed as it always was.
    decision = decide(DEFAULT_CONFIG, account(), DunningState(), day(25))
    assert [f.step for f in decision.fired] == ["letter"]


def test_a_letter_without_an_address_falls_back_as_the_strategy_says():
    steps = [
        s.model_copy(update={"fallback_channel": Channel.EMAIL}) if s.name == "letter" else s
        for s in STANDARD_STRATEGY.steps
    ]
    strategy = STANDARD_STRATEGY.model_copy(update={"steps": tuple(steps)})
    config = DEFAULT_CONFIG.model_copy(update={"strategies": (strategy, *DEFAULT_CONFIG.strategies[1:])})
    acc = account(postal_address_known=True, email="ayse@example.com")
    decision = decide(config, acc, DunningState(), day(25))
    assert [(f.step, f.channel, f.fallback_used) for f in decision.fired] == [("letter", Channel.EMAIL, True)]
