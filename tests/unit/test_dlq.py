"""``receivables dlq``: which DLQs the topology makes and how their physical names are found, what a message looks
like when shown, how a bus event is put back, and that a redrive deletes a message only once it is where it goes —
on in-memory fakes of SQS and EventBridge, no network."""

from __future__ import annotations

import io
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from receivables.topology import TOPOLOGY, BusTrigger, StreamTrigger
from receivables_local.dlq import (
    DeadLetter,
    DeadLetterError,
    DeadLetters,
    NotRedrivableError,
    UnknownDeadLetterQueueError,
    dead_letter_queues,
    event_bus_among,
    event_of,
    is_physical_name,
    pretty_body,
    print_letters,
    put_events_entry,
    resendable_attributes,
)
from rich.console import Console

LOCAL = "receivables-local"
EVENT = {
    "version": "0",
    "id": "e1",
    "detail-type": "PaymentReceived",
    "source": "receivables.payments",
    "time": "2026-11-24T08:00:00Z",
    "resources": ["arn:aws:s3:::bank"],
    "detail": {"payment_id": "P1", "account_id": "A1", "amount": "100.00"},
}


# -- the DLQs of the topology ---------------------------------------------------------------------------------------
def test_every_queue_bus_rule_and_stream_trigger_has_its_dlq_with_source_and_failing_function() -> None:
    dlqs = {q.name: q for q in dead_letter_queues(TOPOLOGY)}

    assert len(dlqs) == (
        len(TOPOLOGY.queues)
        + len(TOPOLOGY.triggers_of_kind(BusTrigger))
        + len(TOPOLOGY.triggers_of_kind(StreamTrigger))
    )
    chunks = dlqs["file-chunks-dlq"]
    assert (chunks.kind, chunks.source, chunks.functions) == ("queue", "file-chunks", ("load_file_chunk",))
    assert chunks.construct_id == "FileChunksDlq" and chunks.source_construct_id == "FileChunksQueue"
    review = dlqs["dunning-review-events-dlq"]
    assert (review.kind, review.source, review.functions) == ("bus", "dunning-review", ("dunning_worker",))
    assert review.construct_id == "DunningReviewEventsDlqQueue"
    outbox = dlqs["outbox-dlq"]
    assert (outbox.kind, outbox.source, outbox.functions) == ("stream", "outbox", ("publish_events",))


@pytest.mark.parametrize(
    ("name", "prefix", "logical", "construct_id", "expected"),
    [
        # The local stack: <prefix>-<logical>.
        ("receivables-local-inbound-files-dlq", LOCAL, "inbound-files-dlq", "InboundFilesDlq", True),
        ("receivables-local-inbound-files", LOCAL, "inbound-files-dlq", "InboundFilesDlq", False),
        # AWS: <stack>-<logical id>-<suffix>, the logical id being Messaging<construct id><8 hex>.
        (
            "Receivables-MessagingInboundFilesDlqCDD096D1-Xy12Ab",
            "Receivables",
            "inbound-files-dlq",
            "InboundFilesDlq",
            True,
        ),
        (
            "Receivables-MessagingInboundFilesQueue00B1592D-Xy12",
            "Receivables",
            "inbound-files-dlq",
            "InboundFilesDlq",
            False,
        ),
        (
            "Receivables-MessagingPolicyEventFilesDlqE1FF3B73-Q1",
            "Receivables",
            "policy-events-dlq",
            "PolicyEventsDlq",
            False,
        ),
        ("Other-MessagingInboundFilesDlqCDD096D1-Xy12Ab", "Receivables", "inbound-files-dlq", "InboundFilesDlq", False),
        # The bus: CDK's unique id, without dashes and suffix.
        ("ReceivablesMessagingEventBus099EBF60", "Receivables", "receivables", "EventBus", True),
        ("ReceivablesprodMessagingEventBus099EBF60", "Receivables-prod", "receivables", "EventBus", True),
        ("receivables-local-receivables", LOCAL, "receivables", "EventBus", True),
    ],
)
def test_physical_names_local_and_as_cloudformation_derives_them(
    name: str, prefix: str, logical: str, construct_id: str, expected: bool
) -> None:
    assert is_physical_name(name, prefix, logical, construct_id) is expected


def test_the_stacks_bus_is_found_among_the_accounts_buses() -> None:
    buses = ["default", "OtherMessagingEventBus099EBF60", "ReceivablesMessagingEventBus099EBF60"]
    assert event_bus_among(buses, "Receivables", "receivables") == "ReceivablesMessagingEventBus099EBF60"
    with pytest.raises(DeadLetterError, match="no event bus 'receivables' of the stack under the prefix 'Prod'"):
        event_bus_among(buses, "Prod", "receivables")


