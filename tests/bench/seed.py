"""A large ledger written straight into DynamoDB Local with the adapters' own record builders: 100,000 accounts in
minutes, where the loader (which the (b) benchmark measures) would take a quarter of an hour on this machine."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from receivables.adapters.dynamodb_batches import batch_put
from receivables.adapters.keys import account_key, next_action_partition
from receivables.adapters.ledger_table import customer_record, invoice_record
from receivables.domain.records import Customer, Invoice


def _records(start: int, stop: int, run_date: date, due_every: int) -> Iterator[dict[str, Any]]:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(start, stop):
        customer_id, account_id = f"C{n:07d}", f"A{n:07d}"
        due_now = n % due_every == 0
        customer = Customer(
            customer_id,
            f"Müşteri {n}",
            "individual",
            "İstanbul",
            f"+90532{n % 10_000_000:07d}",
            "tr",
            f"c{n}@example.com" if n % 2 else None,
            None,
            False,
            n % 1000,
        )
        yield customer_record(customer, "seed", n, now)
        # Accounts due today hold an item 25 days overdue; the others one that falls due in two months.
        due = run_date - timedelta(days=25) if due_now else run_date + timedelta(days=60)
        next_action = run_date if due_now else due + timedelta(days=1)
        yield {
            **account_key(account_id),
            "entity": {"S": "account"},
            "account_id": {"S": account_id},
            "customer_id": {"S": customer_id},
            "currency": {"S": "TRY"},
            "account_type": {"S": "standard"},
            "opened_on": {"S": "2026-01-01"},
            "source_file": {"S": "seed"},
            "gsi1pk": {"S": f"CUST#{customer_id}"},
            "gsi1sk": {"S": f"ACCT#{account_id}"},
            "next_action_on": {"S": next_action.isoformat()},
            "gsi2pk": {"S": next_action_partition(next_action, account_id)},
            "gsi2sk": {"S": f"ACCT#{account_id}"},
        }
        invoice = Invoice(
            f"INV{n:08d}",
            customer_id,
            account_id,
            due - timedelta(days=15),
            due,
            Decimal(f"{100 + n % 900}.{n % 100:02d}"),
            "TRY",
            None,
            None,
        )
        yield invoice_record(invoice, "seed", n, "2026-11-01", "seed")


def seed_ledger(dynamodb: Any, table: str, accounts: int, run_date: date, due_every: int = 100) -> int:
    """``accounts`` customers, accounts and items; every ``due_every``-th account is due for dunning on
    ``run_date``. Returns the number of accounts due."""
    step = 5_000

    def write(start: int) -> None:
        batch_put(dynamodb, table, list(_records(start, min(start + step, accounts), run_date, due_every)))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(0, accounts, step)))
    return len(range(0, accounts, due_every))
