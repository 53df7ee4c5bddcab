"""Rejection reports: spreadsheets never run what a report quotes, the file column names the whole key, and the
readers of our reports (STATE.json, event samples) get back exactly what was meant."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st
from receivables.loading.ports import StoredObject
from receivables.loading.reports import (
    csv_lines,
    neutralise_cell,
    quarantine,
    read_report_rows,
    restore_cell,
    write_report,
)
from receivables_local.state import parse_report

from tests.unit.fakes import MemoryEvents, MemoryFiles
from tests.unit.test_loading_service import CUSTOMERS, HEADER, drop, service

FORMULA_KEY = 'invoices/=HYPERLINK("evil.example","click")'  # an S3 key whose base name is a formula


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def report_of(files: MemoryFiles, key: str) -> str:
    (found,) = [k for _, k in files.objects if k.startswith(f"rejected/{key}.")]
    return files.objects[("in", found)].decode()


def test_a_text_cell_a_spreadsheet_would_run_is_written_as_text():
    rows = [("=1+1", 2, "+SUM(A1)"), ("-2", "@cmd", "\tx"), ("  =A1", "\r=x", "'quoted"), ("plain", 7, "a=b")]
    assert cells(csv_lines(rows)) == [
        ["'=1+1", "2", "'+SUM(A1)"],
        ["'-2", "'@cmd", "'\tx"],
        ["'  =A1", "'\r=x", "''quoted"],  # a leading ' is doubled: the mark stays reversible
        ["plain", "7", "a=b"],
    ]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_neutralising_is_undone_exactly(value):
    written = neutralise_cell(value)
    assert restore_cell(written) == value
    assert not written.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r"))


def test_the_loader_report_names_the_whole_key_and_neutralises_it():
    svc, files, _, queue, events = service(5)
    drop(svc, files, queue, "customers/c.csv", CUSTOMERS)
    drop(svc, files, queue, FORMULA_KEY, HEADER + "I1,C9,A1,2026-11-01,2026-11-15,1.00,TRY\n")
    drop(svc, files, queue, "invoices/daily//2026-11-24.csv", HEADER + "I2,C9,A1,2026-11-01,2026-11-15,1.00,TRY\n")

    (row,) = cells(report_of(files, FORMULA_KEY))[1:]
    assert row[0] == FORMULA_KEY and row[1] == "2"  # not '=HYPERLINK(...)' in the first cell
    (row,) = cells(report_of(files, "invoices/daily//2026-11-24.csv"))[1:]
    assert row[0] == "invoices/daily//2026-11-24.csv"  # not '2026-11-24.csv', which is another file
    (sample,) = [d["sample"] for t, d in events.events if t == "RowsRejected" and d["file"] == FORMULA_KEY]
    assert sample[0]["file"] == FORMULA_KEY


def test_a_quarantine_report_names_the_whole_key():
    files, events = MemoryFiles(), MemoryEvents()
    files.put("in", "banks/x//=1+2.sta", b"\x00")
    obj = files.describe("in", "banks/x//=1+2.sta")
    quarantine(files, events, obj, "bank", "-not a bank file")
    (report,) = [k for _, k in files.objects if k.startswith("rejected/")]
    assert cells(files.objects[("in", report)].decode()) == [
        ["file", "line", "reason"],
        ["banks/x//=1+2.sta", "", "'-not a bank file"],
    ]


def test_state_json_reads_the_base_name_and_the_meant_reason():
    files = MemoryFiles()
    obj = StoredObject("in", FORMULA_KEY, 1, '"etag"')
    key = write_report(files, obj, "0123456789abcdef", [(3, "=reason"), (None, "@whole file")])
    body = files.objects[("in", key)].decode()
    assert [(r.file, r.line, r.reason) for r in parse_report(key, body)] == [
        ('=HYPERLINK("evil.example","click")', 3, "=reason"),
        ('=HYPERLINK("evil.example","click")', None, "@whole file"),
    ]
    assert read_report_rows(body)[0] == (FORMULA_KEY, "3", "=reason")
    # a normal key gives STATE.json the same file value as before: its base name
    obj = StoredObject("in", "invoices/2026-11-24.csv", 1, '"etag"')
    key = write_report(files, obj, "0123456789abcdef", [(2, "amount: missing")])
    assert [r.file for r in parse_report(key, files.objects[("in", key)].decode())] == ["2026-11-24.csv"]
