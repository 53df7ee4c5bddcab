"""Policy events in: a JSON Lines file under ``policy-events/`` or one message on the ``policy-events`` queue, both
through :class:`PolicyEventIntake` and on to the same service.

An event whose policy is not known yet goes back on the queue with its attempt count and where it came from, to be
tried again after a delay (``retry_delays``); after the last attempt it is rejected with that reason. A file's
rejections are its report (``rejected/<key>.<token>.errors.csv``, the loader's format); a rejection that comes later
(after retries) or from the queue is a report of its own, named by the event id. Every rejection names the event id
and the reason, and announces itself on the bus (``PolicyEventRejected``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from receivables.domain.billing import AccountRef
from receivables.domain.clock import Clock
from receivables.insurance.events import EventRejectedError, raw_event
from receivables.insurance.service import EventOutcome, EventSource, PolicyEventService
from receivables.loading.ports import CreditApplier, EventPublisher, FileStore, ObjectNotFoundError
from receivables.loading.reports import REJECTED_PREFIX, REPORT_HEADER, csv_lines

PREFIX = "policy-events/"
QUEUE_ORIGIN = "sqs:policy-events"
EVENT_SOURCE = "receivables.insurance"
MAX_LINE_BYTES = 1_000_000  # an event is a few KB; a longer line is rejected, not parsed


@dataclass(frozen=True, slots=True)
class Retry:
    """An event sent back to wait for its policy: the event's JSON, which attempt comes next, and its origin."""

    body: str
    attempt: int
    origin: str
    line: int | None
    delay_seconds: int


class RetryQueue(Protocol):
    def send_retry(self, retry: Retry) -> None: ...


class AccountFollowUp(Protocol):
    """What an applied event's new items need from the rest of the system: an earliest next-action date for dunning,
    and the account's unapplied credit applied to them."""

    def items_posted(self, account_id: str, first_overdue_day: date) -> None: ...


@dataclass(slots=True)
class FileSummary:
    key: str
    events: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    report: str | None = None


