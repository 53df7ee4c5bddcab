"""STATE.json: the ledger and the rejections after a simulation, as plain sorted data
(docs/state.schema.json).

Accounts and items come from the package's :class:`~receivables.adapters.ledger_table.LedgerExport`, a Scan:
fine here and nowhere else, STATE.json being a full dump of a small simulated ledger, not a production read
path.

Rejections come from the rejection reports the loader writes under ``rejected/`` in the inbound bucket, CSV
files with the header ``file,line,reason`` (``line`` empty when the whole file was rejected) — the loader's
contract.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from receivables.adapters.disbursement_table import transfer_view
from receivables.adapters.dunning_table import DunningExport
from receivables.adapters.dynamodb_batches import paginated
from receivables.adapters.insurance_table import (
    InsuranceExport,
    exception_view,
    payable_facts,
    payable_posting,
    policy_view,
)
from receivables.adapters.journal_table import entry_from_record, item_posting
from receivables.adapters.keys import JOURNAL_PREFIX
from receivables.adapters.ledger_table import LedgerExport
from receivables.loading.reports import read_report_rows
from receivables.loading.service import REJECTED_PREFIX, REPORT_HEADER

from receivables_local.paths import repo_root

CENT = Decimal("0.01")


def money(value: Any) -> str:
    """A stored amount (string "12.5" or number) as a string with exactly 2 decimals."""
    return f"{Decimal(str(value)).quantize(CENT):f}"


@dataclass(frozen=True, slots=True)
class Rejection:
    file: str
    line: int | None
    reason: str

    def sort_key(self) -> tuple[str, int, str]:
        # Whole-file rejections (no line) first within their file.
        return (self.file, -1 if self.line is None else self.line, self.reason)


def export_ledger(dynamodb: Any, table: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All accounts and items of the table, as plain rows."""
    export = LedgerExport(dynamodb, table)
    credit = export.unapplied_credit()
    accounts = [
        {
            "account_id": a.account_id,
            "customer_id": a.customer_id,
            "currency": a.currency,
            "unapplied_credit": credit.get(a.account_id, Decimal(0)),
            "account_type": a.account_type,
        }
        for a in export.accounts()
    ]
    items = [
        {
            "item_id": i.item_id,
            "account_id": i.account_id,
            "amount": i.amount,
            "open_amount": i.open_amount,
            "due_date": i.due_date.isoformat(),
            "status": i.status.value,
            "kind": i.kind.value,
            "policy_id": i.policy_id,
        }
        for i in export.items()
    ]
    return accounts, items


def read_rejections(s3: Any, bucket: str) -> list[Rejection]:
    rejections = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=REJECTED_PREFIX):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode("utf-8-sig")
            rejections.extend(parse_report(obj["Key"], body))
    return sorted(rejections, key=Rejection.sort_key)


def parse_report(key: str, body: str) -> list[Rejection]:
    """The report's rows, cells as the loader meant them (reports neutralise spreadsheet formulas); ``file`` is the
    input's name without its folders, as STATE.json has it (the report itself carries the whole key)."""
    header = next(csv.reader(io.StringIO(body)), None)
    if tuple(header or ()) != REPORT_HEADER:
        raise ValueError(f"rejection report {key} has header {header}, expected {REPORT_HEADER}")
    return [
        Rejection(PurePosixPath(file).name, int(line) if line.strip() else None, reason)
        for file, line, reason in read_report_rows(body)
    ]


