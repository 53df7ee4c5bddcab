"""The loading use cases over in-memory ports: every row is accounted for, exactly once, whatever the chunking."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from receivables.loading.service import ChunkMessage, LoadingService

from tests.unit.fakes import FixedClock, MemoryEvents, MemoryFiles, MemoryLedger, MemoryQueue, MemoryRegistry

CUSTOMERS = (
    "customer_id,name,type,city,phone,language\n"
    "C1,Ayşe,individual,İstanbul,+905321234567,tr\nC2,Acme,corporate,Ankara,+903121234567,en\n"
)
HEADER = "invoice_id,customer_id,account_id,issue_date,due_date,amount,currency\n"


def service(rows_per_chunk: int):
    files, registry, ledger = MemoryFiles(), MemoryRegistry(), MemoryLedger()
    queue, events = MemoryQueue(), MemoryEvents()
    svc = LoadingService(
        files=files,
        registry=registry,
        ledger=ledger,
        chunks=queue,
        events=events,
        clock=FixedClock(date(2026, 11, 24)),
        rows_per_chunk=rows_per_chunk,
    )
    return svc, files, ledger, queue, events


def drop(svc, files, queue, key: str, text: str, *, deliver_twice: bool = False):
    files.put("in", key, text.encode())
    svc.plan("in", key)
    if deliver_twice:
        svc.plan("in", key)
    while queue.messages:
        message = ChunkMessage.model_validate(queue.messages.pop(0))
        svc.load_chunk(message)
        if deliver_twice:
            svc.load_chunk(message)


invoice_rows = st.lists(
    st.tuples(
        st.sampled_from(["I1", "I2", "I3", "I4", "", "I 5"]),
        st.sampled_from(["C1", "C2", "C9"]),
        st.sampled_from(["A1", "A2"]),
        st.sampled_from(["2026-11-01", "2026-13-01"]),
        st.sampled_from(["2026-11-15", "2026-10-01"]),
        st.sampled_from(["10.00", "10", "0", "1.234", "-3", "20.50"]),
        st.sampled_from(["TRY", "EUR", "XXX"]),
    ),
    max_size=25,
)


@settings(max_examples=80, deadline=None)
@given(rows=invoice_rows, rows_per_chunk=st.integers(1, 6), deliver_twice=st.booleans())
def test_every_row_is_loaded_skipped_or_rejected_exactly_once(rows, rows_per_chunk, deliver_twice):
    svc, files, ledger, queue, events = service(rows_per_chunk)
    drop(svc, files, queue, "customers/c.csv", CUSTOMERS)
    text = HEADER + "".join(",".join(row) + "\n" for row in rows)
    drop(svc, files, queue, "invoices/i.csv", text, deliver_twice=deliver_twice)

    summary = [d for t, d in events.events if t == "FileLoaded" and d["kind"] == "invoices"]
    assert len(summary) == 1
    counts = summary[0]
    assert counts["rows"] == len(rows)
    assert counts["loaded"] + counts["skipped"] + counts["rejected"] == len(rows)
    assert counts["loaded"] == len(ledger.items)
    reports = [k for b, k in files.objects if k.startswith("rejected/invoices/i.csv.")]
    report = files.objects[("in", reports[0])].decode() if reports else "file,line,reason\n"
    lines = [int(r["line"]) for r in csv.DictReader(io.StringIO(report))]
    assert lines == sorted(set(lines)) and len(lines) == counts["rejected"]
    assert all(2 <= line <= len(rows) + 1 for line in lines)


def test_an_empty_file_still_reports_its_summary():
    svc, files, _, queue, events = service(5)
    drop(svc, files, queue, "invoices/empty.csv", HEADER)
    assert [t for t, _ in events.events] == ["FileLoaded"]
    assert events.events[0][1]["rows"] == 0


def test_a_file_of_another_prefix_is_ignored():
    svc, files, *_ = service(5)
    files.put("in", "banks/x/statement.xml", b"<Document/>")
    assert svc.plan("in", "banks/x/statement.xml").status == "ignored"


def test_a_file_replaced_while_its_chunks_wait_still_finishes_and_says_what_was_not_loaded():
    svc, files, _ledger, queue, events = service(2)
    drop(svc, files, queue, "customers/c.csv", CUSTOMERS)
    text = HEADER + "".join(f"I{n},C1,A1,2026-11-01,2026-11-15,1.00,TRY\n" for n in range(4))
    files.put("in", "invoices/i.csv", text.encode())
    svc.plan("in", "invoices/i.csv")
    first, second = (ChunkMessage.model_validate(m) for m in queue.messages)
    svc.load_chunk(first)
    files.put("in", "invoices/i.csv", b"replaced")  # a new upload under the same key

    svc.load_chunk(second)

    (summary,) = [d for t, d in events.events if t == "FileLoaded" and d["kind"] == "invoices"]
    assert (summary["loaded"], summary["rejected"]) == (2, 1)
    report = next(v for (_, k), v in files.objects.items() if k.startswith("rejected/invoices/i.csv."))
    assert b"line 4 on (part 2 of 2) not loaded: invoices/i.csv was replaced" in report


def test_only_one_of_two_last_chunks_finishes_the_file():
    svc, files, _ledger, queue, _events = service(1)
    drop(svc, files, queue, "customers/c.csv", CUSTOMERS)
    registry = svc._registry
    assert registry.claim_finish(next(iter(registry.files))) is False  # customers file: already loaded
    files.put("in", "invoices/i.csv", (HEADER + "I1,C1,A1,2026-11-01,2026-11-15,1.00,TRY\n").encode())
    svc.plan("in", "invoices/i.csv")
    file_id = ChunkMessage.model_validate(queue.messages[0]).file_id
    assert registry.claim_finish(file_id) is True and registry.claim_finish(file_id) is False


class CrashingOnce:
    """A credit applier whose first call dies, as a function killed between loading items and applying credit."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.crashed = False

    def apply_credit(self, account_id: str) -> None:
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("killed")
        self.applied.append(account_id)


def test_a_chunk_redelivered_after_a_crash_before_credit_was_applied_still_applies_it():
    from receivables.domain.billing import AccountRef

    svc, files, ledger, queue, _ = service(rows_per_chunk=10)
    credit = CrashingOnce()
    svc._credit = credit
    files.put("in", "customers/c.csv", CUSTOMERS.encode())
    svc.plan("in", "customers/c.csv")
    while queue.messages:
        svc.load_chunk(ChunkMessage.model_validate(queue.messages.pop(0)))
    ledger.accounts_by_id["A1"] = AccountRef("A1", "C1", "TRY", unapplied_credit=Decimal("50.00"))
    files.put("in", "invoices/i.csv", (HEADER + "I1,C1,A1,2026-11-01,2026-12-15,30.00,TRY\n").encode())
    svc.plan("in", "invoices/i.csv")
    message = ChunkMessage.model_validate(queue.messages.pop(0))
    with pytest.raises(RuntimeError):
        svc.load_chunk(message)  # the items were written; the credit was not applied
    svc.load_chunk(message)  # SQS delivers it again: its own items count as loaded before, and credit still applies
    assert credit.applied == ["A1"]
