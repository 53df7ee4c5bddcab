"""Topology mistakes fail at synth, saying what to fix; triggers the topology does not use yet still work."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template
from receivables.topology import TOPOLOGY, Access, BusTrigger, Function, Grants, SqsTrigger, Topology
from receivables_infra import ids
from receivables_infra.api import path_parameters
from receivables_infra.application import cdk_json_context
from receivables_infra.compute import MissingFunctionCode
from receivables_infra.nag import acknowledge
from receivables_infra.stack import ReceivablesStack
from receivables_infra.triggers import TriggerError

from .cfn import lambda_functions, logical_id_of, props, ref, resources


def _functions_dir(tmp_path: Path, *names: str) -> Path:
    """Placeholder handler folders, in a temporary directory only."""
    root = tmp_path / "functions"
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "handler.py").write_text("def lambda_handler(event, context):\n    return None\n")
    return root


def _app() -> App:
    return App(context=cdk_json_context())


def _only(function: Function) -> Topology:
    return TOPOLOGY.model_copy(update={"functions": (function,)})


def test_a_function_without_code_fails_naming_the_folder(tmp_path: Path, stub_layer: Path) -> None:
    functions_dir = _functions_dir(tmp_path, "api", "plan_daily_run")  # the two loaders are missing
    with pytest.raises(MissingFunctionCode, match=r"functions/plan_inbound_file/handler\.py"):
        ReceivablesStack(_app(), ids.STACK, layer_dir=stub_layer, functions_dir=functions_dir)


def test_a_queue_that_would_redeliver_mid_run_is_refused(tmp_path: Path, stub_layer: Path) -> None:
    slow = Function(
        name="slow",
        description="runs longer than the queue hides a message",
        triggers=(SqsTrigger(queue="file-chunks"),),
        grants=Grants(),
        timeout_seconds=TOPOLOGY.queue("file-chunks").visibility_timeout_seconds + 1,
    )
    with pytest.raises(TriggerError, match="visibility_timeout_seconds"):
        ReceivablesStack(
            _app(),
            ids.STACK,
            layer_dir=stub_layer,
            topology=_only(slow),
            functions_dir=_functions_dir(tmp_path, "slow"),
        )


def test_a_bus_trigger_becomes_a_rule_on_the_system_bus(tmp_path: Path, stub_layer: Path) -> None:
    listener = Function(
        name="on_file_loaded",
        description="reacts to loaded files",
        triggers=(BusTrigger(rule="file-loaded", sources=("receivables.loading",), detail_types=("FileLoaded",)),),
        grants=Grants(table=Access.READ),
    )
    stack = ReceivablesStack(
        _app(),
        ids.STACK,
        layer_dir=stub_layer,
        topology=_only(listener),
        functions_dir=_functions_dir(tmp_path, listener.name),
    )
    template = Template.from_stack(stack).to_json()
    (rule,) = resources(template, "AWS::Events::Rule").values()
    bus_id = next(iter(resources(template, "AWS::Events::EventBus")))
    function_id = logical_id_of(template, lambda_functions(template)[listener.description])
    assert ref(props(rule)["EventBusName"]) == bus_id
    assert props(rule)["EventPattern"] == {"source": ["receivables.loading"], "detail-type": ["FileLoaded"]}
    assert [ref(t["Arn"]) for t in props(rule)["Targets"]] == [function_id]
    # No API routes in this topology, so no API either.
    assert not resources(template, "AWS::ApiGateway::RestApi")


def test_path_parameters_are_read_from_the_route() -> None:
    assert path_parameters("/customers/{customer_id}/items/{item_id}") == ["customer_id", "item_id"]
    assert path_parameters("/health") == []


def test_an_acknowledgment_needs_a_reason() -> None:
    with pytest.raises(ValueError, match="real reason"):
        acknowledge(App(), "AwsSolutions-L1", "because")