def build_state(
    as_of: date,
    accounts: list[dict[str, Any]],
    items: list[dict[str, Any]],
    rejections: list[Rejection],
    payments: list[dict[str, Any]] | None = None,
    direct_debits: list[dict[str, Any]] | None = None,
    dunning: DunningRows | None = None,
    verified: bool = True,
    insurance: InsuranceRows | None = None,
    gl: list[dict[str, Any]] | None = None,
    collections: list[dict[str, Any]] | None = None,
    adjustments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    open_by_account: dict[str, Decimal] = defaultdict(Decimal)
    item_rows = []
    for item in items:
        open_amount = Decimal(money(item["open_amount"]))
        open_by_account[str(item["account_id"])] += open_amount
        item_rows.append(
            {
                "item_id": str(item["item_id"]),
                "account_id": str(item["account_id"]),
                "amount": money(item["amount"]),
                "open_amount": money(open_amount),
                "due_date": str(item["due_date"]),
                "status": str(item["status"]),
                "kind": str(item.get("kind") or "invoice"),
                "policy_id": item.get("policy_id"),
            }
        )
    account_rows = [
        {
            "account_id": str(account["account_id"]),
            "customer_id": str(account["customer_id"]),
            "account_type": str(account.get("account_type") or "standard"),
            "currency": str(account["currency"]),
            # Balance = Σ open amounts − unapplied credit (issue 3); without payments the credit is 0.00.
            "balance": money(
                open_by_account.get(str(account["account_id"]), Decimal(0))
                - Decimal(money(account.get("unapplied_credit", 0)))
            ),
            "unapplied_credit": money(account.get("unapplied_credit", 0)),
            "dunning": (dunning.states if dunning else {}).get(str(account["account_id"]), NO_DUNNING),
        }
        for account in accounts
    ]
    payment_rows = [
        {
            "payment_id": p["payment_id"],
            "bank_id": p["bank_id"],
            "bank_reference": p["bank_reference"],
            "amount": money(p["amount"]),
            "currency": p["currency"],
            "value_date": p["value_date"],
            "account_id": p["account_id"],
            "allocations": [{"item_id": a["item_id"], "amount": money(a["amount"])} for a in p["allocations"]],
            "unapplied_amount": money(p["unapplied_amount"]),
            "status": p["status"],
            "match": {"method": p["match"]["method"], "reason": p["match"]["reason"]},
        }
        for p in payments or []
    ]
    return {
        "as_of": as_of.isoformat(),
        "accounts": sorted(account_rows, key=lambda a: a["account_id"]),
        "items": sorted(item_rows, key=lambda i: i["item_id"]),
        "rejections": [
            {"file": r.file, "line": r.line, "reason": r.reason} for r in sorted(rejections, key=Rejection.sort_key)
        ],
        "payments": sorted(payment_rows, key=lambda p: (p["value_date"], p["bank_id"] or "", p["payment_id"])),
        "direct_debits": sorted(
            ({**d, "amount": money(d["amount"])} for d in direct_debits or []),
            key=lambda d: (d["collection_date"], d["bank_id"], d["item_id"]),
        ),
        **(dunning or DunningRows()).sections(),
        **(insurance or InsuranceRows()).sections(),
        "gl": sorted(gl or [], key=lambda g: (g["date"], g["currency"])),
        "collections": sorted(collections or [], key=lambda c: (c["item_id"], c["attempt"])),
        "adjustments": sorted(adjustments or [], key=lambda a: a["adjustment_id"]),
        "verified": verified,
    }


@dataclass
class InsuranceRows:
    """The insurance sub-ledger's part of STATE.json: policies, parties' current accounts, commissions, exceptions."""

    policies: list[dict[str, Any]] = field(default_factory=list)
    parties: list[dict[str, Any]] = field(default_factory=list)
    commissions: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    payables: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)

    def sections(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "payables": sorted(self.payables, key=lambda p: p["payable_id"]),
            "transfers": sorted(self.transfers, key=lambda t: t["end_to_end_id"]),
            "policies": sorted(self.policies, key=lambda p: p["policy_id"]),
            "parties": sorted(self.parties, key=lambda p: (p["party_id"], p["kind"])),
            "commissions": sorted(self.commissions, key=lambda c: (c["policy_id"], c["installment_no"], c["party_id"])),
            "exceptions": sorted(self.exceptions, key=lambda e: e["exception_id"]),
        }


