"""Issue "Operate and report", "Done when": a month of a small portfolio replayed with ``simulate`` — CRM master
data (accounts, subscriptions, customers with addresses and TCKN/VKN), invoices, bank statements paying in full and in
part, billing adjustments of every kind (one refused, one write-off above the threshold approved by a second person),
a dunning configuration with a challenger arm and an early collector call published by an admin, collectors working
their tasks (a promise, a dispute), a supervisor's hold, a collector refused where only an admin may act — end in the
STATE.json the rules define; the BI export's aging and cash reports agree with it; the account's timeline tells its
story in order.

The scenario is ``scenarios/operate_month``; its README works every figure out by hand. Where the system does not do
what the docs said, the replay found it: the credit note's payment method missing from the schema, the timeline
missing collector tasks, and a moved due date missing from the BI export — each fixed, each held here.

The REST API is read on the replay's last day, after its schedules, through ``simulate``'s own gateway (the
``on_day`` hook): the stack keeps the data after ``simulate`` returns, but a second ``LocalSession`` over it cannot be
opened (provisioning creates buckets and the table, which exist: ``BucketAlreadyOwnedByYou``).
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from receivables.adapters.dunning_table import DunningExport
from receivables.dunning.config import DunningConfig
from receivables.dunning.engine import assign_arm
from receivables.dunning.service import task_id_of
from receivables.topology import TOPOLOGY
from receivables_local import scenario as scenario_module
from receivables_local.embedded import EmbeddedStack
from receivables_local.http_api import ApiGateway, Request
from receivables_local.reports import run
from receivables_local.resources import physical_name
from receivables_local.scenario import SIMULATION_PREFIX, SimulationResult, simulate
from receivables_local.state import schema_path
from stdnum.tr import tckimlik, vkn

from .conftest import requires_handlers

pytestmark = [pytest.mark.e2e, requires_handlers]

SCENARIO = Path(__file__).parent / "scenarios" / "operate_month"
FIRST = date(2026, 11, 2)
UNTIL = date(2026, 12, 3)
EXPORTED = UNTIL - timedelta(days=1)  # the BI export of a day runs the night after: the last one is the 2nd's
PAYMENT_DAY = "2026-11-10"  # three credits: two customers, one into suspense
MOVED = date(2026, 11, 15)  # INV-OM5-1's due date moved on 11-09 from 11-10 to 11-20: not due on this day
WAITING = date(2026, 11, 19)  # ADJ-OM-08 (write-off 3,000.00) arrives and waits for a second person

# -- what is read through the REST API on the last day, as people of the groups the routes allow --------------------
QUERIES: dict[str, tuple[str, str]] = {
    "timeline": ("/accounts/ACC-OM4/timeline", "ali@collector"),  # collectors read timelines
    "customer": ("/customers/C-OM4", "ali@collector"),
    "account": ("/accounts/ACC-OM4", "ali@collector"),
    "write_off": ("/adjustments/ADJ-OM-08", "selin@finance"),
    "config": ("/dunning/config", "ali@collector"),
    "aging_city": (f"/reports/aging?date={EXPORTED}&by=city", "mert@supervisor"),
    "aging_type": (f"/reports/aging?date={EXPORTED}&by=account_type", "mert@supervisor"),
    "cash": (f"/reports/cash?date={PAYMENT_DAY}", "selin@finance"),
    "supervisors": ("/collectors/supervisors/tasks", "mert@supervisor"),
}

# -- expected outcome (README, "Outcome on 2026-12-03") -------------------------------------------------------------

ACCOUNT_TYPES = {
    "ACC-OM1": "residential",
    "ACC-OM2": "corporate",
    "ACC-OM3": "residential",
    "ACC-OM4": "residential",
    "ACC-OM5": "sme",
    "ACC-OM6": "residential",
    "ACC-OM7": "residential",
}

# item: (account, amount, open amount, due date, status)
ITEMS = {
    "DN-ADJ-OM-07": ("ACC-OM5", "75.00", "0.00", "2026-11-20", "paid"),  # the debit note, due with INV-OM5-1
    "INV-OM1-1": ("ACC-OM1", "400.00", "0.00", "2026-11-06", "paid"),  # credited 60.00 after it was paid
    "INV-OM1-2": ("ACC-OM1", "300.00", "240.00", "2026-11-30", "partially_paid"),  # took that 60.00 credit
    "INV-OM2-1": ("ACC-OM2", "5000.00", "0.00", "2026-10-31", "written_off"),  # 2,000.00 paid, 3,000.00 written off
    "INV-OM3-1": ("ACC-OM3", "800.00", "0.00", "2026-10-31", "paid"),  # the promise kept
    "INV-OM3-2": ("ACC-OM3", "500.00", "500.00", "2026-12-15", "open"),  # December's, not due yet
    "INV-OM4-1": ("ACC-OM4", "600.00", "0.00", "2026-11-01", "paid"),
    "INV-OM4-2": ("ACC-OM4", "350.00", "250.00", "2026-11-01", "partially_paid"),  # disputed, credited 100.00
    "INV-OM5-1": ("ACC-OM5", "1200.00", "0.00", "2026-11-20", "paid"),  # due date moved from 11-10
    "INV-OM5-2": ("ACC-OM5", "1200.00", "0.00", "2026-11-10", "cancelled"),  # billed twice
    "INV-OM6-1": ("ACC-OM6", "250.00", "0.00", "2026-11-03", "written_off"),  # 242.50 paid, 7.50 written off
    "INV-OM7-1": ("ACC-OM7", "450.00", "300.00", "2026-11-12", "partially_paid"),
}

# bank reference: (account, match method, [(item, amount)], unapplied)
BANK_PAYMENTS = {
    "GAR20261106000001": ("ACC-OM1", "invoice_reference", [("INV-OM1-1", "400.00")], "0.00"),
    "GAR20261110000001": ("ACC-OM4", "invoice_reference", [("INV-OM4-1", "600.00")], "0.00"),
    "GAR20261110000002": ("ACC-OM6", "iban", [("INV-OM6-1", "242.50")], "0.00"),
    "GAR20261110000003": (None, "unmatched", [], "35.00"),
    "GAR20261112000001": ("ACC-OM2", "invoice_reference", [("INV-OM2-1", "2000.00")], "0.00"),
    "GAR20261113000001": ("ACC-OM3", "account_reference", [("INV-OM3-1", "800.00")], "0.00"),
    "GAR20261120000001": ("ACC-OM7", "account_reference", [("INV-OM7-1", "150.00")], "0.00"),
    "GAR20261120000002": ("ACC-OM5", "iban", [("DN-ADJ-OM-07", "75.00"), ("INV-OM5-1", "1200.00")], "0.00"),
}

# (adjustment, item, kind, amount, status)
ADJUSTMENTS = [
    ("ADJ-OM-01", "INV-OM5-2", "cancel", None, "applied"),  # billed twice, nothing paid
    ("ADJ-OM-02", "INV-OM5-1", "due_date_change", None, "applied"),  # 11-10 → 11-20
    ("ADJ-OM-03", "INV-OM4-2", "credit_note", "100.00", "applied"),  # an open item: 350.00 → 250.00
    ("ADJ-OM-04", "INV-OM6-1", "write_off", "7.50", "applied"),  # all that was left: written off
    ("ADJ-OM-05", "INV-OM1-1", "credit_note", "60.00", "applied"),  # a paid item: 60.00 credit
    ("ADJ-OM-06", "INV-OM1-1", "cancel", None, "refused"),  # a paid item cannot be cancelled
    ("ADJ-OM-07", "INV-OM5-1", "debit_note", "75.00", "applied"),  # DN-ADJ-OM-07, due with INV-OM5-1
    ("ADJ-OM-08", "INV-OM2-1", "write_off", "3000.00", "applied"),  # pending_approval 11-19, approved 11-20
]

# (date, account, step, channel, template)
NOTIFICATIONS = [
    ("2026-11-02", "ACC-OM3", "email", "email", "reminder"),
    ("2026-11-02", "ACC-OM4", "email", "email", "reminder"),
    ("2026-11-03", "ACC-OM2", "call", "call_task", None),  # challenger: the call first
    ("2026-11-03", "ACC-OM3", "call", "call_task", None),
    ("2026-11-04", "ACC-OM4", "call", "call_task", None),
    ("2026-11-04", "ACC-OM6", "email", "email", "reminder"),
    ("2026-11-06", "ACC-OM6", "call", "call_task", None),
    ("2026-11-07", "ACC-OM2", "sms", "sms", "second_reminder"),  # challenger's day 7
    ("2026-11-15", "ACC-OM7", "call", "call_task", None),
    ("2026-11-19", "ACC-OM7", "sms", "sms", "second_reminder"),
    ("2026-11-27", "ACC-OM7", "letter", "letter", "formal_notice"),  # challenger's day 15
    ("2026-12-01", "ACC-OM1", "email", "email", "reminder"),  # the 240.00 left of INV-OM1-2, due 11-30
    ("2026-12-03", "ACC-OM1", "call", "call_task", None),
]

# account: (stage, strategy, cycle_started) on 2026-12-03; every account is in segment standard
DUNNING = {
    "ACC-OM1": ("call", "standard_call", "2026-12-01"),
    "ACC-OM2": (None, "call_first", None),  # ended 11-20 by the write-off
    "ACC-OM3": (None, "standard_call", None),  # ended 11-13 by the payment promised
    "ACC-OM4": (None, "standard_call", None),  # ended 11-10: what is left is disputed, held
    "ACC-OM5": (None, "standard_call", None),
    "ACC-OM6": (None, "standard_call", None),  # ended 11-10: 7.50 left, below 10.00
    "ACC-OM7": ("letter", "call_first", "2026-11-13"),
}
CHALLENGERS = {"ACC-OM2", "ACC-OM7"}  # sha256 buckets 32 and 26 of 100, under the 50 % of the challenger

CALLS = {
    account: task_id_of(f"{account}#1#call")
    for account in ("ACC-OM1", "ACC-OM2", "ACC-OM3", "ACC-OM4", "ACC-OM6", "ACC-OM7")
}
DISPUTE_TASK = task_id_of(f"{CALLS['ACC-OM4']}#dispute")  # named after the call it came from

# (task, account, group, step, created on, status, outcome)
TASKS = [
    (CALLS["ACC-OM2"], "ACC-OM2", "corporate", "call", "2026-11-03", "claimed", None),
    (CALLS["ACC-OM3"], "ACC-OM3", "retail", "call", "2026-11-03", "done", "promise"),
    (CALLS["ACC-OM4"], "ACC-OM4", "retail", "call", "2026-11-04", "done", "dispute"),
    (CALLS["ACC-OM6"], "ACC-OM6", "retail", "call", "2026-11-06", "open", None),
    (DISPUTE_TASK, "ACC-OM4", "supervisors", "dispute", "2026-11-09", "open", None),
    (CALLS["ACC-OM7"], "ACC-OM7", "retail", "call", "2026-11-15", "done", "no_answer"),
    (CALLS["ACC-OM1"], "ACC-OM1", "retail", "call", "2026-12-03", "open", None),
]
# task: (assigned to, claimed by, closed by) — retail's ali and veli take one open task each (capacity 1)
ASSIGNMENTS = {
    CALLS["ACC-OM2"]: ("elif", "elif", None),
    CALLS["ACC-OM3"]: ("ali", "ali", "ali"),
    CALLS["ACC-OM4"]: ("veli", "veli", "veli"),
    CALLS["ACC-OM6"]: (None, None, None),  # 11-06: ali and veli each hold one open task — it waits in the queue
    DISPUTE_TASK: (None, None, None),
    CALLS["ACC-OM7"]: ("ali", "ali", "ali"),  # 11-15: round-robin after veli, and ali has room again
    CALLS["ACC-OM1"]: ("veli", None, None),  # 12-03: after ali, veli (his dispute task is done)
}

API_CALLS = [
    ("2026-11-02", "PUT", "/dunning/config", "deniz@admin", 200),
    ("2026-11-02", "PUT", "/dunning/config", "ali@collector", 403),  # configuration is for admin
    ("2026-11-04", "POST", f"/tasks/{CALLS['ACC-OM2']}/claim", "elif@collector", 200),
    ("2026-11-09", "POST", f"/tasks/{CALLS['ACC-OM3']}/claim", "ali@collector", 200),
    ("2026-11-09", "POST", f"/tasks/{CALLS['ACC-OM3']}/outcome", "ali@collector", 200),
    ("2026-11-09", "POST", f"/tasks/{CALLS['ACC-OM4']}/claim", "veli@collector", 200),
    ("2026-11-09", "POST", f"/tasks/{CALLS['ACC-OM4']}/outcome", "veli@collector", 200),
    ("2026-11-13", "POST", "/holds", "ali@collector", 403),  # holds are for supervisors
    ("2026-11-13", "POST", "/holds", "mert@supervisor", 201),
    ("2026-11-16", "POST", f"/tasks/{CALLS['ACC-OM7']}/claim", "ali@collector", 200),
    ("2026-11-16", "POST", f"/tasks/{CALLS['ACC-OM7']}/outcome", "ali@collector", 200),
    ("2026-11-20", "POST", "/adjustments/ADJ-OM-08/approve", "selin@finance", 200),
]

# the general-ledger export per day: (date, lines, Σ debit = Σ credit)
GL = [
    ("2026-11-02", 18, "10250.00"),  # nine invoices posted
    ("2026-11-06", 4, "800.00"),  # 400.00 received and allocated
    ("2026-11-09", 2, "1200.00"),  # the cancel (the due-date change posts nothing)
    ("2026-11-10", 10, "1720.00"),  # 877.50 received, 842.50 of it allocated
    ("2026-11-12", 4, "4000.00"),
    ("2026-11-13", 4, "1600.00"),
    ("2026-11-16", 10, "527.50"),  # INV-OM1-2 300.00, credit notes 100.00 and 60.00, the 60.00 applied, write-off 7.50
    ("2026-11-18", 2, "75.00"),  # the debit note
    ("2026-11-20", 12, "5850.00"),  # 150.00 and 1,275.00 received and allocated, the 3,000.00 write-off
    ("2026-11-30", 2, "500.00"),  # INV-OM3-2
]

REFUSED_CANCEL = (
    "adjustment ADJ-OM-06 refused: item INV-OM1-1 is paid (400.00 of 400.00 paid or credited): a paid item cannot "
    "be cancelled — credit it instead"
)


# -- the replay -------------------------------------------------------------------------------------------------------


@dataclass
class Month:
    result: SimulationResult
    state: dict[str, Any]  # STATE.json as written
    out: Path
    seconds: float
    api: dict[str, tuple[int, Any]] = field(default_factory=dict)  # QUERIES read on the last day
    refused: tuple[int, Any] = (0, None)  # a collector publishing the configuration, on the last day
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # the task records (assigned_to, claimed_by…)
    holds: dict[str, dict[str, Any]] = field(default_factory=dict)  # the hold records (created_by…)

    @property
    def analytics(self) -> Path:
        return self.out.parent / "analytics"

    def item(self, item_id: str) -> dict[str, Any]:
        return next(i for i in self.state["items"] if i["item_id"] == item_id)


def send(gateway: ApiGateway, method: str, path: str, caller: str, body: Any = None) -> tuple[int, Any]:
    data = b"" if body is None else json.dumps(body).encode()
    response = gateway.handle(Request(method, path, [("content-type", "application/json")], data, caller=caller))
    return response.status, json.loads(response.body or b"null")


@pytest.fixture(scope="module")
def month(stack: EmbeddedStack, tmp_path_factory: pytest.TempPathFactory) -> Month:
    out = tmp_path_factory.mktemp("operate-month") / "STATE.json"
    gateways: list[ApiGateway] = []

    class RecordingGateway(ApiGateway):
        """simulate's own gateway, kept so that the last day can be read through the API as it stands."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            gateways.append(self)

    read: dict[str, tuple[int, Any]] = {}
    refused: list[tuple[int, Any]] = []

    def on_day(day: date, _files: int) -> None:
        gateway = gateways[-1]
        if day == MOVED + timedelta(days=1):  # the night after, its export ran
            read["aging_moved"] = send(
                gateway, "GET", f"/reports/aging?date={MOVED}&by=account_type", "mert@supervisor"
            )
        if day == WAITING:
            read["write_off_waiting"] = send(gateway, "GET", "/adjustments/ADJ-OM-08", "selin@finance")
            read["item_waiting"] = send(gateway, "GET", "/items/INV-OM2-1", "selin@finance")
        if day != UNTIL:
            return
        for name, (path, caller) in QUERIES.items():
            read[name] = send(gateway, "GET", path, caller)
        document = {k: v for k, v in read["config"][1]["config"].items() if k != "version"}
        refused.append(send(gateway, "PUT", "/dunning/config", "ali@collector", document))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scenario_module, "ApiGateway", RecordingGateway)
        started = time.perf_counter()
        result = simulate(SCENARIO, UNTIL, out, stack=stack, on_day=on_day)
        seconds = time.perf_counter() - started
    print(f"\noperate_month: {result.days} days replayed in {seconds:.1f} s")
    export = DunningExport(stack.clients()("dynamodb"), physical_name(SIMULATION_PREFIX, TOPOLOGY.table.name))
    return Month(
        result=result,
        state=json.loads(out.read_text(encoding="utf-8")),
        out=out,
        seconds=seconds,
        api=read,
        refused=refused[0],
        tasks={t["task_id"]: t for t in export.docs("task")},
        holds={h["hold_id"]: h for h in export.docs("hold")},
    )