# -- showing a message ----------------------------------------------------------------------------------------------
def test_a_message_from_sqs_keeps_its_id_sent_time_and_receive_count() -> None:
    letter = DeadLetter.from_sqs(
        {
            "MessageId": "m1",
            "ReceiptHandle": "r1",
            "Body": "{}",
            "Attributes": {"SentTimestamp": "1795507200000", "ApproximateReceiveCount": "4"},
        }
    )
    assert letter.sent_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert letter.receive_count == 4 and letter.message_attributes == {}


def test_a_body_is_pretty_printed_when_json_and_cut_with_a_note_when_long() -> None:
    assert pretty_body('{"b": 1, "a": "ç"}') == '{\n  "a": "ç",\n  "b": 1\n}'
    assert pretty_body("not json") == "not json"
    cut = pretty_body("x" * 50, limit=10)
    assert cut == "x" * 10 + "\n… (40 more characters)"


def test_message_attributes_are_sent_back_without_the_fields_send_message_refuses() -> None:
    received = {"copy": {"StringValue": "2", "DataType": "String", "StringListValues": [], "BinaryListValues": []}}
    assert resendable_attributes(received) == {"copy": {"StringValue": "2", "DataType": "String"}}


# -- bus events -----------------------------------------------------------------------------------------------------
def test_the_event_is_the_message_itself_or_the_payload_of_a_lambda_failure_record() -> None:
    failure_record = {
        "version": "1.0",
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": EVENT,
        "responsePayload": {"errorMessage": "boom"},
    }
    assert event_of(json.dumps(EVENT)) == EVENT
    assert event_of(json.dumps(failure_record)) == EVENT
    assert event_of('{"function": "publish_events", "first_sequence": "1"}') is None
    assert event_of("[1, 2]") is None and event_of("not json") is None


def test_an_event_goes_back_with_its_source_type_detail_resources_and_time() -> None:
    entry = put_events_entry(EVENT, "bus")
    assert entry == {
        "EventBusName": "bus",
        "Source": "receivables.payments",
        "DetailType": "PaymentReceived",
        "Detail": json.dumps(EVENT["detail"]),
        "Resources": ["arn:aws:s3:::bank"],
        "Time": datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
    }
    assert "Time" not in put_events_entry({**EVENT, "time": "yesterday"}, "bus")


# -- list, show and redrive on fakes --------------------------------------------------------------------------------
class FakeSqs:
    """Queues by URL; receive hides a message for its visibility timeout (0: not at all), as SQS does."""

    def __init__(self, names: list[str]) -> None:
        self.queues: dict[str, list[dict[str, Any]]] = {f"https://sqs/{n}": [] for n in names}
        self.hidden: set[str] = set()
        self.refuse_sends_to: set[str] = set()
        self.refuse_deletes = False
        self._ids = itertools.count(1)

    def url(self, name: str) -> str:
        return f"https://sqs/{name}"

    def get_paginator(self, _operation: str) -> Any:
        queues = self.queues

        class Paginator:
            def paginate(self, QueueNamePrefix: str) -> list[dict[str, Any]]:
                urls = [u for u in queues if u.rsplit("/", 1)[-1].startswith(QueueNamePrefix)]
                return [{"QueueUrls": urls[:2]}, {"QueueUrls": urls[2:]}]

        return Paginator()

    def send_message(self, QueueUrl: str, MessageBody: str, MessageAttributes: Any = None) -> dict[str, Any]:
        if QueueUrl in self.refuse_sends_to:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "SendMessage")
        message_id = f"m{next(self._ids)}"
        self.queues[QueueUrl].append(
            {"MessageId": message_id, "Body": MessageBody, "MessageAttributes": MessageAttributes or {}, "count": 0}
        )
        return {"MessageId": message_id}

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        messages = self.queues[QueueUrl]
        hidden = sum(1 for m in messages if m["MessageId"] in self.hidden)
        return {
            "Attributes": {
                "ApproximateNumberOfMessages": str(len(messages) - hidden),
                "ApproximateNumberOfMessagesNotVisible": str(hidden),
            }
        }

    def receive_message(self, QueueUrl: str, MaxNumberOfMessages: int, VisibilityTimeout: int, **_: Any) -> Any:
        visible = [m for m in self.queues[QueueUrl] if m["MessageId"] not in self.hidden][:MaxNumberOfMessages]
        for message in visible:
            message["count"] += 1
            if VisibilityTimeout:
                self.hidden.add(message["MessageId"])
        return {
            "Messages": [
                {
                    "MessageId": m["MessageId"],
                    "ReceiptHandle": m["MessageId"],
                    "Body": m["Body"],
                    "Attributes": {"ApproximateReceiveCount": str(m["count"]), "SentTimestamp": "1795507200000"},
                    "MessageAttributes": m["MessageAttributes"],
                }
                for m in visible
            ]
        }

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        if self.refuse_deletes:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "try again"}}, "DeleteMessage")
        self.queues[QueueUrl] = [m for m in self.queues[QueueUrl] if m["MessageId"] != ReceiptHandle]
        self.hidden.discard(ReceiptHandle)

    def change_message_visibility(self, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int) -> None:
        assert VisibilityTimeout == 0
        self.hidden.discard(ReceiptHandle)

    def bodies(self, name: str) -> list[str]:
        return [m["Body"] for m in self.queues[self.url(name)]]


