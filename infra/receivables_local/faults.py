"""Faults injected into the handlers' AWS calls, at the botocore level: a process that dies before or after a call,
a throttled request, a transaction that meets a conflicting one. What the functions must survive in AWS, made to
happen on purpose and reproducibly, here.

The injector hooks the botocore session the handlers' clients are made from (the runtime's own clients come from
another session and are never touched). Each call is placed by the function running it, that function's invocation
number and the call's ordinal within the invocation; a :class:`FaultPolicy` decides from that alone, so with the
local runtime's single-threaded replay the same policy and seed fault the same calls every time.

- ``crash``: :class:`InjectedCrash`, a ``BaseException`` no handler code catches — the invocation dies as a process
  would, and the runtime treats the whole batch as failed (SQS redelivers it, EventBridge and Scheduler retry).
  Before a write it never happens; after a write (``phase="after"``) the write is committed and the rest is not.
- ``throttle``: the service answers ``ProvisionedThroughputExceededException`` / ``ThrottlingException`` with HTTP
  400, before the request is sent; botocore's retry mode then retries as it would in AWS.
- ``conflict``: a ``TransactWriteItems`` cancelled for a ``TransactionConflict``, not executed.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from botocore.awsrequest import AWSResponse

WRITE_OPERATIONS = frozenset(
    {
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "TransactWriteItems",
        "BatchWriteItem",
        "PutObject",
        "CopyObject",
        "DeleteObject",
        "SendMessage",
        "SendMessageBatch",
        "PutEvents",
        "SendEmail",
        "SendRawEmail",
        "Publish",
    }
)

# Services whose errors are JSON bodies (the injected throttling answer is one).
JSON_SERVICES = frozenset({"dynamodb", "eventbridge", "sqs"})

Fault = Literal["crash", "throttle", "conflict"]
Phase = Literal["before", "after"]


class InjectedCrash(BaseException):  # a death, not an error: no handler code may catch it
    """The function's process died here (injected)."""


@dataclass(frozen=True, slots=True)
class CallSite:
    function: str
    source: str  # what invoked it: a queue's logical name, "bus", "schedule", "stream", "api"
    attempt: int  # 1 on a first delivery; a redelivered message or a retried event counts up
    invocation: int  # the function's n-th invocation in this runtime
    ordinal: int  # the call's place within the invocation (retries of a throttled call count too)
    service: str
    operation: str
    phase: Phase  # before the request is sent, or after the service answered it successfully


class FaultPolicy(Protocol):
    def fault(self, site: CallSite) -> Fault | None: ...


@dataclass
class _Invocation:
    function: str
    source: str
    attempt: int
    number: int
    calls: int = 0
    crashed: bool = False


@dataclass
class FaultInjector:
    policy: FaultPolicy
    injected: list[tuple[CallSite, Fault]] = field(default_factory=list)
    _counts: dict[str, int] = field(default_factory=dict)
    # The invocation running now. Not a context variable: a handler's own worker threads (bank-file lanes) must see
    # it too. One at a time, which is how `simulate` runs (the HTTP server of `local up` never injects faults).
    _running: _Invocation | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, events: Any) -> None:
        """Register on a botocore event emitter (``boto3.DEFAULT_SESSION.events``) before clients are made."""
        events.register("before-send", self._before_send, unique_id="receivables-faults-before")
        events.register("after-call", self._after_call, unique_id="receivables-faults-after")

    def uninstall(self, events: Any) -> None:
        events.unregister("before-send", unique_id="receivables-faults-before")
        events.unregister("after-call", unique_id="receivables-faults-after")

    @contextlib.contextmanager
    def invocation(self, function: str, source: str, attempt: int = 1) -> Iterator[None]:
        self._counts[function] = self._counts.get(function, 0) + 1
        outer, self._running = self._running, _Invocation(function, source, attempt, self._counts[function])
        try:
            yield
        finally:
            self._running = outer

    def _site(self, event_name: str, phase: Phase) -> tuple[_Invocation, CallSite] | None:
        current = self._running
        if current is None or current.crashed:
            return None
        _, service, operation = [*event_name.split("."), "", ""][:3]
        with self._lock:
            current.calls += 1
        return current, CallSite(
            current.function, current.source, current.attempt, current.number, current.calls, service, operation, phase
        )

    def _before_send(self, request: Any, event_name: str = "", **_kwargs: Any) -> AWSResponse | None:
        placed = self._site(event_name, "before")
        if placed is None:
            return None
        current, site = placed
        fault = self.policy.fault(site)
        if fault is None:
            return None
        if fault == "crash" and site.operation in WRITE_OPERATIONS:
            return self._crash(current, site)
        if fault == "throttle" and site.service in JSON_SERVICES:
            code = "ProvisionedThroughputExceededException" if site.service == "dynamodb" else "ThrottlingException"
            self.injected.append((site, fault))
            return _error_response(request.url, code, "Rate of requests exceeds the allowed throughput (injected).")
        if fault == "conflict" and site.operation == "TransactWriteItems":
            self.injected.append((site, fault))
            return _error_response(
                request.url,
                "TransactionCanceledException",
                "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]",
                CancellationReasons=[{"Code": "TransactionConflict", "Message": "injected"}],
            )
        return None

    def _after_call(self, http_response: Any = None, event_name: str = "", **_kwargs: Any) -> None:
        if http_response is None or http_response.status_code >= 300:
            return
        placed = self._site(event_name, "after")
        if placed is None:
            return
        current, site = placed
        if site.operation in WRITE_OPERATIONS and self.policy.fault(site) == "crash":
            self._crash(current, site)

    def _crash(self, current: _Invocation, site: CallSite) -> AWSResponse:
        current.crashed = True
        self.injected.append((site, "crash"))
        raise InjectedCrash(f"{site.function} #{site.invocation} died {site.phase} {site.service}.{site.operation}")


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs: Any) -> Iterator[bytes]:
        yield self._body


def _error_response(url: str, code: str, message: str, **extra: Any) -> AWSResponse:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **extra}).encode()
    headers = {"x-amzn-RequestId": "injected", "Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(url, 400, headers, _Raw(body))


@dataclass
class CrashAfter:
    """A policy that kills one function once: after its ``count``-th successful ``operation``."""

    function: str
    operation: str
    count: int
    _seen: int = 0
    done: bool = False

    def fault(self, site: CallSite) -> Fault | None:
        if self.done or site.function != self.function or site.operation != self.operation or site.phase != "after":
            return None
        self._seen += 1
        if self._seen == self.count:
            self.done = True
            return "crash"
        return None


@contextlib.contextmanager
def retry_waits_skipped() -> Iterator[None]:
    """botocore's retries without their back-off sleeps: a throttled call is retried exactly as in AWS (same
    attempts, same quota), only at once. A replay is single-threaded and its clock is the business date, so the wait
    changes no outcome; it cost a 90-day chaos replay minutes of sleeping (≈ 0.5 s per injected throttle)."""
    from botocore.retries.standard import ExponentialBackoff

    original = ExponentialBackoff.delay_amount
    ExponentialBackoff.delay_amount = lambda self, context: 0  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        ExponentialBackoff.delay_amount = original  # type: ignore[method-assign]