def scenario_csv(relative: str) -> list[dict[str, str]]:
    with (SCENARIO / relative).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


# -- the run as a whole -----------------------------------------------------------------------------------------------


def test_the_replay_is_clean_and_the_journal_proves_every_balance(month: Month) -> None:
    result = month.result
    assert (result.failures, result.dead_letters, result.differences) == ([], {}, [])
    assert month.state["verified"] is True
    assert (month.state["as_of"], result.days) == (UNTIL.isoformat(), 32)
    # 4 master-data and invoice files, 2 more invoice files, 4 adjustment files, 5 bank statements.
    assert result.files == 15
    # The one rejected line is the refused cancel: a file's refusal is reported by line, with its reason.
    assert month.state["rejections"] == [
        {"file": "billing-adjustments-2026-11-16.csv", "line": 5, "reason": REFUSED_CANCEL}
    ]
    assert all(g["debit"] == g["credit"] for g in month.state["gl"])  # every exported day balances
    assert [(g["date"], g["lines"], g["debit"]) for g in month.state["gl"]] == GL


def test_state_json_validates_against_the_schema(month: Month) -> None:
    jsonschema.validate(month.state, json.loads(schema_path().read_text()))


# -- master data --------------------------------------------------------------------------------------------------


def test_accounts_carry_their_crm_type_and_customers_their_address_and_national_id(month: Month) -> None:
    assert {a["account_id"]: a["account_type"] for a in month.state["accounts"]} == ACCOUNT_TYPES
    assert {a["account_id"]: a["customer_id"] for a in month.state["accounts"]} == {
        f"ACC-OM{n}": f"C-OM{n}" for n in range(1, 8)
    }
    # The scenario's national ids are real TCKN (individuals, 11 digits) and VKN (companies, 10 digits).
    for row in scenario_csv("2026-11-02/customers/crm-2026-11-02.csv"):
        valid = tckimlik.is_valid if row["type"] == "individual" else vkn.is_valid
        assert valid(row["national_id"]), row["customer_id"]
    status, customer = month.api["customer"]
    assert status == 200
    assert (customer["address"], customer["postal_code"], customer["district"], customer["national_id"]) == (
        "Altıparmak Cad. 15/7",
        "16050",
        "Osmangazi",
        "47291836550",
    )
    status, account = month.api["account"]
    assert status == 200
    assert (account["account_type"], account["billing_address"], account["city"]) == (
        "residential",
        "Sahil Yolu 3",
        "Eskişehir",
    )


