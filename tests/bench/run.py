"""`make bench`: the loading benchmarks, appended to docs/benchmarks.md with the date and the machine.

(a) in-process pipeline (parse + validate + build DynamoDB items) vs plain csv.reader on a 100,000-invoice CSV;
(b) end-to-end rows/s through the local stack (moto server + DynamoDB Local, the real handlers and triggers);
(c) DynamoDB write requests and write units per 1,000 invoices, counted by a botocore event hook;
(d) peak memory while loading a 1,000,000-row file.
"""

from __future__ import annotations

import json
import os
import platform
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

RESULTS = ROOT / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def bench_pipeline(work: Path) -> dict[str, float]:
    path = write_invoices(work / "invoices-100k.csv", 100_000, customers=40_000)
    runs = []
    for _ in range(3):
        baseline = min(time_csv_reader(path) for _ in range(3))
        plan, load, rows = time_pipeline(path)
        runs.append((load / baseline, (plan + load) / baseline, baseline, plan, load, rows))
    best = min(runs)
    return {"ratio_loader": best[0], "ratio_with_planner": best[1], "csv_reader_s": best[2], "plan_s": best[3],
            "load_s": best[4], "rows": best[5]}


def bench_local_stack(work: Path, customers: int = 5_000, invoices: int = 10_000) -> dict[str, float]:
    from receivables_local.embedded import EmbeddedStack
    from receivables_local.session import LocalSession

    customer_file = write_customers(work / "customers.csv", customers)
    invoice_file = write_invoices(work / "invoices.csv", invoices, customers=customers)
    meter = WriteMeter.install()
    with EmbeddedStack(log_dir=work / "logs") as stack, LocalSession(stack, date(2026, 11, 24)) as session:
        s3 = session.clients("s3")
        s3.upload_file(str(customer_file), session.inbound_bucket, "customers/customers.csv")
        session.runtime.run_until_idle()
        meter.reset()
        began = time.perf_counter()
        s3.upload_file(str(invoice_file), session.inbound_bucket, "invoices/invoices.csv")
        session.runtime.run_until_idle()
        elapsed = time.perf_counter() - began
        first = meter.snapshot()
        meter.reset()
        s3.upload_file(str(invoice_file), session.inbound_bucket, "invoices/invoices-again.csv")
        session.runtime.run_until_idle()
        again = meter.snapshot()
    per_k = 1000 / invoices
    return {
        "invoices": invoices, "seconds": elapsed, "rows_per_s": invoices / elapsed,
        "requests_per_1000": first.requests * per_k, "wcu_per_invoice": first.units / invoices,
        "wcu_table_per_invoice": first.table_units / invoices, "wcu_index_per_invoice": first.index_units / invoices,
        "resend_wcu": again.units,
    }


def bench_memory(work: Path, rows: int = 1_000_000) -> dict[str, float]:
    path = write_invoices(work / "invoices-1m.csv", rows, customers=200_000)
    code = (
        "import sys, json; sys.path.insert(0, %r); from pathlib import Path; "
        "from tests.bench.pipeline import peak_memory_mb; import time; t=time.perf_counter(); "
        "mb, n = peak_memory_mb(Path(%r)); print(json.dumps({'peak_mb': mb, 'rows': n, "
        "'seconds': time.perf_counter()-t}))"
    ) % (str(ROOT), str(path))
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["file_mb"] = path.stat().st_size / 1e6
    return result


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="receivables-bench-") as tmp:
        work = Path(tmp)
        print("(a) pipeline vs csv.reader …", flush=True)
        a = bench_pipeline(work)
        print(json.dumps(a, indent=1))
        print("(b, c) end to end on the local stack …", flush=True)
        bc = bench_local_stack(work)
        print(json.dumps(bc, indent=1))
        print("(d) peak memory on 1,000,000 rows …", flush=True)
        d = bench_memory(work)
        print(json.dumps(d, indent=1))
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    entry = f"""
## {stamp} — {machine()}

| benchmark | result | target |
|---|---|---|
| (a) loader: parse + validate + build items, 100,000 invoices | {a['load_s']:.2f} s = **{a['ratio_loader']:.1f}×** csv.reader ({a['csv_reader_s']:.3f} s) | ≤ 4× |
| (a') planner pass + loader | {a['plan_s'] + a['load_s']:.2f} s = {a['ratio_with_planner']:.1f}× csv.reader | – |
| (b) end to end, local stack, {bc['invoices']:,} invoices | {bc['seconds']:.1f} s = **{bc['rows_per_s']:.0f} rows/s** | – |
| (c) DynamoDB write requests per 1,000 invoices | {bc['requests_per_1000']:.0f} | – |
| (c) write units per invoice: table + indexes | **{bc['wcu_per_invoice']:.2f}** = {bc['wcu_table_per_invoice']:.2f} table + {bc['wcu_index_per_invoice']:.2f} GSI | ≤ 1.2 |
| (c) write units for the same file sent again | {bc['resend_wcu']:.0f} | 0 |
| (d) peak RSS loading {d['rows']:,} rows ({d['file_mb']:.0f} MB file) | **{d['peak_mb']:.0f} MB** in {d['seconds']:.0f} s | flat |
"""
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmarks\n\nAppended by `make bench`; see tests/bench/run.py for what each measures.\n")
    with RESULTS.open("a") as out:
        out.write(entry)
    print(entry)


if __name__ == "__main__":
    main()
