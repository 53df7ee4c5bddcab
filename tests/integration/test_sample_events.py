"""Every sample event in events/ is accepted by its handler as Lambda would deliver it."""

from __future__ import annotations

import json
from pathlib import Path

EVENTS = Path(__file__).parents[2] / "events"


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def test_s3_test_event_is_ignored(stack, context):
    assert stack.handler("plan_inbound_file")(load("s3_test_event_via_sqs.json"), context) == {"batchItemFailures": []}


def test_notification_for_an_object_already_gone_is_not_a_failure(stack, context):
    event = load("s3_object_created_via_sqs.json")
    event["Records"][0]["body"] = event["Records"][0]["body"].replace("receivables-inbound", stack.inbound)
    assert stack.handler("plan_inbound_file")(event, context) == {"batchItemFailures": []}


def test_chunk_of_a_vanished_file_is_reported_as_a_batch_item_failure(stack, context):
    event = load("file_chunk_via_sqs.json")
    event["Records"][0]["body"] = event["Records"][0]["body"].replace("receivables-inbound", stack.inbound)
    result = stack.handler("load_file_chunk")(event, context)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_schedule_event_plans_the_business_date_of_its_scheduled_time(stack, context):
    result = stack.handler("plan_daily_run")(load("daily_run_schedule.json"), context)
    assert result["business_date"] == "2026-11-24" and result["accounts_due"] == 0


def test_the_dunning_fan_out_message_reviews_its_accounts(stack, context):
    # Accounts that do not exist are skipped, not failed: a message outliving its accounts is not poison.
    assert stack.handler("dunning_worker")(load("dunning_accounts_via_sqs.json"), context) == {"batchItemFailures": []}


def test_a_payment_event_reviews_its_account_at_once(stack, context):
    assert stack.handler("dunning_worker")(load("payment_received_bus.json"), context) == {"reviewed": ["A1"]}


def test_the_direct_debit_schedule_says_why_it_collected_nothing(stack, context):
    result = stack.handler("direct_debits")(load("direct_debit_schedule.json"), context)
    assert result["run_date"] == "2026-11-24" and result["files"] == []
    assert "no creditor bank is configured" in result["problem"]


def test_the_deferred_sms_schedule_sends_what_waited(stack, context):
    assert stack.handler("send_deferred_sms")(load("deferred_sms_schedule.json"), context) == {"sent": 0}
