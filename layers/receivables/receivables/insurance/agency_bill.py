"""The agency-bill use cases: issue the month's statements (commission netted, a PDF and a CSV out, e-mailed), and
judge what an agency's remittance left of them (settled, written off within the tolerance, or an exception)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Protocol

from receivables.domain.clock import Clock
from receivables.domain.journal import Cause, Posting, PostingKind, Side
from receivables.domain.outbox import Event
from receivables.insurance.changes import PolicyItem
from receivables.insurance.policy_changes import EVENT_SOURCE, RulesSource
from receivables.insurance.premium import ZERO
from receivables.insurance.statements import AgencyStatement, build_statement, judge_remittance
from receivables.payments.account_ledger import Step
from receivables.payments.operations import AccountOperations, Planned
from receivables.payments.ports import Attachment, ItemUpdate, LoadedAccount


@dataclass(frozen=True, slots=True)
class Agency:
    party_id: str
    name: str
    email: str | None
    language: str
    account_ids: tuple[str, ...]


class AgencyStore(Protocol):
    def agencies(self) -> list[Agency]: ...

    def account_policy_items(self, account_id: str) -> list[tuple[str, PolicyItem]]:
        """(policy id, item) of the policy items on the account."""
        ...

    def account_currency(self, account_id: str) -> str: ...

    def statement_exists(self, statement_id: str) -> bool: ...

    def open_statements(self, account_id: str) -> list[AgencyStatement]: ...

    def agency_statement(self, statement_id: str) -> AgencyStatement | None: ...


class AgencyWrites(Protocol):
    def statement(self, statement: AgencyStatement) -> Attachment: ...

    def statement_status(self, statement: AgencyStatement, status: str, difference: Decimal) -> Attachment: ...

    def exception(self, statement: AgencyStatement, amount: Decimal, reason: str, on: date) -> Attachment: ...


class StatementOutput(Protocol):
    """Where a statement goes: its PDF and CSV into the outbound bucket, and an e-mail to the agency."""

    def publish(self, statement: AgencyStatement, agency: Agency) -> list[str]: ...


@dataclass(slots=True)
class StatementRun:
    issued: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


class AgencyBill:
    def __init__(
        self,
        *,
        store: AgencyStore,
        writes: AgencyWrites,
        operations: AccountOperations,
        output: StatementOutput | None,
        rules: RulesSource,
        clock: Clock,
    ) -> None:
        self._store = store
        self._writes = writes
        self._operations = operations
        self._output = output
        self._rules = rules
        self._clock = clock

    def issue_statements(self, business_date: date) -> StatementRun:
        """Each agency's statement of the month before ``business_date``, once."""
        run = StatementRun()
        for agency in self._store.agencies():
            for account_id in agency.account_ids:
                statement = build_statement(
                    party_id=agency.party_id,
                    account_id=account_id,
                    currency=self._store.account_currency(account_id),
                    issued_on=business_date,
                    items=self._store.account_policy_items(account_id),
                )
                if statement is None or self._store.statement_exists(statement.statement_id):
                    continue
                if len(agency.account_ids) > 1:
                    statement = _in_currency(statement)
                if self._issue(statement):
                    run.issued.append(statement.statement_id)
                    if self._output is not None:
                        run.files += self._output.publish(statement, agency)
        return run

    def _issue(self, statement: AgencyStatement) -> bool:
        cause = Cause(kind="schedule", source=f"agency statement {statement.statement_id}")
        done = {"issued": False}

        def first(loaded: LoadedAccount, _limit: int) -> Planned | None:
            if self._store.statement_exists(statement.statement_id):
                return None
            postings = []
            updates = {}
            for line in statement.lines:
                item = loaded.ledger.items.get(line.item_id)
                if item is None or item.open_amount < line.commission:
                    return None  # moved since the statement was computed: computed again next run
                if line.commission > 0:
                    item.open_amount -= line.commission
                    postings.append(
                        Posting(
                            kind=PostingKind.COMMISSION_NETTED,
                            side=Side.ITEM,
                            amount=-line.commission,
                            item_id=line.item_id,
                            reason=f"commission netted on statement {statement.statement_id}",
                        )
                    )
                    updates[line.item_id] = ItemUpdate(attributes={"commission_status": "paid"})
            issued = Event(
                "AgencyStatementIssued",
                {
                    "statement_id": statement.statement_id,
                    "party_id": statement.party_id,
                    "account_id": statement.account_id,
                    "period": statement.period,
                    "gross": str(statement.gross),
                    "commission": str(statement.commission),
                    "net_due": str(statement.net_due),
                },
                EVENT_SOURCE,
            )
            done["issued"] = True
            return Planned(
                "agency_statement",
                cause,
                Step(postings),
                item_updates=updates,
                attachments=(self._writes.statement(statement),),
                events=(issued,),
            )

        self._operations.run(statement.account_id, first)
        return done["issued"]

    def write_off(self, account_id: str, statement_id: str, difference: Decimal, actor: str) -> None:
        statement = self._store.agency_statement(statement_id)
        if statement is None:
            return
        cause = Cause(kind="api", source=f"POST /exceptions of statement {statement_id}", actor=actor)

        def first(loaded: LoadedAccount, _limit: int) -> Planned | None:
            postings = _write_off(loaded, statement, difference)
            return Planned("agency_write_off", cause, Step(postings)) if postings else None

        self._operations.run(account_id, first)

    def remittance(self, account_id: str, cause: Cause) -> list[str]:
        """Judge each open statement of the account after money moved on it."""
        judged = []
        for statement in self._store.open_statements(account_id):
            if self._judge(statement, cause):
                judged.append(statement.statement_id)
        return judged

    def _judge(self, statement: AgencyStatement, cause: Cause) -> bool:
        done = {"judged": False}
        today = self._clock.today()
        tolerance = self._rules.rules().agency_bill.tolerance

        def first(loaded: LoadedAccount, _limit: int) -> Planned | None:
            ledger = loaded.ledger
            open_now = {
                i: ledger.items[i].open_amount for i in (line.item_id for line in statement.lines) if i in ledger.items
            }
            outcome = judge_remittance(statement, open_now, credit=ledger.unapplied_credit, tolerance=tolerance)
            if outcome.status == "waiting":
                return None
            postings: list[Posting] = []
            attachments: list[Attachment] = []
            if outcome.status == "written_off":
                postings = _write_off(loaded, statement, outcome.difference)
            elif outcome.status == "exception":
                attachments.append(self._writes.exception(statement, outcome.difference, outcome.reason, today))
            attachments.append(self._writes.statement_status(statement, outcome.status, outcome.difference))
            done["judged"] = True
            return Planned(
                "agency_remittance",
                cause,
                Step(postings),
                attachments=tuple(attachments),
                events=(
                    Event(
                        "AgencyRemittanceJudged",
                        {
                            "statement_id": statement.statement_id,
                            "party_id": statement.party_id,
                            "status": outcome.status,
                            "difference": str(outcome.difference),
                            "reason": outcome.reason,
                        },
                        EVENT_SOURCE,
                    ),
                ),
            )

        self._operations.run(statement.account_id, first)
        return done["judged"]


