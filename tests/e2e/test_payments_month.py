"""Issue 3, "Done when": a month of mixed bank files replayed with ``simulate`` gives the allocations the matching and
allocation rules imply, to the cent, with every decision explained.

The scenario is ``scenarios/payments_month``. Its README works out every figure below by hand, day by day: camt.053
v02 and v08, camt.054 v04 and v08, a Turkish MT940, a windows-1254 CSV read with a bank profile, two returns, an
unmatched payment, a currency mismatch, overpayment credit spent by a later invoice, partial payments, a payment
naming two invoices, IBAN matching, and entries reported twice by overlapping files. Where the system's result
differs from what the rules imply, the assertion is marked ``xfail(strict=True)`` with the reason: the suite stays
green, the defect stays visible, and fixing it turns the mark into an error.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from receivables.topology import TOPOLOGY
from receivables_local.embedded import EmbeddedStack
from receivables_local.resources import physical_name
from receivables_local.scenario import SIMULATION_PREFIX, SimulationResult, simulate
from receivables_local.state import schema_path

from .conftest import requires_handlers

pytestmark = [pytest.mark.e2e, requires_handlers]

SCENARIO = Path(__file__).parent / "scenarios" / "payments_month"
UNTIL = date(2026, 12, 31)

# -- known differences between the system and the rules (README "Known differences") ------------------------------
NAMED, FIFO, CREDIT = "named", "fifo", "credit"  # why an allocation went where it went


@dataclass(frozen=True)
class Expected:
    """One payment as the rules make it (README, "Expected outcome")."""

    bank_id: str
    reference: str
    amount: str
    value_date: str
    account_id: str | None
    status: str
    allocations: tuple[tuple[str, str, str], ...]  # (item, amount, why)
    unapplied: str
    method: str
    mentions: tuple[str, ...]  # what the match reason must name: the reference (or IBAN) that decided
    currency: str = "TRY"
    defect: pytest.MarkDecorator | None = None  # on the money (allocations, unapplied) only

    @property
    def key(self) -> tuple[str, str]:
        return self.bank_id, self.reference


PAYMENTS = (
    Expected("garanti", "GAR20261203000101", "200.00", "2026-12-03", "ACC-2002", "applied",
             (("INV-2002-11", "120.00", NAMED), ("INV-2002-10", "80.00", NAMED)), "0.00",
             "invoice_reference", ("INV-2002-11", "INV-2002-10")),
    Expected("garanti", "GAR20261203000102", "2900.00", "2026-12-03", None, "unapplied",
             (), "2900.00", "invoice_reference", ("INV-4004-1", "TRY", "EUR")),
    Expected("garanti", "GAR20261204000044", "200.00", "2026-12-04", "ACC-6006", "reversed",
             (), "0.00", "account_reference", ("ACC-6006",)),
    Expected("akbank", "AKB20261205A0031", "700.00", "2026-12-05", "ACC-7007", "applied",
             (("INV-7007-11", "250.00", NAMED), ("INV-7007-10", "100.00", FIFO), ("INV-7007-12", "250.00", CREDIT)),
             "100.00", "invoice_reference", ("INV-7007-11",)),
    Expected("akbank", "AKB20261205B0007-1", "180.00", "2026-12-05", None, "unapplied",
             (), "180.00", "unmatched", ("99887766", "TR760001200000009988776655")),
    Expected("akbank", "AKB20261205B0007-2", "100.00", "2026-12-05", "ACC-5005", "applied",
             (("INV-5005-12", "100.00", NAMED),), "0.00", "invoice_reference", ("INV-5005-12",)),
    Expected("isbank", "ISB0812001", "750.00", "2026-12-08", "ACC-5005", "applied",
             (("INV-5005-11", "750.00", NAMED),), "0.00", "invoice_reference", ("INV-5005-11",)),
    Expected("isbank", "ISB0812002", "400.00", "2026-12-08", "ACC-8008", "reversed",
             (), "0.00", "account_reference", ("ACC-8008",)),
    Expected("isbank", "ISB0812003", "150.00", "2026-12-08", "ACC-2002", "applied",
             (("INV-2002-09", "120.00", FIFO), ("INV-2002-10", "30.00", FIFO)), "0.00",
             "account_reference", ("ACC-2002",)),
    Expected("yapikredi", "YKB20261209000731", "750.00", "2026-12-09", "ACC-3003", "applied",
             (("INV-3003-B", "500.00", FIFO), ("INV-3003-A", "250.00", FIFO)), "0.00",
             "account_reference", ("ACC-3003",)),
    # Over the customer's accounts: the entry's id keeps ACC-9001's share, ACC-9002's is a payment of its own
    # (test_an_iban_payment_is_shared_over_the_customers_accounts).
    Expected("yapikredi", "YKB20261209000902", "200.00", "2026-12-09", "ACC-9001", "applied",
             (("INV-9001-12", "200.00", FIFO),), "0.00",
             "iban", ("TR820011100000002233445566", "C9", "350.00")),
    Expected("vakifbank", "VKF2026121000417", "1050.00", "2026-12-10", "ACC-1001", "applied",
             (("INV-1001-A", "600.00", FIFO), ("INV-1001-B", "450.00", FIFO)), "0.00",
             "iban", ("TR150001000000001234567890", "C1")),
    Expected("akbank", "AKB20261211A0012", "500.00", "2026-12-11", "ACC-3003", "applied",
             (("INV-3003-D", "500.00", NAMED),), "0.00", "invoice_reference", ("INV-3003-D",)),
    Expected("vakifbank", "VKF2026121500093", "100.00", "2026-12-15", "ACC-8008", "applied",
             (("INV-8008-11", "100.00", FIFO),), "0.00", "account_reference", ("ACC-8008",)),
    Expected("yapikredi", "YKB20261222000118", "400.00", "2026-12-22", "ACC-3003", "applied",
             (("INV-3003-A", "250.00", FIFO), ("INV-3003-C", "150.00", FIFO)), "0.00",
             "account_reference", ("ACC-3003",)),
)  # fmt: skip

# account: (customer, currency, balance, unapplied credit, defect)
ACCOUNTS: dict[str, tuple[str, str, str, str, pytest.MarkDecorator | None]] = {
    "ACC-1001": ("C1", "TRY", "750.00", "0.00", None),
    "ACC-2002": ("C2", "TRY", "130.00", "0.00", None),
    "ACC-3003": ("C3", "TRY", "350.00", "0.00", None),
    "ACC-4004": ("C4", "EUR", "80.00", "0.00", None),
    "ACC-5005": ("C5", "TRY", "650.00", "0.00", None),
    "ACC-6006": ("C6", "TRY", "400.00", "0.00", None),
    "ACC-7007": ("C7", "TRY", "-100.00", "100.00", None),
    "ACC-8008": ("C8", "TRY", "300.00", "0.00", None),
    "ACC-9001": ("C9", "TRY", "0.00", "0.00", None),
    "ACC-9002": ("C9", "TRY", "0.00", "0.00", None),
}

# item: (account, amount, open amount, status, defect)
ITEMS: dict[str, tuple[str, str, str, str, pytest.MarkDecorator | None]] = {
    "INV-1001-A": ("ACC-1001", "600.00", "0.00", "paid", None),
    "INV-1001-B": ("ACC-1001", "600.00", "150.00", "partially_paid", None),
    "INV-1001-C": ("ACC-1001", "600.00", "600.00", "open", None),
    "INV-2002-09": ("ACC-2002", "120.00", "0.00", "paid", None),
    "INV-2002-10": ("ACC-2002", "120.00", "10.00", "partially_paid", None),
    "INV-2002-11": ("ACC-2002", "120.00", "0.00", "paid", None),
    "INV-2002-12": ("ACC-2002", "120.00", "120.00", "open", None),
    "INV-3003-A": ("ACC-3003", "500.00", "0.00", "paid", None),
    "INV-3003-B": ("ACC-3003", "500.00", "0.00", "paid", None),
    "INV-3003-C": ("ACC-3003", "500.00", "350.00", "partially_paid", None),
    "INV-3003-D": ("ACC-3003", "500.00", "0.00", "paid", None),
    "INV-4004-1": ("ACC-4004", "80.00", "80.00", "open", None),
    "INV-5005-11": ("ACC-5005", "750.00", "0.00", "paid", None),
    "INV-5005-12": ("ACC-5005", "750.00", "650.00", "partially_paid", None),
    "INV-6006-11": ("ACC-6006", "200.00", "200.00", "open", None),  # paid on 12-04, reopened by the AC04 return
    "INV-6006-12": ("ACC-6006", "200.00", "200.00", "open", None),
    "INV-7007-10": ("ACC-7007", "100.00", "0.00", "paid", None),
    "INV-7007-11": ("ACC-7007", "250.00", "0.00", "paid", None),
    "INV-7007-12": ("ACC-7007", "250.00", "0.00", "paid", None),  # loaded 12-15, paid by existing credit
    "INV-8008-11": ("ACC-8008", "400.00", "300.00", "partially_paid", None),  # reopened by RC, then credit
    "INV-9001-12": ("ACC-9001", "200.00", "0.00", "paid", None),
    "INV-9002-12": ("ACC-9002", "150.00", "0.00", "paid", None),
}


def _cases(rows: dict[str, Any] | tuple[Expected, ...]) -> list[Any]:
    if isinstance(rows, dict):
        return [pytest.param(key, id=key, marks=row[-1] or ()) for key, row in rows.items()]
    return [pytest.param(p, id=p.reference, marks=p.defect or ()) for p in rows]


@dataclass(frozen=True)
class Month:
    result: SimulationResult
    state: dict[str, Any]  # STATE.json as written
    records: dict[tuple[str, str], dict[str, Any]]  # the ledger's payment records, by (bank, bank reference)

    def payment(self, key: tuple[str, str]) -> dict[str, Any]:
        """The entry's own payment (a share on another account of the customer has the id ``<id>-<n>``)."""
        found = [
            p
            for p in self.state["payments"]
            if (p["bank_id"], p["bank_reference"]) == key and not SHARE.search(p["payment_id"])
        ]
        assert len(found) == 1, f"{key}: {len(found)} payments in STATE.json"
        return found[0]


