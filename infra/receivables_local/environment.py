"""Each function's environment on the local stack, the process environment they share, and where their logs go.

In AWS each function runs in its own process whose ``os.environ`` is its CDK environment. Here every function runs
in this one process, so a function's own variables — :func:`~receivables.topology.function_environment` with local
names and queue URLs, the simulated business date, and the local-only settings its settings class reads — are not
put in ``os.environ``: the invoker runs each handler inside ``receivables.execution.running_as`` with an
:class:`~receivables.execution.ExecutionEnvironment` holding only them (:class:`FunctionEnvironments`), and a
:class:`~receivables_local.grant_guard.GrantGuard` on every boto3 client its composition roots build. What goes into
``os.environ`` is only what every function shares and libraries read from there (:func:`process_environment`):
boto3's endpoints, region and credentials, Powertools' switches.

Logs: the handlers log through Powertools ``Logger``, which writes JSON lines to stdout. Interleaved with a
progress bar that is unreadable, and dropping them (LOG_LEVEL=WARNING) would hide exactly what one needs when
a file does not load. So the service's logger is pre-configured here with a stream to
``.local/logs/functions.log``: Powertools shares one handler among every ``Logger`` of a service name
(documented behaviour), so the handlers' loggers, created later at import, write there at INFO without knowing
it. The runtime's own lines (which invocation, which retry) go to the same file, so the sequence reads in one
place.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

from aws_lambda_powertools import Logger
from receivables.execution import ExecutionEnvironment
from receivables.observability import MaskingFormatter
from receivables.privacy import mask_personal_data
from receivables.settings import FUNCTION_SETTINGS
from receivables.topology import Function, Topology, function_environment

from receivables_local.embedded import Endpoints
from receivables_local.grant_guard import GrantGuard, GrantRefusedError
from receivables_local.resources import Resources

RUNTIME_LOGGER = "receivables_local"
LOCAL_CREDITOR = {
    "bank_id": "default",
    "creditor_name": "Örnek Sigorta A.Ş.",
    "iban": "TR850001000000000012345678",
    "creditor_scheme_id": "TR00ZZZ000000000001",
    "lead_days": 1,
    "default": True,
}


# Local-only settings: a function gets one when its settings class reads it (FUNCTION_SETTINGS).
LOCAL_SETTINGS = {
    # Mandates collect out of the box locally; a config/direct-debit/<bank_id>.json file replaces this.
    "DIRECT_DEBIT_DEFAULT_CREDITOR": json.dumps(LOCAL_CREDITOR),
    # A replayed day does not wait in real time: a policy event waiting for its policy is retried at once, still the
    # same number of times as in AWS.
    "POLICY_EVENT_RETRY_DELAYS": "0,0,0,0,0",
}
# Libraries read these from os.environ, whichever function calls them; every function's environment has the same.
_PROCESS_WIDE_PREFIXES = ("POWERTOOLS_",)


def process_environment(
    topology: Topology, resources: Resources, endpoints: Endpoints, log_level: str = "INFO"
) -> dict[str, str]:
    """What goes into ``os.environ``: the same for every function, and read there by boto3 and Powertools."""
    env: dict[str, str] = {}
    for function in topology.functions:
        for name, value in function_environment(topology, function, resources.physical).items():
            if name.startswith(_PROCESS_WIDE_PREFIXES):
                if env.get(name, value) != value:
                    raise ValueError(f"functions disagree on {name}: {env[name]!r} vs {value!r}")
                env[name] = value
    env.update(endpoints.environment())
    env.update(
        {
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
            "POWERTOOLS_METRICS_DISABLED": "true",  # EMF blobs on stdout would only be noise here
            "POWERTOOLS_LOG_LEVEL": log_level,
            "AWS_LAMBDA_RUNTIME_API": "",  # never look like a real Lambda sandbox
        }
    )
    return env


def function_variables(
    topology: Topology, function: Function, resources: Resources, business_date: date
) -> dict[str, str]:
    """One function's own variables: what CDK gives it (with local names), the business date, its local settings."""
    env = function_environment(topology, function, resources.physical)
    env["BUSINESS_DATE"] = business_date.isoformat()
    settings = FUNCTION_SETTINGS.get(function.name)
    reads = settings.variables() if settings else {}
    env.update({name: value for name, value in LOCAL_SETTINGS.items() if name in reads})
    return env


