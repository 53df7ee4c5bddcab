"""Reinsurance, pure: the cession event's treaty-or-facultative rule, quarters, and what a statement shows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from receivables.insurance.events import EventRejectedError, parse_event
from receivables.insurance.reinsurance import (
    StatementLine,
    quarter_bounds,
    quarter_end,
    quarter_of,
    settlement_payable_id,
    statement_of,
)


def cession(**fields):
    return {
        "type": "ReinsuranceCession",
        "event_id": "RC-1",
        "policy_id": "POL-1",
        "reinsurer": "RE-1",
        "ceded_premium": "1000.00",
        "reinsurance_commission": "250.00",
        "period": "2026-Q4",
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "basis"),
    [
        ({"treaty": "QS-2026"}, "treaty"),
        ({"basis": "facultative"}, "facultative"),
        ({"facultative": True}, "facultative"),
        ({"treaty": "facultative"}, "facultative"),
        ({"basis": "treaty", "treaty": "XL-1"}, "treaty"),
    ],
)
def test_a_cession_says_treaty_or_facultative_in_any_of_the_usual_ways(fields, basis):
    assert parse_event(cession(**fields)).basis == basis


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({}, "treaty or facultative"),
        ({"treaty": "QS-1", "facultative": True}, "not both"),
        ({"treaty": "QS-1", "reinsurance_commission": "1000.01"}, "larger than the ceded premium"),
        ({"treaty": "QS-1", "event_id": "E" * 33}, "event_id"),
        ({"treaty": "QS-1", "currency": "XYZ"}, "ISO 4217"),
    ],
)
def test_a_cession_that_cannot_be_booked_is_rejected_naming_why(fields, problem):
    with pytest.raises(EventRejectedError, match=problem):
        parse_event(cession(**fields))


def test_quarters():
    assert quarter_of(date(2026, 11, 24)) == (2026, 4)
    assert quarter_bounds(2026, 4) == (date(2026, 10, 1), date(2026, 12, 31))
    assert quarter_bounds(2027, 1) == (date(2027, 1, 1), date(2027, 3, 31))
    assert quarter_end(date(2026, 5, 2)) == date(2026, 6, 30)
    assert settlement_payable_id("RE-1", 2026, 4) == "RS-RE-1-2026Q4"


def line(line_id, kind, booked, amount, open_amount=None):
    amount = Decimal(amount)
    return StatementLine(line_id, kind, booked, amount, amount if open_amount is None else Decimal(open_amount))


def test_a_statement_lists_the_quarter_and_balances_everything_still_open():
    lines = [
        line("OLD-RP", "ceded_premium", date(2026, 9, 30), "-100.00"),  # last quarter, still open
        line("RC-1-RK", "reinsurance_commission", date(2026, 10, 5), "250.00"),
        line("RC-1-RP", "ceded_premium", date(2026, 10, 5), "-1000.00"),
        line("CLM-9-RR", "claim_recovery", date(2026, 12, 31), "300.00", "0.00"),
        line("RS-RE-1-2026Q3", "settlement", date(2026, 10, 1), "-80.00", "0.00"),
    ]

    statement = statement_of("RE-1", "CARI-RE-1-TRY", "TRY", lines, 2026, 4, date(2027, 1, 1))

    assert statement.statement_id == "RE-RE-1-2026Q4" and statement.period == "2026-Q4"
    assert [x.line_id for x in statement.lines] == ["RC-1-RK", "RC-1-RP", "CLM-9-RR"]
    assert (statement.total("ceded_premium"), statement.total("reinsurance_commission")) == (
        Decimal("-1000.00"),
        Decimal("250.00"),
    )
    assert statement.total("claim_recovery") == Decimal("300.00")
    assert statement.balance == Decimal("-850.00")  # -100 - 1000 + 250 (the recovery is settled)
