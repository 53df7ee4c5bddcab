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
