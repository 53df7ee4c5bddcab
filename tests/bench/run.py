"""`make bench`: the loading benchmarks, appended to docs/benchmarks.md with the date and the machine.

(a) in-process pipeline (parse + validate + build DynamoDB items) vs plain csv.reader on a 100,000-invoice CSV;
(b) end-to-end rows/s through the local stack (moto server + DynamoDB Local, the real handlers and triggers);
(c) DynamoDB write requests and write units per 1,000 invoices, counted by a botocore event hook;
(d) peak memory while loading a 1,000,000-row file;
(e) payments on a 100,000-account ledger; (f) the daily dunning run over it with 1 % due.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.data import write_customers, write_invoices  # noqa: E402
from tests.bench.dynamodb_meter import WriteMeter  # noqa: E402
from tests.bench.pipeline import time_csv_reader, time_pipeline  # noqa: E402
from tests.machine import machine  # noqa: E402

RESULTS = ROOT / "docs" / "benchmarks.md"


def bench_pipeline(work: Path) -> dict[str, float]:
    path = write_invoices(work / "invoices-100k.csv", 100_000, customers=40_000)
    runs = []
    for _ in range(3):
        baseline = min(time_csv_reader(path) for _ in range(3))
        plan, load, rows = time_pipeline(path)
        runs.append((load / baseline, (plan + load) / baseline, baseline, plan, load, rows))
    best = min(runs)
    return {
        "ratio_loader": best[0],
        "ratio_with_planner": best[1],
        "csv_reader_s": best[2],
        "plan_s": best[3],
        "load_s": best[4],
        "rows": best[5],
    }


def bench_local_stack(work: Path, customers: int = 5_000) -> dict[str, float]:
    """A first bill run (every account and subscription new), the next month's run on the same accounts (the
    steady state), and the second month's file sent again."""
    from receivables_local.embedded import EmbeddedStack
    from receivables_local.session import LocalSession

    customer_file = write_customers(work / "customers.csv", customers)
    first_month = write_invoices(work / "invoices-1.csv", customers, customers=customers)
    next_month = write_invoices(
        work / "invoices-2.csv", customers, customers=customers, first_id=customers, start=date(2026, 12, 1), seed=12
    )
    meter = WriteMeter.install()
    readings = {}
    with EmbeddedStack(log_dir=work / "logs") as stack, LocalSession(stack, date(2026, 11, 24)) as session:
        s3 = session.clients("s3")

        def load(path: Path, key: str) -> float:
            meter.reset()
            began = time.perf_counter()
            s3.upload_file(str(path), session.inbound_bucket, key)
            session.runtime.run_until_idle()
            return time.perf_counter() - began

        load(customer_file, "customers/customers.csv")
        readings["first"] = (load(first_month, "invoices/2026-11.csv"), meter.snapshot())
        readings["steady"] = (load(next_month, "invoices/2026-12.csv"), meter.snapshot())
        readings["again"] = (load(next_month, "invoices/2026-12-resent.csv"), meter.snapshot())
    result: dict[str, float] = {"invoices": customers}
    for name, (seconds, reading) in readings.items():
        result |= {
            f"{name}_rows_per_s": customers / seconds,
            f"{name}_requests_per_1000": reading.requests * 1000 / customers,
            f"{name}_wcu": reading.units / customers,
            f"{name}_wcu_table": reading.table_units / customers,
            f"{name}_wcu_index": reading.index_units / customers,
        }
    return result


