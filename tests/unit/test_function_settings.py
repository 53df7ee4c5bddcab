"""Each function knows its settings, asks only for what its grants give it, and never shares a root with another."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from receivables import bootstrap, execution
from receivables.settings import FUNCTION_SETTINGS, TableSettings
from receivables.topology import TOPOLOGY, env_var, function_environment

FUNCTIONS = [f.name for f in TOPOLOGY.functions]


def environment_of(name: str) -> dict[str, str]:
    return function_environment(TOPOLOGY, TOPOLOGY.function(name), lambda kind, logical: f"{kind}:{logical}")


@pytest.fixture(autouse=True)
def _cold() -> Any:
    bootstrap.reset()
    yield
    bootstrap.reset()


def test_every_function_of_the_topology_has_its_settings_and_composition_roots() -> None:
    for name in FUNCTIONS:
        assert name in FUNCTION_SETTINGS, (
            f"function {name!r} has no settings: add its settings class to FUNCTION_SETTINGS in "
            "layers/receivables/receivables/settings.py"
        )
        assert bootstrap.COMPOSITION_ROOTS.get(name), (
            f"function {name!r} has no composition roots: add the factories its handler calls to COMPOSITION_ROOTS "
            "in layers/receivables/receivables/bootstrap.py"
        )
    assert set(FUNCTION_SETTINGS) <= set(FUNCTIONS), "FUNCTION_SETTINGS names functions the topology does not have"
    assert set(bootstrap.COMPOSITION_ROOTS) <= set(FUNCTIONS), "COMPOSITION_ROOTS names unknown functions"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_settings_require_only_what_the_grants_put_in_the_environment(name: str) -> None:
    settings = FUNCTION_SETTINGS[name]
    environment = environment_of(name)
    required = {variable for variable, is_required in settings.variables().items() if is_required}
    assert required <= environment.keys(), (
        f"{settings.__name__} of {name!r} requires {sorted(required - environment.keys())}, which its grants in "
        "topology.py do not give it: grant the resource, or stop requiring it"
    )
    settings.from_environment(environment)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_granted_resource_is_one_the_settings_read(name: str) -> None:
    resources = {v for v in environment_of(name) if v.startswith(("TABLE_", "BUCKET_", "QUEUE_", "BUS_"))}
    unread = resources - FUNCTION_SETTINGS[name].variables().keys()
    assert not unread, f"{name!r} is granted {sorted(unread)} but its settings never read them: drop the grant"


def test_every_factory_is_cached_per_function() -> None:
    plain = [
        name
        for name, value in vars(bootstrap).items()
        if isinstance(value, functools._lru_cache_wrapper) and value not in bootstrap._CACHES  # type: ignore[attr-defined]
    ]
    assert not plain, f"bootstrap factories {plain} use functools.cache: use @per_function, or functions share roots"


def _as(name: str, **extra: str) -> execution.ExecutionEnvironment:
    return execution.ExecutionEnvironment(name, {**environment_of(name), **extra})


def test_settings_read_the_invoked_functions_variables_not_the_process_environment(monkeypatch) -> None:
    monkeypatch.setenv(env_var("table", "ledger"), "from-os-environ")
    with execution.running_as(_as("api")):
        assert TableSettings.from_environment().table_name == "table:ledger"
    assert TableSettings.from_environment().table_name == "from-os-environ"  # Lambda: the process is the function


def test_a_root_built_for_one_function_is_never_reused_by_another() -> None:
    with execution.running_as(_as("dunning_worker", BUSINESS_DATE="2026-11-24")):
        worker_table = bootstrap.dunning_table()
        assert bootstrap.dunning_table() is worker_table  # cached within the function
    with execution.running_as(_as("send_deferred_sms", BUSINESS_DATE="2026-11-25")):
        assert bootstrap.dunning_table() is not worker_table
        assert bootstrap.deferred_sms_settings().business_date.isoformat() == "2026-11-25"
    with execution.running_as(_as("dunning_api")):
        with pytest.raises(ValueError, match="BUCKET_OUTBOUND_NAME"):
            bootstrap.dunning_settings()  # the worker's settings: the API has no outbound bucket
        bootstrap.cold_start("dunning_api")


def test_the_invoked_function_prepares_each_client_it_builds() -> None:
    prepared: list[tuple[str, str]] = []
    hook = execution.ExecutionEnvironment(
        "api",
        environment_of("api"),
        prepare_client=lambda service, client: prepared.append((service, type(client).__name__)),
    )
    with execution.running_as(hook):
        bootstrap.cold_start("api")
        bootstrap.ledger_reader()
    # The read API's clients: the table, and the bucket of the general-ledger daybook (the cash report).
    assert prepared == [("dynamodb", "DynamoDB"), ("s3", "S3")]
