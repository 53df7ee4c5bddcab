"""(a) In-process loading pipeline vs plain csv.reader, and (d) peak memory on a 1,000,000-row file."""

from __future__ import annotations

import csv
import resource
import time
from datetime import date
from pathlib import Path

from receivables.adapters.ledger_table import invoice_record
from receivables.domain.records import INVOICE_COLUMNS, FileKind, clean_invoice, validate_invoice
from receivables.loading.reader import picker, plan_file, read_chunk_rows

BLOCK = 256 * 1024


def _blocks(path: Path, start: int = 0, end: int | None = None):
    with path.open("rb") as handle:
        handle.seek(start)
        remaining = (end if end is not None else path.stat().st_size) - start
        while remaining > 0:
            block = handle.read(min(BLOCK, remaining))
            if not block:
                return
            remaining -= len(block)
            yield block


def time_csv_reader(path: Path) -> float:
    began = time.process_time()
    with path.open(encoding="utf-8", newline="") as handle:
        for _ in csv.reader(handle):
            pass
    return time.process_time() - began


def time_pipeline(path: Path, rows_per_chunk: int = 5000) -> tuple[float, float, int]:
    """Seconds to plan the file, seconds for the loaders' parse + validate + build items, rows loaded."""
    began = time.process_time()
    plan = plan_file(_blocks(path), FileKind.INVOICES, rows_per_chunk=rows_per_chunk)
    planned = time.process_time()
    loaded_on = date(2026, 11, 24).isoformat()
    built = 0
    pick_cells = picker(plan.header, INVOICE_COLUMNS)
    for chunk in plan.chunks:
        for row in read_chunk_rows(
            _blocks(path, chunk.start_byte, chunk.end_byte), plan.file_format, plan.header, chunk.first_line
        ):
            invoice = clean_invoice(pick_cells(row.cells)) or validate_invoice(row.values or {})
            if not isinstance(invoice, list):
                invoice_record(invoice, plan.sha256, row.line, loaded_on, "invoices/bench.csv")
                built += 1
    return planned - began, time.process_time() - planned, built


def peak_memory_mb(path: Path) -> tuple[float, int]:
    """Run the whole pipeline over the file; return the process's peak RSS in MB and the rows built.

    The peak is the kernel's VmHWM of this address space: ``ru_maxrss`` survives fork + exec on Linux, so a child
    started by a big benchmark process would report its parent's size."""
    _, _, built = time_pipeline(path)
    try:
        status = Path("/proc/self/status").read_text()
        kilobytes = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        return kilobytes / 1024, built
    except (OSError, StopIteration):  # not Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, built
