"""Files dropped into the inbound bucket, processed by the real handlers on the embedded stack, read back over
the real REST API and from S3."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from receivables_local.http_api import ApiGateway, HttpApi
from receivables_local.session import LocalSession
from receivables_local.state import read_state

from .conftest import BUSINESS_DATE, requires_handlers

pytestmark = [pytest.mark.e2e, requires_handlers]

CUSTOMERS = """customer_id,name,type,city,phone,language,email,iban,vip,risk_score,segment_hint
C1,Ayşe Yılmaz,individual,İzmir,+905321234567,tr,ayse@example.com,TR330006100519786457841326,true,420,family
C2,John Smith,corporate,Ankara,+905331234567,en,,,,,sme
"""
INVOICES = """\
invoice_id,customer_id,account_id,subscription_id,issue_date,due_date,amount,currency,description
I1,C1,A1,S1,2026-11-01,2026-11-15,100.50,TRY,Ekim faturası
I2,C1,A1,S1,2026-11-02,2026-12-02,20.00,TRY,
I3,C2,A2,,2026-11-02,2026-11-30,0.123,TRY,three decimals
I4,C2,A2,,2026-11-03,2026-12-03,7.25,TRY,
"""


@pytest.fixture
def api(session: LocalSession) -> Iterator[str]:
    with HttpApi(ApiGateway(session.topology, session.runtime.invoker)) as server:
        yield server.url


def _drop(session: LocalSession, key: str, body: str | bytes) -> None:
    session.upload(key, body.encode() if isinstance(body, str) else body)
    session.runtime.run_until_idle()


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())


def _keys(session: LocalSession, prefix: str = "") -> list[str]:
    listing = session.s3().list_objects_v2(Bucket=session.inbound_bucket, Prefix=prefix)
    return [o["Key"] for o in listing.get("Contents", [])]


def _report(session: LocalSession, input_key: str) -> list[list[str]]:
    """The rejection report of the file dropped as ``input_key`` (rejected/<key>.<content id>.errors.csv)."""
    (key,) = [k for k in _keys(session, f"rejected/{input_key}.") if k.endswith(".errors.csv")]
    body = session.s3().get_object(Bucket=session.inbound_bucket, Key=key)["Body"].read().decode()
    return list(csv.reader(io.StringIO(body)))


def _state(session: LocalSession) -> dict[str, Any]:
    return read_state(session.clients, session.resources.table, session.inbound_bucket, BUSINESS_DATE)


def test_loaded_invoices_show_on_the_account_over_http(session: LocalSession, api: str) -> None:
    _drop(session, "customers/crm-export.csv", CUSTOMERS)
    _drop(session, "invoices/billing run 1.csv", INVOICES)  # a space: keys arrive URL-encoded

    account = _get(f"{api}/accounts/A1")
    assert account["customer_id"] == "C1"
    assert account["currency"] == "TRY"
    assert account["balance"] == "120.50"
    assert sorted((i["item_id"], i["amount"], i["status"]) for i in account["items"]) == [
        ("I1", "100.50", "open"),
        ("I2", "20.00", "open"),
    ]
    assert _get(f"{api}/accounts/A2")["balance"] == "7.25"
    assert _get(f"{api}/customers/C1")["name"] == "Ayşe Yılmaz"
    assert not any(session.runtime.dead_letters().values())
    assert all(i.error is None for i in session.runtime.invocations)


def test_unknown_account_is_a_json_404_from_the_handler(session: LocalSession, api: str) -> None:
    try:
        urllib.request.urlopen(f"{api}/accounts/NOPE", timeout=10)
    except urllib.error.HTTPError as error:
        assert error.code == 404
        assert "error" in json.loads(error.read())
    else:
        pytest.fail("expected 404")


def test_a_bad_row_is_rejected_with_its_line_and_reason(session: LocalSession) -> None:
    _drop(session, "customers/crm-export.csv", CUSTOMERS)
    _drop(session, "invoices/billing run 1.csv", INVOICES)

    header, *rows = _report(session, "invoices/billing run 1.csv")
    assert header == ["file", "line", "reason"]
    ((file, line, reason),) = rows
    assert (file, line) == ("invoices/billing run 1.csv", "4")  # the whole key
    assert reason.startswith("amount:") and "3 decimals" in reason
    (loaded,) = [
        e for e in session.runtime.bus.events if e["detail-type"] == "FileLoaded" and "invoices" in e["detail"]["file"]
    ]
    assert (loaded["detail"]["rows"], loaded["detail"]["loaded"], loaded["detail"]["rejected"]) == (4, 3, 1)


def test_the_same_file_twice_changes_nothing(session: LocalSession) -> None:
    _drop(session, "customers/crm-export.csv", CUSTOMERS)
    _drop(session, "invoices/run.csv", INVOICES)
    before = _state(session)

    _drop(session, "invoices/run.csv", INVOICES)
    _drop(session, "invoices/run-copy.csv", INVOICES)

    assert _state(session) == before
    skipped = [e["detail"]["file"] for e in session.runtime.bus.events if e["detail-type"] == "FileSkipped"]
    assert skipped == ["invoices/run.csv", "invoices/run-copy.csv"]


def test_a_file_that_is_not_csv_or_jsonl_is_quarantined(session: LocalSession) -> None:
    _drop(session, "invoices/scan.pdf", b"%PDF-1.7\n%binary\n")

    assert _keys(session, "quarantine/") == ["quarantine/invoices/scan.pdf"]
    assert "invoices/scan.pdf" not in _keys(session, "invoices/")
    assert _report(session, "invoices/scan.pdf")[1][:2] == ["invoices/scan.pdf", ""]


def test_a_poison_chunk_message_ends_in_the_dlq_after_max_receives(session: LocalSession) -> None:
    queue = session.resources.queues["file-chunks"]
    session.clients("sqs").send_message(QueueUrl=queue.url, MessageBody='{"not": "a chunk"}')

    session.runtime.run_until_idle()

    attempts = [i for i in session.runtime.invocations if i.function == "load_file_chunk"]
    assert [i.failed for i in attempts] == [1] * session.topology.queue("file-chunks").max_receive_count
    assert session.runtime.dead_letters()["file-chunks"] == 1