# -- the ledger ---------------------------------------------------------------------------------------------------


def test_items_end_with_the_open_amounts_and_statuses_the_rules_give(month: Month) -> None:
    found = {
        i["item_id"]: (i["account_id"], i["amount"], i["open_amount"], i["due_date"], i["status"])
        for i in month.state["items"]
    }
    assert found == ITEMS
    assert {"written_off", "cancelled", "paid", "partially_paid"} <= {i["status"] for i in month.state["items"]}


def test_balances_are_the_open_amounts(month: Month) -> None:
    for account in month.state["accounts"]:
        open_amount = sum(
            (money(i["open_amount"]) for i in month.state["items"] if i["account_id"] == account["account_id"]),
            Decimal("0.00"),
        )
        assert money(account["balance"]) == open_amount - money(account["unapplied_credit"])
    assert {a["account_id"]: a["balance"] for a in month.state["accounts"]} == {
        "ACC-OM1": "240.00",
        "ACC-OM2": "0.00",
        "ACC-OM3": "500.00",
        "ACC-OM4": "250.00",
        "ACC-OM5": "0.00",
        "ACC-OM6": "0.00",
        "ACC-OM7": "300.00",
    }


def test_bank_payments_are_matched_and_allocated_in_full_and_in_part(month: Month) -> None:
    bank = [p for p in month.state["payments"] if p["bank_id"] == "garanti"]
    found = {
        p["bank_reference"]: (
            p["account_id"],
            p["match"]["method"],
            [(a["item_id"], a["amount"]) for a in p["allocations"]],
            p["unapplied_amount"],
        )
        for p in bank
    }
    assert found == BANK_PAYMENTS
    suspense = next(p for p in bank if p["account_id"] is None)
    assert suspense["status"] == "unapplied"


