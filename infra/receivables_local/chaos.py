"""``simulate --chaos SEED``: the same replay with the faults AWS can deliver, injected deterministically from the
seed, to prove that they change nothing — the chaos STATE.json must equal the clean one, and the journal must prove
every balance.

What is injected (``ChaosPlan``):

- every S3 notification, SQS message and bus event is delivered twice: the copy at once or "a minute later", i.e.
  after the next piece of the day's work (the next file, API call or schedule);
- messages are taken from a queue in shuffled order, and a poll's bus events are handed over shuffled;
- handlers die (:class:`~receivables_local.faults.InjectedCrash`) before or after any write — before the first,
  between two, after the write that carries the events — and, after a handler succeeded, the message is not deleted
  (the process died before the acknowledgment): SQS redelivers it, the async retries run again;
- DynamoDB (and SQS, EventBridge) throttle requests, and transactions meet injected ``TransactionConflict``\\ s.

A message is crashed on its first delivery only, so every message is processed in the end (a message that crashes
every time is a poison message for the DLQ, which is a different test). API calls are never crashed: a client that
sees a 5xx decides itself whether to repeat a call.

Every decision is a pure function of the seed and where it is taken (the function, its invocation number, the
call's ordinal), and the replay runs single-threaded, so a seed replays the same faults.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from receivables_local.faults import WRITE_OPERATIONS, CallSite, Fault

COPY_ATTRIBUTE = "chaos-copy"


def _draw(*parts: object) -> float:
    """A number in [0, 1) that depends only on ``parts``: the same place in the same replay, the same decision."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


@dataclass
class ChaosPlan:
    seed: int
    crash_rate: float = 0.04  # per write a handler makes on a first delivery, before or after it
    throttle_rate: float = 0.03  # per request to DynamoDB, SQS or EventBridge
    conflict_rate: float = 0.05  # per TransactWriteItems
    later_rate: float = 0.5  # of the copies, delivered after other work rather than at once
    lost_ack_rate: float = 0.1  # successful first deliveries whose deletion is lost
    later: list[Callable[[], None]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    # -- faults in the handlers' calls (faults.FaultPolicy) --------------------------------------------------------
    def fault(self, site: CallSite) -> Fault | None:
        where = (self.seed, site.function, site.invocation, site.ordinal, site.phase)
        if (
            site.phase == "before"
            and site.operation == "TransactWriteItems"
            and _draw(*where, "c") < self.conflict_rate
        ):
            self._count("conflict")
            return "conflict"
        throttled = site.service in ("dynamodb", "sqs", "eventbridge") and _draw(*where, "t") < self.throttle_rate
        if site.phase == "before" and throttled:
            self._count("throttle")
            return "throttle"
        crashable = site.source != "api" and site.attempt == 1 and site.operation in WRITE_OPERATIONS
        if crashable and _draw(*where, "x") < self.crash_rate:
            self._count(f"crash {site.phase} a write")
            return "crash"
        return None

    # -- faults in delivery (the runtime asks) ---------------------------------------------------------------------
    def shuffle(self, items: list[Any]) -> list[Any]:
        shuffled = list(items)
        self._rng.shuffle(shuffled)
        if shuffled != items:
            self._count("reordered")
        return shuffled

    def copy_later(self) -> bool:
        """Whether a message's second delivery comes after other work (True) or at once."""
        self._count("delivered twice")
        return self._rng.random() < self.later_rate

    def lose_ack(self) -> bool:
        lost = self._rng.random() < self.lost_ack_rate
        if lost:
            self._count("acknowledgment lost")
        return lost

    def defer(self, delivery: Callable[[], None]) -> None:
        self.later.append(delivery)

    def release_later(self) -> int:
        """Deliver what was held back for "a minute later"; how many."""
        waiting, self.later = self.later, []
        for delivery in waiting:
            delivery()
        return len(waiting)