def read_insurance(dynamodb: Any, table: str, as_of: date | None = None) -> InsuranceRows:
    """Policies as GET /policies/{id} shows them, and every party's (and policyholder's) receivable and payable."""
    export = InsuranceExport(dynamodb, table)
    items = list(export.scan("ITEM#", "ITEM"))
    of_policy: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        if "policy_id" in item:
            of_policy[item["policy_id"]["S"]].append(item)
    rows = InsuranceRows()
    policyholders: set[str] = set()
    for record in export.scan("POLICY#", "POLICY"):
        view = policy_view(record, of_policy.get(record["policy_id"]["S"], []), as_of=as_of)
        policyholders.add(view.customer_id)
        rows.policies.append(
            {
                "policy_id": view.policy_id,
                "customer_id": view.customer_id,
                "branch": view.branch,
                "status": view.status,
                "billing": view.billing,
                "party_id": view.party_id,
                "net_premium": money(view.net_premium),
                "levies": {code: money(amount) for code, amount in view.levies.items()},
                "gross_premium": money(view.gross_premium),
                "cancelled_on": view.cancelled_on.isoformat() if view.cancelled_on else None,
                "cancellation_reason": view.cancellation_reason,
                "installments": [
                    {
                        "no": i.no,
                        "item_id": i.item_id,
                        "due_date": i.due_date.isoformat(),
                        "amount": money(i.amount),
                        "open_amount": money(i.open_amount),
                        "status": i.status,
                        "components": {code: money(amount) for code, amount in i.components.items()},
                    }
                    for i in view.installments
                ],
                "notices": [{"date": n.date.isoformat(), "deadline": n.deadline.isoformat()} for n in view.notices],
            }
        )
        rows.commissions += [
            {
                "policy_id": c.policy_id,
                "installment_no": c.installment_no,
                "party_id": c.party_id,
                "amount": money(c.amount),
                "status": c.status,
            }
            for c in view.commissions
        ]
    owners: dict[tuple[str, str], list[str]] = defaultdict(list)  # (owner kind, owner id) → accounts
    for account in export.scan("ACCT#", "ACCOUNT"):
        kind = account.get("owner_kind", {}).get("S", "customer")
        owners[(kind, account["customer_id"]["S"])].append(account["account_id"]["S"])
    receivable: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        receivable[item["account_id"]["S"]] += Decimal(item["open_amount"]["N"])
    payable: dict[str, Decimal] = defaultdict(Decimal)
    for record in export.scan("PAYABLE#", "PAYABLE"):
        payable[record["account_id"]["S"]] += Decimal(record["open_amount"]["N"])
        facts = payable_facts(record)
        rows.payables.append(
            {
                "payable_id": facts.payable_id,
                "party_id": facts.party_id,
                "kind": facts.kind,
                "amount": money(facts.amount),
                "open_amount": money(facts.open_amount),
                "status": facts.status,
                "end_to_end_id": facts.payable_id,
            }
        )
        if (transfer := transfer_view(record)) is not None:
            rows.transfers.append(
                {
                    "end_to_end_id": transfer["end_to_end_id"],
                    "bank_id": transfer["bank_id"],
                    "amount": money(transfer["amount"]),
                    "status": transfer["status"],
                }
            )

    def totals(party_id: str, kind: str, owner_kind: str) -> dict[str, Any]:
        accounts = owners.get((owner_kind, party_id), [])
        owed = sum((receivable[a] for a in accounts), Decimal(0))
        owing = sum((payable[a] for a in accounts), Decimal(0))
        return {
            "party_id": party_id,
            "kind": kind,
            "receivable": money(owed),
            "payable": money(owing),
            "net": money(owed - owing),
        }

    rows.exceptions = [
        {
            "exception_id": e["exception_id"],
            "party_id": e["party_id"],
            "statement_id": e["statement_id"],
            "amount": money(e["amount"]),
            "status": e["status"],
        }
        for e in map(exception_view, export.scan("EXC#", "EXCEPTION"))
    ]
    for record in export.scan("PARTY#", "PARTY"):
        rows.parties.append(totals(record["party_id"]["S"], record["kind"]["S"], "party"))
    rows.parties += [totals(customer_id, "customer", "customer") for customer_id in sorted(policyholders)]
    return rows


