"""Dunning configuration as data: strategies, segments, collector groups and the fact dictionary, versioned.

A configuration is validated as a whole when it is written (the REST API stores only what passes): every strategy a
segment names exists, step names are unique and offsets never go backwards, and every rule compiles against the
dictionary's types. The compiled rules are kept on the instance, so a daily run never parses an expression twice.
``DEFAULT_CONFIG`` is the shipped contract that ``simulate`` and the tests rely on.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator, model_validator

from receivables.domain.ledger import Money
from receivables.dunning.dictionary import DEFAULT_DICTIONARY, FACT_FIELDS, FieldDefinition, FieldType
from receivables.dunning.rules import CompiledRule, RuleError, cached_rule

__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_DICTIONARY",
    "Action",
    "Challenger",
    "Channel",
    "CollectorGroup",
    "DunningConfig",
    "FieldDefinition",
    "FieldType",
    "PlanSettings",
    "QuietHours",
    "Segment",
    "Step",
    "Strategy",
]

# Names become parts of idempotency keys (account#cycle#step) and DynamoDB keys: no '#', ':' or spaces.
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
ClockTime = Annotated[dt.time, PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str, when_used="json")]


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"
    CALL_TASK = "call_task"
    IVR = "ivr"


class Action(StrEnum):
    SUSPEND = "suspend"
    RECONNECT = "reconnect"
    LEGAL_HANDOFF = "legal_handoff"
    CANCEL_POLICY = "cancel_policy"
    EXCEPTION_REPORT = "exception_report"  # an agency's arrears go on the exceptions report for a person


TEMPLATED_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS, Channel.LETTER})


class Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Name
    offset_days: int = Field(ge=0, le=3650)
    channel: Channel | None = None
    action: Action | None = None
    template: Name | None = None
    fallback_channel: Channel | None = None  # used when the customer cannot be reached on ``channel``
    condition: str | None = None  # a rule over the dictionary; the step waits while it is false
    min_overdue_amount: Money = Field(default=Decimal("0.00"), ge=0)
    # A legal notice (ihtar): it demands what is overdue when it goes out, by its date + notice_days (a payment on
    # the deadline still counts); a later step with the condition ``notice_expired`` acts once that has passed.
    notice_days: int | None = Field(default=None, ge=1, le=365)

    @model_validator(mode="after")
    def _channel_or_action(self) -> Step:
        if (self.channel is None) == (self.action is None):
            raise ValueError(f"step {self.name!r}: give exactly one of channel or action")
        if self.action is not None and (self.template or self.fallback_channel):
            raise ValueError(f"step {self.name!r}: an action step has no template or fallback_channel")
        if self.channel in TEMPLATED_CHANNELS and not self.template:
            raise ValueError(f"step {self.name!r}: channel {self.channel} needs a template")
        if self.notice_days is not None and self.channel not in (Channel.LETTER, Channel.EMAIL):
            raise ValueError(f"step {self.name!r}: a notice (notice_days) goes out as a letter or an e-mail")
        if self.fallback_channel is not None:
            if self.fallback_channel == self.channel:
                raise ValueError(f"step {self.name!r}: fallback_channel is the same as channel")
            if self.fallback_channel in TEMPLATED_CHANNELS and not self.template:
                raise ValueError(f"step {self.name!r}: fallback_channel {self.fallback_channel} needs a template")
        return self

    @property
    def kind(self) -> str:
        return str(self.channel or self.action)


class Strategy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: Name
    description: str = ""
    steps: tuple[Step, ...] = Field(min_length=1)
    # Count offsets in Turkish business days (no weekends, no public holidays) instead of calendar days.
    business_days: bool = False

    @model_validator(mode="after")
    def _ordered_unique_steps(self) -> Strategy:
        duplicates = sorted(name for name, n in Counter(s.name for s in self.steps).items() if n > 1)
        if duplicates:
            raise ValueError(f"strategy {self.id!r}: duplicate step names {', '.join(duplicates)}")
        for before, after in zip(self.steps, self.steps[1:], strict=False):
            if after.offset_days < before.offset_days:
                raise ValueError(
                    f"strategy {self.id!r}: step {after.name!r} (day {after.offset_days}) comes after "
                    f"{before.name!r} (day {before.offset_days}); offsets must not decrease"
                )
        return self

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)


class Challenger(BaseModel):
    """A share of a segment's accounts that gets another strategy (``None``: a no-dunning control group)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    strategy: Name | None
    percent: int = Field(ge=0, le=100)
    # Names the experiment the arms are drawn for: accounts keep their arm across publishes of anything else;
    # renaming it draws them afresh (a new test on the same segment).
    experiment: str = Field(default="", max_length=64)


class Segment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Name
    description: str = ""
    rule: str
    strategy: Name | None  # None: the segment is exempt from dunning
    challenger: Challenger | None = None


