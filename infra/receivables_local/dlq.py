"""``receivables dlq list|show|redrive``: what failed every retry, looked at and sent back where it goes.

The same boto3 calls serve the local stack (``--endpoint-url``, by default ``AWS_ENDPOINT_URL``: the moto server
``local up`` prints) and AWS (no endpoint; ``--profile``, ``--region``). Physical names are found by listing the
queues under ``--prefix``: locally ``<prefix>-<logical>`` (:mod:`receivables_local.resources`, prefix
``receivables-local``), in AWS the names CloudFormation derives from the construct ids of
:mod:`receivables_infra.messaging` (``<stack>-Messaging<ConstructId><hash>-<suffix>``, prefix ``Receivables``).

The topology makes three kinds of dead-letter queue, and each goes back its own way:

* ``<queue>-dlq``: SQS moved a message of a trigger queue here after ``max_receive_count`` failed deliveries.
  ``redrive`` sends it, body and attributes unchanged, back to ``<queue>``; its consumer takes the idempotent path
  again (a file already loaded is skipped, a dunning step already sent is not sent twice). Not SQS's own
  StartMessageMoveTask: that answers with a task, not with what moved, and covers only this kind.
* ``<rule>-events-dlq``: a bus rule's target. It holds either the event itself (EventBridge could not deliver it
  to the function) or the function's asynchronous on-failure record, whose ``requestPayload`` is the event (the
  function failed it on every retry). The local runtime writes the event itself. ``redrive`` puts the event back
  on the bus with its source, detail-type, detail, resources and time (PutEvents): the rule delivers it as it did
  the first time. Every rule that matches receives it again, as after any duplicate delivery EventBridge may make
  (every consumer is idempotent; ``simulate --chaos`` delivers each event twice). Invoking the function directly
  would reach only that rule's target, but has no local counterpart: moto runs no function.
* ``<stream trigger>-dlq`` (``outbox-dlq``, ``gl-daybook-dlq``): a stream event source's on-failure record. It
  describes the failed batch (shard, sequence numbers), it does not carry the records, so there is nothing to send
  back. ``show`` prints the description; ``redrive`` refuses and says what to do instead (docs/operations.md).

``show`` reads with a visibility timeout of 0, so the messages stay where they are for everyone else. ``redrive``
holds each message while it moves it, deletes it from the DLQ only after the send succeeded, and makes the ones
it could not move visible again, with the reason.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import boto3
import typer
from botocore.exceptions import BotoCoreError, ClientError
from receivables.topology import TOPOLOGY, BusTrigger, S3Trigger, SqsTrigger, StreamTrigger, Topology
from receivables_infra import ids
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from receivables_local.embedded import DUMMY_CREDENTIALS, REGION
from receivables_local.resources import DLQ_SUFFIX, physical_name
from receivables_local.session import DEFAULT_PREFIX

DlqKind = Literal["queue", "bus", "stream"]

# SQS hands out at most 10 messages per ReceiveMessage.
_RECEIVE_MAX = 10
# With a visibility timeout of 0 the same messages come back; after this many receives with nothing new, a
# ``show`` has seen what there is to see.
_PEEK_ROUNDS_WITHOUT_NEWS = 3
# How long ``redrive`` keeps a message out of everyone else's sight while it moves it (one send, one delete).
REDRIVE_HOLD_SECONDS = 120
BODY_LIMIT = 2000
# CloudFormation names a queue ``<stack>-<logical id>-<random suffix>``; CDK's logical id is the construct path
# followed by 8 hexadecimal digits of its hash.
_CDK_LOGICAL_ID_HASH = "[0-9A-F]{8}"


class DeadLetterError(Exception):
    """What ``receivables dlq`` cannot do, said so that the operator knows what to do instead."""

    exit_code = 1


class UnknownDeadLetterQueueError(DeadLetterError):
    exit_code = 2


class NotRedrivableError(DeadLetterError):
    exit_code = 2


class RedriveError(DeadLetterError):
    """One message could not be put back where it goes; it stays in the DLQ."""


@dataclass(frozen=True, slots=True)
class DeadLetterQueue:
    """One DLQ of the topology: what failed there, and where its messages go back to."""

    name: str  # ``inbound-files-dlq``, ``dunning-review-events-dlq``, ``outbox-dlq``: the local name minus prefix
    kind: DlqKind
    source: str  # the queue, bus rule or stream trigger whose failures it keeps
    functions: tuple[str, ...]  # the functions that failed them
    construct_id: str  # its construct id in receivables_infra.messaging, from which AWS derives its name

    @property
    def source_construct_id(self) -> str:
        return ids.queue(self.source)

    @property
    def way_back(self) -> str:
        match self.kind:
            case "queue":
                return f"SendMessage to queue {self.source}"
            case "bus":
                return f"PutEvents to the bus (rule {self.source})"
        return "none here: replay from the stream (docs/operations.md)"


def dead_letter_queues(topology: Topology = TOPOLOGY) -> list[DeadLetterQueue]:
    """Every DLQ the stack and the local stack create from ``topology``, in the order they are created."""
    consumers: dict[str, list[str]] = {}
    for function in topology.functions:
        for trigger in function.triggers:
            if isinstance(trigger, SqsTrigger | S3Trigger):
                consumers.setdefault(trigger.queue, []).append(function.name)
    dlqs = [
        DeadLetterQueue(
            name=queue.name + DLQ_SUFFIX,
            kind="queue",
            source=queue.name,
            functions=tuple(consumers.get(queue.name, ())),
            construct_id=ids.dead_letter_queue(queue.name),
        )
        for queue in topology.queues
    ]
    dlqs += [
        DeadLetterQueue(
            name=trigger.dead_letter_queue,
            kind="bus",
            source=trigger.rule,
            functions=(function.name,),
            construct_id=ids.queue(trigger.dead_letter_queue),
        )
        for function, trigger in topology.triggers_of_kind(BusTrigger)
    ]
    dlqs += [
        DeadLetterQueue(
            name=trigger.dead_letter_queue,
            kind="stream",
            source=trigger.name,
            functions=(function.name,),
            construct_id=ids.queue(trigger.dead_letter_queue),
        )
        for function, trigger in topology.triggers_of_kind(StreamTrigger)
    ]
    return dlqs


def is_physical_name(name: str, prefix: str, logical: str, construct_id: str) -> bool:
    """Whether ``name`` is the queue (or bus) ``logical`` of the stack under ``prefix``: the local stack's
    ``<prefix>-<logical>`` or the name CloudFormation gave the construct ``construct_id`` of Messaging."""
    if name == physical_name(prefix, logical):
        return True
    # Queues: ``<stack>-<logical id>-<suffix>``; the bus: CDK's unique id, the path's letters and digits and the hash.
    stack = f"({re.escape(prefix)}-|{re.escape(re.sub('[^A-Za-z0-9]', '', prefix))})"
    cdk = rf"{stack}{re.escape(ids.MESSAGING + construct_id)}{_CDK_LOGICAL_ID_HASH}(-[A-Za-z0-9]+)?"
    return re.fullmatch(cdk, name) is not None


@dataclass(frozen=True)
class Locator:
    """The queues under one prefix, found once by listing them."""

    prefix: str
    queue_urls: Sequence[str]

    def queue_url(self, logical: str, construct_id: str) -> str | None:
        return next(
            (u for u in self.queue_urls if is_physical_name(_queue_name(u), self.prefix, logical, construct_id)), None
        )

    def dlq_url(self, dlq: DeadLetterQueue) -> str:
        url = self.queue_url(dlq.name, dlq.construct_id)
        if url is None:
            raise DeadLetterError(
                f"no queue {physical_name(self.prefix, dlq.name)!r} nor a CloudFormation name with "
                f"{ids.MESSAGING + dlq.construct_id!r} under the prefix {self.prefix!r} "
                "(--prefix: the local stack's is receivables-local, a deployed stack's its name, e.g. Receivables)"
            )
        return url

    def source_queue_url(self, dlq: DeadLetterQueue) -> str:
        url = self.queue_url(dlq.source, dlq.source_construct_id)
        if url is None:
            raise DeadLetterError(
                f"the source queue {dlq.source!r} of {dlq.name} is not under the prefix {self.prefix!r}"
            )
        return url


def event_bus_among(names: Sequence[str], prefix: str, event_bus: str) -> str:
    """The stack's event bus (logical name ``event_bus``) among the account's buses."""
    found = next((n for n in names if is_physical_name(n, prefix, event_bus, ids.EVENT_BUS)), None)
    if found is None:
        raise DeadLetterError(f"no event bus {event_bus!r} of the stack under the prefix {prefix!r}")
    return found


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One message in a DLQ, as ReceiveMessage returned it."""

    message_id: str
    receipt_handle: str
    body: str
    sent_at: datetime | None
    receive_count: int
    message_attributes: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_sqs(cls, message: Mapping[str, Any]) -> DeadLetter:
        attributes = message.get("Attributes", {})
        sent = attributes.get("SentTimestamp")
        return cls(
            message_id=message["MessageId"],
            receipt_handle=message["ReceiptHandle"],
            body=message.get("Body", ""),
            sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
            receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
            message_attributes=message.get("MessageAttributes", {}),
        )


