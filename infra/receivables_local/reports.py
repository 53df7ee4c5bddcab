"""``receivables report aging|cash``: the BI export's SQL (``receivables/reporting/sql/*.sql``, the statements Athena
runs over the Glue tables) run with DuckDB over the exported Parquet files, the embedded default for analysis.

The files are the analytics bucket's ``bi/<table>/date=<D>/part-0000.parquet``, as ``simulate`` copies them beside
STATE.json (``analytics/``) or as downloaded from S3; each table becomes a view of that name, so the SQL reads the
same table names in both places."""

from __future__ import annotations

import csv
import datetime as dt
import io
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from receivables.reporting.bi import AGING_DIMENSIONS, PREFIX, TABLES
from rich.console import Console
from rich.table import Table

report_app = typer.Typer(no_args_is_help=True, help="Reports over the BI export (DuckDB over its Parquet files).")
console = Console()


class NoExportError(FileNotFoundError):
    pass


def sql_of(name: str, **values: str) -> str:
    text = resources.files("receivables.reporting").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
    return text.format(**values)


def run(name: str, analytics: Path, **values: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The report's columns and rows; every exported table of ``analytics`` is a view of its name."""
    import duckdb

    root = analytics / PREFIX
    if not root.is_dir():
        raise NoExportError(f"no BI export under {root} (simulate writes it beside STATE.json as analytics/)")
    connection = duckdb.connect()
    for table in TABLES:
        files = sorted(root.glob(f"{table}/date=*/*.parquet"))
        if files:
            paths = ", ".join(f"'{f.as_posix()}'" for f in files)
            connection.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{paths}], hive_partitioning = true)"
            )
        else:  # nothing exported yet: an empty view with the table's columns, so the SQL still runs
            columns = ", ".join(f"CAST(NULL AS VARCHAR) AS {column}" for column, _kind in TABLES[table])
            connection.execute(f'CREATE VIEW {table} AS SELECT {columns}, CAST(NULL AS DATE) AS "date" WHERE false')
    result = connection.execute(sql_of(name, **values))
    columns = [d[0] for d in result.description]
    return columns, result.fetchall()


def _show(columns: list[str], rows: list[tuple[Any, ...]], as_csv: bool) -> None:
    if as_csv:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        print(out.getvalue(), end="")
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


AnalyticsDir = Annotated[
    Path, typer.Option("--analytics", help="The exported files: a folder holding bi/<table>/date=<D>/*.parquet")
]
AsCsv = Annotated[bool, typer.Option("--csv", help="CSV on stdout instead of a table")]


@report_app.command("aging")
def aging_command(
    day: Annotated[dt.datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="As of this business date")],
    analytics: AnalyticsDir = Path("analytics"),
    by: Annotated[str, typer.Option(help=f"One of {', '.join(AGING_DIMENSIONS)}")] = "segment",
    as_csv: AsCsv = False,
) -> None:
    """Open amount and count by days past due (not due, 1-30 … >360) and one dimension, as of a date."""
    if by not in AGING_DIMENSIONS:
        raise typer.BadParameter(f"--by must be one of {', '.join(AGING_DIMENSIONS)}")
    try:
        columns, rows = run("aging", analytics, as_of=day.date().isoformat(), dimension=by)
    except NoExportError as exc:
        raise typer.Exit(_fail(str(exc))) from None
    _show(columns, rows, as_csv)


@report_app.command("cash")
def cash_command(
    day: Annotated[dt.datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="The business date")],
    analytics: AnalyticsDir = Path("analytics"),
    as_csv: AsCsv = False,
) -> None:
    """The day's cash from the exported postings: received, into suspense, allocated, returned, reopened."""
    try:
        columns, rows = run("cash", analytics, as_of=day.date().isoformat())
    except NoExportError as exc:
        raise typer.Exit(_fail(str(exc))) from None
    _show(columns, rows, as_csv)


def _fail(message: str) -> int:
    Console(stderr=True).print(f"[red]error:[/] {message}")
    return 1
