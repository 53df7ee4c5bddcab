import pytest
from pydantic import ValidationError
from receivables.dunning import DEFAULT_CONFIG, DunningConfig
from receivables.dunning.config import STANDARD_STRATEGY, Action, Channel, Step, Strategy
from receivables.dunning.dictionary import DEFAULT_DICTIONARY


def config_with(**changes):
    """The default configuration as JSON-ready data, with some parts replaced: what the REST API would receive."""
    data = DEFAULT_CONFIG.model_dump(mode="json")
    data.update(changes)
    return data


def rejected(data) -> str:
    with pytest.raises(ValidationError) as caught:
        DunningConfig.model_validate(data)
    return str(caught.value)


def test_the_shipped_default_is_the_documented_contract():
    steps = [(s.name, s.offset_days, s.channel, s.action, s.template) for s in STANDARD_STRATEGY.steps]
    assert steps == [
        ("email", 3, Channel.EMAIL, None, "reminder"),
        ("sms", 10, Channel.SMS, None, "second_reminder"),
        ("letter", 20, Channel.LETTER, None, "formal_notice"),
        ("suspend", 30, None, Action.SUSPEND, None),
        ("legal_handoff", 60, None, Action.LEGAL_HANDOFF, None),
    ]
    assert STANDARD_STRATEGY.steps[0].fallback_channel is Channel.SMS
    assert [(s.name, s.rule, s.strategy) for s in DEFAULT_CONFIG.segments] == [
        ("vip", "vip == true", None),
        ("reinsurance", 'account_type == "reinsurance"', None),
        ("agency", 'account_type == "agency"', "agency_account"),
        ("life_policies", 'has_policies and policy_branch == "life"', "policy_warning_life"),
        ("policies", "has_policies", "policy_warning"),
        ("standard", "true", "standard"),
    ]
    # TTK 1434 as commonly read: a notice on day 5 with 10 days to pay (30 for life), cancellation the day after.
    warning = {s.id: s for s in DEFAULT_CONFIG.strategies}["policy_warning"]
    assert [(s.name, s.offset_days, s.notice_days) for s in warning.steps] == [
        ("reminder", 1, None),
        ("notice", 5, 10),
        ("cancel_policy", 16, None),
    ]
    assert {s.id: s for s in DEFAULT_CONFIG.strategies}["policy_warning_life"].steps[1].notice_days == 30
    assert [g.name for g in DEFAULT_CONFIG.collector_groups] == ["corporate", "retail"]
    assert str(DEFAULT_CONFIG.cycle_threshold) == "10.00" and DEFAULT_CONFIG.promise_grace_days == 2


def test_a_configuration_round_trips_through_json_unchanged():
    data = DEFAULT_CONFIG.model_dump(mode="json")
    assert data["cycle_threshold"] == "10.00"
    assert data["quiet_hours"] == {"start": "21:00", "end": "09:00", "timezone": "Europe/Istanbul"}
    assert DunningConfig.model_validate_json(DEFAULT_CONFIG.model_dump_json()) == DEFAULT_CONFIG


def test_the_dictionary_is_published_with_every_documented_field():
    names = {f.name for f in DEFAULT_CONFIG.dictionary}
    assert names == {
        "customer_type",
        "city",
        "language",
        "vip",
        "risk_score",
        "attributes",
        "account_type",
        "currency",
        "balance",
        "overdue_amount",
        "days_overdue",
        "late_payments_12m",
        "open_promise",
        "broken_promises_12m",
        "customer_id",
        "account_id",
        "has_policies",
        "policy_branch",
        "notice_expired",
        "autopay_method",
        "has_mandate",
        "collection_pending",
    }
    assert all(f.description for f in DEFAULT_DICTIONARY)


def test_a_segment_naming_a_strategy_that_does_not_exist_is_refused():
    segments = [{"name": "all", "rule": "true", "strategy": "gentle"}]
    assert "segment 'all': strategy 'gentle' does not exist" in rejected(config_with(segments=segments))


def test_a_challenger_naming_a_strategy_that_does_not_exist_is_refused():
    segments = [{"name": "all", "rule": "true", "strategy": "standard", "challenger": {"strategy": "x", "percent": 5}}]
    assert "challenger strategy 'x' does not exist" in rejected(config_with(segments=segments))


def test_a_rule_with_a_syntax_error_is_refused_naming_the_segment():
    segments = [
        {"name": "broken", "rule": "vip == (true", "strategy": None},
        {"name": "rest", "rule": "true", "strategy": None},
    ]
    message = rejected(config_with(segments=segments))
    assert "segment 'broken': rule 'vip == (true' is invalid" in message and "syntax error" in message


