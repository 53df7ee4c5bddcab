"""What AWS does around the functions, done locally: event source mappings, bus targets and schedules.

moto stores and delivers (S3 → SQS notifications, EventBridge rule → SQS targets, SQS redrive to DLQs), but
nothing in it *invokes* a function. This module is that missing part:

* one poller per SqsTrigger/S3Trigger, behaving like a Lambda SQS event source mapping with
  ``ReportBatchItemFailures``: receive up to ``batch_size``, invoke with a real SQS event, delete what
  succeeded. What failed is made visible again at once (AWS waits out the visibility timeout; locally that
  would only be waiting) and SQS's own redrive moves it to the DLQ after ``max_receive_count`` receives.
* BusTrigger functions get every bus event whose source and detail-type match, read from the tap queue (see
  :mod:`receivables_local.resources`), with Lambda's asynchronous-invocation retries (2).
* ScheduleTrigger functions are invoked by :meth:`Runtime.fire_schedules` for a business date: moto never
  fires schedules, and a simulated calendar must not wait for a real one anyway.

Deterministic by construction in ``run_until_idle``: single-threaded, pollers visited in topology order, one
batch each per pass, the tap last.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from receivables.execution import ExecutionEnvironment, running_as
from receivables.topology import BusTrigger, Function, S3Trigger, ScheduleTrigger, SqsTrigger, StreamTrigger, Topology

from receivables_local.aws_events import (
    LambdaContext,
    complete_s3_notification,
    is_s3_test_event,
    request_id,
    sqs_record,
)
from receivables_local.chaos import COPY_ATTRIBUTE, ChaosPlan
from receivables_local.embedded import ACCOUNT_ID
from receivables_local.environment import RUNTIME_LOGGER
from receivables_local.faults import FaultInjector, InjectedCrash
from receivables_local.handlers import HandlerRegistry
from receivables_local.resources import QueueInfo, Resources, physical_name
from receivables_local.schedules import fires_on, schedule_event, time_of_day
from receivables_local.streams import StreamPoller, StreamReader

log = logging.getLogger(RUNTIME_LOGGER)

# Lambda retries a failed asynchronous invocation (EventBridge targets) twice by default.
ASYNC_RETRIES = 2
# SQS returns at most 10 messages per ReceiveMessage; a mapping with a larger batch size receives repeatedly.
_SQS_RECEIVE_MAX = 10
_IDLE_CONFIRMATIONS = 2


class IdleTimeoutError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Invocation:
    function: str
    source: str  # queue logical name, "bus", "schedule", "api"
    records: int
    failed: int  # records reported failed (the whole batch when the handler raised)
    error: str | None
    seconds: float


@dataclass
class Invoker:
    """Invokes handlers with a Lambda context.

    One warm execution environment per function: invocations of a function are serialised (the HTTP server's
    threads share it), as an environment runs one invocation at a time. With ``environments``, each invocation, and
    the handler's import (its cold start), runs as that function with only its own environment."""

    topology: Topology
    registry: HandlerRegistry
    prefix: str
    region: str
    environments: Callable[[Function], ExecutionEnvironment] | None = None
    observers: list[Callable[[Invocation], None]] = field(default_factory=list)
    invocations: list[Invocation] = field(default_factory=list)
    faults: FaultInjector | None = None
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _sequence: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self._locks = {f.name: threading.Lock() for f in self.topology.functions}

    def context(self, function: Function) -> LambdaContext:
        return LambdaContext(
            function_name=physical_name(self.prefix, function.name),
            memory_limit_in_mb=function.memory_mb,
            timeout_seconds=function.timeout_seconds,
            aws_request_id=request_id(function.name, next(self._sequence)),
            region=self.region,
        )

    def invoke(self, function_name: str, event: Any, source: str = "api", attempt: int = 1) -> Any:
        """Call the handler; exceptions propagate to the caller, which decides what AWS would do with them (an
        :class:`InjectedCrash` too: the invocation died)."""
        function = self.topology.function(function_name)
        with contextlib.ExitStack() as invocation:
            invocation.enter_context(self._locks[function_name])
            if self.environments is not None:
                invocation.enter_context(running_as(self.environments(function)))
            handler = self.registry.get(function_name)
            if self.faults is not None:
                invocation.enter_context(self.faults.invocation(function_name, source, attempt))
            return handler(event, self.context(function))

    def record(self, invocation: Invocation) -> None:
        self.invocations.append(invocation)
        for observer in self.observers:
            observer(invocation)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """No invocation runs inside this block (to move the business date under a running HTTP server)."""
        with contextlib.ExitStack() as stack:
            for name in sorted(self._locks):
                stack.enter_context(self._locks[name])
            yield


