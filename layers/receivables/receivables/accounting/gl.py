"""Pre-accounting, pure: the journal's postings → double-entry lines of the general ledger, by a chart-of-accounts
mapping that is configuration (docs/general-ledger.md; the shipped default is ``defaults/chart-of-accounts.yaml``).

Every posting lands a signed amount on one open thing of a party's account: a receivable item, a payment's credit, a
payable (+ what is owed to us grows, − it shrinks). So every posting gives one **sub-ledger line** on the account for
what it lands on (``subledger``: items 120, payments' credit 340, payables 320, withholding 360 in the default), a
debit for + and a credit for −, keyed by the party. Postings that bring money into the party's accounts or take it
out (a premium billed, a payment received, a claim payable posted, a transfer paid) also give the **other side**
(``counter``: the first rule that matches the posting); postings that only move money between the party's own
sub-ledger lines (an allocation: − on the item, + on the payment's credit) need none, their lines balance each other.
A premium installment's other side is split by its components (net premium to revenue, each levy to taxes payable).

A posting no rule maps goes to the ``unmapped`` account and is counted in the control record: the export still
balances and a person sees what to map.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ZERO = Decimal("0.00")
Target = Literal["item", "payment", "payable"]
_CODE = r"^[0-9A-Za-z.\-]{1,32}$"


class GlConfigError(ValueError):
    """The chart-of-accounts mapping does not validate: the message names the field."""


class CounterRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: str
    operation: str | None = None
    item_kind: str | None = None
    payable_kind: str | None = None
    component: str | None = None
    settlement: bool | None = None
    account: str | None = Field(pattern=_CODE)

    def matches(self, fact: PostingFact, component: str | None) -> bool:
        return (
            self.kind == fact.kind
            and self.operation in (None, fact.operation)
            and self.item_kind in (None, fact.item_kind)
            and self.payable_kind in (None, fact.payable_kind)
            and self.component in (None, component)
            and (self.settlement is None or self.settlement == fact.settlement)
        )


class Subledger(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    item: str | dict[str, str] = "120"
    payment: str | dict[str, str] = "340"
    payable: str | dict[str, str] = "320"

    def account(self, target: Target, kind: str | None) -> str:
        by_kind = getattr(self, target)
        if isinstance(by_kind, str):
            return by_kind
        return by_kind.get(kind or "", by_kind.get("*", ""))


class ChartOfAccounts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: int = Field(ge=1)
    name: str = ""
    accounts: dict[str, str] = Field(default_factory=dict, description="code → name, printed beside each line")
    subledger: Subledger = Subledger()
    counter: tuple[CounterRule, ...]
    unmapped: str = Field(default="999", pattern=_CODE)

    def model_post_init(self, _context: Any) -> None:
        named = set(self.accounts)
        if named:
            used = {r.account for r in self.counter if r.account} | {self.unmapped}
            for target in ("item", "payment", "payable"):
                value = getattr(self.subledger, target)
                used |= {value} if isinstance(value, str) else set(value.values())
            missing = sorted(used - named)
            if missing:
                raise ValueError(f"accounts: {missing} are used by the mapping but not named in accounts")

    def counter_account(self, fact: PostingFact, component: str | None = None) -> tuple[bool, str | None]:
        """(mapped, account): the first matching rule's account (None: no other side), or (False, unmapped)."""
        for rule in self.counter:
            if rule.matches(fact, component):
                return True, rule.account
        return False, self.unmapped


def load_chart(text: bytes | str, *, where: str = "config/gl/chart-of-accounts") -> ChartOfAccounts:
    import yaml  # PyYAML is a runtime dependency (bank profiles use it as well)

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GlConfigError(f"{where}: not valid JSON or YAML ({exc})") from None
    if not isinstance(data, dict):
        raise GlConfigError(f"{where}: expected a mapping with version, accounts, subledger and counter")
    try:
        return ChartOfAccounts.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(chart)'}: {e['msg']}" for e in exc.errors())
        raise GlConfigError(f"{where}: {problems}") from None


class PostingFact(BaseModel):
    """One posting as the daybook staged it, with what the mapping needs to know about what it lands on."""

    model_config = ConfigDict(frozen=True)
    line_id: str  # unique and stable: the record's key and the posting's position in it
    business_date: date
    account_id: str
    currency: str
    kind: str
    operation: str
    target: Target
    target_id: str
    amount: Decimal
    entry_id: str
    cause: str = ""
    reason: str = ""
    item_kind: str | None = None
    payable_kind: str | None = None
    settlement: bool = False
    components: dict[str, Decimal] = Field(default_factory=dict)
    party: str | None = None  # the account's owner: the sub-ledger key

    def resolved(self, *, payable_kind: str | None, party: str | None) -> PostingFact:
        target: Target = "payable" if payable_kind is not None and self.target == "item" else self.target
        return self.model_copy(
            update={"target": target, "payable_kind": self.payable_kind or payable_kind, "party": self.party or party}
        )