def test_a_credit_note_on_a_paid_item_becomes_credit_the_next_item_takes(month: Month) -> None:
    credit = next(p for p in month.state["payments"] if p["payment_id"] == "CN-ADJ-OM-05")
    assert (credit["bank_id"], credit["account_id"], credit["amount"], credit["unapplied_amount"]) == (
        "adjustment",
        "ACC-OM1",
        "60.00",
        "0.00",
    )
    assert credit["allocations"] == [{"item_id": "INV-OM1-2", "amount": "60.00"}]
    assert credit["match"]["method"] == "credit_note"
    assert month.item("INV-OM1-1")["status"] == "paid"  # nothing to absorb: it stays paid


# -- adjustments ----------------------------------------------------------------------------------------------------


def test_every_kind_of_adjustment_is_recorded_with_what_became_of_it(month: Month) -> None:
    fields = ("adjustment_id", "item_id", "kind", "amount", "status")
    assert [tuple(a[f] for f in fields) for a in month.state["adjustments"]] == ADJUSTMENTS
    assert {a["kind"] for a in month.state["adjustments"]} == {
        "credit_note",
        "debit_note",
        "write_off",
        "cancel",
        "due_date_change",
    }
    note = month.item("DN-ADJ-OM-07")
    assert (note["kind"], note["due_date"]) == ("debit_note", month.item("INV-OM5-1")["due_date"])