NO_DUNNING = {"stage": None, "strategy": None, "segment": None, "cycle_started": None}


@dataclass
class DunningRows:
    """Dunning's part of STATE.json, from what the dunning records hold (receivables.dunning.records)."""

    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    promises: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    holds: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)

    def sections(self) -> dict[str, list[dict[str, Any]]]:
        notifications = [
            {
                "account_id": c["account_id"],
                "channel": c["channel"],
                "step": c["step"],
                # A deferred SMS counts on the day it went out (quiet hours ended), the others on the day they fired.
                "date": _local_date(c["send_at"]) if c.get("send_at") else c["date"],
                "template": c.get("template"),
                "to": c.get("to"),
                "status": c["status"],
            }
            for c in self.contacts
            if c.get("channel")
        ]
        actions = [
            {
                "account_id": c["account_id"],
                "action": c["action"],
                "date": c["date"],
                "step": c["step"],
                "policy_id": c.get("policy_id"),
            }
            for c in self.contacts
            if c.get("action")
        ]
        return {
            "notifications": sorted(notifications, key=lambda n: (n["date"], n["account_id"], n["step"])),
            "actions": sorted(actions, key=lambda a: (a["date"], a["account_id"], a["action"])),
            "promises": sorted(
                (
                    {
                        "promise_id": p["promise_id"],
                        "account_id": p["account_id"],
                        "amount": money(p["amount"]),
                        "date": p["date"],
                        "created_on": p["created_on"],
                        "status": p["status"],
                        "outcome_on": p.get("outcome_on"),
                    }
                    for p in self.promises
                ),
                key=lambda p: (p["created_on"], p["account_id"], p["promise_id"]),
            ),
            "plans": sorted(
                (
                    {
                        "plan_id": p["plan_id"],
                        "account_id": p["account_id"],
                        "total": money(p["total"]),
                        "installments": [
                            {"item_id": i["item_id"], "due_date": i["due_date"], "amount": money(i["amount"])}
                            for i in p["installments"]
                        ],
                        "restructured": sorted(p["restructured"]),
                        "created_on": p["created_on"],
                        "status": p["status"],
                        "outcome_on": p.get("outcome_on"),
                    }
                    for p in self.plans
                ),
                key=lambda p: (p["created_on"], p["account_id"], p["plan_id"]),
            ),
            "holds": sorted(
                (
                    {
                        "hold_id": h["hold_id"],
                        "level": h["level"],
                        "id": h["target_id"],
                        "reason": h["reason"],
                        "start": h["start"],
                        "until": h.get("until"),
                        "status": h["status"],
                    }
                    for h in self.holds
                ),
                key=lambda h: (h["start"], h["level"], h["id"], h["hold_id"]),
            ),
            "tasks": sorted(
                (
                    {
                        "task_id": t["task_id"],
                        "account_id": t["account_id"],
                        "group": t["group"],
                        "step": t["step"],
                        "created_on": t["created_on"],
                        "status": t["status"],
                        "outcome": t.get("outcome"),
                    }
                    for t in self.tasks
                ),
                key=lambda t: (t["created_on"], t["account_id"], t["task_id"]),
            ),
        }


