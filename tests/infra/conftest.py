"""One synthesis of the real app per test session: synth takes seconds, and every infra test reads the result.

The app is the one ``infra/app.py`` runs, cdk-nag included, over the real ``functions/`` folders; only the
Lambda layer is a stub, because building the real one is pip's job (tested on its own) and copying ~100 MB
into every test assembly would only slow the suite down.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import CfnResource, Stack
from aws_cdk.assertions import Template
from constructs import IConstruct
from receivables_infra import ids
from receivables_infra.application import build_app
from receivables_infra.nag import ACKNOWLEDGMENTS_CONTEXT_KEY
from receivables_infra.stack import ReceivablesStack


@dataclass(frozen=True)
class Synthesis:
    outdir: Path
    stack: ReceivablesStack
    template: dict[str, Any]
    error: Exception | None  # what app.synth() raised: cdk-nag findings interrupt the synth

    @property
    def assertions(self) -> Template:
        return Template.from_json(self.template)

    @property
    def validation_report(self) -> dict[str, Any]:
        path = self.outdir / "validation-report.json"
        return json.loads(path.read_text()) if path.is_file() else {"pluginReports": []}

    def logical_id(self, construct: IConstruct) -> str:
        """The template key of an L2 construct (its default child) or of an L1 resource."""
        cfn = construct if isinstance(construct, CfnResource) else construct.node.default_child
        return Stack.of(construct).resolve(self.stack.get_logical_id(cfn))  # type: ignore[arg-type]

    def violations(self) -> list[dict[str, Any]]:
        return [v for report in self.validation_report["pluginReports"] for v in report.get("violations", [])]


@pytest.fixture(scope="session")
def stub_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layer = tmp_path_factory.mktemp("layer")
    (layer / "python").mkdir()
    (layer / "python" / "README.txt").write_text("stand-in for the layer built by layers/build_layer.py\n")
    return layer


def synthesize(outdir: Path, layer: Path, context: dict[str, Any] | None = None) -> Synthesis:
    app, stack = build_app(layer_dir=layer, outdir=str(outdir), context=context)
    error: Exception | None = None
    try:
        app.synth()
    except Exception as exc:  # jsii wraps the validation failure; the report in outdir has the details
        error = exc
    template = json.loads((outdir / f"{ids.STACK}.template.json").read_text())
    return Synthesis(outdir=outdir, stack=stack, template=template, error=error)


@pytest.fixture(scope="session")
def synthesis(tmp_path_factory: pytest.TempPathFactory, stub_layer: Path) -> Synthesis:
    return synthesize(tmp_path_factory.mktemp("cdk.out"), stub_layer)


@pytest.fixture(scope="session")
def unacknowledged_synthesis(tmp_path_factory: pytest.TempPathFactory, stub_layer: Path) -> Synthesis:
    """The same app with every cdk-nag acknowledgment switched off: shows what each one answers."""
    return synthesize(
        tmp_path_factory.mktemp("cdk.out-unacknowledged"),
        stub_layer,
        context={ACKNOWLEDGMENTS_CONTEXT_KEY: False},
    )


@pytest.fixture(scope="session")
def template(synthesis: Synthesis) -> dict[str, Any]:
    return synthesis.template


@pytest.fixture(scope="session")
def assertions(synthesis: Synthesis) -> Template:
    return synthesis.assertions
