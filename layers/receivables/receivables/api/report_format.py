"""Reports as JSON (the route's model) or as CSV (``?format=csv``): one row per line item of the report, the
columns its model's fields, money and rates as the strings the JSON carries. The CSV is what a spreadsheet or a
warehouse load reads as it is; its cells are neutralised like the rejection reports' (no formula injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from receivables.loading.reports import neutralise_cell

Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]
CSV = "text/csv; charset=utf-8"
JSON = "application/json"


def csv_text(rows: Sequence[BaseModel]) -> str:
    if not rows:
        return ""
    records = [row.model_dump(mode="json") for row in rows]
    header = list(records[0])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        writer.writerow([neutralise_cell("" if record[name] is None else record[name]) for name in header])
    return out.getvalue()


def csv_response[T](rows: Sequence[BaseModel], name: str) -> Response[T | str]:
    return Response(
        status_code=200,
        content_type=CSV,
        body=csv_text(rows),
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def report_response[T](body: T, fmt: str, name: str, rows: Sequence[BaseModel] | None = None) -> Response[T | str]:
    """A report as the caller asked: JSON (``body``, the report's model) or CSV (``rows``: its line items, one row
    each; the body itself when it is the list of lines)."""
    if fmt == "csv":
        return csv_response(rows if rows is not None else body, name)  # type: ignore[arg-type]
    return Response(200, content_type=JSON, body=body)
