"""``receivables demo``: a sample portfolio loaded end to end on the embedded stack, then a summary of what
happened.

Everything in the summary is read back from the system the way an operator would in AWS: file outcomes from
the loader's bus events, rejections from the reports in S3, balances from the ledger table, one account over
the REST API.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from receivables.adapters.dunning_table import DunningExport
from receivables.adapters.ledger_table import LedgerExport
from rich.console import Console
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from receivables_local.embedded import EmbeddedStack
from receivables_local.http_api import ApiGateway, HttpApi
from receivables_local.outcomes import file_outcomes
from receivables_local.people import LocalUserPool
from receivables_local.runtime import Invocation
from receivables_local.sample_data import Portfolio, generate
from receivables_local.serve import ServeLoop
from receivables_local.session import LocalSession
from receivables_local.state import Rejection, export_ledger, read_rejections

DEMO_PREFIX = "demo"
REJECTION_SAMPLE = 20


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    currency: str
    accounts: int
    items: int
    balance: Decimal
    overdue: Decimal


def currency_totals(accounts: list[dict[str, Any]], items: list[dict[str, Any]], today: date) -> list[CurrencyTotals]:
    currency_of = {a["account_id"]: a["currency"] for a in accounts}
    counts: dict[str, int] = defaultdict(int)
    for account in accounts:
        counts[account["currency"]] += 1
    item_counts: dict[str, int] = defaultdict(int)
    balance: dict[str, Decimal] = defaultdict(Decimal)
    overdue: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        currency = currency_of.get(item["account_id"], "?")
        item_counts[currency] += 1
        balance[currency] += item["open_amount"]
        if date.fromisoformat(item["due_date"]) < today:
            overdue[currency] += item["open_amount"]
    return [CurrencyTotals(c, counts[c], item_counts[c], balance[c], overdue[c]) for c in sorted(counts | item_counts)]


def _load(session: LocalSession, portfolio: Portfolio, console: Console) -> float:
    started = time.perf_counter()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[dim]{task.fields[invocations]} invocations"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("Loading", total=len(portfolio.files), invocations=0)

        def on_invocation(_: Invocation) -> None:
            progress.update(task, invocations=len(session.runtime.invocations))

        session.runtime.invoker.observers.append(on_invocation)
        for sample in portfolio.files:
            progress.update(task, description=f"Loading [bold]{sample.name}[/]")
            session.upload(sample.key, sample.body)
            session.runtime.run_until_idle()
            progress.advance(task)
        progress.update(task, description="Loaded")
        session.runtime.invoker.observers.remove(on_invocation)
    return time.perf_counter() - started


DEMO_BANK = "demobank"


def demo_statement(items: list[Any], today: date, payments: int = 150) -> bytes:
    """A camt.054 paying some overdue items in full by their invoice id, one partial payment by account id, and one
    transfer nobody can place — what a bank would send on a collection day."""
    overdue = sorted((i for i in items if i.open_amount > 0 and i.due_date < today), key=lambda i: i.item_id)
    every = max(1, len(overdue) // payments)
    entries = [
        (f"DEMO{n:06d}", f"Fatura {i.item_id}", str(i.open_amount), i.currency)
        for n, i in enumerate(overdue[::every][:payments])
    ]
    if overdue:
        entries.append(("DEMO-PARTIAL", f"Hesap {overdue[-1].account_id}", "10.00", overdue[-1].currency))
    entries.append(("DEMO-UNKNOWN", "bagis", "42.00", "TRY"))
    rows = "".join(
        f'<Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>{today.isoformat()}</Dt></BookgDt><ValDt><Dt>{today.isoformat()}</Dt></ValDt>"
        f"<AcctSvcrRef>{ref}</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls>"
        "</NtryDtls></Ntry>"
        for ref, text, amount, currency in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">'
        f"<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>DEMO</MsgId><CreDtTm>{today.isoformat()}T10:00:00</CreDtTm>"
        "</GrpHdr><Ntfctn><Id>DEMO-1</Id><Acct><Id><IBAN>TR120006200000000012345678</IBAN></Id></Acct>"
        f"{rows}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()


@dataclass(frozen=True, slots=True)
class CollectionDay:
    payments: dict[str, int]  # "method / status" -> count
    notifications: dict[str, int]  # channel -> count
    actions: dict[str, int]  # action -> count
    seconds: float


def _collection_day(
    session: LocalSession, today: date, progress: Callable[[str], None] = lambda _message: None
) -> CollectionDay:
    """A bank statement, then the day's schedules; ``progress`` is told each step as it starts (the demo's spinner
    says which of the minutes-long steps is running, not one message for all of them)."""
    started = time.perf_counter()
    dynamodb, table = session.clients("dynamodb"), session.resources.table
    session.upload(
        f"banks/{DEMO_BANK}/{today.isoformat()}.xml", demo_statement(list(LedgerExport(dynamodb, table).items()), today)
    )
    session.runtime.run_until_idle()
    progress(f"A collection day: statement loaded in {time.perf_counter() - started:.0f} s; the day's schedules…")
    for function, trigger in session.runtime.schedules_of(today):
        progress(f"A collection day: {trigger.name} ({function.name})… {time.perf_counter() - started:.0f} s")
        session.runtime.fire_schedule(function, trigger, today)
        session.runtime.run_until_idle()
    payments: dict[str, int] = defaultdict(int)
    for payment in LedgerExport(dynamodb, table).payments():
        payments[f"{payment['match']['method']} / {payment['status']}"] += 1
    notifications: dict[str, int] = defaultdict(int)
    actions: dict[str, int] = defaultdict(int)
    for contact in DunningExport(dynamodb, table).docs("contact"):
        if contact.get("channel"):
            notifications[contact["channel"]] += 1
        if contact.get("action"):
            actions[contact["action"]] += 1
    return CollectionDay(dict(payments), dict(notifications), dict(actions), time.perf_counter() - started)


def _collection_table(day: CollectionDay) -> Table:
    table = Table(title=f"A collection day ({day.seconds:.1f} s): payments, then the dunning run", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in sorted(day.payments.items()):
        table.add_row(f"payments matched by {name}", f"{count:,}")
    for name, count in sorted(day.notifications.items()):
        table.add_row(f"notices by {name}", f"{count:,}")
    for name, count in sorted(day.actions.items()):
        table.add_row(f"actions: {name}", f"{count:,}")
    return table


def _files_table(session: LocalSession, portfolio: Portfolio) -> Table:
    outcomes = file_outcomes(session.runtime.bus.events)
    table = Table(title="Files (from the loader's events)", title_justify="left")
    table.add_column("file", overflow="fold")
    table.add_column("status")
    for column in ("rows", "loaded", "skipped", "rejected"):
        table.add_column(column, justify="right")
    for sample in portfolio.files:
        outcome = outcomes.get(sample.key)
        name = f"{sample.key}\n[dim]{sample.description}[/]"
        if outcome is None:
            table.add_row(name, "[red]no outcome[/]", "", "", "", "")
        elif outcome.status == "loaded":
            rejected = f"[yellow]{outcome.rejected}[/]" if outcome.rejected else "0"
            counts = (str(outcome.rows), str(outcome.loaded), str(outcome.skipped), rejected)
            table.add_row(name, "[green]loaded[/]", *counts)
        else:
            status = "[red]rejected[/]" if outcome.status == "rejected" else "[yellow]skipped[/]"
            table.add_row(f"{name}\n[dim]{outcome.note}[/]", status, "", "", "", "")
    return table


def _rejections_table(rejections: list[Rejection]) -> Table:
    shown = rejections[:REJECTION_SAMPLE]
    title = f"Rejections ({len(shown)} of {len(rejections)})" if len(rejections) > len(shown) else "Rejections"
    table = Table(title=title, title_justify="left")
    table.add_column("file")
    table.add_column("line", justify="right")
    table.add_column("reason", overflow="fold")
    for rejection in shown:
        table.add_row(rejection.file, "—" if rejection.line is None else str(rejection.line), rejection.reason)
    return table


def _totals_table(totals: list[CurrencyTotals]) -> Table:
    table = Table(title="Ledger by currency", title_justify="left")
    for column in ("currency", "accounts", "items", "open balance", "of which overdue"):
        table.add_column(column, justify="left" if column == "currency" else "right")
    for row in totals:
        table.add_row(row.currency, f"{row.accounts:,}", f"{row.items:,}", f"{row.balance:,.2f}", f"{row.overdue:,.2f}")
    return table


def _api_sample(api_url: str, account_id: str) -> str:
    with urllib.request.urlopen(f"{api_url}/accounts/{account_id}", timeout=10) as response:
        body = json.loads(response.read())
    items = body.get("items", [])
    return (
        f"GET {api_url}/accounts/{account_id} → {response.status}: balance {body.get('balance')} "
        f"{body.get('currency')}, {len(items)} items, next action on {body.get('next_action_on')}"
    )


def run_demo(
    console: Console,
    *,
    customers: int,
    seed: int,
    business_date: date,
    serve: bool,
    port: int,
    stack: EmbeddedStack | None = None,
    insurance: bool = True,
) -> int:
    """0 when every file reached an outcome and nothing was dead-lettered. ``stack``: reuse one (reset).
    ``insurance``: then replay the insurance portfolio (``tests/e2e/scenarios/insurance_quarter``) and show it."""
    with console.status("Generating the sample portfolio…"):
        portfolio = generate(customers, seed, business_date)
    own_stack = stack is None
    stack = stack or EmbeddedStack()
    try:
        with console.status("Starting moto server and DynamoDB Local…"):
            stack.start() if own_stack else stack.reset()
        with (
            LocalSession(stack, business_date, prefix=DEMO_PREFIX) as session,
            HttpApi(
                ApiGateway(session.topology, session.runtime.invoker, LocalUserPool(session.stack.clients())), port=port
            ) as api,
        ):
            elapsed = _load(session, portfolio, console)
            with console.status("A collection day: the bank statement…") as status:
                collection = _collection_day(session, business_date, status.update)
            healthy = _summary(console, session, portfolio, api.url, business_date, elapsed, serve)
            console.print(_collection_table(collection))
            if insurance and not serve:
                healthy = _insurance(console, stack) and healthy
            if serve:
                console.print("\n[bold]Serving[/] — drop more files or call the API; Ctrl-C to stop.")
                loop = ServeLoop(session, pinned_date=business_date, fire_now=False, say=console.print)
                try:
                    loop.run_forever()
                except KeyboardInterrupt:
                    console.print("stopping…")
    finally:
        if own_stack:
            stack.stop()
    return 0 if healthy else 1


INSURANCE_SCENARIO = ("tests", "e2e", "scenarios", "insurance_quarter")
INSURANCE_UNTIL = date(2027, 2, 10)


def _insurance(console: Console, stack: EmbeddedStack) -> bool:
    """Ten weeks of an insurer's portfolio replayed with ``simulate``: policies across branches, endorsements up and
    down, an agency statement and its net remittance, warning letters, a cancellation and a reinstatement."""
    from receivables_local.paths import repo_root
    from receivables_local.scenario import simulate

    scenario = repo_root().joinpath(*INSURANCE_SCENARIO)
    with console.status(f"An insurance portfolio: {scenario.name} replayed day by day until {INSURANCE_UNTIL}…"):
        result = simulate(scenario, INSURANCE_UNTIL, stack=stack)
    for table in insurance_tables(result.state):
        console.print(table)
    return not result.failures and not result.dead_letters and result.state["verified"]


def insurance_tables(state: dict[str, Any]) -> list[Table]:
    """The insurance part of STATE.json as an operator reads it: policies, current accounts, what dunning did."""
    policies = Table(title="Policies (insurance sub-ledger)", title_justify="left")
    for column in ("policy", "branch", "billing", "status", "gross premium", "levies", "installments paid", "open"):
        policies.add_column(column, justify="right" if column in ("gross premium", "open") else "left")
    for p in state["policies"]:
        paid = sum(1 for i in p["installments"] if i["status"] == "paid")
        open_amount = sum(Decimal(i["open_amount"]) for i in p["installments"])
        levies = ", ".join(f"{code} {amount}" for code, amount in p["levies"].items())
        status = p["status"] + (f" ({p['cancellation_reason']} {p['cancelled_on']})" if p["cancelled_on"] else "")
        policies.add_row(
            p["policy_id"],
            p["branch"],
            p["billing"],
            status,
            p["gross_premium"],
            levies,
            f"{paid}/{len(p['installments'])}",
            f"{open_amount:.2f}",
        )
    parties = Table(title="Current accounts (cari hesap)", title_justify="left")
    for column in ("party", "kind", "receivable", "payable", "net"):
        parties.add_column(column, justify="right" if column in ("receivable", "payable", "net") else "left")
    for party in state["parties"]:
        parties.add_row(party["party_id"], party["kind"], party["receivable"], party["payable"], party["net"])
    events = Table(title="Warning letters, cancellations and the agency statement", title_justify="left")
    for column in ("date", "account", "what"):
        events.add_column(column)
    rows = [(n["date"], n["account_id"], f"{n['channel']} {n['step']}") for n in state["notifications"]]
    rows += [(a["date"], a["account_id"], f"{a['action']} {a['policy_id'] or ''}".strip()) for a in state["actions"]]
    rows += [
        (p["value_date"], p["account_id"] or "suspense", f"payment {p['amount']} ({p['match']['method']})")
        for p in state["payments"]
    ]
    for row in sorted(rows):
        events.add_row(*row)
    return [policies, parties, events]


def _summary(
    console: Console,
    session: LocalSession,
    portfolio: Portfolio,
    api_url: str,
    today: date,
    elapsed: float,
    serving: bool,
) -> bool:
    runtime = session.runtime
    accounts, items = export_ledger(session.clients("dynamodb"), session.resources.table)
    rejections = read_rejections(session.s3(), session.inbound_bucket)
    console.print()
    console.print(_files_table(session, portfolio))
    console.print(_rejections_table(rejections))
    console.print(_totals_table(currency_totals(accounts, items, today)))
    bucket = session.inbound_bucket
    reports = sorted({o.report for o in file_outcomes(runtime.bus.events).values() if o.report})
    quarantined = [
        obj["Key"] for obj in session.s3().list_objects_v2(Bucket=bucket, Prefix="quarantine/").get("Contents", [])
    ]
    dead = {queue: n for queue, n in runtime.dead_letters().items() if n}
    failed = sum(1 for i in runtime.invocations if i.failed)
    lines = [
        f"Loaded in {elapsed:.1f} s: {len(runtime.invocations)} invocations, {failed} with failed records, "
        f"dead letters: {dead or 'none'}",
        f"Planted mistakes: {len(portfolio.planted)} — the identical duplicate counts as skipped, "
        "every other one is a rejection above",
        "Rejection reports: " + ", ".join(f"s3://{bucket}/{r}" for r in reports),
        "Quarantine: " + (", ".join(f"s3://{bucket}/{k}" for k in quarantined) or "empty"),
        f"Handler logs: {session.log_path}",
    ]
    if accounts:
        sample = sorted(accounts, key=lambda a: a["account_id"])[0]["account_id"]
        lines.append(_api_sample(api_url, sample))
        if serving:
            lines.append(f"Try: curl {api_url}/accounts/{sample}  ·  {api_url}/customers/C000001  ·  {api_url}/health")
        else:
            lines.append("The stack stops now: `receivables demo --serve` keeps the API up to try it.")
    console.print(Panel("\n".join(lines), title="Summary", title_align="left"))
    outcomes = file_outcomes(runtime.bus.events)
    return not dead and all(sample.key in outcomes for sample in portfolio.files)