SHARE = re.compile(r"-[0-9]+$")


def _payment_records(stack: EmbeddedStack) -> dict[tuple[str, str], dict[str, Any]]:
    """What STATE.json leaves out: each allocation's reason and a reversed payment's reason, read from the ledger."""
    dynamodb = stack.clients()("dynamodb")
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=physical_name(SIMULATION_PREFIX, TOPOLOGY.table.name),
        FilterExpression="begins_with(pk, :p) AND sk = :s",
        ExpressionAttributeValues={":p": {"S": "PAY#"}, ":s": {"S": "PAYMENT"}},
        ConsistentRead=True,
    )
    return {
        (r["bank_id"]["S"], r["bank_reference"]["S"]): r
        for page in pages
        for r in page["Items"]
        if not SHARE.search(r["payment_id"]["S"])
    }


@pytest.fixture(scope="module")
def month(stack: EmbeddedStack, tmp_path_factory: pytest.TempPathFactory) -> Month:
    out = tmp_path_factory.mktemp("payments-month") / "STATE.json"
    result = simulate(SCENARIO, UNTIL, out, stack=stack)
    return Month(result, json.loads(out.read_text(encoding="utf-8")), _payment_records(stack))


# -- the run as a whole ---------------------------------------------------------------------------------------------


def test_the_journal_proves_every_balance(month: Month) -> None:
    assert month.result.differences == []
    assert month.state["verified"] is True