class ExceptionStore(Protocol):
    def exception(self, exception_id: str) -> dict[str, object] | None: ...

    def resolve_exception(self, exception_id: str, *, resolution: str, note: str, actor: str) -> bool: ...


def resolve_exception(
    bill: AgencyBill, store: ExceptionStore, exception_id: str, *, resolution: str, note: str, actor: str
) -> dict[str, object] | None:
    """A person settles an exception: ``write_off`` closes the difference (a shortfall's rest, or the money over),
    ``accept`` leaves it where it is (a shortfall stays owed and dunned, money over stays as credit)."""
    found = store.exception(exception_id)
    if found is None:
        return None
    resolved = found["status"] == "open" and store.resolve_exception(
        exception_id, resolution=resolution, note=note, actor=actor
    )
    if resolved and resolution == "write_off":
        bill.write_off(str(found["account_id"]), str(found["statement_id"]), Decimal(str(found["amount"])), actor)
    return store.exception(exception_id)


def _write_off(loaded: LoadedAccount, statement: AgencyStatement, difference: Decimal) -> list[Posting]:
    """A difference within the tolerance: a shortfall closes what is open of the statement's items; money over is
    taken off the payments' credit, newest first."""
    ledger = loaded.ledger
    postings: list[Posting] = []
    reason = f"difference within the tolerance on statement {statement.statement_id}: written off"
    if difference < 0:
        for line in statement.lines:
            item = ledger.items.get(line.item_id)
            if item is not None and item.open_amount > 0:
                postings.append(
                    Posting(
                        kind=PostingKind.WRITTEN_OFF,
                        side=Side.ITEM,
                        amount=-item.open_amount,
                        item_id=item.item_id,
                        reason=reason,
                    )
                )
                item.open_amount = ZERO
        return postings
    left = difference
    for payment in sorted(ledger.payments.values(), key=lambda p: (p.value_date, p.payment_id), reverse=True):
        if left <= 0:
            break
        take = min(left, payment.unapplied) if payment.spendable else ZERO
        if take > 0:
            payment.unapplied -= take
            left -= take
            postings.append(
                Posting(
                    kind=PostingKind.WRITTEN_OFF,
                    side=Side.PAYMENT,
                    amount=take,
                    payment_id=payment.payment_id,
                    reason=reason,
                )
            )
    return postings


def _in_currency(statement: AgencyStatement) -> AgencyStatement:
    """An agency with accounts in several currencies gets a statement per currency, named by it."""
    return replace(statement, statement_id=f"{statement.statement_id}-{statement.currency}")


__all__: Sequence[str] = ("Agency", "AgencyBill", "StatementRun")
