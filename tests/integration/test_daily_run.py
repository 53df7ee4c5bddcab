"""The daily run selects accounts through the sparse next-action index only."""

from __future__ import annotations

import json

import pytest

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

    assert first == {"business_date": "2026-11-24", "dates": ["2026-11-24"], "accounts_due": 1}
    assert again == {"business_date": "2026-11-24", "dates": [], "accounts_due": 0}  # the run log says: planned
    queued = [json.loads(m["Body"]) for m in stack.receive("dunning-accounts")]
    assert queued == [{"account_ids": ["A1"], "business_date": "2026-11-24", "run_at": None}]


def test_a_run_that_died_before_recording_itself_is_planned_again_by_the_retry(stack, context, monkeypatch):
    from receivables.adapters.run_log import RunLogTable

    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    drop(stack, "invoices/i.csv", INVOICES)
    stack.drain(context)
    plan = stack.handler("plan_daily_run")
    record = RunLogTable.record_planned

    def dies(*_args, **_kwargs):
        raise RuntimeError("the function was killed here")

    monkeypatch.setattr(RunLogTable, "record_planned", dies)
    with pytest.raises(RuntimeError):
        plan({"business_date": "2026-11-24"}, context)
    monkeypatch.setattr(RunLogTable, "record_planned", record)
    # The retry is not refused as "already in progress": it plans the day again.
    assert plan({"business_date": "2026-11-24"}, context)["accounts_due"] == 1


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