def _failed_ids(response: Any, message_ids: list[str]) -> set[str]:
    """The records the handler reported failed, per Lambda's partial batch response rules."""
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failures = response["batchItemFailures"]
    identifiers = (
        [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        if isinstance(failures, list)
        else [None]
    )
    if any(i not in message_ids for i in identifiers):
        # Lambda treats a malformed or unknown itemIdentifier as a failure of the whole batch.
        log.warning("invalid batchItemFailures, whole batch fails", extra={"fields": {"response": response}})
        return set(message_ids)
    return set(identifiers)  # type: ignore[arg-type]


@dataclass
class QueuePoller:
    """A Lambda SQS event source mapping with ReportBatchItemFailures."""

    function: Function
    queue: QueueInfo
    batch_size: int
    from_s3: bool
    sqs: Any
    invoker: Invoker
    chaos: ChaosPlan | None = None
    _s3_sequence: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _held: list[dict[str, Any]] = field(default_factory=list)  # received, not handed over yet (chaos: reordering)

    def _receive(self) -> list[dict[str, Any]]:
        if self.chaos is not None:
            return self._receive_shuffled(self.chaos)
        messages: list[dict[str, Any]] = []
        while len(messages) < self.batch_size:
            received = self.sqs.receive_message(
                QueueUrl=self.queue.url,
                MaxNumberOfMessages=min(_SQS_RECEIVE_MAX, self.batch_size - len(messages)),
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(received)
            if len(received) < _SQS_RECEIVE_MAX:
                break
        return messages

    def _receive_shuffled(self, chaos: ChaosPlan) -> list[dict[str, Any]]:
        """Messages in another order than they were sent: what is visible is taken in (and stays in flight, as a
        poller's prefetch would), and a batch is drawn from it at random."""
        received = self.sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=_SQS_RECEIVE_MAX,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        self._held = chaos.shuffle(self._held + received)
        batch, self._held = self._held[: self.batch_size], self._held[self.batch_size :]
        for message in batch:  # every message is delivered twice: the copy at once, or after other work
            if COPY_ATTRIBUTE not in message.get("MessageAttributes", {}):
                copy = self._copy_sender(message)
                if chaos.copy_later():
                    chaos.defer(copy)
                else:
                    copy()
        return batch

    def _copy_sender(self, message: dict[str, Any]) -> Callable[[], None]:
        attributes = {
            **message.get("MessageAttributes", {}),
            COPY_ATTRIBUTE: {"DataType": "String", "StringValue": message["MessageId"]},
        }

        def send() -> None:
            self.sqs.send_message(QueueUrl=self.queue.url, MessageBody=message["Body"], MessageAttributes=attributes)

        return send

    def poll_once(self) -> int:
        """Receive and handle one batch; the number of messages received (0: the queue had none visible)."""
        messages = self._receive()
        if not messages:
            return 0
        if self.from_s3:
            test_events = [m for m in messages if is_s3_test_event(m["Body"])]
            self._delete(test_events)
            messages = [m for m in messages if m not in test_events]
            if not messages:
                return len(test_events)
        records = [
            sqs_record(
                m,
                self.queue.arn,
                self.sqs.meta.region_name,
                body=complete_s3_notification(m["Body"], next(self._s3_sequence)) if self.from_s3 else None,
            )
            for m in messages
        ]
        ids = [m["MessageId"] for m in messages]
        started = time.perf_counter()
        error: str | None = None
        attempt = max(int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")) for m in messages)
        try:
            response = self.invoker.invoke(self.function.name, {"Records": records}, self.queue.logical, attempt)
            failed = _failed_ids(response, ids)
        except (Exception, InjectedCrash) as exc:  # the handler failed or died: the whole batch returns
            log.exception("handler raised, whole batch fails", extra={"fields": self._fields(len(ids))})
            error, failed = f"{type(exc).__name__}: {exc}", set(ids)
        done = [m for m in messages if m["MessageId"] not in failed]
        if self.chaos is not None and attempt == 1 and done and self.chaos.lose_ack():
            failed |= {m["MessageId"] for m in done}  # died after the work, before the delete: SQS redelivers
            done = []
        self._delete(done)
        self._retry_soon([m for m in messages if m["MessageId"] in failed])
        self.invoker.record(
            Invocation(
                self.function.name,
                self.queue.logical,
                len(ids),
                len(failed),
                error,
                time.perf_counter() - started,
            )
        )
        return len(ids)

    def _fields(self, records: int) -> dict[str, Any]:
        return {"function": self.function.name, "queue": self.queue.name, "records": records}

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for batch in itertools.batched(messages, _SQS_RECEIVE_MAX, strict=False):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
            )

    def _retry_soon(self, messages: list[dict[str, Any]]) -> None:
        if messages:
            log.info("records failed, visible again for retry", extra={"fields": self._fields(len(messages))})
        for batch in itertools.batched(messages, _SQS_RECEIVE_MAX, strict=False):
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(batch)
                ],
            )


