"""``simulate``: replay a scenario of dated file drops, day by day, on a fresh embedded stack.

A scenario is a directory of date folders ``YYYY-MM-DD/<key>``: each file's path under its date folder is its
S3 key in the inbound bucket (``customers/a.csv``, ``invoices/b.jsonl``, ``banks/<bank_id>/c.txt``), except
``api/*.jsonl``: lines ``{"method", "path", "body", "as"}`` sent to the local REST API after the day's files; ``as``
(optional) is the caller: ``"<name>"`` an IAM identity (a system; default ``local``), ``"<name>@<group>"`` a person
signed in to that Cognito group (moto's user pool issues the token; the route's groups decide, as deployed).

Every day from the first folder's date to ``until`` (days without a folder included, since schedules still
run): set the business date (a cold start follows), upload the day's files in order of their key, running
until idle after each one, then fire the day's schedules and run until idle again. One thread, fixed order:
the same scenario yields the same STATE.json, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from receivables.adapters.verification import LedgerVerifier
from receivables.topology import EVERYONE

from receivables_local.chaos import ChaosPlan
from receivables_local.embedded import EmbeddedStack
from receivables_local.handlers import HandlerRegistry
from receivables_local.http_api import ApiGateway, Request
from receivables_local.people import LocalUserPool
from receivables_local.session import LocalSession
from receivables_local.state import export_journal, export_outbound, read_state, write_state

SIMULATION_PREFIX = "sim"


class ScenarioError(ValueError):
    pass


API_CALLS = "api/"


def is_api_calls(key: str) -> bool:
    """``YYYY-MM-DD/api/*.jsonl``: calls to the REST API, not a file to drop."""
    return key.startswith(API_CALLS) and key.endswith(".jsonl")


@dataclass(frozen=True, slots=True)
class ApiCall:
    method: str
    path: str
    body: Any = None
    caller: str | None = None  # the line's "as"

    def request(self) -> Request:
        body = b"" if self.body is None else json.dumps(self.body).encode("utf-8")
        return Request(self.method, self.path, [("content-type", "application/json")], body, caller=self.caller)

    def describe(self) -> dict[str, Any]:
        described = {"method": self.method, "path": self.path}
        return described | ({"as": self.caller} if self.caller else {})


def read_api_calls(path: Path) -> list[ApiCall]:
    """Each line ``{"method", "path", "body", "as"}``; blank lines are skipped, anything else is a ScenarioError."""
    calls = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
            caller = value.get("as")
            call = ApiCall(str(value["method"]).upper(), str(value["path"]), value.get("body"), caller)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ScenarioError(f"{path}:{number}: not an API call {{method, path, body, as}}: {exc}") from None
        if caller is not None and (not isinstance(caller, str) or not caller.strip() or "/" in caller):
            raise ScenarioError(f'{path}:{number}: "as" must name an identity, got {caller!r}')
        if isinstance(caller, str) and "@" in caller:
            name, _, group = caller.rpartition("@")
            if not name or group not in EVERYONE:
                raise ScenarioError(
                    f'{path}:{number}: "as" {caller!r} names a person as "<name>@<group>", the group one of '
                    f"{', '.join(EVERYONE)}"
                )
        if not call.path.startswith("/"):
            raise ScenarioError(f"{path}:{number}: path {call.path!r} must start with '/'")
        calls.append(call)
    return calls


@dataclass(frozen=True, slots=True)
class Drop:
    key: str
    path: Path


# Within a day, what others refer to first: configuration (bank profiles, levies), customers, parties, invoices, policy
# events, then everything else (bank files), each in name order. Plain name order would put banks/ before customers/
# and invoices/, so a payment would arrive before the invoice (or the policy installment) it pays.
UPLOAD_ORDER = ("config/", "customers/", "parties/", "accounts/", "invoices/", "subscriptions/", "policy-events/")


def _upload_order(drop: Drop) -> tuple[int, str]:
    rank = next((n for n, prefix in enumerate(UPLOAD_ORDER) if drop.key.startswith(prefix)), len(UPLOAD_ORDER))
    return rank, drop.key


def read_scenario(directory: Path) -> dict[date, list[Drop]]:
    if not directory.is_dir():
        raise ScenarioError(f"{directory} is not a directory")
    days: dict[date, list[Drop]] = {}
    for folder in sorted(directory.iterdir()):
        # A scenario may carry other things beside its date folders (a README, the expected STATE.json): only
        # YYYY-MM-DD folders are days.
        if folder.name.startswith(".") or not folder.is_dir() or len(folder.name) != 10:
            continue
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
        drops = [Drop(p.relative_to(folder).as_posix(), p) for p in files]
        days[day] = sorted(drops, key=_upload_order)
    if not days:
        raise ScenarioError(f"{directory} has no date folders (YYYY-MM-DD)")
    return days


@dataclass
class SimulationResult:
    state: dict[str, Any]
    days: int
    files: int
    invocations: int
    failures: list[str] = field(default_factory=list)  # schedule / bus invocations that failed for good
    dead_letters: dict[str, int] = field(default_factory=dict)
    api_calls: list[dict[str, Any]] = field(default_factory=list)  # each call with the HTTP status it got
    differences: list[str] = field(default_factory=list)  # what verify found the journal does not prove
    journal: list[str] = field(default_factory=list)  # every posting, canonical and sorted (chaos compares it)
    faults: dict[str, int] = field(default_factory=dict)  # what chaos injected, by kind


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def simulate(
    scenario_dir: Path,
    until: date,
    out: Path | None = None,
    *,
    stack: EmbeddedStack | None = None,
    registry: HandlerRegistry | None = None,
    on_day: Callable[[date, int], None] | None = None,
    chaos: int | None = None,
) -> SimulationResult:
    """Run the scenario on ``stack`` after a reset (tests share one), or on a stack of its own. ``chaos``: a seed;
    the replay then runs with the faults of :mod:`receivables_local.chaos` and must end in the same state."""
    days = read_scenario(scenario_dir)
    first = min(days)
    if until < first:
        raise ScenarioError(f"--until {until} is before the scenario's first day {first}")
    if stack is None:
        with EmbeddedStack() as own_stack:
            return _run(own_stack, days, first, until, out, registry, on_day, chaos)
    stack.reset()
    return _run(stack, days, first, until, out, registry, on_day, chaos)


def _run(
    stack: EmbeddedStack,
    days: dict[date, list[Drop]],
    first: date,
    until: date,
    out: Path | None,
    registry: HandlerRegistry | None,
    on_day: Callable[[date, int], None] | None,
    chaos_seed: int | None = None,
) -> SimulationResult:
    files = 0
    api_calls: list[dict[str, Any]] = []
    api_failures: list[str] = []
    chaos = ChaosPlan(chaos_seed) if chaos_seed is not None else None
    with LocalSession(stack, first, prefix=SIMULATION_PREFIX, registry=registry, chaos=chaos) as session:
        runtime = session.runtime
        gateway = ApiGateway(session.topology, runtime.invoker, LocalUserPool(session.stack.clients()))
        for day in _days(first, until):
            session.set_business_date(day)
            drops = days.get(day, [])
            for drop in drops:
                if is_api_calls(drop.key):
                    continue
                session.upload(drop.key, drop.path.read_bytes())
                runtime.run_until_idle()
                files += 1
            # API calls after the day's files, before its schedules (in the order of the files, then of the lines).
            for drop in (d for d in drops if is_api_calls(d.key)):
                for call in read_api_calls(drop.path):
                    response = gateway.handle(call.request())
                    runtime.run_until_idle()
                    api_calls.append({"date": day.isoformat(), **call.describe(), "status": response.status})
                    if response.status >= 500:
                        api_failures.append(f"{day} {call.method} {call.path}: HTTP {response.status}")
            runtime.fire_schedules(day)
            runtime.settle()  # whatever chaos held back arrives the same day
            if on_day is not None:
                on_day(day, len(days.get(day, [])))
        # The journal must prove every balance the replay left behind (receivables verify).
        report = LedgerVerifier(session.clients("dynamodb"), session.resources.table).verify()
        state = read_state(
            session.clients, session.resources.table, session.inbound_bucket, until, verified=report.verified
        )
        if out is not None:  # what the system sent (pain.008 files, letters) lands beside STATE.json
            export_outbound(session.clients("s3"), session.resources.buckets["outbound"], out.parent / "outbound")
            if "analytics" in session.resources.buckets:  # the BI export, for `receivables report … --analytics`
                export_outbound(session.clients("s3"), session.resources.buckets["analytics"], out.parent / "analytics")
        failures = [f"schedule {fn} on {d}: {error}" for fn, d, error in runtime.schedule_failures]
        failures += [f"bus target {fn} for {e.get('detail-type')}: {error}" for fn, e, error in runtime.bus.failures]
        failures += api_failures
        result = SimulationResult(
            state=state,
            days=(until - first).days + 1,
            files=files,
            invocations=len(runtime.invocations),
            failures=failures,
            dead_letters={q: n for q, n in runtime.dead_letters().items() if n},
            api_calls=api_calls,
            differences=[d.describe() for d in report.differences],
            journal=export_journal(session.clients("dynamodb"), session.resources.table),
            faults=dict(chaos.counts) if chaos else {},
        )
    if out is not None:
        write_state(out, state)
    return result