def pretty_body(body: str, limit: int = BODY_LIMIT) -> str:
    """JSON indented (as it is, if it is not JSON), cut at ``limit`` characters with a note of what was cut."""
    try:
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        text = body
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit} more characters)"


def resendable_attributes(message_attributes: Mapping[str, Any]) -> dict[str, Any]:
    """ReceiveMessage's message attributes in the shape SendMessage takes (it refuses the empty list fields)."""
    return {
        name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in message_attributes.items()
    }


def event_of(body: str) -> dict[str, Any] | None:
    """The EventBridge event a bus-rule DLQ message carries: the message itself (EventBridge's target DLQ, and the
    local runtime), or the ``requestPayload`` of Lambda's asynchronous on-failure record. None for anything else."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    if isinstance(message.get("requestPayload"), dict) and "requestContext" in message:
        message = message["requestPayload"]
    if isinstance(message.get("source"), str) and isinstance(message.get("detail-type"), str):
        return message
    return None


def put_events_entry(event: Mapping[str, Any], bus_name: str) -> dict[str, Any]:
    """The PutEvents entry that puts ``event`` back on the bus as it was: same source, type, detail, resources and
    time (the fact happened then, not when it was redriven)."""
    entry: dict[str, Any] = {
        "EventBusName": bus_name,
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event.get("detail", {})),
        "Resources": list(event.get("resources", [])),
    }
    if event.get("time"):
        with contextlib.suppress(ValueError):  # an unreadable time: EventBridge stamps the event itself
            entry["Time"] = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    return entry


@dataclass(frozen=True, slots=True)
class DlqStatus:
    dlq: DeadLetterQueue
    url: str | None  # None: not found under the prefix
    visible: int = 0
    in_flight: int = 0


@dataclass
class RedriveReport:
    moved: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (message id, why): still in the DLQ


class DeadLetters:
    """The DLQs of a topology on one stack (local or AWS), through an SQS and an EventBridge client."""

    def __init__(self, sqs: Any, events: Any, prefix: str, topology: Topology = TOPOLOGY) -> None:
        self._sqs = sqs
        self._events = events
        self.prefix = prefix
        self.topology = topology
        self.queues = dead_letter_queues(topology)
        self._locator: Locator | None = None

    @property
    def locator(self) -> Locator:
        if self._locator is None:
            urls = [
                url
                for page in self._sqs.get_paginator("list_queues").paginate(QueueNamePrefix=self.prefix)
                for url in page.get("QueueUrls", [])
            ]
            self._locator = Locator(self.prefix, urls)
        return self._locator

    def _event_bus_names(self) -> list[str]:
        # All of them: CDK's name of the bus drops the dashes of a stack name, so no one prefix finds it. An account
        # has a handful.
        names: list[str] = []
        request: dict[str, Any] = {}
        while True:
            page = self._events.list_event_buses(**request)
            names += [bus["Name"] for bus in page.get("EventBuses", [])]
            if not page.get("NextToken"):
                return names
            request["NextToken"] = page["NextToken"]

    def dead_letter_queue(self, name: str) -> DeadLetterQueue:
        found = next((q for q in self.queues if name in (q.name, physical_name(self.prefix, q.name))), None)
        if found is None:
            known = ", ".join(q.name for q in self.queues)
            raise UnknownDeadLetterQueueError(f"{name!r} is not a dead-letter queue of the topology; one of: {known}")
        return found

    def status(self) -> list[DlqStatus]:
        statuses = []
        for dlq in self.queues:
            url = self.locator.queue_url(dlq.name, dlq.construct_id)
            if url is None:
                statuses.append(DlqStatus(dlq, None))
                continue
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            statuses.append(
                DlqStatus(
                    dlq,
                    url,
                    visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
                    in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                )
            )
        return statuses

    def _receive(self, url: str, count: int, visibility_timeout: int) -> list[DeadLetter]:
        messages = self._sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(count, _RECEIVE_MAX),
            VisibilityTimeout=visibility_timeout,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return [DeadLetter.from_sqs(m) for m in messages]

    def peek(self, dlq: DeadLetterQueue, limit: int) -> list[DeadLetter]:
        """Up to ``limit`` messages, left in the DLQ: received with a visibility timeout of 0 (each look counts as a
        receive in their ApproximateReceiveCount, nothing else changes)."""
        url = self.locator.dlq_url(dlq)
        seen: dict[str, DeadLetter] = {}
        rounds_without_news = 0
        while len(seen) < limit and rounds_without_news < _PEEK_ROUNDS_WITHOUT_NEWS:
            new = [m for m in self._receive(url, limit - len(seen), 0) if m.message_id not in seen]
            rounds_without_news = 0 if new else rounds_without_news + 1
            seen.update((m.message_id, m) for m in new)
        return list(seen.values())[:limit]

    def redrive_question(self, dlq: DeadLetterQueue, limit: int) -> str:
        """What ``redrive`` is about to do, to confirm; refuses a DLQ whose messages cannot go back from here."""
        self._deliverer(dlq)
        return f"Move up to {limit} message(s) from {dlq.name} ({dlq.way_back})?"

    def redrive(self, dlq: DeadLetterQueue, limit: int) -> RedriveReport:
        """Move up to ``limit`` messages back where they go: each one sent, then deleted from the DLQ; the ones that
        could not be sent are visible in the DLQ again when this returns."""
        deliver = self._deliverer(dlq)
        url = self.locator.dlq_url(dlq)
        report = RedriveReport()
        kept: list[DeadLetter] = []  # hidden until the end, so that a failing message is not received twice
        try:
            while report.moved + len(report.failed) < limit:
                batch = self._receive(url, limit - report.moved - len(report.failed), REDRIVE_HOLD_SECONDS)
                if not batch:
                    break
                for letter in batch:
                    try:
                        deliver(letter)
                    except (ClientError, BotoCoreError, RedriveError) as exc:
                        report.failed.append((letter.message_id, str(exc)))
                        kept.append(letter)
                        continue
                    # Only now: the message is where it goes.
                    try:
                        self._sqs.delete_message(QueueUrl=url, ReceiptHandle=letter.receipt_handle)
                    except (ClientError, BotoCoreError) as exc:
                        # Sent but still here: a second redrive sends it again, which its consumer takes as any
                        # redelivery.
                        report.failed.append((letter.message_id, f"sent back, but not deleted from the DLQ: {exc}"))
                        kept.append(letter)
                        continue
                    report.moved += 1
        finally:
            for letter in kept:
                with contextlib.suppress(ClientError, BotoCoreError):  # it reappears after the hold anyway
                    self._sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=letter.receipt_handle, VisibilityTimeout=0
                    )
        return report

    def _deliverer(self, dlq: DeadLetterQueue) -> Callable[[DeadLetter], None]:
        match dlq.kind:
            case "queue":
                source = self.locator.source_queue_url(dlq)
                return lambda letter: self._send_back(source, letter)
            case "bus":
                # Listed only here: looking at the DLQs needs no EventBridge permission.
                bus = event_bus_among(self._event_bus_names(), self.prefix, self.topology.event_bus)
                return lambda letter: self._put_back(bus, letter)
        raise NotRedrivableError(
            f"{dlq.name} holds descriptions of failed batches of the table's stream (shard and sequence numbers, "
            f"see `receivables dlq show {dlq.name}`), not the records: there is nothing to send back. The stream keeps "
            f"the records for 24 hours; replay them to {', '.join(dlq.functions)} as docs/operations.md "
            f"('{ids.pascal(dlq.name)}DlqNotEmpty') describes, then purge the DLQ."
        )

    def _send_back(self, source_url: str, letter: DeadLetter) -> None:
        request: dict[str, Any] = {"QueueUrl": source_url, "MessageBody": letter.body}
        if letter.message_attributes:
            request["MessageAttributes"] = resendable_attributes(letter.message_attributes)
        self._sqs.send_message(**request)

    def _put_back(self, bus_name: str, letter: DeadLetter) -> None:
        event = event_of(letter.body)
        if event is None:
            raise RedriveError("neither an EventBridge event nor a Lambda failure record carrying one")
        response = self._events.put_events(Entries=[put_events_entry(event, bus_name)])
        if response.get("FailedEntryCount"):
            (entry,) = response["Entries"]
            raise RedriveError(f"PutEvents refused it: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")


def aws_session(endpoint_url: str | None, profile: str | None, region: str | None) -> boto3.session.Session:
    if endpoint_url and profile is None:
        # The emulators take any credentials; a developer's real ones are never sent to them.
        return boto3.session.Session(region_name=region or REGION, **DUMMY_CREDENTIALS)
    return boto3.session.Session(profile_name=profile, region_name=region)


def connect(
    endpoint_url: str | None, profile: str | None, region: str | None, prefix: str | None, topology: Topology = TOPOLOGY
) -> DeadLetters:
    """The DLQs of the local stack (an endpoint) or of the deployed stack (none)."""
    session = aws_session(endpoint_url, profile, region)
    return DeadLetters(
        session.client("sqs", endpoint_url=endpoint_url),
        session.client("events", endpoint_url=endpoint_url),
        prefix or (DEFAULT_PREFIX if endpoint_url else ids.STACK),
        topology,
    )


# -- the command line: options shared by the three commands, and what they print ---------------------------------
EndpointUrl = Annotated[
    str | None,
    typer.Option(
        envvar="AWS_ENDPOINT_URL",
        help="The local stack's moto server (as `local up` prints it); without one, AWS itself.",
    ),
]
Profile = Annotated[str | None, typer.Option(help="boto3 profile for AWS.")]
Region = Annotated[str | None, typer.Option(help="Region (default: the profile's; locally eu-central-1).")]
Prefix = Annotated[
    str | None,
    typer.Option(
        help="Physical name prefix of the queues: the stack's name in AWS (default Receivables), "
        "receivables-local locally."
    ),
]
DlqName = Annotated[str, typer.Argument(help="The DLQ, as `receivables dlq list` names it (e.g. inbound-files-dlq).")]
Yes = Annotated[bool, typer.Option("--yes", help="Do not ask before moving the messages.")]


MaxMessages = Annotated[int, typer.Option("--max", min=1, max=10_000, help="At most this many messages.")]


@contextlib.contextmanager
def reported_errors(errors: Console) -> Iterator[None]:
    """A failure of these commands as one line on stderr and an exit code, never a traceback."""
    try:
        yield
    except DeadLetterError as exc:
        errors.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(exc.exit_code) from None
    except (BotoCoreError, ClientError) as exc:
        errors.print(f"[red]error:[/] cannot reach the queues: {escape(str(exc))}")
        raise typer.Exit(1) from None


def print_status(console: Console, desk: DeadLetters, statuses: list[DlqStatus]) -> None:
    table = Table("DLQ", "messages", "in flight", "failed in", "from", "back by")
    for status in statuses:
        dlq = status.dlq
        table.add_row(
            dlq.name,
            str(status.visible) if status.url else "not found",
            str(status.in_flight) if status.url else "",
            ", ".join(dlq.functions),
            f"{dlq.kind} {dlq.source}",
            dlq.way_back,
        )
    console.print(table)
    waiting = sum(s.visible for s in statuses)
    console.print(f"{waiting} message(s) waiting in {sum(1 for s in statuses if s.visible)} DLQ(s) under {desk.prefix}")


def print_letters(console: Console, dlq: DeadLetterQueue, letters: list[DeadLetter], body_limit: int) -> None:
    console.print(
        f"{dlq.name}: {len(letters)} message(s), failed in {', '.join(dlq.functions)} ({dlq.kind} {dlq.source}); "
        "left in the queue",
        markup=False,
    )
    for number, letter in enumerate(letters, 1):
        sent = letter.sent_at.isoformat(timespec="seconds") if letter.sent_at else "unknown"
        console.rule(f"{number}/{len(letters)}")
        console.print(f"id {letter.message_id}  sent {sent}  received {letter.receive_count} time(s)", markup=False)
        for name, value in sorted(letter.message_attributes.items()):
            # EventBridge's target DLQ says why here: ERROR_CODE, ERROR_MESSAGE, RULE_ARN, TARGET_ARN.
            console.print(f"{name}: {value.get('StringValue', value.get('DataType', ''))}", markup=False)
        console.print(pretty_body(letter.body, body_limit), markup=False, highlight=False)


def print_report(console: Console, dlq: DeadLetterQueue, report: RedriveReport) -> None:
    console.print(f"{dlq.name}: {report.moved} moved ({dlq.way_back}), {len(report.failed)} left", markup=False)
    for message_id, why in report.failed:
        console.print(f"  left {message_id}: {why}", markup=False)
