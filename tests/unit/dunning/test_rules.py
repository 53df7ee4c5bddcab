from datetime import date
from decimal import Decimal

import pytest
from receivables.dunning import DEFAULT_CONFIG, RuleError, RuleEvaluationError, compile_rule
from receivables.dunning.dictionary import DEFAULT_DICTIONARY, FieldDefinition, FieldType


def rule(text):
    return compile_rule(text, DEFAULT_DICTIONARY)


def test_money_compares_exactly_as_decimal():
    big = rule("overdue_amount > 50000")
    assert big.matches({"overdue_amount": Decimal("50000.01")})
    assert not big.matches({"overdue_amount": Decimal("50000.00")})
    assert rule("balance == 0.1 + 0.2").matches({"balance": Decimal("0.30")})


def test_integers_and_booleans_are_facts_like_any_other():
    assert rule("days_overdue >= 30 and not vip").matches({"days_overdue": 31, "vip": False})


def test_the_fields_a_rule_reads_are_known():
    assert rule('customer_type == "corporate" and overdue_amount > 50000').fields == {"customer_type", "overdue_amount"}
    assert rule("true").fields == frozenset()


def test_extra_attributes_are_read_safely_when_missing():
    gold = rule('attributes&["tier"] == "gold"')
    assert gold.matches({"attributes": {"tier": "gold"}})
    assert not gold.matches({"attributes": {}})


def test_a_missing_attribute_read_unsafely_is_an_evaluation_error_naming_the_rule():
    strict = rule('attributes["tier"] == "gold"')
    with pytest.raises(RuleEvaluationError) as caught:
        strict.matches({"attributes": {}})
    assert caught.value.expression == 'attributes["tier"] == "gold"'


def test_a_nullable_score_must_be_discharged():
    with pytest.raises(RuleError, match="nullable"):
        rule("risk_score > 70")
    risky = rule("(risk_score ?? 0) > 70")
    assert risky.matches({"risk_score": 80}) and not risky.matches({"risk_score": None})


def test_errors_carry_the_expression_the_reason_and_the_field():
    with pytest.raises(RuleError) as caught:
        rule("overdue_amont > 5")
    error = caught.value
    assert (error.expression, error.field) == ("overdue_amont > 5", "overdue_amont")
    assert "did you mean 'overdue_amount'" in error.reason


def test_empty_and_oversized_rules_are_refused():
    with pytest.raises(RuleError, match="empty rule"):
        rule("  ")
    with pytest.raises(RuleError, match="longer than"):
        rule("true and " * 300 + "true")


def test_floats_never_reach_a_rule():
    with pytest.raises(TypeError, match="never floats"):
        rule("balance > 1").matches({"balance": 1.5})


def test_date_facts_are_compared_as_dates():
    since = compile_rule('d >= d"2026-01-01"', [FieldDefinition(name="d", type=FieldType.DATE, description="a date")])
    assert since.matches({"d": date(2026, 3, 1)}) and not since.matches({"d": date(2025, 12, 31)})


def test_configuration_rules_are_compiled_once_and_reused():
    assert DEFAULT_CONFIG.rule("vip == true") is DEFAULT_CONFIG.rule("vip == true")