def _local_date(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(ZoneInfo("Europe/Istanbul")).date().isoformat()


def read_dunning(dynamodb: Any, table: str) -> DunningRows:
    export = DunningExport(dynamodb, table)
    return DunningRows(
        states={a: s.summary() for a, s in export.states().items()},
        contacts=export.docs("contact"),
        promises=export.docs("promise"),
        plans=export.docs("plan"),
        holds=export.docs("hold"),
        tasks=export.docs("task"),
    )


def read_state(clients: Any, table: str, inbound_bucket: str, as_of: date, *, verified: bool = True) -> dict[str, Any]:
    accounts, items = export_ledger(clients("dynamodb"), table)
    export = LedgerExport(clients("dynamodb"), table)
    return build_state(
        as_of,
        accounts,
        items,
        read_rejections(clients("s3"), inbound_bucket),
        list(export.payments()),
        list(export.direct_debits()),
        read_dunning(clients("dynamodb"), table),
        verified=verified,
        insurance=read_insurance(clients("dynamodb"), table, as_of),
        gl=read_gl(clients("dynamodb"), table),
        collections=read_collections(clients("dynamodb"), table),
        adjustments=read_adjustments(clients("dynamodb"), table),
    )


def read_adjustments(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every billing adjustment received and what became of it (ADJ#<adjustment_id>)."""
    from receivables.adapters.adjustments_table import AdjustmentsTable

    return [
        {
            "adjustment_id": a.adjustment_id,
            "item_id": a.request.item_id,
            "kind": a.request.kind.value,
            "amount": None if a.request.amount is None else money(a.request.amount),
            "status": a.status.value,
        }
        for a in AdjustmentsTable(dynamodb, table).all()
    ]


def read_collections(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every card or bank-scheme collection attempt and how the bank answered it (CCREQ#<reference>)."""
    from receivables.adapters.card_collection_table import request_view
    from receivables.adapters.ledger_table import scan_entities

    return [
        {
            "item_id": view["item_id"],
            "bank_id": view["bank_id"],
            "attempt": view["attempt"],
            "status": view["status"],
            "reason": view["reason"],
        }
        for view in map(request_view, scan_entities(dynamodb, table, "CCREQ#", "REQUEST"))
    ]


def read_gl(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Each general-ledger export's control record, one row per currency (GL#<date>)."""
    rows = []
    for record in InsuranceExport(dynamodb, table).scan("GL#", "GL"):
        control = json.loads(record["control"]["S"])
        rows += [
            {
                "date": control["business_date"],
                "lines": c["lines"],
                "debit": money(c["debit"]),
                "credit": money(c["credit"]),
                "currency": c["currency"],
            }
            for c in control["currencies"]
        ]
    return rows


def export_journal(dynamodb: Any, table: str) -> list[str]:
    """Every posting of the journal as one canonical line, sorted: what was posted, on what, why and by what cause,
    without the moment or the entry id (which differ between two replays of one scenario). Two replays that posted
    the same money the same number of times give the same list. An item's own record is its posting (item_posted)."""
    lines = []
    request = {
        "TableName": table,
        "FilterExpression": "begins_with(pk, :j) OR (begins_with(pk, :i) AND sk = :item) "
        "OR (begins_with(pk, :pay) AND sk = :payable)",
        "ExpressionAttributeValues": {
            ":j": {"S": JOURNAL_PREFIX},
            ":i": {"S": "ITEM#"},
            ":item": {"S": "ITEM"},
            ":pay": {"S": "PAYABLE#"},
            ":payable": {"S": "PAYABLE"},
        },
        "ConsistentRead": True,
    }
    for record in paginated(dynamodb.scan, request):
        pk = record["pk"]["S"]
        if pk.startswith(JOURNAL_PREFIX):
            entry = entry_from_record(record)
        elif pk.startswith("PAYABLE#"):
            entry = payable_posting(record)
        else:
            entry = item_posting(record)
        head = f"{entry.account_id}|{entry.business_date}|{entry.operation}|{entry.cause.describe()}"
        lines += [
            f"{head}|{p.kind.value}|{p.side.value}|{p.item_id}|{p.payment_id}|{p.amount}|{p.reason}"
            for p in entry.postings
        ]
    return sorted(lines)


def export_outbound(s3: Any, bucket: str, directory: Path) -> list[str]:
    """Copy the files the system sent (bank collections, letters) under ``directory``, keeping their keys."""
    written = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            target = directory / obj["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            written.append(obj["Key"])
    return sorted(written)


def dumps(state: dict[str, Any]) -> str:
    """Canonical text: same state, same bytes."""
    return json.dumps(state, indent=2, ensure_ascii=False) + "\n"


def write_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(state), encoding="utf-8")


def schema_path() -> Path:
    return repo_root() / "docs" / "state.schema.json"
