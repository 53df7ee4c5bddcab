"""Given files dropped into the inbound bucket, when the functions run, then the ledger and reports are right."""

from __future__ import annotations

import csv
import io
import json

from receivables import bootstrap

CUSTOMERS = """customer_id,name,type,city,phone,language,email,iban,vip,risk_score,segment_hint
C1,Ayşe Yılmaz,individual,İstanbul,+905321234567,tr,ayse@example.com,TR330006100519786457841326,false,120,retail
C2,Acme Ltd,corporate,Ankara,+903121234567,en,,,true,40,key
C3,Bad Phone,individual,İzmir,0532 123,tr,,,false,10,
"""

INVOICES = """invoice_id,customer_id,account_id,issue_date,due_date,amount,currency,subscription_id,description
INV-1,C1,A1,2026-10-01,2026-10-15,100.50,TRY,S1,October
INV-2,C1,A1,2026-11-01,2026-11-15,99.5,TRY,S1,November
INV-3,C2,A2,2026-11-01,2026-11-30,1000,EUR,,
INV-4,C9,A9,2026-11-01,2026-11-30,10.00,TRY,,
INV-5,C1,A1,2026-11-01,2026-10-30,10.00,TRY,,
INV-6,C1,A1,2026-11-01,2026-11-30,10.001,TRY,,
INV-7,C1,A1,2026/11/01,2026-11-30,0,XYZ,,
INV-1,C1,A1,2026-10-01,2026-10-15,100.50,TRY,S1,October
INV-2,C1,A1,2026-11-01,2026-11-15,120.00,TRY,S1,November
INV-8,C2,A1,2026-11-01,2026-11-30,5.00,TRY,,
INV-9,C2,A2,2026-11-01,2026-11-30,5.00,TRY,,
"""


def drop(stack, key: str, body: str | bytes) -> None:
    stack.s3.put_object(Bucket=stack.inbound, Key=key, Body=body.encode() if isinstance(body, str) else body)


def report(stack, key: str) -> list[dict[str, str]]:
    """The one rejection report of the file dropped as ``key``: rejected/<key>.<content id>.errors.csv."""
    listed = stack.s3.list_objects_v2(Bucket=stack.inbound, Prefix=f"rejected/{key}.")["Contents"]
    (only,) = [o["Key"] for o in listed if o["Key"].endswith(".errors.csv")]
    body = stack.s3.get_object(Bucket=stack.inbound, Key=only)["Body"].read().decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_customers_and_invoices_load_with_rejections_by_line(stack, context):
    drop(stack, "customers/2026-11-24.csv", CUSTOMERS)
    stack.drain(context)
    drop(stack, "invoices/2026-11-24.csv", INVOICES)
    stack.drain(context)

    ledger = stack.root("api", bootstrap.ledger_reader)
    account = ledger.get_account("A1")
    assert account is not None
    assert [i.item_id for i in account.items] == ["INV-1", "INV-2"]
    assert str(account.balance) == "200.00"
    assert ledger.get_customer("C1").account_ids == ["A1"]
    assert ledger.get_customer("C2").attributes == {"segment_hint": "key"}
    assert ledger.get_customer("C3") is None

    customer_rejections = report(stack, "customers/2026-11-24.csv")
    assert [(r["line"], r["reason"].split(":")[0]) for r in customer_rejections] == [("4", "phone")]

    rejections = {int(r["line"]): r["reason"] for r in report(stack, "invoices/2026-11-24.csv")}
    assert set(rejections) == {5, 6, 7, 8, 10, 11, 12}
    assert "unknown customer C9" in rejections[5]
    assert "before issue_date" in rejections[6]
    assert "at most 2" in rejections[7]
    assert "issue_date" in rejections[8] and "amount" in rejections[8] and "currency" in rejections[8]
    assert "conflict" in rejections[10] and "INV-2" in rejections[10] and "99.50 → 120.00" in rejections[10]
    assert "belongs to customer C1" in rejections[11]
    assert "kept in EUR" in rejections[12]

    events = [e for e in stack.bus_events() if e["detail-type"] == "FileLoaded"]
    invoices = next(e["detail"] for e in events if e["detail"]["kind"] == "invoices")
    assert (invoices["rows"], invoices["loaded"], invoices["skipped"], invoices["rejected"]) == (11, 3, 1, 7)