def _matches(trigger: BusTrigger, event: dict[str, Any]) -> bool:
    # Same semantics as the rule's pattern {"source": [...], "detail-type": [...]}; an empty list filters
    # nothing.
    return (not trigger.sources or event.get("source") in trigger.sources) and (
        not trigger.detail_types or event.get("detail-type") in trigger.detail_types
    )


@dataclass
class BusRouter:
    """Reads the tap: keeps every bus event (for summaries), invokes the matching BusTrigger functions."""

    topology: Topology
    tap: QueueInfo
    sqs: Any
    invoker: Invoker
    events: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    dead_letters: dict[str, QueueInfo] = field(default_factory=dict)
    chaos: ChaosPlan | None = None

    def poll_once(self) -> int:
        messages = self.sqs.receive_message(
            QueueUrl=self.tap.url, MaxNumberOfMessages=_SQS_RECEIVE_MAX, WaitTimeSeconds=0
        ).get("Messages", [])
        for message in messages if self.chaos is None else self.chaos.shuffle(messages):
            event = json.loads(message["Body"])
            event.setdefault("account", ACCOUNT_ID)  # moto's envelope lacks it; EventBridge always sends it
            self.events.append(event)
            for function, trigger in self.topology.triggers_of_kind(BusTrigger):
                if _matches(trigger, event):
                    self._deliver(function, trigger, event)
                    if self.chaos is not None:  # delivered twice: at once, or after other work
                        again = functools.partial(self._deliver, function, trigger, event)
                        self.chaos.defer(again) if self.chaos.copy_later() else again()
        for batch in itertools.batched(messages, _SQS_RECEIVE_MAX, strict=False):
            self.sqs.delete_message_batch(
                QueueUrl=self.tap.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
            )
        return len(messages)

    def _deliver(self, function: Function, trigger: BusTrigger, event: dict[str, Any]) -> None:
        error = _invoke_with_retries(self.invoker, function.name, event, "bus", trigger.retry_attempts)
        if error is not None:
            # EventBridge's target dead-letter queue: the event, with why it failed, for an operator to redrive.
            self.failures.append((function.name, event, error))
            dlq = self.dead_letters.get(trigger.dead_letter_queue)
            if dlq is not None:
                self.sqs.send_message(QueueUrl=dlq.url, MessageBody=json.dumps(event, default=str))


