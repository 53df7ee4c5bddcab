"""``receivables dlq list|show|redrive`` against the embedded stack, as an operator runs it with the moto endpoint
`local up` prints: a message that failed for good is listed, shown without being consumed, and sent back where it
goes, where the real handler takes it again."""

from __future__ import annotations

import io
import json
import re

import pytest
from receivables_local import cli
from receivables_local.http_api import ApiGateway, Request
from receivables_local.people import LocalUserPool
from receivables_local.session import LocalSession
from rich.console import Console
from typer.testing import CliRunner

from .conftest import requires_handlers

pytestmark = [pytest.mark.e2e, requires_handlers]

CUSTOMERS = "customer_id,name,type,city,phone,language\nC1,Ayşe Yılmaz,individual,İstanbul,+905321234567,tr\n"


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What the commands print, on a console wide enough that no table cell wraps."""
    out = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=out, width=240))
    return out


def dlq(session: LocalSession, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, ["dlq", *args, "--endpoint-url", session.stack.endpoints.aws])
    return result.exit_code, result.output


def messages_in(session: LocalSession, url: str) -> int:
    attributes = session.clients("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def waiting(listing: str, name: str) -> int:
    row = re.search(rf"^\W*{re.escape(name)}\W+(\d+)\W", listing, re.MULTILINE)
    assert row, listing
    return int(row[1])


def take_notification(session: LocalSession, queue_url: str) -> str:
    """The S3 notification of the upload, taken off its queue before any function saw it."""
    sqs = session.clients("sqs")
    bodies = []
    for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        bodies.append(message["Body"])
    (notification,) = [b for b in bodies if "Records" in json.loads(b)]  # moto's s3:TestEvent aside
    return notification


def test_a_failed_file_notification_is_listed_shown_and_redriven_to_its_queue(
    session: LocalSession, printed: io.StringIO
) -> None:
    # Given: the notification of a customers file that failed every delivery, in the DLQ of inbound-files
    queue = session.resources.queues["inbound-files"]
    assert queue.dlq_url is not None
    session.upload("customers/c.csv", CUSTOMERS.encode())
    session.clients("sqs").send_message(QueueUrl=queue.dlq_url, MessageBody=take_notification(session, queue.url))

    # When / Then: list counts it, next to its source and the function that failed it
    code, output = dlq(session, "list")
    assert code == 0, output
    listing = printed.getvalue()
    assert waiting(listing, "inbound-files-dlq") == 1
    assert waiting(listing, "file-chunks-dlq") == 0
    assert re.search(r"inbound-files-dlq .*plan_inbound_file .*queue inbound-files .*SendMessage", listing)
    assert "1 message(s) waiting in 1 DLQ(s) under receivables-local" in listing

    # show prints it and leaves it there
    code, output = dlq(session, "show", "inbound-files-dlq")
    assert code == 0, output
    shown = printed.getvalue()
    assert "inbound-files-dlq: 1 message(s), failed in plan_inbound_file" in shown
    assert re.search(r'^ +"key": "customers(/|%2F)c\.csv",$', shown, re.MULTILINE)  # the body, pretty-printed
    assert re.search(r"id \S+ +sent 20\d\d-\d\d-\d\dT\S+ +received \d+ time", shown)
    assert messages_in(session, queue.dlq_url) == 1

    # redrive sends it back to inbound-files and deletes it from the DLQ
    code, output = dlq(session, "redrive", "inbound-files-dlq", "--yes")
    assert code == 0, output
    assert "inbound-files-dlq: 1 moved (SendMessage to queue inbound-files), 0 left" in printed.getvalue()
    assert messages_in(session, queue.dlq_url) == 0
    assert messages_in(session, queue.url) == 1

    # where the planner takes it, as on its first delivery: the customer is loaded
    session.runtime.run_until_idle()
    gateway = ApiGateway(session.topology, session.runtime.invoker, LocalUserPool(session.stack.clients()))
    response = gateway.handle(Request("GET", "/customers/C1", [], b"", caller="operator"))
    assert response.status == 200, response.body
    assert json.loads(response.body)["customer_id"] == "C1"


def test_a_failed_bus_event_goes_back_onto_the_bus_to_its_rule(session: LocalSession, printed: io.StringIO) -> None:
    # Given: an event the dunning worker failed on every retry, as the bus rule's DLQ keeps it
    event = {
        "version": "0",
        "id": "5a0e7c9e-0000-4000-8000-000000000001",
        "detail-type": "DunningReviewRequested",
        "source": "receivables.dunning",
        "account": "123456789012",
        "time": "2026-11-24T08:00:00Z",
        "region": "eu-central-1",
        "resources": [],
        "detail": {"account_id": "A-NONE", "reason": "hold released"},
    }
    dlq_url = session.resources.trigger_dlqs["dunning-review-events-dlq"].url
    session.clients("sqs").send_message(QueueUrl=dlq_url, MessageBody=json.dumps(event))

    code, output = dlq(session, "redrive", "dunning-review-events-dlq", "--yes")

    assert code == 0, output
    assert "1 moved (PutEvents to the bus (rule dunning-review))" in printed.getvalue()
    assert messages_in(session, dlq_url) == 0
    session.runtime.run_until_idle()
    delivered = [e for e in session.runtime.bus.events if e["detail-type"] == "DunningReviewRequested"]
    assert [e["detail"] for e in delivered] == [event["detail"]]
    assert delivered[0]["source"] == "receivables.dunning"
    reviews = [i for i in session.runtime.invocations if i.function == "dunning_worker" and i.source == "bus"]
    assert reviews and all(i.error is None for i in reviews)


def test_a_stream_dlq_is_shown_but_not_redriven_and_an_unknown_name_is_refused(
    session: LocalSession, printed: io.StringIO
) -> None:
    dlq_url = session.resources.trigger_dlqs["outbox-dlq"].url
    failure = {"function": "publish_events", "stream": "arn:stream", "first_sequence": "42", "records": 1}
    session.clients("sqs").send_message(QueueUrl=dlq_url, MessageBody=json.dumps(failure))

    code, output = dlq(session, "redrive", "outbox-dlq", "--yes")
    assert code == 2
    assert "not the records" in " ".join(output.split())
    assert messages_in(session, dlq_url) == 1

    code, output = dlq(session, "show", "outbox-dlq")
    assert code == 0, output
    assert '"first_sequence": "42"' in printed.getvalue()

    code, output = dlq(session, "show", "no-such-dlq")
    assert code == 2 and "not a dead-letter queue of the topology" in " ".join(output.split())
