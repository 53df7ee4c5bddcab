"""Use cases: the daily card and bank-scheme collection run writes each bank's request file, and the bank's response
file turns approvals into payments and declines into recorded attempts (docs/card-collections.md).

Exactly once, as the direct-debit and payout runs: a file is recorded before any item is claimed for it; each item
is claimed under a condition (open amount unchanged, no attempt pending); the file is written from what was claimed,
then marked written. A run that stops half-way leaves its file open and the next run on that date finishes it.
An approval's payment is named by the bank and the reference, so an answer read twice pays once.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from receivables.banking.collection_files import (
    CollectionAnswer,
    CollectionFileError,
    CollectionProfile,
    read_response,
    write_request,
)
from receivables.card_collection.model import CardCandidate, RequestFile, next_try, plan_requests
from receivables.domain.clock import Clock
from receivables.domain.journal import Cause
from receivables.loading.ports import EventPublisher, FileStore

EVENT_SOURCE = "receivables.collections"


class CardStore(Protocol):
    def candidates(self, day: date) -> list[CardCandidate]:
        """Items falling due (or due for a retry) on ``day`` of customers with an auto-pay instruction."""
        ...

    def files_of(self, day: date) -> list[RequestFile]:
        """Every request file recorded for the run of ``day`` (written or not)."""
        ...

    def record_file(self, file: RequestFile) -> RequestFile: ...

    def claim(self, file: RequestFile) -> RequestFile:
        """Each request's item marked as asked for by this attempt, where it still can be; the file with just those."""
        ...

    def mark_written(self, file: RequestFile, key: str) -> None: ...

    def request(self, reference: str) -> dict[str, Any] | None: ...

    def answered(
        self, answer: CollectionAnswer, request: Mapping[str, Any], retry_on: date | None, source: str
    ) -> bool:
        """Record the bank's answer on the attempt and its item (a retry re-indexed for ``retry_on``); False when
        the attempt was answered already."""
        ...


class CardPayments(Protocol):
    def collected(self, request: Mapping[str, Any], answer: CollectionAnswer, bank_id: str, cause: Cause) -> str:
        """The approved attempt's money as a payment of exactly its item; its payment id (the same when done twice)."""
        ...


class ProfileSource(Protocol):
    def all(self) -> dict[str, CollectionProfile]: ...

    def profiles_for(self, bank_id: str) -> dict[str, CollectionProfile]: ...


@dataclass
class CardRun:
    run_date: date
    files: list[dict[str, object]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ResponseResult:
    file: str
    bank_id: str
    outcomes: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)


class CardCollections:
    def __init__(
        self,
        *,
        store: CardStore,
        payments: CardPayments,
        profiles: ProfileSource,
        files: FileStore,
        outbound_bucket: str,
        events: EventPublisher,
        clock: Clock,
    ) -> None:
        self._store = store
        self._payments = payments
        self._profiles = profiles
        self._files = files
        self._outbound = outbound_bucket
        self._events = events
        self._clock = clock

    # -- the daily run -------------------------------------------------------------------------------------------------
    def run(self, day: date) -> CardRun:
        run = CardRun(day)
        profiles = self._profiles.all()
        recorded = self._store.files_of(day)
        for file in recorded:
            if file.file_key is None and file.bank_id in profiles:  # a run that stopped before its file: finish it
                self._send(file, profiles[file.bank_id], run)
        plan = plan_requests(day, self._store.candidates(day), profiles)
        last = {f.bank_id: f.sequence for f in sorted(recorded, key=lambda f: f.sequence)}
        for file in plan.files:
            file.sequence += last.get(file.bank_id, 0)  # a later run of the day adds files, never reuses a number
            self._send(self._store.record_file(file), profiles[file.bank_id], run)
        run.skipped = [{"item_id": s.item_id, "reason": s.reason} for s in plan.skipped]
        return run

    def _send(self, file: RequestFile, profile: CollectionProfile, run: CardRun) -> None:
        claimed = self._store.claim(file)
        key = profile.key(file.run_date, file.sequence)
        if claimed.requests:
            body = write_request(profile, claimed.requests, file_date=file.run_date, sequence=file.sequence)
            self._files.write_bytes(self._outbound, key, body)
            summary: dict[str, object] = {
                "bank_id": file.bank_id,
                "file": key,
                "requests": len(claimed.requests),
                "total": str(sum(r.amount for r in claimed.requests)),
            }
            run.files.append(summary)
            self._events.publish("CollectionFileCreated", dict(summary))
        self._store.mark_written(claimed, key)

    # -- the bank's answer ---------------------------------------------------------------------------------------
    def handles(self, bank_id: str, key: str) -> bool:
        """A file under ``banks/<bank_id>/`` is a collection response when the bank has a collection profile and the
        file's name matches its response pattern."""
        profiles = self._profiles.profiles_for(bank_id)
        profile = profiles.get(bank_id)
        return profile is not None and profile.response.matches(posixpath.basename(key))

    def apply_response(self, bank_id: str, key: str, data: bytes) -> ResponseResult:
        profile = self._profiles.profiles_for(bank_id)[bank_id]
        result = ResponseResult(file=key, bank_id=bank_id)
        try:
            answers, result.problems = read_response(profile, data)
        except CollectionFileError as error:
            result.problems = [(0, str(error))]
            return result
        today = self._clock.today()
        for answer in answers:
            outcome = self._answer(profile, answer, key, today, result)
            result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
        return result

    def _answer(
        self, profile: CollectionProfile, answer: CollectionAnswer, key: str, today: date, result: ResponseResult
    ) -> str:
        request = self._store.request(answer.reference)
        if request is None or request["bank_id"] != profile.bank_id:
            result.problems.append(
                (answer.line, f"reference {answer.reference} is not a collection we asked of this bank")
            )
            return "unknown"
        cause = Cause(kind="bank_entry", source=key, position=f"line {answer.line}")
        if answer.approved:
            if answer.amount is not None and answer.amount != request["amount"]:
                result.problems.append(
                    (answer.line, f"approved {answer.amount} but {request['amount']} was asked: left for a person")
                )
                return "amount_differs"
            # The payment first (idempotent by bank and reference), then the answer: a crash between the two finds
            # the payment made and records the answer.
            payment_id = self._payments.collected(request, answer, profile.bank_id, cause)
            changed = self._store.answered(answer, request, None, key)
            if changed:
                self._events.publish(
                    "CollectionApproved",
                    {
                        "item_id": request["item_id"],
                        "account_id": request["account_id"],
                        "payment_id": payment_id,
                        "attempt": request["attempt"],
                        "bank_id": profile.bank_id,
                    },
                )
            return "approved" if changed else "duplicate"
        retry_on = next_try(profile, int(request["attempt"]), today)
        changed = self._store.answered(answer, request, retry_on, key)
        if changed:
            self._events.publish(
                "CollectionDeclined",
                {
                    "item_id": request["item_id"],
                    "account_id": request["account_id"],
                    "attempt": request["attempt"],
                    "bank_id": profile.bank_id,
                    "reason": answer.reason,
                    "retry_on": retry_on.isoformat() if retry_on else None,
                },
            )
        return ("declined" if retry_on else "declined_final") if changed else "duplicate"