def test_state_is_valid_against_the_schema(month: Month) -> None:
    jsonschema.validate(month.state, json.loads(schema_path().read_text()))
    assert month.state["as_of"] == "2026-12-31"
    assert month.result.days == 31


def test_nothing_reaches_a_dead_letter_queue(month: Month) -> None:
    assert month.result.dead_letters == {}


def test_every_schedule_and_bus_target_succeeded(month: Month) -> None:
    assert month.result.failures == []


def test_no_bank_file_or_entry_is_rejected(month: Month) -> None:
    assert month.state["rejections"] == []


def test_every_booked_credit_is_one_payment_and_nothing_else_is(month: Month) -> None:
    """Entries reported again (akbank's overlapping weeks, vakifbank's overlapping exports, yapikredi's camt.054
    then camt.053) post once; pending entries, debits and the return entries themselves are not payments."""
    keys = [(p["bank_id"], p["bank_reference"]) for p in month.state["payments"] if not SHARE.search(p["payment_id"])]
    assert sorted(keys) == sorted(p.key for p in PAYMENTS)


# -- each payment: how it was matched, and where its money went ------------------------------------------------------


@pytest.mark.parametrize("expected", [pytest.param(p, id=p.reference) for p in PAYMENTS])
def test_payment_is_matched_as_the_rules_say(month: Month, expected: Expected) -> None:
    payment = month.payment(expected.key)
    assert (payment["amount"], payment["currency"], payment["value_date"]) == (
        expected.amount,
        expected.currency,
        expected.value_date,
    )
    assert (payment["status"], payment["account_id"], payment["match"]["method"]) == (
        expected.status,
        expected.account_id,
        expected.method,
    )
    reason = payment["match"]["reason"]
    assert reason, "every match decision is explained"
    missing = [m for m in expected.mentions if m not in reason]
    assert not missing, f"the reason {reason!r} does not name {missing}"