def test_the_large_write_off_waited_for_a_second_person(month: Month) -> None:
    status, waiting = month.api["write_off_waiting"]  # 11-19, the day the file came
    assert status == 200 and (waiting["status"], waiting["decided_by"]) == ("pending_approval", None)
    assert "above the approval threshold" in waiting["explanation"]
    status, item = month.api["item_waiting"]
    assert status == 200 and (item["open_amount"], item["status"]) == ("3000.00", "partially_paid")  # nothing moved
    status, body = month.api["write_off"]
    assert status == 200
    assert (body["status"], body["created_by"], body["decided_by"]) == (
        "applied",
        "adjustments/billing-adjustments-2026-11-19.csv",  # a file's sender is the file
        "selin",  # the finance person who approved it, from the request context
    )
    assert (body["created_at"][:10], body["decided_at"][:10]) == ("2026-11-19", "2026-11-20")
    assert "nothing left open" in body["explanation"]


# -- dunning configuration and who may publish it ------------------------------------------------------------------


def test_the_configuration_is_published_by_an_admin_and_refused_to_a_collector(month: Month) -> None:
    assert [(c["date"], c["method"], c["path"], c.get("as"), c["status"]) for c in month.result.api_calls] == API_CALLS
    status, config = month.api["config"]
    assert status == 200 and (config["version"], config["created_by"]) == (2, "deniz")
    standard = next(s for s in config["config"]["segments"] if s["name"] == "standard")
    assert standard["challenger"] == {"strategy": "call_first", "percent": 50, "experiment": "call-first-2026-11"}
    groups = {g["name"]: g["collectors"] for g in config["config"]["collector_groups"]}
    assert groups == {
        "corporate": [{"name": "elif", "capacity": 3}],
        "retail": [{"name": "ali", "capacity": 1}, {"name": "veli", "capacity": 1}],
    }
    status, body = month.refused
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert body["error"]["message"] == "ali (collector) may not PUT /dunning/config: it is for admin"


