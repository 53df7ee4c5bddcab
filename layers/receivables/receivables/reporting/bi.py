"""The BI export's tables: their columns as data (one description for the Parquet writer, the Glue tables and the
reports' SQL), and the aging buckets the reports use.

Each day's partition (``<table>/date=<D>/part-0000.parquet``) holds what changed that day — the postings of the day,
and the latest state of every item, account, payment, customer, cycle, contact and task they or the day's dunning
touched — so a warehouse keeps the last row of each key, and a report as of D reads the partitions up to D."""

from __future__ import annotations

from typing import Literal

ColumnType = Literal["string", "date", "money", "int", "bool"]

TABLES: dict[str, tuple[tuple[str, ColumnType], ...]] = {
    "postings": (
        ("line_id", "string"),
        ("business_date", "date"),
        ("account_id", "string"),
        ("currency", "string"),
        ("kind", "string"),
        ("operation", "string"),
        ("target", "string"),
        ("target_id", "string"),
        ("amount", "money"),
        ("entry_id", "string"),
        ("cause", "string"),
        ("item_kind", "string"),
        ("payable_kind", "string"),
        ("party", "string"),
    ),
    "items": (
        ("item_id", "string"),
        ("account_id", "string"),
        ("customer_id", "string"),
        ("kind", "string"),
        ("issue_date", "date"),
        ("due_date", "date"),
        ("amount", "money"),
        ("open_amount", "money"),
        ("currency", "string"),
        ("status", "string"),
        ("policy_id", "string"),
        ("branch", "string"),
        ("subscription_id", "string"),
        ("account_type", "string"),
        ("customer_type", "string"),
        ("city", "string"),
        ("segment", "string"),
    ),
    "accounts": (
        ("account_id", "string"),
        ("customer_id", "string"),
        ("currency", "string"),
        ("account_type", "string"),
        ("unapplied_credit", "money"),
        ("segment", "string"),
        ("strategy", "string"),
        ("stage", "string"),
        ("city", "string"),
        ("customer_type", "string"),
    ),
    "customers": (
        ("customer_id", "string"),
        ("type", "string"),
        ("city", "string"),
        ("district", "string"),
        ("vip", "bool"),
        ("risk_score", "int"),
    ),
    "payments": (
        ("payment_id", "string"),
        ("account_id", "string"),
        ("bank_id", "string"),
        ("amount", "money"),
        ("currency", "string"),
        ("value_date", "date"),
        ("unapplied", "money"),
        ("status", "string"),
        ("match_method", "string"),
    ),
    "cycles": (
        ("account_id", "string"),
        ("cycle", "int"),
        ("segment", "string"),
        ("strategy", "string"),
        ("arm", "string"),
        ("started", "date"),
        ("ended", "date"),
        ("overdue_at_start", "money"),
        ("overdue_at_end", "money"),
        ("contacts", "int"),
        ("stage", "string"),
    ),
    "contacts": (
        ("account_id", "string"),
        ("cycle", "int"),
        ("step", "string"),
        ("channel", "string"),
        ("action", "string"),
        ("template", "string"),
        ("status", "string"),
        ("contact_date", "date"),  # "date" names the partition
        ("strategy", "string"),
        ("arm", "string"),
    ),
    "tasks": (
        ("task_id", "string"),
        ("account_id", "string"),
        ("group", "string"),
        ("status", "string"),
        ("outcome", "string"),
        ("claimed_by", "string"),
        ("closed_by", "string"),
        ("created_on", "date"),
        ("closed_on", "date"),
        ("overdue_amount", "money"),
        ("days_overdue", "int"),
    ),
}

PREFIX = "bi"

# Days past due → bucket, as every aging report reads them (not yet due is its own bucket).
AGING_BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (1, 30, "1-30"),
    (31, 60, "31-60"),
    (61, 90, "61-90"),
    (91, 180, "91-180"),
    (181, 360, "181-360"),
    (361, None, ">360"),
)
NOT_DUE = "not_due"
AGING_DIMENSIONS = ("segment", "city", "customer_type", "account_type", "branch")


def partition_key(table: str, day: str) -> str:
    return f"{PREFIX}/{table}/date={day}/part-0000.parquet"


def snapshot_key(day: object) -> str:
    """The items open at the end of a day, whole: what an aging report as of that day reads (one file)."""
    return f"{PREFIX}/_snapshots/open_items/date={day}/part-0000.parquet"
