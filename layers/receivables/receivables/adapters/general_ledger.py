"""The general-ledger export in AWS terms (docs/general-ledger.md).

- **Daybook** (functions/gl_daybook, the table's stream): every record that is a posting — a journal entry, an item's
  or a payable's own record — is staged as JSON Lines in the outbound bucket, ``gl/_staging/<date>/<digest>.jsonl``,
  under its business date (or, when that date's export has already run, under the day it arrived). The object is
  named by its content, so a batch the stream delivers again overwrites itself; the export dedupes by line id.
  Nothing is read from the table to stage, and no table write is added to any money path.
- **Export** (functions/gl_export, each morning for the day before): ``gl/<date>/journal.csv``, ``journal.parquet``
  and ``control.json``, a copy of the Parquet under ``gl/_athena/business_date=<date>/`` for the Glue table (Athena
  reads every file of a table's folder and cannot skip the CSV beside it), and the ``GL#<date>`` record.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

from botocore.exceptions import ClientError

from receivables.accounting.gl import (
    CSV_COLUMNS,
    ChartOfAccounts,
    GlControl,
    GlLine,
    PostingFact,
    Target,
    csv_row,
    load_chart,
)
from receivables.adapters.attributes import string as _s
from receivables.adapters.attributes import text as _text
from receivables.adapters.dynamodb_batches import AttributeMap, batch_get
from receivables.adapters.insurance_table import payable_posting
from receivables.adapters.journal_table import entry_from_record, item_posting
from receivables.adapters.keys import account_key, key, payable_key

STAGING = "gl/_staging"
ATHENA = "gl/_athena"
CHART_KEYS = ("config/gl/chart-of-accounts.yaml", "config/gl/chart-of-accounts.json")


def gl_key(day: date) -> AttributeMap:
    return key(f"GL#{day.isoformat()}", "GL")


def _components(record: AttributeMap) -> dict[str, Decimal]:
    return {name: Decimal(value["N"]) for name, value in record.get("components", {}).get("M", {}).items()}


def posting_facts(image: AttributeMap) -> list[PostingFact]:
    """The postings a stream record carries (none for a record that is not one)."""
    pk = image.get("pk", {}).get("S", "")
    record_id = f"{pk}|{image.get('sk', {}).get('S', '')}"
    if pk.startswith("JRNL#") and "postings" in image:
        entry = entry_from_record(image)
        return [
            PostingFact(
                line_id=f"{record_id}|{n}",
                business_date=entry.business_date,
                account_id=entry.account_id,
                currency=entry.currency,
                kind=p.kind.value,
                operation=entry.operation,
                target="item" if p.side.value == "item" else "payment",
                target_id=p.target,
                amount=p.amount,
                entry_id=entry.entry_id,
                cause=entry.cause.describe(),
                reason=p.reason,
            )
            for n, p in enumerate(entry.postings)
        ]
    if pk.startswith("ITEM#") and "journal_key" in image:
        return [
            _own_posting(
                image,
                item_posting(image),
                record_id,
                target="item",
                reason=_text(image, "description"),
                item_kind=_text(image, "kind") or "invoice",
                components=_components(image),
                party=_text(image, "customer_id"),
            )
        ]
    if pk.startswith("PAYABLE#") and "journal_key" in image:
        return [
            _own_posting(
                image,
                payable_posting(image),
                record_id,
                target="payable",
                payable_kind=image["kind"]["S"],
                settlement="settlement" in image,
                party=_text(image, "party_id"),
            )
        ]
    return []


def _own_posting(
    image: AttributeMap, entry: Any, record_id: str, *, target: Target, reason: str | None = None, **facts: Any
) -> PostingFact:
    """An item's or a payable's own record: the one posting it is."""
    (posting,) = entry.postings
    return PostingFact(
        line_id=f"{record_id}|0",
        business_date=entry.business_date,
        account_id=entry.account_id,
        currency=entry.currency,
        kind=posting.kind.value,
        operation=entry.operation,
        target=target,
        target_id=posting.target,
        amount=posting.amount,
        entry_id=entry.entry_id,
        cause=entry.cause.describe(),
        reason=reason or posting.reason,
        **facts,
    )


class S3Daybook:
    """Stages facts (the stream side) and reads a day's back (the export side)."""

    def __init__(self, s3: Any, bucket: str, dynamodb: Any, table: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._dynamodb = dynamodb
        self._table = table
        self._closed: set[date] = set()  # a day once exported stays closed; an open one is asked again each batch

    def _is_closed(self, day: date) -> bool:
        if day not in self._closed:
            found = self._dynamodb.get_item(
                TableName=self._table, Key=gl_key(day), ProjectionExpression="pk", ConsistentRead=True
            )
            if "Item" in found:
                self._closed.add(day)
        return day in self._closed

    def _open_day(self, business_date: date, today: date) -> date:
        """The posting's own date while its export has not run; else the first day after it still open, not
        before today (a re-run of a closed day must write the same lines)."""
        if not self._is_closed(business_date):
            return business_date
        day = max(today, business_date + timedelta(days=1))
        while self._is_closed(day):
            day += timedelta(days=1)
        return day

    def stage(self, facts: Sequence[PostingFact], today: date) -> list[str]:
        by_day: dict[date, list[PostingFact]] = {}
        for fact in facts:
            by_day.setdefault(self._open_day(fact.business_date, today), []).append(fact)
        written = []
        for day, staged in sorted(by_day.items()):
            body = "".join(f.model_dump_json() + "\n" for f in sorted(staged, key=lambda f: f.line_id))
            digest = hashlib.sha256(body.encode()).hexdigest()[:32]
            object_key = f"{STAGING}/{day.isoformat()}/{digest}.jsonl"
            self._s3.put_object(
                Bucket=self._bucket, Key=object_key, Body=body.encode(), ContentType="application/x-ndjson"
            )
            written.append(object_key)
        return written

    def staged(self, day: date) -> Iterator[PostingFact]:
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=f"{STAGING}/{day.isoformat()}/"):
            for obj in page.get("Contents", []):
                body = self._s3.get_object(Bucket=self._bucket, Key=obj["Key"])["Body"].read().decode()
                for line in body.splitlines():
                    if line.strip():
                        yield PostingFact.model_validate_json(line)