@pytest.mark.parametrize("expected", _cases(PAYMENTS))
def test_payment_money_goes_where_the_rules_say(month: Month, expected: Expected) -> None:
    payment = month.payment(expected.key)
    allocations = {a["item_id"]: a["amount"] for a in payment["allocations"]}
    assert len(allocations) == len(payment["allocations"]), "one allocation per item"
    assert allocations == {item: amount for item, amount, _ in expected.allocations}
    assert payment["unapplied_amount"] == expected.unapplied


@pytest.mark.parametrize("expected", [pytest.param(p, id=p.reference) for p in PAYMENTS if p.allocations])
def test_every_allocation_says_why(month: Month, expected: Expected) -> None:
    """Named in the payment, next by the FIFO policy, or credit spent on an item loaded later."""
    why = {item: kind for item, _, kind in expected.allocations}
    record = month.records[expected.key]
    allocations = [a["M"] for a in record.get("allocations", {}).get("L", [])]
    assert allocations
    for allocation in allocations:
        item, reason = allocation["item_id"]["S"], allocation.get("reason", {}).get("S", "")
        assert item in reason, f"{item}: {reason!r}"
        kind = why.get(item)
        if kind == NAMED:
            assert "named" in reason, f"{item}: {reason!r}"
        elif kind == FIFO:
            assert "fifo" in reason.lower(), f"{item}: {reason!r}"
        elif kind == CREDIT:
            assert reason.startswith("credit") and "fifo" in reason.lower(), f"{item}: {reason!r}"


@pytest.mark.parametrize(
    ("reference", "names"),
    [("GAR20261204000044", ("AC04",)), ("ISB0812002", ("returned",))],
)
def test_a_reversed_payment_records_the_return_that_undid_it(month: Month, reference: str, names: tuple[str]) -> None:
    (record,) = [r for (_, ref), r in month.records.items() if ref == reference]
    assert record["status"]["S"] == "reversed" and record.get("allocations", {}).get("L", []) == []
    reason = record.get("reversal_reason", {}).get("S", "")
    assert all(name in reason for name in names), reason