def test_each_account_gets_the_arm_its_hash_draws(month: Month) -> None:
    config = DunningConfig.model_validate(month.api["config"][1]["config"])
    segment = config.segment("standard")
    assert segment is not None and segment.challenger is not None
    for account in month.state["accounts"]:
        arm = assign_arm(account["account_id"], segment)
        expected = segment.challenger.strategy if arm == "challenger" else segment.strategy
        assert account["dunning"]["strategy"] == expected, account["account_id"]
        assert account["dunning"]["segment"] == "standard"
    assert {a for a in ACCOUNT_TYPES if assign_arm(a, segment) == "challenger"} == CHALLENGERS


def test_notifications_go_out_on_the_days_the_strategies_give(month: Month) -> None:
    assert [
        (n["date"], n["account_id"], n["step"], n["channel"], n["template"]) for n in month.state["notifications"]
    ] == NOTIFICATIONS
    assert {n["status"] for n in month.state["notifications"]} == {"sent"}
    assert month.state["actions"] == []  # nobody reached day 30
    letter = month.out.parent / "outbound" / "letters" / "2026-11-27" / "ACC-OM7-1-letter.pdf"
    assert letter.read_bytes().startswith(b"%PDF")


def test_final_dunning_state_per_account(month: Month) -> None:
    found = {
        a["account_id"]: (a["dunning"]["stage"], a["dunning"]["strategy"], a["dunning"]["cycle_started"])
        for a in month.state["accounts"]
    }
    assert found == DUNNING


# -- collectors and supervisors ----------------------------------------------------------------------------------------


def test_collectors_work_their_tasks_under_capacity(month: Month) -> None:
    assert [
        (t["task_id"], t["account_id"], t["group"], t["step"], t["created_on"], t["status"], t["outcome"])
        for t in month.state["tasks"]
    ] == TASKS
    assert {
        task_id: (t.get("assigned_to"), t.get("claimed_by"), t.get("closed_by")) for task_id, t in month.tasks.items()
    } == ASSIGNMENTS
    status, queue = month.api["supervisors"]
    assert status == 200 and [t["task_id"] for t in queue] == [DISPUTE_TASK]
    assert "veli recorded a dispute" in queue[0]["explanation"] and "held: INV-OM4-2" in queue[0]["explanation"]