def test_an_unknown_field_is_refused_naming_the_segment_and_the_field():
    segments = [{"name": "gold", "rule": "vipp == true", "strategy": "standard"}]
    message = rejected(config_with(segments=segments))
    assert "segment 'gold'" in message
    assert "unknown field 'vipp'" in message and "did you mean 'vip'" in message


def test_a_comparison_of_the_wrong_type_is_refused():
    segments = [{"name": "odd", "rule": "customer_type > 3", "strategy": "standard"}]
    message = rejected(config_with(segments=segments))
    assert "segment 'odd'" in message and "data type mismatch" in message


def test_a_rule_that_is_not_true_or_false_is_refused():
    segments = [{"name": "odd", "rule": "overdue_amount", "strategy": "standard"}]
    assert "must be a true/false expression" in rejected(config_with(segments=segments))


def test_step_conditions_and_collector_group_rules_are_checked_too():
    strategy = STANDARD_STRATEGY.model_dump(mode="json")
    strategy["steps"][1]["condition"] = "languge == 'en'"
    groups = [{"name": "big", "rule": "overdue_amount > 'lots'"}]
    message = rejected(config_with(strategies=[strategy], collector_groups=groups))
    assert "strategy 'standard' step 'sms': condition" in message and "unknown field 'languge'" in message
    assert "collector group 'big'" in message


def test_duplicate_step_names_are_refused():
    with pytest.raises(ValidationError, match="duplicate step names email"):
        Strategy(
            id="twice",
            steps=(
                Step(name="email", offset_days=3, channel=Channel.EMAIL, template="reminder"),
                Step(name="email", offset_days=5, channel=Channel.EMAIL, template="reminder"),
            ),
        )


def test_offsets_may_not_go_backwards():
    with pytest.raises(ValidationError, match="offsets must not decrease"):
        Strategy(
            id="back",
            steps=(
                Step(name="late", offset_days=10, action=Action.SUSPEND),
                Step(name="early", offset_days=3, channel=Channel.SMS, template="t"),
            ),
        )


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"name": "x", "offset_days": 1}, "exactly one of channel or action"),
        ({"name": "x", "offset_days": 1, "channel": "sms", "action": "suspend"}, "exactly one of channel or action"),
        ({"name": "x", "offset_days": 1, "channel": "email"}, "needs a template"),
        ({"name": "x", "offset_days": 1, "channel": "call_task", "fallback_channel": "sms"}, "needs a template"),
        ({"name": "x", "offset_days": 1, "channel": "sms", "template": "t", "fallback_channel": "sms"}, "the same"),
        ({"name": "x", "offset_days": -1, "action": "suspend"}, "greater than or equal to 0"),
        ({"name": "x#1", "offset_days": 1, "action": "suspend"}, "should match pattern"),
    ],
)
def test_malformed_steps_are_refused(step, message):
    with pytest.raises(ValidationError, match=message):
        Step.model_validate(step)


def test_segments_after_a_catch_all_can_never_match_and_are_refused():
    segments = [
        {"name": "everyone", "rule": "true", "strategy": "standard"},
        {"name": "vip", "rule": "vip == true", "strategy": None},
    ]
    assert "segment 'vip': can never match" in rejected(config_with(segments=segments))


def test_the_dictionary_may_only_describe_facts_the_engine_provides():
    dictionary = [
        *DEFAULT_CONFIG.model_dump(mode="json")["dictionary"],
        {"name": "shoe_size", "type": "integer", "description": "?"},
    ]
    assert "'shoe_size': not a fact the engine provides" in rejected(config_with(dictionary=dictionary))
    retyped = [
        {**f, "type": "string"} if f["name"] == "vip" else f
        for f in DEFAULT_CONFIG.model_dump(mode="json")["dictionary"]
    ]
    assert "'vip': the engine provides a boolean, not string" in rejected(config_with(dictionary=retyped))


def test_a_rule_may_only_use_the_fields_the_configured_dictionary_lists():
    dictionary = [f for f in DEFAULT_CONFIG.model_dump(mode="json")["dictionary"] if f["name"] != "city"]
    segments = [{"name": "ankara", "rule": 'city == "Ankara"', "strategy": "standard"}]
    assert "unknown field 'city'" in rejected(config_with(dictionary=dictionary, segments=segments))


def test_every_problem_is_reported_at_once():
    segments = [
        {"name": "a", "rule": "vipp", "strategy": "nope"},
        {"name": "a", "rule": "true", "strategy": None},
    ]
    message = rejected(config_with(segments=segments))
    assert "duplicate segment name 'a'" in message
    assert "strategy 'nope' does not exist" in message and "unknown field 'vipp'" in message


def test_quiet_hours_need_a_real_time_zone():
    assert "unknown IANA time zone" in rejected(
        config_with(quiet_hours={"start": "21:00", "end": "09:00", "timezone": "Mars/Olympus"})
    )