def _camt054(entries: list[tuple[str, str, str]]) -> bytes:
    """A camt.054 notification with one booked credit per (reference, invoice id, amount)."""
    rows = "".join(
        f'<Ntry><Amt Ccy="TRY">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>2026-11-24</Dt></BookgDt><ValDt><Dt>2026-11-24</Dt></ValDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><Refs><EndToEndId>E2E-{ref}</EndToEndId></Refs>"
        f"<RmtInf><Ustrd>Fatura {invoice}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        for ref, invoice, amount in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">'
        "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-11-24T10:00:00</CreDtTm></GrpHdr>"
        "<Ntfctn><Id>BENCH-1</Id><Acct><Id><IBAN>TR120006200000000012345678</IBAN></Id></Acct>"
        f"{rows}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()


def bench_large_ledger(work: Path, accounts: int = 100_000, payments: int = 500) -> dict[str, float]:
    """On a ledger of ``accounts`` accounts (1 % due for dunning today):

    (f) the daily run: planner + workers on the local stack, wall time, and the reads per due account (requests and
    records, counted by a botocore hook) — the rest of the table is never read;
    (e) payments that each settle one item by invoice reference: payments/s, write units and queries per payment
    (the payment path alone: the real-time dunning review a payment triggers is the cost (f) measures).
    """
    from receivables.topology import ScheduleTrigger
    from receivables_local.embedded import EmbeddedStack
    from receivables_local.session import LocalSession

    from tests.bench.seed import seed_ledger

    run_date = date(2026, 11, 24)
    meter = WriteMeter.install()
    result: dict[str, float] = {"accounts": accounts}
    with EmbeddedStack(log_dir=work / "large-logs") as stack, LocalSession(stack, run_date) as session:
        began = time.perf_counter()
        due = seed_ledger(session.clients("dynamodb"), session.resources.table, accounts, run_date)
        result |= {"seed_s": time.perf_counter() - began, "due": due}

        function, trigger = next(
            (f, t) for f, t in session.topology.triggers_of_kind(ScheduleTrigger) if f.name == "plan_daily_run"
        )
        meter.reset()
        began = time.perf_counter()
        session.runtime.fire_schedule(function, trigger, run_date)
        session.runtime.run_until_idle()
        seconds = time.perf_counter() - began
        reading = meter.snapshot()
        result |= {
            "run_s": seconds,
            "run_accounts_per_s": due / seconds,
            "read_requests_per_due": reading.read_requests / due,
            "items_read_per_due": reading.items_read / due,
            "wcu_per_due": reading.units / due,
        }

        # Payments on accounts not due today, the dunning worker stood down: the payment path's own cost.
        session.registry.override("dunning_worker", lambda event, context: {"reviewed": []})
        paid = [n for n in range(accounts) if n % 100][:payments]
        table = session.resources.table
        invoices = session.clients("dynamodb").batch_get_item(
            RequestItems={
                table: {
                    "Keys": [{"pk": {"S": f"ITEM#INV{n:08d}"}, "sk": {"S": "ITEM"}} for n in paid[:100]],
                    "ProjectionExpression": "item_id, open_amount",
                }
            }
        )["Responses"][table]
        amounts = {i["item_id"]["S"]: i["open_amount"]["N"] for i in invoices}
        entries = [
            (f"PAY{n:07d}", f"INV{n:08d}", amounts.get(f"INV{n:08d}") or f"{100 + n % 900}.{n % 100:02d}") for n in paid
        ]
        statement = _camt054(entries)
        meter.reset()
        began = time.perf_counter()
        session.clients("s3").put_object(
            Bucket=session.inbound_bucket, Key="banks/bench/notification.xml", Body=statement
        )
        session.runtime.run_until_idle()
        seconds = time.perf_counter() - began
        reading = meter.snapshot()
        result |= {
            "payments": payments,
            "payments_per_s": payments / seconds,
            "wcu_per_payment": reading.units / payments,
            "queries_per_payment": reading.queries / payments,
        }
    return result


def _peak_memory(path: Path) -> dict[str, float]:
    code = (
        f"import sys, json, time; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
        "from tests.bench.pipeline import peak_memory_mb; t = time.perf_counter(); "
        f"mb, n = peak_memory_mb(Path({str(path)!r})); "
        "print(json.dumps({'peak_mb': mb, 'rows': n, 'seconds': time.perf_counter() - t}))"
    )
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["file_mb"] = path.stat().st_size / 1e6
    return result


def bench_insurance(work: Path, policies: int = 200) -> dict[str, float]:
    """(g) Write units per policy issued with 12 installments and a channel (its event record, policy, account and
    installments), and per installment paid by camt.054 (payment, allocation, journal entry, and the commission it
    makes payable)."""
    from receivables_local.embedded import EmbeddedStack
    from receivables_local.session import LocalSession

    customers = "customer_id,name,type,city,phone,language\n" + "".join(
        f"C{n:05d},Müşteri {n},individual,İstanbul,+9053211{n:05d},tr\n" for n in range(policies)
    )
    parties = "party_id,kind,name,tax_id\nAG-1,agency,Güven Aracılık,1234567890\n"
    events = "".join(
        json.dumps(
            {
                "type": "PolicyIssued",
                "event_id": f"E{n}",
                "policy_id": f"POL-{n}",
                "customer_id": f"C{n:05d}",
                "branch": "kasko",
                "start_date": "2026-11-01",
                "end_date": "2027-11-01",
                "currency": "TRY",
                "covers": [{"cover": "kasko", "net_premium": "1200.00"}],
                "payment_plan": {"installments": 12, "first_due_date": "2026-11-24"},
                "channel": {"party_id": "AG-1", "billing": "direct"},
            }
        )
        + "\n"
        for n in range(policies)
    )
    paying = _camt054([(f"INS{n:06d}", f"POL-{n}-T1", "105.00") for n in range(policies)])
    meter = WriteMeter.install()
    with EmbeddedStack(log_dir=work / "logs-insurance") as stack, LocalSession(stack, date(2026, 11, 24)) as session:
        s3 = session.clients("s3")

        def drop(key: str, body: bytes) -> float:
            meter.reset()
            began = time.perf_counter()
            s3.put_object(Bucket=session.inbound_bucket, Key=key, Body=body)
            session.runtime.run_until_idle()
            return time.perf_counter() - began

        drop("customers/bench.csv", customers.encode())
        drop("parties/bench.csv", parties.encode())
        issue_s = drop("policy-events/bench.jsonl", events.encode())
        issued = meter.snapshot()
        pay_s = drop("banks/bench/camt054.xml", paying)
        paid = meter.snapshot()
    return {
        "policies": policies,
        "issue_per_s": policies / issue_s,
        "wcu_per_policy": issued.units / policies,
        "requests_per_policy": issued.requests / policies,
        "pay_per_s": policies / pay_s,
        "wcu_per_installment_paid": paid.units / policies,
        "requests_per_installment_paid": paid.requests / policies,
    }


def bench_memory(work: Path, rows: int = 1_000_000) -> dict[str, float]:
    """Peak RSS of a fresh process loading 100,000 and 1,000,000 rows: flat memory means the two are close."""
    small = _peak_memory(write_invoices(work / "invoices-100k-mem.csv", rows // 10, customers=20_000))
    large = _peak_memory(write_invoices(work / "invoices-1m.csv", rows, customers=200_000))
    return large | {"small_rows": small["rows"], "small_peak_mb": small["peak_mb"]}


def writes_only() -> None:
    """`run.py --writes`: only the write units per invoice and per payment, on a small ledger (they do not depend on
    the table's size: (e) shows the same figure on 100,000 accounts), for a quick check of a write path's cost."""
    with tempfile.TemporaryDirectory(prefix="receivables-bench-") as tmp:
        work = Path(tmp)
        bc = bench_local_stack(work, customers=1_000)
        e = bench_large_ledger(work, accounts=2_000, payments=100)
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    entry = f"""
## {stamp} — {machine()} — write units only (`run.py --writes`, small ledger)

| benchmark | result | target |
|---|---|---|
| (c) steady state: write units per invoice, its posting included ({bc["invoices"]:,} invoices) | **{bc["steady_wcu"]:.2f}** = {bc["steady_wcu_table"]:.2f} table + {bc["steady_wcu_index"]:.2f} GSI | ≤ 3 |
| (c) first bill run: write units per invoice | {bc["first_wcu"]:.2f} | – |
| (c) the same file sent again: write units per invoice | {bc["again_wcu"]:.2f} | 0 |
| (e) write units per payment that settles one item, its journal entry included ({e["payments"]} of {e["accounts"]:,} accounts) | **{e["wcu_per_payment"]:.2f}** | ≤ 8 |
| (e) DynamoDB queries per payment | {e["queries_per_payment"]:.2f} | ≤ 2 |
"""
    with RESULTS.open("a") as out:
        out.write(entry)
    print(entry)


def main() -> None:
    if "--writes" in sys.argv[1:]:
        writes_only()
        return
    if "--insurance" in sys.argv[1:]:
        with tempfile.TemporaryDirectory(prefix="receivables-bench-") as tmp:
            print(json.dumps(bench_insurance(Path(tmp)), indent=1))
        return
    with tempfile.TemporaryDirectory(prefix="receivables-bench-") as tmp:
        work = Path(tmp)
        print("(a) pipeline vs csv.reader …", flush=True)
        a = bench_pipeline(work)
        print(json.dumps(a, indent=1))
        print("(b, c) end to end on the local stack …", flush=True)
        bc = bench_local_stack(work)
        print(json.dumps(bc, indent=1))
        print("(e, f) payments and the daily dunning run on a 100,000-account ledger …", flush=True)
        e = bench_large_ledger(work)
        print(json.dumps(e, indent=1))
        print("(d) peak memory on 1,000,000 rows …", flush=True)
        d = bench_memory(work)
        print(json.dumps(d, indent=1))
        print("(g) the insurance sub-ledger: policies issued and installments paid …", flush=True)
        g = bench_insurance(work)
        print(json.dumps(g, indent=1))
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    entry = f"""
## {stamp} — {machine()}

| benchmark | result | target |
|---|---|---|
| (a) loader: parse + validate + build items, 100,000 invoices | {a["load_s"]:.2f} s = **{a["ratio_loader"]:.1f}×** csv.reader ({a["csv_reader_s"]:.3f} s) | ≤ 4× |
| (a') planner pass + loader | {a["plan_s"] + a["load_s"]:.2f} s = {a["ratio_with_planner"]:.1f}× csv.reader | – |
| (b) end to end, local stack: first bill run, {bc["invoices"]:,} invoices | **{bc["first_rows_per_s"]:.0f} rows/s** | – |
| (b) end to end: next month's run on the same accounts | **{bc["steady_rows_per_s"]:.0f} rows/s** | – |
| (c) first bill run (new accounts + subscriptions): write requests / 1,000 invoices | {bc["first_requests_per_1000"]:.0f} | – |
| (c) first bill run: write units per invoice | {bc["first_wcu"]:.2f} = {bc["first_wcu_table"]:.2f} table + {bc["first_wcu_index"]:.2f} GSI | – |
| (c) steady state (existing accounts): write requests / 1,000 invoices | {bc["steady_requests_per_1000"]:.0f} | – |
| (c) steady state: write units per invoice, its posting included | **{bc["steady_wcu"]:.2f}** = {bc["steady_wcu_table"]:.2f} table + {bc["steady_wcu_index"]:.2f} GSI | ≤ 3 |
| (c) the same file sent again: write units per invoice | {bc["again_wcu"]:.2f} | 0 |
| (e) payments settling one item each (camt.054 by invoice reference), {e["payments"]:,} of {e["accounts"]:,} accounts | **{e["payments_per_s"]:.0f} payments/s** | – |
| (e) write units per payment that settles one item, its journal entry included | **{e["wcu_per_payment"]:.2f}** | ≤ 8 |
| (e) DynamoDB queries per payment | **{e["queries_per_payment"]:.2f}** | ≤ 2 |
| (f) daily dunning run, {e["accounts"]:,} accounts, {e["due"]:,} due (1 %): planner + workers, wall time | **{e["run_s"]:.1f} s** ({e["run_accounts_per_s"]:.0f} due accounts/s) | – |
| (f) reads per due account: requests / records returned | **{e["read_requests_per_due"]:.2f}** / {e["items_read_per_due"]:.2f} | ≤ 2 |
| (f) write units per due account (state, contact record, cycle record) | {e["wcu_per_due"]:.2f} | – |
| (d) peak RSS loading {d["rows"]:,} rows ({d["file_mb"]:.0f} MB file) | **{d["peak_mb"]:.0f} MB** in {d["seconds"]:.0f} s (vs {d["small_peak_mb"]:.0f} MB for {d["small_rows"]:,} rows) | flat |
| (g) write units per policy issued (12 installments, with a channel) | **{g["wcu_per_policy"]:.1f}** ({g["requests_per_policy"]:.1f} requests, {g["issue_per_s"]:.0f} policies/s) | – |
| (g) write units per installment paid (camt.054), its commission made payable | **{g["wcu_per_installment_paid"]:.1f}** ({g["requests_per_installment_paid"]:.1f} requests) | – |
"""
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmarks\n\nAppended by `make bench`; see tests/bench/run.py for what each measures.\n")
    with RESULTS.open("a") as out:
        out.write(entry)
    print(entry)


if __name__ == "__main__":
    main()