def test_the_promise_is_kept_and_the_holds_name_who_made_them(month: Month) -> None:
    assert month.state["promises"] == [
        {
            "promise_id": "PR000001",
            "account_id": "ACC-OM3",
            "amount": "800.00",
            "date": "2026-11-13",
            "created_on": "2026-11-09",
            "status": "kept",
            "outcome_on": "2026-11-13",
        }
    ]
    assert month.state["holds"] == [
        {
            "hold_id": "HL000001",
            "level": "item",
            "id": "INV-OM4-2",
            "reason": "dispute",
            "start": "2026-11-09",
            "until": None,
            "status": "active",
        },
        {
            "hold_id": "HL000002",
            "level": "account",
            "id": "ACC-OM2",
            "reason": "konkordato başvurusu: hukuk incelemesinde",
            "start": "2026-11-13",
            "until": None,
            "status": "active",
        },
    ]
    assert {h: r["created_by"] for h, r in month.holds.items()} == {"HL000001": "veli", "HL000002": "mert"}


# -- the account's story ------------------------------------------------------------------------------------------


def _timeline(month: Month) -> list[dict[str, Any]]:
    status, body = month.api["timeline"]
    assert status == 200 and body["next_cursor"] is None
    return body["events"]


def test_the_timeline_tells_the_accounts_story_in_date_order(month: Month) -> None:
    events = _timeline(month)
    assert [e["date"] for e in events] == sorted(e["date"] for e in events)
    told = [
        (e["date"], e["kind"], e["by"], e.get("amount"))
        for e in events
        if e["kind"] in ("item", "payment", "adjustment", "contact", "hold")
    ]
    assert told == [
        ("2026-10-16", "item", "invoices/billing-2026-11-02.csv", "600.00"),
        ("2026-10-16", "item", "invoices/billing-2026-11-02.csv", "350.00"),
        ("2026-11-02", "contact", "dunning", None),  # the e-mail reminder, day 1
        ("2026-11-04", "contact", "dunning", None),  # the collector's call, day 3
        ("2026-11-09", "hold", "veli", None),  # the dispute veli recorded
        ("2026-11-10", "payment", "banks/garanti/camt053-20261110.xml", "600.00"),
        ("2026-11-16", "adjustment", "adjustments/billing-adjustments-2026-11-16.csv", "100.00"),
    ]
    contacts = [e for e in events if e["kind"] == "contact"]
    assert [(e["ids"]["step"], e["detail"]["channel"]) for e in contacts] == [("email", "email"), ("call", "call_task")]
    hold = next(e for e in events if e["kind"] == "hold")
    assert hold["what"] == "item hold HL000001 on INV-OM4-2: dispute"
    cycle = [(e["date"], e["what"].rsplit(": ", 1)[1]) for e in events if e["kind"] == "cycle"]
    assert cycle[0] == ("2026-11-02", "started") and cycle[-1] == ("2026-11-10", "ended")
    adjustment = next(e for e in events if e["kind"] == "adjustment")
    assert adjustment["ids"] == {"adjustment_id": "ADJ-OM-03", "item_id": "INV-OM4-2"}


def test_the_timeline_shows_the_collector_tasks_and_their_outcomes(month: Month) -> None:
    tasks = [(e["date"], e["ids"].get("task_id"), e["by"]) for e in _timeline(month) if e["kind"] == "task"]
    assert [
        ("2026-11-04", CALLS["ACC-OM4"], "dunning"),  # the call task, day 3
        ("2026-11-09", CALLS["ACC-OM4"], "veli"),  # its outcome: dispute
    ] == [t for t in tasks if t[1] == CALLS["ACC-OM4"]]


# -- reports over the BI export -----------------------------------------------------------------------------------


def _open_by(month: Month, dimension: dict[str, str]) -> dict[str, Decimal]:
    """What STATE.json says is open, added up by a dimension of the item's account."""
    totals: dict[str, Decimal] = {}
    for item in month.state["items"]:
        if money(item["open_amount"]) > 0:
            key = dimension[item["account_id"]]
            totals[key] = totals.get(key, Decimal("0.00")) + money(item["open_amount"])
    return totals