@pytest.mark.parametrize(
    "expected",
    [pytest.param(p, id=p.reference) for p in PAYMENTS if p.status != "reversed"],
)
def test_a_payment_that_was_not_reversed_carries_no_reversal_reason(month: Month, expected: Expected) -> None:
    assert "reversal_reason" not in month.records[expected.key]


def test_suspense_holds_the_unmatched_and_the_wrong_currency_payment(month: Month) -> None:
    suspense = {p["bank_reference"] for p in month.state["payments"] if p["account_id"] is None}
    assert suspense == {"GAR20261203000102", "AKB20261205B0007-1"}


# -- the ledger at the end of the month -----------------------------------------------------------------------------


@pytest.mark.parametrize("account_id", _cases(ACCOUNTS))
def test_account_balance_and_credit(month: Month, account_id: str) -> None:
    customer, currency, balance, credit, _ = ACCOUNTS[account_id]
    (account,) = [a for a in month.state["accounts"] if a["account_id"] == account_id]
    fields = ("customer_id", "currency", "balance", "unapplied_credit")
    assert tuple(account[f] for f in fields) == (customer, currency, balance, credit)


def test_no_other_accounts(month: Month) -> None:
    assert [a["account_id"] for a in month.state["accounts"]] == sorted(ACCOUNTS)


@pytest.mark.parametrize("item_id", _cases(ITEMS))
def test_item_open_amount_and_status(month: Month, item_id: str) -> None:
    account_id, amount, open_amount, status, _ = ITEMS[item_id]
    (item,) = [i for i in month.state["items"] if i["item_id"] == item_id]
    assert (item["account_id"], item["amount"], item["open_amount"], item["status"]) == (
        account_id,
        amount,
        open_amount,
        status,
    )


def test_no_other_items(month: Month) -> None:
    assert [i["item_id"] for i in month.state["items"]] == sorted(ITEMS)


def test_ledger_invariants_hold_to_the_cent(month: Month) -> None:
    """Whatever the allocations: money is conserved. Σ allocations + unapplied = amount for every live payment; a
    reversed one keeps nothing; open = amount − Σ allocations; credit = Σ unapplied on the account; balance = Σ open −
    credit."""
    state = month.state
    allocated: dict[str, Decimal] = defaultdict(Decimal)
    credit: dict[str, Decimal] = defaultdict(Decimal)
    for payment in state["payments"]:
        shares = [Decimal(a["amount"]) for a in payment["allocations"]]
        if payment["status"] == "reversed":
            assert shares == [] and payment["unapplied_amount"] == "0.00", payment["bank_reference"]
            continue
        assert sum(shares, Decimal(0)) + Decimal(payment["unapplied_amount"]) == Decimal(payment["amount"])
        for allocation in payment["allocations"]:
            allocated[allocation["item_id"]] += Decimal(allocation["amount"])
        if payment["account_id"] is not None:
            credit[payment["account_id"]] += Decimal(payment["unapplied_amount"])
    open_by_account: dict[str, Decimal] = defaultdict(Decimal)
    for item in state["items"]:
        assert Decimal(item["open_amount"]) == Decimal(item["amount"]) - allocated[item["item_id"]], item["item_id"]
        assert Decimal(item["open_amount"]) >= 0
        open_by_account[item["account_id"]] += Decimal(item["open_amount"])
    for account in state["accounts"]:
        account_id = account["account_id"]
        assert Decimal(account["unapplied_credit"]) == credit[account_id], account_id
        assert Decimal(account["balance"]) == open_by_account[account_id] - credit[account_id], account_id


def test_an_iban_payment_is_shared_over_the_customers_accounts(month: Month) -> None:
    shares = [p for p in month.state["payments"] if p["bank_reference"] == "YKB20261209000902"]
    assert sorted((p["account_id"], p["amount"], p["allocations"][0]["item_id"]) for p in shares) == [
        ("ACC-9001", "200.00", "INV-9001-12"),
        ("ACC-9002", "150.00", "INV-9002-12"),
    ]
    assert all("350.00" in p["match"]["reason"] for p in shares)