class Collector(BaseModel):
    """A person of a collector group: the tasks of the group go to its collectors by round-robin, each up to its
    ``capacity`` of open tasks; an account keeps its collector while its cycle lasts."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1, max_length=128, pattern=r"^[^\s#]+$")  # the person's user name (their actor)
    capacity: int = Field(default=50, ge=1, le=10_000)


class CollectorGroup(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Name
    description: str = ""
    rule: str
    collectors: tuple[Collector, ...] = ()  # none: the group's tasks wait in its queue for whoever claims them


class QuietHours(BaseModel):
    """SMS are not sent between ``start`` and ``end`` local time; they are deferred to ``end``, never dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    start: ClockTime = dt.time(21, 0)
    end: ClockTime = dt.time(9, 0)
    timezone: str = "Europe/Istanbul"

    def send_time(self, moment: dt.datetime) -> dt.datetime:
        """When an SMS due at ``moment`` may go: ``moment`` itself, or the end of the quiet period it falls in."""
        from receivables.notifications.quiet_hours import sms_send_time

        return sms_send_time(moment, self.start, self.end, self.timezone)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _a_window(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours start and end are the same time; leave them out to have none")
        return self


class PlanSettings(BaseModel):
    """Bounds for installment plans offered through the API."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    max_installments: int = Field(default=12, ge=1, le=120)
    min_interval_days: int = Field(default=7, ge=1)
    max_interval_days: int = Field(default=92, ge=1, le=366)

    @model_validator(mode="after")
    def _interval_range(self) -> PlanSettings:
        if self.min_interval_days > self.max_interval_days:
            raise ValueError("plans: min_interval_days is greater than max_interval_days")
        return self


def _is_catch_all(rule: str) -> bool:
    return rule.strip().lower() == "true"


class DunningConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: int = Field(ge=1)
    dictionary: tuple[FieldDefinition, ...] = DEFAULT_DICTIONARY
    segments: tuple[Segment, ...] = Field(min_length=1)  # in order: the first whose rule matches wins
    strategies: tuple[Strategy, ...] = ()
    collector_groups: tuple[CollectorGroup, ...] = ()  # in order: the first whose rule matches wins
    cycle_threshold: Money = Field(default=Decimal("10.00"), gt=0)
    promise_grace_days: int = Field(default=2, ge=0, le=60)
    quiet_hours: QuietHours = QuietHours()
    plans: PlanSettings = PlanSettings()

    @model_validator(mode="after")
    def _consistent(self) -> DunningConfig:
        problems: list[str] = []
        problems += self._dictionary_problems()
        problems += _duplicates("strategy id", [s.id for s in self.strategies])
        problems += _duplicates("segment name", [s.name for s in self.segments])
        problems += _duplicates("collector group name", [g.name for g in self.collector_groups])
        known = {s.id for s in self.strategies}
        catch_all: str | None = None
        for segment in self.segments:
            if catch_all is not None:
                problems.append(
                    f"segment {segment.name!r}: can never match, segment {catch_all!r} before it matches everyone"
                )
            named = [("strategy", segment.strategy)]
            if segment.challenger is not None:
                named.append(("challenger strategy", segment.challenger.strategy))
            for role, strategy_id in named:
                if strategy_id is not None and strategy_id not in known:
                    problems.append(f"segment {segment.name!r}: {role} {strategy_id!r} does not exist")
            problems += self._compile(f"segment {segment.name!r}: rule", segment.rule)
            if _is_catch_all(segment.rule) and catch_all is None:
                catch_all = segment.name
        for strategy in self.strategies:
            for step in strategy.steps:
                if step.condition is not None:
                    where = f"strategy {strategy.id!r} step {step.name!r}: condition"
                    problems += self._compile(where, step.condition)
        for group in self.collector_groups:
            problems += self._compile(f"collector group {group.name!r}: rule", group.rule)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _dictionary_problems(self) -> list[str]:
        problems = _duplicates("dictionary field", [f.name for f in self.dictionary])
        for definition in self.dictionary:
            builtin = FACT_FIELDS.get(definition.name)
            if builtin is None:
                problems.append(
                    f"dictionary field {definition.name!r}: not a fact the engine provides "
                    f"(known: {', '.join(FACT_FIELDS)}); extra customer data is reached through attributes"
                )
            elif (definition.type, definition.nullable) != (builtin.type, builtin.nullable):
                problems.append(
                    f"dictionary field {definition.name!r}: the engine provides a "
                    f"{'nullable ' if builtin.nullable else ''}{builtin.type}, not "
                    f"{'nullable ' if definition.nullable else ''}{definition.type}"
                )
        return problems

    def _compile(self, where: str, expression: str) -> list[str]:
        try:
            cached_rule(expression, self.dictionary)
        except RuleError as exc:
            field_note = f" (field {exc.field!r})" if exc.field else ""
            return [f"{where} {expression!r} is invalid{field_note}: {exc.reason}"]
        return []

    def rule(self, expression: str) -> CompiledRule:
        """The compiled form of one of this configuration's rules (compiled once per process, then cached)."""
        return cached_rule(expression, self.dictionary)

    def strategy(self, strategy_id: str | None) -> Strategy | None:
        return next((s for s in self.strategies if s.id == strategy_id), None) if strategy_id else None

    def segment(self, name: str | None) -> Segment | None:
        return next((s for s in self.segments if s.name == name), None)

    def field_types(self) -> dict[str, FieldType]:
        return {f.name: f.type for f in self.dictionary}


def _duplicates(what: str, names: list[str]) -> list[str]:
    return [f"duplicate {what} {name!r}" for name, n in Counter(names).items() if n > 1]


STANDARD_STRATEGY = Strategy(
    id="standard",
    description="Remind by e-mail, then SMS, then a formal letter; suspend at day 30, hand to legal at day 60.",
    steps=(
        Step(name="email", offset_days=3, channel=Channel.EMAIL, fallback_channel=Channel.SMS, template="reminder"),
        Step(name="sms", offset_days=10, channel=Channel.SMS, template="second_reminder"),
        Step(name="letter", offset_days=20, channel=Channel.LETTER, template="formal_notice"),
        Step(name="suspend", offset_days=30, action=Action.SUSPEND),
        Step(name="legal_handoff", offset_days=60, action=Action.LEGAL_HANDOFF),
    ),
)


def policy_strategy(strategy_id: str, description: str, *, notice_days: int) -> Strategy:
    """Warning → cancellation (ihtar–iptal) as TTK (6102) art. 1434 is commonly read: a reminder on day 1, a
    registered-mail notice on day 5 with ``notice_days`` to pay, cancellation the day after an unmet deadline."""
    return Strategy(
        id=strategy_id,
        description=description,
        steps=(
            Step(
                name="reminder", offset_days=1, channel=Channel.SMS, fallback_channel=Channel.EMAIL, template="reminder"
            ),
            Step(
                name="notice", offset_days=5, channel=Channel.LETTER, template="policy_notice", notice_days=notice_days
            ),
            Step(
                name="cancel_policy",
                offset_days=5 + notice_days + 1,
                action=Action.CANCEL_POLICY,
                condition="notice_expired",
            ),
        ),
    )


POLICY_STRATEGY = policy_strategy(
    "policy_warning", "Insurance premiums: reminder, 10-day legal notice, cancellation for non-payment.", notice_days=10
)
LIFE_POLICY_STRATEGY = policy_strategy(
    "policy_warning_life", "Life premiums: reminder, 30-day legal notice, cancellation for non-payment.", notice_days=30
)
AGENCY_STRATEGY = Strategy(
    id="agency_account",
    # An agency remits by its monthly statement (issued on the 1st for the month before): its arrears count from
    # the statement, about a month after the installments' own due dates.
    description="An agency's current account: statement reminder, a collector's call, then the exceptions report.",
    steps=(
        Step(name="statement_reminder", offset_days=35, channel=Channel.EMAIL, template="second_reminder"),
        Step(name="collector_call", offset_days=45, channel=Channel.CALL_TASK),
        Step(name="exception_report", offset_days=60, action=Action.EXCEPTION_REPORT),
    ),
)

DEFAULT_CONFIG = DunningConfig(
    version=1,
    strategies=(STANDARD_STRATEGY, POLICY_STRATEGY, LIFE_POLICY_STRATEGY, AGENCY_STRATEGY),
    segments=(
        Segment(name="vip", description="VIP customers are exempt from dunning.", rule="vip == true", strategy=None),
        Segment(
            name="reinsurance",
            description="Reinsurers' accounts are settled by their quarterly statement, never dunned.",
            rule='account_type == "reinsurance"',
            strategy=None,
        ),
        Segment(
            name="agency",
            description="Agencies' current accounts: never cancel the insured's policy for the agency's arrears.",
            rule='account_type == "agency"',
            strategy="agency_account",
        ),
        Segment(
            name="life_policies",
            description="Life policies: a 30-day notice before cancellation.",
            rule='has_policies and policy_branch == "life"',
            strategy="policy_warning_life",
        ),
        Segment(
            name="policies",
            description="Policyholders' premiums: warning, then cancellation (TTK 1434).",
            rule="has_policies",
            strategy="policy_warning",
        ),
        Segment(name="standard", description="Everyone else.", rule="true", strategy="standard"),
    ),
    collector_groups=(
        CollectorGroup(
            name="corporate",
            description="Corporate customers with more than 50,000 overdue.",
            rule='customer_type == "corporate" and overdue_amount > 50000',
        ),
        CollectorGroup(name="retail", description="Everyone else.", rule="true"),
    ),
)
