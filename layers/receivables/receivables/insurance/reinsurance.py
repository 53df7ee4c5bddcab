"""Reinsurers' accounts (reasürans cari hesabı): what a cession and a claim recovery put on a reinsurer's current
account, and the quarterly account statement (hesap cetveli) that settles it.

- ``ReinsuranceCession`` → the ceded premium is a payable ``<event_id>-RP`` (kind ``reinsurance``, we owe it) and the
  reinsurance commission a receivable ``<event_id>-RK`` (it owes us), on ``CARI-<reinsurer>-<currency>``.
- ``ClaimRecoveryDue`` → the reinsurer's share of a claim, a receivable ``<claim_id>-RR`` on the same account.
- Neither is paid or collected one by one: the payout run never takes a ``reinsurance`` payable, and a reinsurer's
  account is exempt from dunning (its ``account_type`` is ``reinsurance``; the shipped segment rule says so). Both
  fall due at the end of the quarter they were booked in.
- The statement of a quarter (issued on the first day of the next) lists the quarter's premiums, commissions and
  recoveries and the account's balance, as a CSV and a PDF. Then the balance is settled: the two sides are netted
  (posting ``netted``, oldest first), and what we still owe is gathered into one settlement payable
  ``RS-<reinsurer>-<YYYY>Q<n>`` (posting ``consolidated``: + on each reinsurance payable it takes over, its own record
  − their sum) that the payout run pays in one transfer, after approval above the threshold like any payable. What
  the reinsurer still owes stays open on its account, quoted by the statement id, for its payment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from receivables.domain.clock import Clock
from receivables.domain.journal import Cause, Posting, PostingKind, Side
from receivables.domain.ledger import ItemKind
from receivables.domain.outbox import Event
from receivables.insurance.config import InsuranceRules
from receivables.insurance.events import ClaimRecoveryDue, ReinsuranceCession
from receivables.insurance.parties import PartyKind
from receivables.insurance.payables import EVENT_SOURCE, NETTABLE, ClaimStore, PayableFacts
from receivables.insurance.policy_changes import ChangeOutcome
from receivables.insurance.service import current_account_id
from receivables.payments.account_ledger import Step
from receivables.payments.operations import AccountOperations, Planned
from receivables.payments.ports import Attachment, LoadedAccount

ZERO = Decimal("0.00")
REINSURANCE = "reinsurance"


def ceded_premium_id(event_id: str) -> str:
    return f"{event_id}-RP"


def commission_receivable_id(event_id: str) -> str:
    return f"{event_id}-RK"


def recovery_receivable_id(claim_id: str) -> str:
    return f"{claim_id}-RR"


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first = date(year, 3 * quarter - 2, 1)
    following = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return first, following - timedelta(days=1)


def quarter_end(day: date) -> date:
    return quarter_bounds(*quarter_of(day))[1]


def settlement_payable_id(reinsurer: str, year: int, quarter: int) -> str:
    return f"RS-{reinsurer}-{year}Q{quarter}"


@dataclass(frozen=True, slots=True)
class NewReceivable:
    """A receivable on a party's current account that is not a policy's installment."""

    item_id: str
    kind: ItemKind
    amount: Decimal
    due_date: date
    description: str
    policy_id: str | None = None
    claim_id: str | None = None
    period: str | None = None


@dataclass(frozen=True, slots=True)
class NewPayable:
    payable_id: str
    amount: Decimal
    status: str
    due_date: date
    policy_id: str | None = None
    claim_id: str | None = None
    period: str | None = None


class ReinsuranceWrites(Protocol):
    def event_record(
        self, event_id: str, kind: str, policy_id: str, content: str, raw: Mapping[str, Any], source: str, on: date
    ) -> Attachment: ...

    def reinsurance_records(
        self,
        *,
        account_id: str,
        reinsurer: str,
        currency: str,
        cause: Cause,
        receivables: Sequence[NewReceivable],
        payables: Sequence[NewPayable],
        settlement: bool = False,
    ) -> Attachment:
        """The reinsurer's account (opened as a ``reinsurance`` account if new), each receivable as an item (its own
        posting) and each payable (its own posting), created only if none exists yet; a ``settlement`` payable is
        one the payout run pays."""
        ...

    def payable_settled(self, payable: PayableFacts, open_after: Decimal, status: str, cause: Cause) -> Attachment: ...


class ReinsuranceStore(ClaimStore, Protocol):
    def account_items(self, account_id: str) -> list[Any]: ...


class StatementLineSource(Protocol):
    def reinsurance_lines(self, account_id: str) -> list[StatementLine]:
        """Every reinsurance receivable and payable ever booked on the account."""
        ...


@dataclass(frozen=True, slots=True)
class StatementLine:
    line_id: str
    kind: str  # ceded_premium | reinsurance_commission | claim_recovery | settlement
    booked_on: date
    amount: Decimal  # + the reinsurer owes us, − we owe it
    open_amount: Decimal  # signed the same way
    policy_id: str | None = None
    claim_id: str | None = None
    period: str | None = None


@dataclass
class ReinsuranceStatement:
    statement_id: str
    reinsurer: str
    account_id: str
    currency: str
    year: int
    quarter: int
    issued_on: date
    lines: list[StatementLine] = field(default_factory=list)
    balance: Decimal = ZERO  # every open line, signed: + the reinsurer owes us

    def total(self, kind: str) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind == kind), ZERO)

    @property
    def period(self) -> str:
        return f"{self.year}-Q{self.quarter}"


class StatementPublisher(Protocol):
    def publish(self, statement: ReinsuranceStatement, name: str) -> list[str]: ...


def statement_of(
    reinsurer: str,
    account_id: str,
    currency: str,
    lines: Sequence[StatementLine],
    year: int,
    quarter: int,
    issued_on: date,
) -> ReinsuranceStatement:
    """The quarter's lines (booked in it) and the balance of everything still open."""
    first, last = quarter_bounds(year, quarter)
    statement = ReinsuranceStatement(
        statement_id=f"RE-{reinsurer}-{year}Q{quarter}",
        reinsurer=reinsurer,
        account_id=account_id,
        currency=currency,
        year=year,
        quarter=quarter,
        issued_on=issued_on,
    )
    statement.lines = sorted(
        (line for line in lines if first <= line.booked_on <= last and line.kind != "settlement"),
        key=lambda line: (line.booked_on, line.line_id),
    )
    statement.balance = sum((line.open_amount for line in lines), ZERO)
    return statement


