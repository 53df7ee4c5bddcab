"""Deterministic generated billing files for the benchmarks."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

INVOICE_HEADER = "invoice_id,customer_id,account_id,issue_date,due_date,amount,currency,subscription_id,description\n"
CUSTOMER_HEADER = "customer_id,name,type,city,phone,language,email,iban,vip,risk_score\n"


def write_invoices(
    path: Path, rows: int, *, customers: int, seed: int = 11, first_id: int = 0, start: date = date(2026, 1, 1)
) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(INVOICE_HEADER)
        for n in range(first_id, first_id + rows):
            customer = n % customers
            issue = start + timedelta(days=rng.randrange(300))
            due = issue + timedelta(days=rng.choice((10, 15, 30)))
            cents = rng.randrange(1_000, 500_000)
            out.write(
                f"INV{n:08d},C{customer:07d},A{customer:07d},{issue.isoformat()},{due.isoformat()},"
                f"{cents // 100}.{cents % 100:02d},TRY,S{customer:07d}-1,Fatura {issue:%m/%Y}\n"
            )
    return path


def write_customers(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(CUSTOMER_HEADER)
        for n in range(rows):
            out.write(f"C{n:07d},Müşteri {n},individual,İstanbul,+90532{n % 10_000_000:07d},tr,,,false,{n % 1000}\n")
    return path