class FakeEvents:
    def __init__(self, buses: list[str]) -> None:
        self.buses = buses
        self.put: list[dict[str, Any]] = []

    def list_event_buses(self, NextToken: str | None = None) -> dict[str, Any]:
        if NextToken is None:
            return {"EventBuses": [{"Name": "default"}], "NextToken": "more"}
        return {"EventBuses": [{"Name": b} for b in self.buses]}

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        (entry,) = Entries
        if entry["DetailType"] == "Refused":
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "Throttling", "ErrorMessage": "slow down"}]}
        self.put.append(entry)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "new"}]}


def local_names() -> list[str]:
    names = [f"{LOCAL}-{q.name}" for q in TOPOLOGY.queues] + [f"{LOCAL}-{q.name}" for q in dead_letter_queues()]
    return [*names, f"{LOCAL}-local-bus-tap"]


@pytest.fixture
def sqs() -> FakeSqs:
    return FakeSqs(local_names())


@pytest.fixture
def events() -> FakeEvents:
    return FakeEvents([f"{LOCAL}-{TOPOLOGY.event_bus}"])


@pytest.fixture
def desk(sqs: FakeSqs, events: FakeEvents) -> DeadLetters:
    return DeadLetters(sqs, events, LOCAL)


class NoEvents:
    """Looking at the DLQs needs no EventBridge permission: any call is a failure."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"events.{name} called")


def test_list_counts_the_messages_of_every_dlq_and_says_which_it_cannot_find(sqs: FakeSqs) -> None:
    sqs.queues.pop(sqs.url(f"{LOCAL}-gl-daybook-dlq"))
    sqs.send_message(sqs.url(f"{LOCAL}-bank-files-dlq"), "a")
    sqs.send_message(sqs.url(f"{LOCAL}-bank-files-dlq"), "b")

    statuses = {s.dlq.name: s for s in DeadLetters(sqs, NoEvents(), LOCAL).status()}

    assert (statuses["bank-files-dlq"].visible, statuses["bank-files-dlq"].in_flight) == (2, 0)
    assert statuses["inbound-files-dlq"].visible == 0
    assert statuses["gl-daybook-dlq"].url is None


def test_show_leaves_every_message_where_it_was(desk: DeadLetters, sqs: FakeSqs) -> None:
    url = sqs.url(f"{LOCAL}-file-chunks-dlq")
    for n in range(3):
        sqs.send_message(url, json.dumps({"chunk": n}))

    letters = desk.peek(desk.dead_letter_queue("file-chunks-dlq"), limit=2)

    assert [json.loads(letter.body)["chunk"] for letter in letters] == [0, 1]
    assert len(sqs.bodies(f"{LOCAL}-file-chunks-dlq")) == 3 and not sqs.hidden


def test_show_stops_when_the_queue_has_nothing_new(desk: DeadLetters, sqs: FakeSqs) -> None:
    sqs.send_message(sqs.url(f"{LOCAL}-file-chunks-dlq"), "only")
    assert [letter.body for letter in desk.peek(desk.dead_letter_queue("file-chunks-dlq"), limit=10)] == ["only"]


def test_redrive_sends_each_message_back_to_its_queue_then_deletes_it(desk: DeadLetters, sqs: FakeSqs) -> None:
    dlq_url = sqs.url(f"{LOCAL}-inbound-files-dlq")
    attributes = {"copy": {"StringValue": "1", "DataType": "String", "StringListValues": []}}
    sqs.send_message(dlq_url, '{"Records": []}', attributes)
    sqs.send_message(dlq_url, "second")
    sqs.send_message(dlq_url, "third, beyond the limit")

    report = desk.redrive(desk.dead_letter_queue("receivables-local-inbound-files-dlq"), limit=2)

    assert (report.moved, report.failed) == (2, [])
    assert sqs.bodies(f"{LOCAL}-inbound-files") == ['{"Records": []}', "second"]
    assert sqs.queues[sqs.url(f"{LOCAL}-inbound-files")][0]["MessageAttributes"] == {
        "copy": {"StringValue": "1", "DataType": "String"}
    }
    assert sqs.bodies(f"{LOCAL}-inbound-files-dlq") == ["third, beyond the limit"]


def test_a_message_that_cannot_be_sent_stays_in_the_dlq_visible_again(desk: DeadLetters, sqs: FakeSqs) -> None:
    sqs.send_message(sqs.url(f"{LOCAL}-dunning-accounts-dlq"), "accounts")
    sqs.refuse_sends_to.add(sqs.url(f"{LOCAL}-dunning-accounts"))

    report = desk.redrive(desk.dead_letter_queue("dunning-accounts-dlq"), limit=5)

    assert report.moved == 0
    assert [why for _id, why in report.failed] == [
        "An error occurred (AccessDenied) when calling the SendMessage operation: no"
    ]
    assert sqs.bodies(f"{LOCAL}-dunning-accounts-dlq") == ["accounts"] and not sqs.hidden


def test_a_message_sent_back_but_not_deleted_is_reported_left_and_visible_again(
    desk: DeadLetters, sqs: FakeSqs
) -> None:
    sqs.send_message(sqs.url(f"{LOCAL}-file-chunks-dlq"), "chunk")
    sqs.refuse_deletes = True

    report = desk.redrive(desk.dead_letter_queue("file-chunks-dlq"), limit=5)

    assert report.moved == 0 and report.failed[0][1].startswith("sent back, but not deleted from the DLQ")
    assert sqs.bodies(f"{LOCAL}-file-chunks") == ["chunk"]  # a second redrive sends it again: a redelivery
    assert sqs.bodies(f"{LOCAL}-file-chunks-dlq") == ["chunk"] and not sqs.hidden


def test_show_prints_id_time_receive_count_attributes_and_the_body() -> None:
    out = io.StringIO()
    letter = DeadLetter(
        "m1",
        "r1",
        json.dumps(EVENT),
        datetime(2026, 11, 24, 8, tzinfo=UTC),
        2,
        {"ERROR_CODE": {"StringValue": "SDK_CLIENT_ERROR", "DataType": "String"}},
    )

    (review,) = [q for q in dead_letter_queues() if q.name == "dunning-review-events-dlq"]
    print_letters(Console(file=out, width=200), review, [letter], body_limit=80)

    text = out.getvalue()
    assert "dunning-review-events-dlq: 1 message(s), failed in dunning_worker (bus dunning-review)" in text
    assert "id m1  sent 2026-11-24T08:00:00+00:00  received 2 time(s)" in text
    assert "ERROR_CODE: SDK_CLIENT_ERROR" in text
    assert '"account_id": "A1"' in text and "more characters)" in text  # sorted, indented, cut


def test_a_bus_dlq_is_redriven_onto_the_bus_and_what_is_no_event_stays(
    desk: DeadLetters, sqs: FakeSqs, events: FakeEvents
) -> None:
    url = sqs.url(f"{LOCAL}-policy-settlement-events-dlq")
    sqs.send_message(url, json.dumps({"requestContext": {}, "requestPayload": EVENT}))
    sqs.send_message(url, "garbage")
    sqs.send_message(url, json.dumps({**EVENT, "detail-type": "Refused"}))

    report = desk.redrive(desk.dead_letter_queue("policy-settlement-events-dlq"), limit=10)

    assert report.moved == 1
    assert [e["EventBusName"] for e in events.put] == [f"{LOCAL}-receivables"]
    assert json.loads(events.put[0]["Detail"]) == EVENT["detail"]
    assert sorted(why.split(":")[0] for _id, why in report.failed) == [
        "PutEvents refused it",
        "neither an EventBridge event nor a Lambda failure record carrying one",
    ]
    assert len(sqs.bodies(f"{LOCAL}-policy-settlement-events-dlq")) == 2 and not sqs.hidden


def test_a_stream_dlq_is_not_redriven_and_an_unknown_name_is_refused(desk: DeadLetters) -> None:
    with pytest.raises(NotRedrivableError, match="not the records"):
        desk.redrive_question(desk.dead_letter_queue("gl-daybook-dlq"), 10)
    with pytest.raises(UnknownDeadLetterQueueError, match="one of: inbound-files-dlq"):
        desk.dead_letter_queue("nope")
    question = desk.redrive_question(desk.dead_letter_queue("bank-files-dlq"), 7)
    assert question == "Move up to 7 message(s) from bank-files-dlq (SendMessage to queue bank-files)?"