class FunctionEnvironments:
    """The execution environment of each function of a local session: its own variables plus the process's, and a
    grant guard on its clients. Rebuilt when the business date moves (which is a cold start anyway)."""

    def __init__(self, topology: Topology, resources: Resources, process: Mapping[str, str], business_date: date):
        self.topology = topology
        self.resources = resources
        self.process = {name: value for name, value in process.items() if value != ""}
        self.business_date = business_date
        self.refused: list[GrantRefusedError] = []  # every call a guard refused, even if the handler caught it
        self._built: dict[str, ExecutionEnvironment] = {}
        self._lock = threading.Lock()

    def of(self, function: Function) -> ExecutionEnvironment:
        with self._lock:
            if function.name not in self._built:
                own = function_variables(self.topology, function, self.resources, self.business_date)
                guard = GrantGuard(self.topology, function, self.resources.physical, self.refused)
                self._built[function.name] = ExecutionEnvironment(
                    function.name, {**self.process, **own}, prepare_client=guard.install
                )
            return self._built[function.name]

    def set_business_date(self, business_date: date) -> None:
        with self._lock:
            self.business_date = business_date
            self._built.clear()


@contextlib.contextmanager
def patched_environ(env: Mapping[str, str]) -> Iterator[None]:
    """Apply ``env`` to ``os.environ`` (empty value = unset) and restore the previous values afterwards."""
    saved = {name: os.environ.get(name) for name in env}
    try:
        for name, value in env.items():
            if value == "":
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous


def reset_cold_start() -> None:
    """Make the next invocation of every function a cold start (composition roots rebuilt)."""
    try:
        from receivables import bootstrap
    except ModuleNotFoundError as exc:  # only until the lead's bootstrap module exists
        if exc.name != "receivables.bootstrap":
            raise
        return
    bootstrap.reset()


class _JsonLines(logging.Formatter):
    """The runtime's own lines in the same shape as Powertools', so one ``jq`` reads the whole file."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "service": "local-runtime",
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return mask_personal_data(json.dumps(line, default=str, ensure_ascii=False))


class FunctionLogs:
    """Routes handler and runtime logs to one file for the lifetime of the context."""

    def __init__(self, path: Path, service: str, level: str = "INFO") -> None:
        self.path = path
        self.service = service
        self.level = level
        self._undo = contextlib.ExitStack()

    def __enter__(self) -> FunctionLogs:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        stream = self._undo.enter_context(self.path.open("a", encoding="utf-8", buffering=1))
        self._route_powertools(stream)
        runtime_handler = logging.StreamHandler(stream)
        runtime_handler.setFormatter(_JsonLines())
        runtime_logger = logging.getLogger(RUNTIME_LOGGER)
        runtime_logger.addHandler(runtime_handler)
        runtime_logger.setLevel(self.level)
        runtime_logger.propagate = False
        self._undo.callback(runtime_logger.removeHandler, runtime_handler)
        return self

    def _route_powertools(self, stream: IO[str]) -> None:
        service_logger = logging.getLogger(self.service)
        if not isinstance(getattr(service_logger, "powertools_handler", None), logging.StreamHandler):
            # Configures the shared handler (on stdout) as the handlers' own logger does: masking personal data.
            Logger(service=self.service, level=self.level, logger_formatter=MaskingFormatter())
        handler: logging.StreamHandler[IO[str]] = service_logger.powertools_handler  # type: ignore[attr-defined]
        previous = _swap_stream(handler, stream)
        # Back to where it wrote before, or to stdout (Powertools' default) if that stream is gone meanwhile
        # (e.g. a test runner's capture buffer): never leave it on our file once closed.
        self._undo.callback(lambda: _swap_stream(handler, previous if _usable(previous) else sys.stdout))
        service_logger.setLevel(self.level)

    def __exit__(self, *_exc: object) -> None:
        self._undo.close()


def _usable(stream: IO[str]) -> bool:
    return not getattr(stream, "closed", False)


def _swap_stream(handler: logging.StreamHandler[IO[str]], stream: IO[str]) -> IO[str]:
    """``handler.setStream``, which flushes the old stream first: not possible when that one is closed."""
    previous = handler.stream
    if _usable(previous):
        handler.setStream(stream)
    else:
        with handler.lock or contextlib.nullcontext():
            handler.stream = stream
    return previous