class TableTargets:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def payable_kinds(self, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        found = batch_get(
            self._dynamodb, self._table, [payable_key(i) for i in ids], projection="payable_id, kind", consistent=False
        )
        return {r["payable_id"]["S"]: r["kind"]["S"] for r in found if "kind" in r}

    def owners(self, account_ids: Sequence[str]) -> dict[str, str]:
        if not account_ids:
            return {}
        found = batch_get(
            self._dynamodb,
            self._table,
            [account_key(a) for a in account_ids],
            projection="account_id, customer_id",
            consistent=False,
        )
        return {r["account_id"]["S"]: r["customer_id"]["S"] for r in found if "customer_id" in r}


class S3ChartSource:
    """``config/gl/chart-of-accounts.yaml|json`` in the inbound bucket, else the shipped default."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def chart(self) -> ChartOfAccounts:
        for object_key in CHART_KEYS:
            try:
                body = self._s3.get_object(Bucket=self._bucket, Key=object_key)["Body"].read()
            except ClientError as error:
                if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                    continue
                raise
            return load_chart(body, where=object_key)
        return default_chart()


def default_chart() -> ChartOfAccounts:
    text = resources.files("receivables.accounting").joinpath("defaults/chart-of-accounts.yaml").read_text("utf-8")
    return load_chart(text, where="the shipped chart of accounts")


def journal_csv(lines: Iterable[GlLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow(csv_row(line))
    return out.getvalue()


def journal_parquet(lines: Sequence[GlLine]) -> bytes:
    # pyarrow comes from the analytics layer: only this function loads it.
    import pyarrow as pa
    import pyarrow.parquet as pq

    money = pa.decimal128(18, 2)
    schema = pa.schema(
        [
            ("business_date", pa.date32()),
            ("entry_id", pa.string()),
            ("line_no", pa.int64()),
            ("gl_account", pa.string()),
            ("gl_account_name", pa.string()),
            ("party", pa.string()),
            ("account_id", pa.string()),
            ("currency", pa.string()),
            ("debit", money),
            ("credit", money),
            ("posting_kind", pa.string()),
            ("target_id", pa.string()),
            ("description", pa.string()),
            ("source_line", pa.string()),
        ]
    )
    columns = {name: [getattr(line, name) for line in lines] for name in schema.names}
    table = pa.Table.from_pydict(columns, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def control_json(control: GlControl) -> str:
    document = control.model_dump(mode="json")
    document["balanced"] = control.balanced
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def read_journal_parquet(body: bytes) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return list(pq.read_table(io.BytesIO(body)).to_pylist())


class S3GlFiles:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def write(self, day: date, lines: Sequence[GlLine], control: GlControl) -> list[str]:
        prefix = f"gl/{day.isoformat()}"
        parquet = journal_parquet(lines)
        objects: Mapping[str, tuple[bytes, str]] = {
            f"{prefix}/journal.csv": (journal_csv(lines).encode(), "text/csv"),
            f"{prefix}/journal.parquet": (parquet, "application/vnd.apache.parquet"),
            f"{prefix}/control.json": (control_json(control).encode(), "application/json"),
            f"{ATHENA}/business_date={day.isoformat()}/journal.parquet": (parquet, "application/vnd.apache.parquet"),
        }
        for object_key, (body, content_type) in objects.items():
            self._s3.put_object(Bucket=self._bucket, Key=object_key, Body=body, ContentType=content_type)
        return [k for k in objects if not k.startswith(ATHENA)]

    def read(self, day: date, name: str) -> bytes | None:
        try:
            return self._s3.get_object(Bucket=self._bucket, Key=f"gl/{day.isoformat()}/{name}")["Body"].read()
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise


class TableGlRecords:
    def __init__(self, dynamodb: Any, table: str) -> None:
        self._dynamodb = dynamodb
        self._table = table

    def closed(self, day: date) -> bool:
        return self.control(day) is not None

    def record(self, control: GlControl, files: Sequence[str]) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                **gl_key(control.business_date),
                "entity": _s("gl_export"),
                "business_date": _s(control.business_date.isoformat()),
                "control": _s(control_json(control)),
                "files": {"L": [_s(f) for f in files]},
            },
        )

    def control(self, day: date) -> dict[str, Any] | None:
        found = self._dynamodb.get_item(TableName=self._table, Key=gl_key(day), ConsistentRead=True).get("Item")
        if found is None:
            return None
        document: dict[str, Any] = json.loads(found["control"]["S"])
        document["files"] = [f["S"] for f in found.get("files", {}).get("L", [])]
        return document