class GlLine(BaseModel):
    model_config = ConfigDict(frozen=True)
    business_date: date
    entry_id: str
    line_no: int
    gl_account: str
    gl_account_name: str
    party: str
    account_id: str
    currency: str
    debit: Decimal
    credit: Decimal
    posting_kind: str
    target_id: str
    description: str
    source_line: str


class CurrencyControl(BaseModel):
    currency: str
    lines: int
    debit: Decimal
    credit: Decimal

    @property
    def balanced(self) -> bool:
        return self.debit == self.credit


class GlControl(BaseModel):
    """The export's control record: counts and sums per currency, and what no rule mapped."""

    business_date: date
    lines: int
    postings: int
    currencies: list[CurrencyControl]
    unmapped: list[str] = Field(default_factory=list, description="line ids of postings no rule mapped")
    late: int = Field(default=0, description="postings of an earlier business date, closed when they arrived")

    @property
    def balanced(self) -> bool:
        return all(c.balanced for c in self.currencies)


def _side(amount: Decimal) -> tuple[Decimal, Decimal]:
    return (amount, ZERO) if amount > 0 else (ZERO, -amount)


def _parts(fact: PostingFact) -> list[tuple[str | None, Decimal]]:
    """The amounts the other side is split into: a billed premium's components (the rest, if they do not add up,
    as one unnamed part), else the whole posting."""
    if fact.kind != "item_posted" or not fact.components:
        return [(None, fact.amount)]
    parts: list[tuple[str | None, Decimal]] = [(name, value) for name, value in sorted(fact.components.items())]
    rest = fact.amount - sum((value for _, value in parts), ZERO)
    if rest:
        parts.append((None, rest))
    return parts


def gl_lines(facts: Iterable[PostingFact], chart: ChartOfAccounts, export_date: date) -> tuple[list[GlLine], GlControl]:
    """The double-entry lines of ``facts`` (each once, by line id), ordered by entry then posting, and the control
    record of the export of ``export_date``."""
    unique = {fact.line_id: fact for fact in facts}
    ordered = sorted(unique.values(), key=lambda f: (f.business_date, f.entry_id, f.line_id))
    lines: list[GlLine] = []
    unmapped: list[str] = []
    names = chart.accounts

    def line(fact: PostingFact, account: str, amount: Decimal, description: str) -> None:
        debit, credit = _side(amount)
        lines.append(
            GlLine(
                business_date=fact.business_date,
                entry_id=fact.entry_id,
                line_no=len(lines) + 1,
                gl_account=account,
                gl_account_name=names.get(account, ""),
                party=fact.party or fact.account_id,
                account_id=fact.account_id,
                currency=fact.currency,
                debit=debit,
                credit=credit,
                posting_kind=fact.kind,
                target_id=fact.target_id,
                description=description,
                source_line=fact.line_id,
            )
        )

    for fact in ordered:
        if fact.amount == 0:
            continue
        kind_of_target = fact.item_kind if fact.target == "item" else fact.payable_kind
        subledger = chart.subledger.account(fact.target, kind_of_target) or chart.unmapped
        about = fact.reason or f"{fact.kind} {fact.target_id}"
        line(fact, subledger, fact.amount, about)
        for component, part in _parts(fact):
            mapped, counter = chart.counter_account(fact, component)
            if not mapped:
                unmapped.append(fact.line_id)
            if counter is not None and part:
                line(fact, counter, -part, f"{about} ({component})" if component else about)

    totals: dict[str, list[Any]] = defaultdict(lambda: [0, ZERO, ZERO])
    for gl in lines:
        total = totals[gl.currency]
        total[0] += 1
        total[1] += gl.debit
        total[2] += gl.credit
    control = GlControl(
        business_date=export_date,
        lines=len(lines),
        postings=len(ordered),
        currencies=[
            CurrencyControl(currency=c, lines=n, debit=debit, credit=credit)
            for c, (n, debit, credit) in sorted(totals.items())
        ],
        unmapped=sorted(set(unmapped)),
        late=sum(1 for f in ordered if f.business_date < export_date),
    )
    return lines, control


CSV_COLUMNS: Sequence[str] = (
    "business_date",
    "entry_id",
    "line_no",
    "gl_account",
    "gl_account_name",
    "party",
    "account_id",
    "currency",
    "debit",
    "credit",
    "posting_kind",
    "target_id",
    "description",
    "source_line",
)


def csv_row(line: GlLine) -> list[str]:
    values: Mapping[str, Any] = line.model_dump()
    return [f"{values[c]:.2f}" if c in ("debit", "credit") else str(values[c]) for c in CSV_COLUMNS]