def test_the_same_file_twice_changes_nothing(stack, context):
    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    drop(stack, "invoices/i.csv", INVOICES)
    stack.drain(context)
    before = stack.dynamodb.scan(TableName=stack.table)["Items"]
    stack.bus_events()

    drop(stack, "invoices/i-again.csv", INVOICES)  # same bytes, another name
    drop(stack, "invoices/i.csv", INVOICES)  # same name again
    stack.drain(context)

    after = stack.dynamodb.scan(TableName=stack.table)["Items"]

    def canonical(items):
        return sorted(json.dumps(item, sort_keys=True) for item in items)

    assert canonical(after) == canonical(before)
    assert {e["detail-type"] for e in stack.bus_events()} == {"FileSkipped"}


def test_a_file_that_is_not_csv_is_quarantined_with_a_reason(stack, context):
    drop(stack, "invoices/statement.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    stack.drain(context)
    keys = [o["Key"] for o in stack.s3.list_objects_v2(Bucket=stack.inbound)["Contents"]]
    assert "quarantine/invoices/statement.pdf" in keys and "invoices/statement.pdf" not in keys
    rows = report(stack, "invoices/statement.pdf")
    assert rows == [{"file": "invoices/statement.pdf", "line": "", "reason": rows[0]["reason"]}]  # the whole key
    assert "PDF" in rows[0]["reason"]


def test_a_daily_file_with_the_same_name_keeps_every_days_report(stack, context):
    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    drop(stack, "invoices/daily.csv", INVOICES.splitlines()[0] + "\nX1,C9,A9,2026-11-01,2026-11-30,1.00,TRY,,\n")
    stack.drain(context)
    drop(stack, "invoices/daily.csv", INVOICES.splitlines()[0] + "\nX2,C8,A9,2026-11-02,2026-11-30,1.00,TRY,,\n")
    stack.drain(context)
    listed = stack.s3.list_objects_v2(Bucket=stack.inbound, Prefix="rejected/invoices/daily.csv.")["Contents"]
    assert len(listed) == 2

    drop(stack, "invoices/bad.pdf", b"%PDF-1.4 first")
    stack.drain(context)
    drop(stack, "invoices/bad.pdf", b"%PDF-1.4 second")
    stack.drain(context)
    quarantined = stack.s3.list_objects_v2(Bucket=stack.inbound, Prefix="quarantine/")["Contents"]
    assert len(quarantined) == 2 and quarantined[0]["Key"] == "quarantine/invoices/bad.pdf"


def test_jsonl_invoices_keep_money_exact(stack, context):
    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    lines = [
        {
            "invoice_id": "J1",
            "customer_id": "C1",
            "account_id": "A1",
            "issue_date": "2026-11-01",
            "due_date": "2026-11-20",
            "amount": 0.1,
            "currency": "TRY",
        },
        {
            "invoice_id": "J2",
            "customer_id": "C1",
            "account_id": "A1",
            "issue_date": "2026-11-01",
            "due_date": "2026-11-20",
            "amount": 0.2,
            "currency": "TRY",
        },
    ]
    body = "\n".join(json.dumps(line) for line in lines) + "\n{not json\n"
    drop(stack, "invoices/i.jsonl", body)
    stack.drain(context)
    assert str(stack.root("api", bootstrap.ledger_reader).get_account("A1").balance) == "0.30"
    rows = report(stack, "invoices/i.jsonl")
    assert [r["line"] for r in rows] == ["3"]