class Reinsurance:
    def __init__(
        self,
        *,
        store: ReinsuranceStore,
        writes: ReinsuranceWrites,
        rules: Any,  # RulesSource: .rules() -> InsuranceRules
        clock: Clock,
    ) -> None:
        self._store = store
        self._writes = writes
        self._rules = rules
        self._clock = clock

    def _reinsurer_problem(self, reinsurer: str) -> str | None:
        party = self._store.party(reinsurer)
        if party is None:
            return f"reinsurer: unknown party {reinsurer}"
        if party.kind is not PartyKind.REINSURER:
            return f"reinsurer: party {reinsurer} is a {party.kind.value}, not a reinsurer"
        return None

    def _status(self, amount: Decimal) -> str:
        rules: InsuranceRules = self._rules.rules()
        return "open" if rules.payables.needs_approval(REINSURANCE, amount) else "approved"

    def ceded(
        self, event: ReinsuranceCession, content: str, raw: Mapping[str, Any], source: str
    ) -> ChangeOutcome | None:
        """None when the policy is not known (yet)."""
        facts = self._store.policy_facts(event.policy_id)
        if facts is None:
            return None
        if problem := self._reinsurer_problem(event.reinsurer):
            return ChangeOutcome("rejected", problem)
        today = self._clock.today()
        currency = event.currency or facts.currency
        due = quarter_end(today)
        about = f"{event.basis} cession of policy {event.policy_id}, period {event.period}"
        receivables = []
        if event.reinsurance_commission > 0:
            receivables.append(
                NewReceivable(
                    commission_receivable_id(event.event_id),
                    ItemKind.REINSURANCE_COMMISSION,
                    event.reinsurance_commission,
                    due,
                    f"reinsurance commission on the {about}",
                    policy_id=event.policy_id,
                    period=event.period,
                )
            )
        payable = NewPayable(
            ceded_premium_id(event.event_id),
            event.ceded_premium,
            self._status(event.ceded_premium),
            due,
            policy_id=event.policy_id,
            period=event.period,
        )
        return self._write(event, event.policy_id, content, raw, source, currency, receivables, [payable])

    def recovery_due(
        self, event: ClaimRecoveryDue, content: str, raw: Mapping[str, Any], source: str
    ) -> ChangeOutcome | None:
        """None when the claim (or the policy named) is not known (yet) and no currency says what it is in."""
        if problem := self._reinsurer_problem(event.reinsurer):
            return ChangeOutcome("rejected", problem)
        claim = self._store.payable_facts(f"{event.claim_id}-C")
        policy_id = event.policy_id or (claim.policy_id if claim else None)
        currency = event.currency or (claim.currency if claim else None)
        if currency is None and policy_id is not None:
            facts = self._store.policy_facts(policy_id)
            currency = facts.currency if facts else None
        if currency is None:
            return None
        today = self._clock.today()
        receivable = NewReceivable(
            recovery_receivable_id(event.claim_id),
            ItemKind.CLAIM_RECOVERY,
            event.amount,
            event.due_date or quarter_end(today),
            f"reinsurer's share of claim {event.claim_id}",
            policy_id=policy_id,
            claim_id=event.claim_id,
        )
        return self._write(event, policy_id or "", content, raw, source, currency, [receivable], [])

    def _write(
        self,
        event: ReinsuranceCession | ClaimRecoveryDue,
        policy_id: str,
        content: str,
        raw: Mapping[str, Any],
        source: str,
        currency: str,
        receivables: Sequence[NewReceivable],
        payables: Sequence[NewPayable],
    ) -> ChangeOutcome:
        from receivables.insurance.payables import ClaimRecordedError, _Combined

        today = self._clock.today()
        cause = Cause(kind="event", source=source, position=f"event {event.event_id}")
        parts = [
            self._writes.event_record(event.event_id, event.type, policy_id, content, raw, source, today),
            self._writes.reinsurance_records(
                account_id=current_account_id(event.reinsurer, currency),
                reinsurer=event.reinsurer,
                currency=currency,
                cause=cause,
                receivables=receivables,
                payables=payables,
            ),
        ]
        try:
            self._store.write_new(_Combined(parts))
        except ClaimRecordedError:
            return ChangeOutcome("duplicate", "the same event was already applied")
        return ChangeOutcome("applied")


