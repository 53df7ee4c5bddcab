"""The process environment the handlers run with, and where their logs go.

All functions run in this one process, so the environment is the union of every function's
:func:`~receivables.topology.function_environment` (the same names CDK sets, with local physical names) plus
what boto3 needs to reach the emulators and the simulated business date.

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
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

from aws_lambda_powertools import Logger
from receivables.topology import Topology, function_environment

from receivables_local.embedded import Endpoints
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


def runtime_environment(
    topology: Topology,
    resources: Resources,
    endpoints: Endpoints,
    business_date: date,
    log_level: str = "INFO",
) -> dict[str, str]:
    env: dict[str, str] = {}
    for function in topology.functions:
        for name, value in function_environment(topology, function, resources.physical).items():
            if env.get(name, value) != value:
                raise ValueError(f"functions disagree on {name}: {env[name]!r} vs {value!r}")
            env[name] = value
    env.update(endpoints.environment())
    env.update(
        {
            "BUSINESS_DATE": business_date.isoformat(),
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
            "POWERTOOLS_METRICS_DISABLED": "true",  # EMF blobs on stdout would only be noise here
            "POWERTOOLS_LOG_LEVEL": log_level,
            "AWS_LAMBDA_RUNTIME_API": "",  # never look like a real Lambda sandbox
            # Mandates collect out of the box locally; a config/direct-debit/<bank_id>.json file replaces this.
            "DIRECT_DEBIT_DEFAULT_CREDITOR": json.dumps(LOCAL_CREDITOR),
        }
    )
    return env


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


def set_business_date(business_date: date) -> None:
    """Move the simulated calendar. Settings are read once per cold start, hence the reset."""
    os.environ["BUSINESS_DATE"] = business_date.isoformat()
    reset_cold_start()


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
        return json.dumps(line, default=str, ensure_ascii=False)


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
            Logger(service=self.service, level=self.level)  # configures the shared handler (on stdout)
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
