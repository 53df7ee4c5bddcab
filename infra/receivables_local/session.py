"""One run of the system on an embedded stack: resources provisioned, environment applied, runtime ready.

``demo``, ``simulate``, ``local up`` and the e2e tests all go through this, so they exercise the same wiring.
"""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path
from typing import Any

import boto3
from receivables.topology import TOPOLOGY, Topology

from receivables_local.chaos import ChaosPlan
from receivables_local.embedded import AwsClients, EmbeddedStack
from receivables_local.environment import (
    FunctionEnvironments,
    FunctionLogs,
    patched_environ,
    process_environment,
    reset_cold_start,
)
from receivables_local.faults import FaultInjector, retry_waits_skipped
from receivables_local.grant_guard import GrantRefusedError
from receivables_local.handlers import HandlerRegistry
from receivables_local.resources import Resources, provision
from receivables_local.runtime import Runtime

DEFAULT_PREFIX = "receivables-local"
# Under chaos every function runs its work on one thread, so that the n-th call of an invocation is the same call in
# every replay of a seed.
SINGLE_THREADED = {"BANK_FILE_LANES": "1", "DUNNING_REVIEW_THREADS": "1", "LEDGER_WRITE_WORKERS": "1"}
INBOUND_BUCKET = "inbound"


class LocalSession:
    def __init__(
        self,
        stack: EmbeddedStack,
        business_date: date,
        *,
        prefix: str = DEFAULT_PREFIX,
        topology: Topology = TOPOLOGY,
        registry: HandlerRegistry | None = None,
        log_level: str = "INFO",
        faults: FaultInjector | None = None,
        chaos: ChaosPlan | None = None,
    ) -> None:
        self.stack = stack
        self.business_date = business_date
        self.prefix = prefix
        self.topology = topology
        self.registry = registry or HandlerRegistry()
        self.log_level = log_level
        # Chaos faults the handlers' calls too; one replay at a time (threads would make the faults depend on timing).
        self.chaos = chaos
        self.faults = faults if chaos is None else FaultInjector(chaos)
        self.clients: AwsClients = stack.clients()
        self._exit = contextlib.ExitStack()
        self._resources: Resources | None = None
        self._environments: FunctionEnvironments | None = None
        self._runtime: Runtime | None = None

    @property
    def resources(self) -> Resources:
        assert self._resources is not None, "session not entered"
        return self._resources

    @property
    def environments(self) -> FunctionEnvironments:
        """Each function's own environment (what its handler sees), with the grant guard on its clients."""
        assert self._environments is not None, "session not entered"
        return self._environments

    @property
    def refused(self) -> list[GrantRefusedError]:
        """Every AWS call a handler made outside its function's grants (each would be AccessDenied in AWS)."""
        return self.environments.refused

    @property
    def runtime(self) -> Runtime:
        assert self._runtime is not None, "session not entered"
        return self._runtime

    @property
    def log_path(self) -> Path:
        return self.stack.log_dir / "functions.log"

    @property
    def inbound_bucket(self) -> str:
        return self.resources.buckets[INBOUND_BUCKET]

    def __enter__(self) -> LocalSession:
        try:
            self._resources = provision(self.topology, self.clients, self.prefix)
            process = process_environment(self.topology, self._resources, self.stack.endpoints, self.log_level)
            if self.chaos is not None:
                process |= SINGLE_THREADED
                self._exit.enter_context(retry_waits_skipped())
            self._exit.enter_context(patched_environ(process))
            self._environments = FunctionEnvironments(self.topology, self._resources, process, self.business_date)
            self._exit.enter_context(FunctionLogs(self.log_path, self.topology.service, self.log_level))
            if self.faults is not None:
                # On the session the handlers' clients are made from (at their next cold start, just below).
                events = boto3._get_default_session().events
                self.faults.install(events)
                self._exit.callback(self.faults.uninstall, events)
            # Composition roots cached by an earlier session point at other endpoints and resource names.
            reset_cold_start()
            self._exit.callback(reset_cold_start)
            self._runtime = Runtime(
                self.topology,
                self._resources,
                self.clients,
                self.registry,
                chaos=self.chaos,
                environments=self._environments.of,
            )
            self._runtime.invoker.faults = self.faults
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self._exit.close()

    def set_business_date(self, business_date: date) -> None:
        # Exclusive: an API request in flight under `local up` must not see half a change.
        with self.runtime.invoker.exclusive():
            self.business_date = business_date
            self.environments.set_business_date(business_date)
            reset_cold_start()
            self.registry.cold_start()

    def upload(self, key: str, body: bytes, bucket: str = INBOUND_BUCKET) -> None:
        self.clients("s3").put_object(Bucket=self.resources.buckets[bucket], Key=key, Body=body)

    def s3(self) -> Any:
        return self.clients("s3")
