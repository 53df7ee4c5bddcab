"""Rules in a standard typed expression language (``rule-engine``), checked against the dictionary when written.

Each rule is compiled with a type resolver built from the dictionary, so an unknown field, a typo or a comparison of
a string with a number is refused when the configuration is saved, not discovered during a daily run. Numbers are
``Decimal`` inside rule-engine (its FLOAT type), so money compares exactly: ``overdue_amount > 50000``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import rule_engine
from rule_engine import DataType

from receivables.dunning.dictionary import FieldDefinition, FieldType

MAX_RULE_LENGTH = 2000  # rules arrive through the REST API; keep parsing cheap and bounded

_TYPES = {
    FieldType.STRING: DataType.STRING,
    FieldType.INTEGER: DataType.FLOAT,  # rule-engine has one numeric type, Decimal-based
    FieldType.DECIMAL: DataType.FLOAT,
    FieldType.BOOLEAN: DataType.BOOLEAN,
    FieldType.DATE: DataType.DATETIME,
    FieldType.MAPPING: DataType.MAPPING(DataType.STRING, DataType.STRING),
}
# One decimal context for every evaluation, whatever the calling thread's context is.
_DECIMAL_CONTEXT = decimal.Context(prec=34)


class RuleError(ValueError):
    """A rule that cannot be compiled or evaluated; says which expression and why."""

    def __init__(self, expression: str, reason: str, *, field: str | None = None) -> None:
        self.expression = expression
        self.reason = reason
        self.field = field
        super().__init__(f"rule {expression!r}: {reason}")


class RuleEvaluationError(RuleError):
    """A compiled rule that failed on one account's facts (e.g. a missing attribute key)."""


def _type_of(definition: FieldDefinition) -> Any:
    base = _TYPES[definition.type]
    return DataType.NULLABLE(base) if definition.nullable else base


def _reason(exc: rule_engine.EngineError) -> tuple[str, str | None]:
    if isinstance(exc, rule_engine.SymbolResolutionError):
        hint = f" (did you mean {exc.suggestion!r}?)" if exc.suggestion else ""
        return f"unknown field {exc.symbol_name!r}{hint}", exc.symbol_name
    if isinstance(exc, rule_engine.RuleSyntaxError):
        token = getattr(exc.token, "value", None)
        where = f" near {token!r}" if token is not None else " (incomplete expression)"
        return f"syntax error{where}", None
    message = getattr(exc, "message", None) or str(exc)
    return f"{message} (check the field types in the dictionary)", None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    expression: str
    fields: frozenset[str]  # the dictionary fields the rule reads
    _rule: rule_engine.Rule = field(repr=False, compare=False)

    def matches(self, facts: Mapping[str, Any]) -> bool:
        """Whether the facts satisfy the rule; RuleEvaluationError when they cannot be evaluated."""
        try:
            return bool(self._rule.evaluate(rule_values(facts, self.fields)))
        except rule_engine.EngineError as exc:
            message = getattr(exc, "message", None) or str(exc)
            raise RuleEvaluationError(self.expression, message) from exc


def compile_rule(expression: str, dictionary: Iterable[FieldDefinition]) -> CompiledRule:
    """Compile a true/false expression over the dictionary's fields, or raise RuleError naming what is wrong."""
    text = expression.strip()
    if not text:
        raise RuleError(expression, "empty rule (write true to match everything)")
    if len(text) > MAX_RULE_LENGTH:
        raise RuleError(expression, f"longer than {MAX_RULE_LENGTH} characters")
    types = {definition.name: _type_of(definition) for definition in dictionary}
    context = rule_engine.Context(
        type_resolver=rule_engine.type_resolver_from_dict(types),
        default_timezone="utc",  # never the host's local zone: a decision must not depend on where it runs
        decimal_context=_DECIMAL_CONTEXT,
        mapping_attribute_lookup=False,  # attributes["x"], not attributes.x (deprecated upstream)
    )
    try:
        rule = rule_engine.Rule(text, context=context)
    except rule_engine.EngineError as exc:
        reason, field_name = _reason(exc)
        raise RuleError(expression, reason, field=field_name) from exc
    result_type = rule.statement.expression.result_type
    if not (result_type is DataType.UNDEFINED or DataType.is_compatible(result_type, DataType.BOOLEAN)):
        raise RuleError(expression, f"must be a true/false expression, but it gives a {result_type.name.lower()}")
    return CompiledRule(text, frozenset(context.symbols), rule)


@functools.lru_cache(maxsize=4096)
def cached_rule(expression: str, dictionary: tuple[FieldDefinition, ...]) -> CompiledRule:
    """compile_rule, once per process for each (expression, dictionary): configurations are few and rarely change."""
    return compile_rule(expression, dictionary)


def rule_value(value: Any) -> Any:
    """A fact as rule-engine wants it: integers as Decimal, dates as UTC midnight datetimes."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, float):
        raise TypeError("facts are never floats: pass a Decimal")
    return value


def rule_values(facts: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: rule_value(facts[name]) for name in names if name in facts}
