"""The shared layer and the one construct every Lambda function is built with."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from receivables.topology import Function, Topology, function_environment

from . import ids
from .grants import GrantableResources, apply_grants
from .nag import acknowledge

# Lambda settings shared by every function. The layer is built for exactly this runtime and architecture
# (layers/build_layer.py: manylinux2014_x86_64, cp313), so they change together.
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.X86_64
HANDLER = "handler.lambda_handler"
# Receivables questions ("why was this customer dunned?") come up months later; keep a year of logs.
LOG_RETENTION = logs.RetentionDays.ONE_YEAR

_ASSET_EXCLUDE = ["__pycache__", "*.pyc", "*.pyo", ".pytest_cache"]


class MissingFunctionCode(FileNotFoundError):
    """A topology function has no ``functions/<name>/handler.py``."""


def function_code_dir(functions_dir: Path, name: str) -> Path:
    folder = functions_dir / name
    if not (folder / "handler.py").is_file():
        raise MissingFunctionCode(
            f"Lambda function {name!r} is in the topology but {folder / 'handler.py'} does not exist. "
            f"Create functions/{name}/handler.py defining lambda_handler(event, context), "
            "or remove the function from layers/receivables/receivables/topology.py."
        )
    return folder


class SharedLayer(Construct):
    """The runtime dependencies plus the ``receivables`` package, built by ``layers/build_layer.py`` (or, with
    ``description``, another layer that script builds: ``analytics``, pyarrow alone)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layer_dir: Path,
        description: str = "receivables package and its runtime dependencies",
    ) -> None:
        super().__init__(scope, construct_id)
        if not (layer_dir / "python").is_dir():
            raise FileNotFoundError(f"{layer_dir} has no python/ directory; run layers/build_layer.py first")
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(str(layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description=description,
            # Replaced versions are deleted: functions deployed with one keep working, Lambda keeps their
            # copy.
            removal_policy=RemovalPolicy.DESTROY,
        )


class ReceivablesFunction(Construct):
    """One Lambda function of the topology, with everything a function of this system must have.

    Runtime and architecture, JSON logs into its own log group with a retention, active X-Ray tracing, the
    shared layer, memory/timeout/concurrency from the topology, an environment that names only what it is
    granted, and a role of its own holding exactly those grants. Triggers are wired elsewhere (they need the
    function).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: Function,
        topology: Topology,
        code_dir: Path,
        layers: Sequence[lambda_.ILayerVersion],
        resources: GrantableResources,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec

        self.log_group = logs.LogGroup(
            self, ids.FUNCTION_LOG_GROUP, retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN
        )
        # An own role instead of the default one: the default attaches the AWSLambdaBasicExecutionRole managed
        # policy (logs:* on every log group); this role may write only to this function's log group.
        self.role = iam.Role(
            self,
            ids.FUNCTION_ROLE,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of the {spec.name} function",
        )
        self.log_group.grant_write(self.role)
        apply_grants(self.role, spec.grants, resources)

        self.function = lambda_.Function(
            self,
            ids.FUNCTION_RESOURCE,
            description=spec.description,
            code=lambda_.Code.from_asset(str(code_dir), exclude=_ASSET_EXCLUDE),
            handler=HANDLER,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            layers=list(layers),
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            reserved_concurrent_executions=spec.reserved_concurrency,
            environment=function_environment(topology, spec, resources.physical),
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=lambda_.Tracing.ACTIVE,
            recursive_loop=lambda_.RecursiveLoop.TERMINATE,
        )

        acknowledge(
            self.role,
            "AwsSolutions-IAM5",
            "Active X-Ray tracing needs xray:PutTraceSegments/PutTelemetryRecords, which support no "
            "resource-level permissions (Resource must be *).",
            findings=("Resource::*",),
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "Pinned to python3.13 on purpose: the layer's binary wheels are built for cp313 and the code is "
            "tested on 3.13; moving to a newer runtime is a deliberate upgrade of layer, runtime and CI "
            "together.",
        )