class ReinsuranceStatements:
    """The quarterly hesap cetveli per reinsurer, then its settlement: netting, and one settlement payable."""

    def __init__(
        self,
        *,
        store: ReinsuranceStore,
        lines: StatementLineSource,
        writes: ReinsuranceWrites,
        operations: AccountOperations,
        netting: Any,  # Payables: .net(owner_id, amount=, currency=, actor=, route=)
        output: StatementPublisher,
        rules: Any,
        clock: Clock,
    ) -> None:
        self._store = store
        self._lines = lines
        self._writes = writes
        self._operations = operations
        self._netting = netting
        self._output = output
        self._rules = rules
        self._clock = clock

    def issue(self, business_date: date) -> list[dict[str, Any]]:
        """On the first day of a quarter, the statements of the quarter before; any other day, nothing."""
        if business_date.day != 1 or business_date.month not in (1, 4, 7, 10):
            return []
        year, quarter = quarter_of(business_date - timedelta(days=1))
        issued = []
        for reinsurer in self._store.parties_of_kind(PartyKind.REINSURER.value):
            for account_id in self._store.current_accounts(reinsurer):
                lines = self._lines.reinsurance_lines(account_id)
                if not lines:
                    continue
                currency = account_id.rsplit("-", 1)[1]
                statement = statement_of(reinsurer, account_id, currency, lines, year, quarter, business_date)
                files = self._output.publish(statement, reinsurer)
                settlement = self._settle(statement)
                issued.append(
                    {
                        "statement_id": statement.statement_id,
                        "reinsurer": reinsurer,
                        "account_id": account_id,
                        "balance": str(statement.balance),
                        "files": files,
                        "settlement": settlement,
                    }
                )
        return issued

    def _settle(self, statement: ReinsuranceStatement) -> str | None:
        source = f"reinsurance statement {statement.statement_id}"
        self._netting.net(statement.reinsurer, amount=None, currency=statement.currency, actor="system", route=source)
        cause = Cause(kind="schedule", source=source)
        base = settlement_payable_id(statement.reinsurer, statement.year, statement.quarter)
        made: list[str] = []

        def first(loaded: LoadedAccount, limit: int) -> Planned | None:
            owed = [
                p
                for p in self._store.payables_on_account(statement.account_id)
                if p.kind == REINSURANCE
                and p.status in NETTABLE
                and p.open_amount > 0
                and not p.payable_id.startswith(base)
            ][: max(1, limit - 3)]
            if not owed:
                return None
            # One transaction gathers what it can hold (~95 payables); a longer quarter takes -2, -3… payables.
            payable_id = base if not made else f"{base}-{len(made) + 1}"
            total = sum((p.open_amount for p in owed), ZERO)
            why = f"gathered into {payable_id}, paid by one transfer ({statement.statement_id})"
            postings = [
                Posting(
                    kind=PostingKind.CONSOLIDATED,
                    side=Side.ITEM,
                    amount=p.open_amount,
                    item_id=p.payable_id,
                    reason=why,
                )
                for p in owed
            ]
            status = "open" if self._rules.rules().payables.needs_approval(REINSURANCE, total) else "approved"
            attachments = [self._writes.payable_settled(p, ZERO, "paid", cause) for p in owed]
            attachments.append(
                self._writes.reinsurance_records(
                    account_id=statement.account_id,
                    reinsurer=statement.reinsurer,
                    currency=statement.currency,
                    cause=cause,
                    receivables=(),
                    payables=[NewPayable(payable_id, total, status, statement.issued_on, period=statement.period)],
                    settlement=True,
                )
            )
            made.append(payable_id)
            event = Event(
                "ReinsuranceSettlementDue",
                {
                    "reinsurer": statement.reinsurer,
                    "account_id": statement.account_id,
                    "payable_id": payable_id,
                    "amount": str(total),
                    "statement_id": statement.statement_id,
                },
                EVENT_SOURCE,
            )
            return Planned(
                "reinsurance_settlement", cause, Step(postings), attachments=tuple(attachments), events=(event,)
            )

        while True:
            before = len(made)
            self._operations.run(statement.account_id, first)
            if len(made) == before:
                break
        if made:
            return made[0]
        return base if self._store.payable_facts(base) is not None else None
