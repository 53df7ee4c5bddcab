"""Every decision explains itself, and the explanation is kept in a bounded form with what the decision changed:
the account's state (the latest), the step carried out (contact record, collector task), the cycle (stage changes)."""

from datetime import date

from receivables.dunning import DEFAULT_CONFIG, Action, DunningState, Hold, decide
from receivables.dunning.records import MAX_EXPLANATION_CHARS, ContactRecord, Explanation, StageChange, TaskRecord

from tests.unit.dunning.builders import account, day, paid, run


def test_the_decision_gives_its_explanation_as_stored_with_the_account():
    decision = decide(DEFAULT_CONFIG, account(), DunningState(), day(3))
    assert decision.explained() == Explanation(business_date=day(3), config_version=1, text=decision.explanation)
    assert decision.explained().model_dump(mode="json") == {
        "business_date": "2026-03-04",
        "config_version": 1,
        "text": "A1 on 2026-03-04 (config v1): overdue 150.00 TRY in 1 item(s), oldest due 2026-03-01, 3 days "
        "overdue; cycle 1 started: overdue reached 10.00; segment standard → strategy standard (champion); fired "
        "email (day 3, email, template reminder); next review 2026-03-11: step sms comes due",
    }


def test_a_stage_change_is_a_cycle_starting_or_ending_or_a_step_carried_out():
    acc = account()
    decisions = run(acc, [day(1), day(2), day(3), day(31)])
    started, quiet, email, suspend = decisions
    assert started.stage_change() == StageChange(
        business_date=day(1), config_version=1, text=started.explanation, event="started", step=None
    )
    assert quiet.stage_change() is None  # nothing changed: the explanation stays on the account only
    assert (email.stage_change().event, email.stage_change().step) == (None, "email")
    assert (suspend.stage_change().event, suspend.stage_change().step) == (None, "suspend")

    late = decide(DEFAULT_CONFIG, acc, DunningState(), day(25))  # first seen late: starts with the letter
    assert (late.stage_change().event, late.stage_change().step) == ("started", "letter")

    ended = decide(DEFAULT_CONFIG, paid(acc, "I1", "0"), suspend.state, day(32))
    assert (ended.stage_change().event, ended.stage_change().step) == ("ended", None)


def test_the_reconnect_at_the_end_of_a_cycle_says_why():
    acc = account()
    suspended = run(acc, [day(31)])[-1].state
    ended = decide(DEFAULT_CONFIG, paid(acc, "I1", "0"), suspended, day(32))
    assert [a.action for a in ended.actions] == [Action.RECONNECT]
    assert "cycle 1 ended: overdue is below 10.00; reconnect: the account was suspended in cycle 1" in (
        ended.explanation
    )
    not_suspended = decide(DEFAULT_CONFIG, paid(acc, "I1", "0"), run(acc, [day(3)])[-1].state, day(4))
    assert not_suspended.actions == () and "reconnect" not in not_suspended.explanation


def test_a_long_explanation_is_cut_to_a_bounded_length_wherever_it_is_kept():
    # Hold reasons go into the explanation; three of the longest make it well over the bound.
    holds = [Hold(reason=f"{n} " + "x" * 498) for n in range(3)]
    state = run(account(), [day(1)])[-1].state
    decision = decide(DEFAULT_CONFIG, account(), state, day(5), holds=holds)
    assert len(decision.explanation) > MAX_EXPLANATION_CHARS  # the decision itself keeps every word
    stored = decision.explained().text
    assert len(stored) == MAX_EXPLANATION_CHARS and stored.endswith("…")
    assert stored[:-1] == decision.explanation[: MAX_EXPLANATION_CHARS - 1]
    contact = ContactRecord(
        account_id="A1", cycle=1, step="email", date=day(5), config_version=1, explanation=decision.explanation
    )
    task = TaskRecord(
        task_id="T1",
        account_id="A1",
        customer_id="C1",
        group="retail",
        priority="p",
        overdue_amount="150.00",
        days_overdue=5,
        step="call",
        created_on=day(5),
        explanation=decision.explanation,
    )
    assert contact.explanation == task.explanation == stored
    change = StageChange(business_date=date(2026, 3, 6), config_version=1, text=decision.explanation, step="email")
    assert len(change.model_dump_json()) < 1.2 * MAX_EXPLANATION_CHARS


def test_records_stored_before_explanations_existed_still_read():
    old = '{"account_id":"A1","cycle":1,"step":"email","date":"2026-03-04","status":"sent","config_version":1}'
    assert ContactRecord.model_validate_json(old).explanation is None
