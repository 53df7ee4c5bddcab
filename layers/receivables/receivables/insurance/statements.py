"""Agency bill (§7): the monthly statement of an agency, its commission netted, and what its remittance leaves over.

On the 1st of each month each agency gets a statement of the installments on its current account that fell due in
the month before and are still open: gross, the commission on each, net due. The commission is netted against the
installments when the statement is issued (the agency keeps it from what it collected), so a remittance of exactly
the net due clears the statement with both sides at zero. A remittance that quotes the statement id pays its items
first; whatever differs afterwards — a shortfall still open, or money over — is written off within the tolerance,
else it is an exception for a person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from receivables.insurance.changes import PolicyItem
from receivables.insurance.premium import ZERO


def statement_id(party_id: str, period: str) -> str:
    """``ST-<party_id>-<YYYY-MM>``: what the agency quotes when it remits."""
    return f"ST-{party_id}-{period}"


def previous_month(day: date) -> tuple[str, date, date]:
    """(YYYY-MM, first day, last day) of the month before ``day``."""
    last = day.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}", last.replace(day=1), last


@dataclass(frozen=True, slots=True)
class StatementLine:
    item_id: str
    policy_id: str
    no: int
    due_date: date
    gross: Decimal  # what is open of the installment when the statement is issued
    commission: Decimal  # netted against it

    @property
    def net(self) -> Decimal:
        return self.gross - self.commission


@dataclass(frozen=True, slots=True)
class AgencyStatement:
    statement_id: str
    party_id: str
    account_id: str
    currency: str
    period: str
    issued_on: date
    lines: tuple[StatementLine, ...]

    @property
    def gross(self) -> Decimal:
        return sum((line.gross for line in self.lines), ZERO)

    @property
    def commission(self) -> Decimal:
        return sum((line.commission for line in self.lines), ZERO)

    @property
    def net_due(self) -> Decimal:
        return self.gross - self.commission


def build_statement(
    *,
    party_id: str,
    account_id: str,
    currency: str,
    issued_on: date,
    items: Sequence[tuple[str, PolicyItem]],  # (policy id, item) of the agency's account
) -> AgencyStatement | None:
    """The statement of the month before ``issued_on``; None when nothing of it is open."""
    period, first, last = previous_month(issued_on)
    lines = []
    for policy_id, item in sorted(items, key=lambda pair: (pair[1].due_date, pair[1].item_id)):
        if not first <= item.due_date <= last or item.open_amount <= 0 or item.status == "cancelled":
            continue
        # Commission still accrued is netted; commission already payable or settled stays where it is.
        commission = item.commission if item.commission_status == "accrued" else ZERO
        lines.append(
            StatementLine(
                item_id=item.item_id,
                policy_id=policy_id,
                no=item.no,
                due_date=item.due_date,
                gross=item.open_amount,
                commission=min(commission, item.open_amount),
            )
        )
    if not lines:
        return None
    return AgencyStatement(
        statement_id=statement_id(party_id, period),
        party_id=party_id,
        account_id=account_id,
        currency=currency,
        period=period,
        issued_on=issued_on,
        lines=tuple(lines),
    )


@dataclass(frozen=True, slots=True)
class RemittanceOutcome:
    status: Literal["waiting", "settled", "written_off", "exception"]
    difference: Decimal  # − a shortfall still open, + money over the net due
    reason: str


def judge_remittance(
    statement: AgencyStatement,
    open_now: Mapping[str, Decimal],
    *,
    credit: Decimal,
    tolerance: Decimal,
) -> RemittanceOutcome:
    """What a remittance left of the statement: nothing (settled), a difference within the tolerance (written off),
    or one beyond it (an exception). ``waiting`` while nothing has been remitted against it."""
    net_open = {line.item_id: line.net for line in statement.lines}
    remaining = sum((open_now.get(line.item_id, ZERO) for line in statement.lines), ZERO)
    if remaining == sum(net_open.values(), ZERO) and credit <= 0:
        return RemittanceOutcome("waiting", ZERO, "nothing remitted against the statement yet")
    difference = credit if remaining == 0 else -remaining
    if difference == 0:
        return RemittanceOutcome("settled", ZERO, f"statement {statement.statement_id} paid exactly its net due")
    what = "overpayment" if difference > 0 else "shortfall"
    if abs(difference) <= tolerance:
        return RemittanceOutcome(
            "written_off", difference, f"{what} of {abs(difference)} within the tolerance of {tolerance}: written off"
        )
    return RemittanceOutcome(
        "exception", difference, f"{what} of {abs(difference)} beyond the tolerance of {tolerance}: for a person"
    )