def _aging_totals(rows: list[tuple[Any, ...]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for value, _currency, _bucket, _items, amount in rows:
        totals[value] = totals.get(value, Decimal("0.00")) + money(amount)
    return totals


def _cities() -> dict[str, str]:
    """An account's city: its billing city (accounts file) when it has one, else its customer's."""
    customers = {r["customer_id"]: r["city"] for r in scenario_csv("2026-11-02/customers/crm-2026-11-02.csv")}
    return {
        r["account_id"]: r["city"] or customers[r["customer_id"]]
        for r in scenario_csv("2026-11-02/accounts/crm-accounts-2026-11-02.csv")
    }


def test_aging_from_the_bi_export_adds_up_to_what_state_leaves_open(month: Month) -> None:
    """Nothing changes an item on the last day, so the export of the day before is STATE.json's ledger."""
    types = {a["account_id"]: a["account_type"] for a in month.state["accounts"]}
    columns, by_type = run("aging", month.analytics, as_of=EXPORTED.isoformat(), dimension="account_type")
    assert columns == ["account_type", "currency", "bucket", "items", "open_amount"]
    assert _aging_totals(by_type) == _open_by(month, types)
    _columns, by_city = run("aging", month.analytics, as_of=EXPORTED.isoformat(), dimension="city")
    assert _aging_totals(by_city) == _open_by(month, _cities())
    # By hand (README), as of 12-02: INV-OM3-2 500.00 due 12-15; INV-OM1-2 240.00 2 and INV-OM7-1 300.00 20 days past
    # due; INV-OM4-2 250.00 31 days — in Eskişehir, its account's billing city, not its customer's Bursa.
    assert [(r[0], r[2], r[3], money(r[4])) for r in by_type] == [
        ("residential", "not_due", 1, Decimal("500.00")),
        ("residential", "1-30", 2, Decimal("540.00")),
        ("residential", "31-60", 1, Decimal("250.00")),
    ]
    assert [(r[0], r[2], r[3], money(r[4])) for r in by_city] == [
        ("Antalya", "1-30", 1, Decimal("300.00")),
        ("Eskişehir", "31-60", 1, Decimal("250.00")),
        ("İstanbul", "1-30", 1, Decimal("240.00")),
        ("İzmir", "not_due", 1, Decimal("500.00")),
    ]
    # The API's aging (from the export's snapshot) gives the same lines as DuckDB over the exported files — on the
    # last exported day, and mid-month (read that day through the API).
    _columns, moved = run("aging", month.analytics, as_of=MOVED.isoformat(), dimension="account_type")
    status, body = month.api["aging_moved"]
    assert status == 200
    assert [(line["value"], line["bucket"], line["items"], line["open_amount"]) for line in body] == [
        (r[0], r[2], r[3], f"{money(r[4]):.2f}") for r in moved
    ]
    for name, rows in (("aging_city", by_city), ("aging_type", by_type)):
        status, body = month.api[name]
        assert status == 200
        assert [(line["value"], line["bucket"], line["items"], line["open_amount"]) for line in body] == [
            (r[0], r[2], r[3], f"{money(r[4]):.2f}") for r in rows
        ]


def test_aging_follows_a_moved_due_date(month: Month) -> None:
    _columns, rows = run("aging", month.analytics, as_of=MOVED.isoformat(), dimension="account_type")
    status, body = month.api["aging_moved"]
    assert status == 200
    api = [(line["bucket"], line["items"], line["open_amount"]) for line in body if line["value"] == "sme"]
    duck = [(r[2], r[3], f"{money(r[4]):.2f}") for r in rows if r[0] == "sme"]
    assert api == duck == [("not_due", 1, "1200.00")]


def test_cash_of_a_payment_day_is_the_money_state_received_that_day(month: Month) -> None:
    columns, rows = run("cash", month.analytics, as_of=PAYMENT_DAY)
    (cash,) = [dict(zip(columns, row, strict=True)) for row in rows]
    received = [p for p in month.state["payments"] if p["value_date"] == PAYMENT_DAY and p["bank_id"] == "garanti"]
    assert money(cash["received"]) == sum((money(p["amount"]) for p in received), Decimal("0.00"))
    assert money(cash["into_suspense"]) == sum(
        (money(p["amount"]) for p in received if p["account_id"] is None), Decimal("0.00")
    )
    assert money(cash["allocated"]) == sum(
        (money(a["amount"]) for p in received for a in p["allocations"]), Decimal("0.00")
    )
    # By hand: 600.00 + 242.50 + 35.00 received, the 35.00 into suspense, 842.50 allocated.
    assert (cash["currency"], money(cash["received"]), money(cash["into_suspense"]), money(cash["allocated"])) == (
        "TRY",
        Decimal("877.50"),
        Decimal("35.00"),
        Decimal("842.50"),
    )
    status, (api,) = month.api["cash"]
    assert status == 200
    assert (api["received"], api["into_suspense"], api["allocated"]) == ("877.50", "35.00", "842.50")