def _invoke_with_retries(
    invoker: Invoker, function_name: str, event: Any, source: str, retries: int = ASYNC_RETRIES
) -> str | None:
    """Asynchronous invocation: the event is retried, then given up. Returns the last error, or None."""
    error: str | None = None
    for attempt in range(1 + retries):
        started = time.perf_counter()
        try:
            invoker.invoke(function_name, event, source, attempt + 1)
            error = None
        except (Exception, InjectedCrash) as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.exception(
                "asynchronous invocation failed",
                extra={"fields": {"function": function_name, "source": source, "attempt": attempt + 1}},
            )
        invoker.record(
            Invocation(function_name, source, 1, int(error is not None), error, time.perf_counter() - started)
        )
        if error is None:
            return None
    return error


class Runtime:
    """All pollers, the bus router and the schedules of a topology on provisioned resources."""

    def __init__(
        self,
        topology: Topology,
        resources: Resources,
        clients: Callable[[str], Any],
        registry: HandlerRegistry | None = None,
        chaos: ChaosPlan | None = None,
        environments: Callable[[Function], ExecutionEnvironment] | None = None,
    ) -> None:
        self.topology = topology
        self.resources = resources
        self.sqs = clients("sqs")
        self.registry = registry or HandlerRegistry()
        self.chaos = chaos
        self.invoker = Invoker(topology, self.registry, resources.prefix, self.sqs.meta.region_name, environments)
        self.pollers = self._pollers()
        self.bus = BusRouter(
            topology, resources.tap, self.sqs, self.invoker, dead_letters=resources.trigger_dlqs, chaos=chaos
        )
        self.streams = self._stream_pollers(clients)
        self.schedule_failures: list[tuple[str, str, str]] = []  # (function, business date, error)

    def _pollers(self) -> list[QueuePoller]:
        pollers = []
        for function in self.topology.functions:
            for trigger in function.triggers:
                if isinstance(trigger, SqsTrigger | S3Trigger):
                    pollers.append(
                        QueuePoller(
                            function=function,
                            queue=self.resources.queues[trigger.queue],
                            batch_size=trigger.batch_size,
                            from_s3=isinstance(trigger, S3Trigger),
                            sqs=self.sqs,
                            invoker=self.invoker,
                            chaos=self.chaos,
                        )
                    )
        return pollers

    def _stream_pollers(self, clients: Callable[[str], Any]) -> list[StreamPoller]:
        if self.resources.stream_arn is None:
            return []
        streams = clients("dynamodbstreams")
        pollers = []
        for function, trigger in self.topology.triggers_of_kind(StreamTrigger):
            dlq = self.resources.trigger_dlqs[trigger.dead_letter_queue]

            def invoke(event: dict[str, Any], attempt: int, name: str = function.name) -> Any:
                started = time.perf_counter()
                error, failed = None, 0
                try:
                    response = self.invoker.invoke(name, event, "stream", attempt)
                    failed = len(_failed_ids(response, [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]))
                    return response
                except (Exception, InjectedCrash) as exc:
                    error, failed = f"{type(exc).__name__}: {exc}", len(event["Records"])
                    raise
                finally:
                    self.invoker.record(
                        Invocation(name, "stream", len(event["Records"]), failed, error, time.perf_counter() - started)
                    )

            pollers.append(
                StreamPoller(
                    function=function,
                    trigger=trigger,
                    reader=StreamReader(streams, self.resources.stream_arn),
                    invoke=invoke,
                    send_to_dlq=lambda body, url=dlq.url: self.sqs.send_message(
                        QueueUrl=url, MessageBody=json.dumps(body)
                    ),
                    region=self.sqs.meta.region_name,
                )
            )
        return pollers

    @property
    def invocations(self) -> list[Invocation]:
        return self.invoker.invocations

    def step(self) -> int:
        """One pass: a batch from each mapping's queue in topology order, then the bus tap."""
        handled = sum(poller.poll_once() for poller in self.pollers)
        handled += sum(poller.poll_once() for poller in self.streams)
        return handled + self.bus.poll_once()

    def _watched_queues(self) -> list[QueueInfo]:
        seen: dict[str, QueueInfo] = {p.queue.url: p.queue for p in self.pollers}
        seen[self.resources.tap.url] = self.resources.tap
        return list(seen.values())

    def _outstanding(self) -> int:
        total = 0
        for queue in self._watched_queues():
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=queue.url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            total += sum(int(value) for value in attributes.values())
        return total

    def settle(self) -> None:
        """Run until idle, then deliver what chaos held back for "a minute later" and run again, until nothing is."""
        self.run_until_idle()
        while self.chaos is not None and self.chaos.later:
            self.run_until_idle()

    def run_until_idle(self, timeout_seconds: float = 600.0) -> None:
        """Process until every watched queue is empty with nothing in flight, confirmed twice in a row. Under chaos,
        the copies held back since the last call are delivered first: they arrive after the work that came since."""
        if self.chaos is not None:
            self.chaos.release_later()
        deadline = time.monotonic() + timeout_seconds
        confirmations = 0
        pause = 0.0
        while confirmations < _IDLE_CONFIRMATIONS:
            if time.monotonic() > deadline:
                raise IdleTimeoutError(f"queues still busy after {timeout_seconds:.0f} s")
            if self.step():
                confirmations, pause = 0, 0.0
            elif self._outstanding() == 0:
                confirmations += 1
            else:
                # Messages exist but none is visible yet (delayed, or in flight with another consumer such as
                # a developer's CLI): back off a little instead of spinning.
                confirmations = 0
                pause = min(max(pause * 2, 0.01), 0.25)
                time.sleep(pause)

    def schedules_of(self, business_date: date) -> list[tuple[Function, ScheduleTrigger]]:
        """The schedules that fire on ``business_date``, in the order of their time of day."""
        schedules = sorted(self.topology.triggers_of_kind(ScheduleTrigger), key=lambda ft: time_of_day(ft[1].cron))
        # e.g. the agency statements fire on the 1st of the month only
        return [(function, trigger) for function, trigger in schedules if fires_on(trigger.cron, business_date)]

    def fire_schedules(self, business_date: date) -> None:
        """Invoke every ScheduleTrigger function for ``business_date`` (EventBridge Scheduler's job in
        AWS)."""
        # In the order of their time of day, each schedule's work done before the next fires (the 09:05 SMS sender
        # finds what the 09:00 run deferred), as on the day itself.
        for function, trigger in self.schedules_of(business_date):
            self.fire_schedule(function, trigger, business_date)
            self.run_until_idle()

    def fire_schedule(self, function: Function, trigger: ScheduleTrigger, business_date: date) -> None:
        event = schedule_event(trigger, business_date, self.resources.prefix)
        log.info("firing schedule", extra={"fields": {"schedule": trigger.name, "date": str(business_date)}})
        # Scheduler invokes asynchronously; a failure is retried, then reported here instead of a DLQ.
        error = _invoke_with_retries(self.invoker, function.name, event, "schedule")
        if error is not None:
            self.schedule_failures.append((function.name, business_date.isoformat(), error))

    def dead_letters(self) -> dict[str, int]:
        """Messages sitting in each queue's DLQ (by logical queue name): work that failed for good."""
        counts = {}
        for logical, queue in self.resources.queues.items():
            if queue.dlq_url:
                attributes = self.sqs.get_queue_attributes(
                    QueueUrl=queue.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
                counts[logical] = int(attributes["ApproximateNumberOfMessages"])
        for logical, queue in self.resources.trigger_dlqs.items():
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            counts[logical] = int(attributes["ApproximateNumberOfMessages"])
        return counts
