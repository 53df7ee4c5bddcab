"""The daily run selects accounts through the sparse next-action index only."""

from __future__ import annotations

import json

from tests.integration.test_loading_pipeline import CUSTOMERS, INVOICES, drop


def test_accounts_due_on_a_date_are_announced_once(stack, context):
    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    drop(stack, "invoices/i.csv", INVOICES)
    stack.drain(context)
    stack.bus_events()
    plan = stack.handler("plan_daily_run")

    # INV-1 was due 2026-10-15, already overdue when it loaded on 2026-11-24: A1 is reviewed from that day on.
    first = plan({"business_date": "2026-11-24"}, context)
    again = plan({"business_date": "2026-11-24"}, context)

    assert first == again == {"business_date": "2026-11-24", "dates": ["2026-11-24"], "accounts_due": 1}
    queued = [json.loads(m["Body"]) for m in stack.receive("dunning-accounts")]
    assert queued == [{"account_ids": ["A1"], "business_date": "2026-11-24", "run_at": None}]


def test_missed_days_are_caught_up(stack, context):
    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    drop(stack, "invoices/i.csv", INVOICES)
    stack.drain(context)
    plan = stack.handler("plan_daily_run")
    plan({"business_date": "2026-10-10"}, context)
    result = plan({"business_date": "2026-12-05"}, context)
    # The window reaches back 31 days: A1 (due from 2026-11-24, never reviewed since no worker ran) and A2
    # (INV-3 falls due 2026-12-01) are both in it.
    assert result["dates"][0] == "2026-11-05" and result["dates"][-1] == "2026-12-05"
    assert result["accounts_due"] == 2