class PolicyEventIntake:
    def __init__(
        self,
        *,
        service: PolicyEventService,
        files: FileStore,
        retries: RetryQueue,
        events: EventPublisher,
        follow_up: AccountFollowUp,
        clock: Clock,
        retry_delays: Sequence[int] = (60, 300, 900, 900, 900),
    ) -> None:
        self._service = service
        self._files = files
        self._retries = retries
        self._events = events
        self._follow_up = follow_up
        self._clock = clock
        self._delays = tuple(retry_delays)

    @property
    def max_attempts(self) -> int:
        return len(self._delays) + 1

    # -- a file ------------------------------------------------------------------------------------------------------
    def load_file(self, bucket: str, key: str) -> FileSummary | None:
        if not key.startswith(PREFIX) or key.endswith("/"):
            return None
        try:
            obj = self._files.describe(bucket, key)
            blocks = self._files.read(obj)
            lines = list(_lines(blocks))
        except ObjectNotFoundError:
            return None
        summary = FileSummary(key)
        rejections: list[tuple[int | None, str]] = []
        for number, line in lines:
            if not line.strip():
                continue
            summary.events += 1
            outcome = self._one(line, EventSource(key, number), attempt=1)
            summary.outcomes[outcome.status] = summary.outcomes.get(outcome.status, 0) + 1
            if outcome.status == "rejected":
                rejections.append((number, outcome.reason))
        if rejections:
            token = obj.etag.strip('"')[:12] or hashlib.sha256(key.encode()).hexdigest()[:12]
            summary.report = f"{REJECTED_PREFIX}{key}.{token}.errors.csv"
            self._files.write_text(
                bucket,
                summary.report,
                csv_lines([REPORT_HEADER, *((key, "" if n is None else n, reason) for n, reason in rejections)]),
            )
            for at, reason in rejections:
                self._events.publish("PolicyEventRejected", {"file": key, "line": at, "reason": reason})
        self._events.publish(
            "PolicyEventsLoaded", {"file": key, "events": summary.events, **summary.outcomes, "report": summary.report}
        )
        return summary

    # -- a message ---------------------------------------------------------------------------------------------------
    def receive(
        self, bucket: str, body: str, *, attempt: int = 1, origin: str | None = None, line: int | None = None
    ) -> EventOutcome:
        """One event from the queue: sent by a policy system (``attempt`` 1) or by us to retry a waiting one."""
        source = EventSource(origin or QUEUE_ORIGIN, line)
        outcome = self._one(body, source, attempt=attempt)
        if outcome.status == "rejected":
            self._report_alone(bucket, source, outcome)
        return outcome

    def _one(self, text: str, source: EventSource, *, attempt: int) -> EventOutcome:
        try:
            if len(text) > MAX_LINE_BYTES:
                raise EventRejectedError(f"longer than {MAX_LINE_BYTES} bytes: not an event")
            raw = raw_event(text)
        except EventRejectedError as rejection:
            return EventOutcome("rejected", None, rejection.reason)
        outcome = self._service.handle(raw, source, attempt=attempt, max_attempts=self.max_attempts)
        if outcome.status == "waiting":
            delay = self._delays[min(attempt, len(self._delays)) - 1]
            self._retries.send_retry(Retry(text, attempt + 1, source.origin, source.line, delay))
        elif outcome.status == "applied":
            for account_id, first_overdue in outcome.follow_ups.items():
                self._follow_up.items_posted(account_id, max(first_overdue, self._clock.today()))
        return outcome

    def _report_alone(self, bucket: str, source: EventSource, outcome: EventOutcome) -> None:
        """A rejection outside a file's own pass: a report of its own, beside the file's when it came from one."""
        name = outcome.event_id or hashlib.sha256(outcome.reason.encode()).hexdigest()[:12]
        where = source.origin if source.origin != QUEUE_ORIGIN else "policy-events-queue"
        key = f"{REJECTED_PREFIX}{where}.{_safe(name)}.errors.csv"
        self._files.write_text(
            bucket,
            key,
            csv_lines([REPORT_HEADER, (source.origin, "" if source.line is None else source.line, outcome.reason)]),
        )
        self._events.publish(
            "PolicyEventRejected", {"file": source.origin, "line": source.line, "reason": outcome.reason}
        )


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:100]


def _lines(blocks: Iterator[bytes]) -> Iterator[tuple[int, str]]:
    """A JSON Lines file's lines (1-based numbers), decoded as UTF-8 (a BOM is dropped)."""
    buffer = b""
    number = 0
    for block in blocks:
        buffer += block
        *complete, buffer = buffer.split(b"\n")
        for raw in complete:
            number += 1
            yield number, _decode(raw, number)
    if buffer:
        yield number + 1, _decode(buffer, number + 1)


def _decode(raw: bytes, number: int) -> str:
    if number == 1:
        raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return "\x00not utf-8"  # parsed as JSON it fails, with the position


def retry_attributes(retry: Retry) -> Mapping[str, Any]:
    attributes: dict[str, Any] = {
        "attempt": {"DataType": "Number", "StringValue": str(retry.attempt)},
        "origin": {"DataType": "String", "StringValue": retry.origin},
    }
    if retry.line is not None:
        attributes["line"] = {"DataType": "Number", "StringValue": str(retry.line)}
    return attributes


class _NextActions(Protocol):
    def advance_next_action(self, earliest: Mapping[str, date]) -> None: ...

    def accounts(self, account_ids: Iterable[str]) -> Mapping[str, AccountRef]: ...


class LedgerFollowUp:
    """New installments on an account: dunning looks at it from their first overdue day, and credit it already
    holds (money paid before the policy was issued) pays them at once."""

    def __init__(self, *, ledger: _NextActions, credit: CreditApplier) -> None:
        self._ledger = ledger
        self._credit = credit

    def items_posted(self, account_id: str, first_overdue_day: date) -> None:
        self._ledger.advance_next_action({account_id: first_overdue_day})
        account = self._ledger.accounts([account_id]).get(account_id)
        if account is not None and account.unapplied_credit > 0:
            self._credit.apply_credit(account_id)
