"""Every record that fails in a batch leaves an ERROR line saying why, with its message id and business ids."""

from __future__ import annotations

import json
from typing import ClassVar

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from receivables.observability import LoggedBatchProcessor, logger


class FakeContext:
    function_name = "load_bank_file"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:load_bank_file"
    aws_request_id = "r1"


def _record(message_id: str, body: dict) -> dict:
    return {
        "messageId": message_id,
        "receiptHandle": "h",
        "body": json.dumps(body),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:q",
        "awsRegion": "eu-central-1",
    }


class TooManyItemsError(RuntimeError):
    business_ids: ClassVar[dict[str, str]] = {"account_id": "AGENCY-1", "payment_id": "P1"}


def test_a_failed_record_is_logged_at_error_with_its_exception_message_id_and_business_ids(caplog) -> None:
    logger.setLevel("INFO")
    processor = LoggedBatchProcessor(EventType.SQS, describe=lambda record: {"key": json.loads(record.body)["key"]})

    def handle(record):
        if json.loads(record.body)["key"] == "banks/x/bad.xml":
            raise TooManyItemsError("transaction too large")

    event = {"Records": [_record("m-ok", {"key": "banks/x/ok.xml"}), _record("m-bad", {"key": "banks/x/bad.xml"})]}
    response = process_partial_response(event=event, record_handler=handle, processor=processor, context=FakeContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}
    (failed,) = [r for r in caplog.records if r.getMessage() == "batch record failed"]
    assert failed.levelname == "ERROR" and failed.record_id == "m-bad" and failed.key == "banks/x/bad.xml"
    assert failed.account_id == "AGENCY-1" and failed.exc_info[0] is TooManyItemsError
