"""The CDK app: the stack, its tags and the cdk-nag checks. Shared by ``infra/app.py`` and the tests."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Tags
from receivables.topology import TOPOLOGY, Topology

from . import ids
from .nag import apply_checks
from .stack import FUNCTIONS_DIR, REPO_ROOT, ReceivablesStack

CDK_JSON = REPO_ROOT / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The context (feature flags) of cdk.json, so a synth outside the CLI produces what the CLI would."""
    return json.loads(CDK_JSON.read_text()).get("context", {})


def build_app(
    *,
    layer_dir: Path,
    analytics_layer_dir: Path | None = None,
    outdir: str | None = None,
    topology: Topology = TOPOLOGY,
    functions_dir: Path = FUNCTIONS_DIR,
    context: Mapping[str, Any] | None = None,
) -> tuple[App, ReceivablesStack]:
    """Compose the app. ``context`` adds to and overrides cdk.json's (under the CLI, the CLI's wins)."""
    app = App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    stack = ReceivablesStack(
        app,
        ids.STACK,
        layer_dir=layer_dir,
        analytics_layer_dir=analytics_layer_dir,
        topology=topology,
        functions_dir=functions_dir,
    )
    Tags.of(app).add("service", topology.service)
    apply_checks(app)
    return app, stack
