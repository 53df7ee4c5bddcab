"""The one stack of the system, composed from the topology and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct
from receivables.topology import EVERYONE, TOPOLOGY, ApiTrigger, BusTrigger, StreamTrigger, Topology

from . import ids
from .analytics import AnalyticsCatalog
from .api import Api
from .catalog import GeneralLedgerCatalog
from .compute import ReceivablesFunction, SharedLayer, function_code_dir
from .grants import GrantableResources
from .messaging import Messaging
from .monitoring import Monitoring
from .people import People, PeopleApiStack
from .storage import Storage
from .triggers import Triggers

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"

REQUIRED_FEATURE_FLAGS = {"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True}


class ReceivablesStack(Stack):
    """Table, buckets, queues, bus, functions with their triggers, the REST API, alarms and a dashboard.

    Environment-agnostic on purpose (no account/region): it synthesizes without credentials and deploys into
    whatever account and region the deploying identity targets.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str = ids.STACK,
        *,
        layer_dir: Path,
        topology: Topology = TOPOLOGY,
        functions_dir: Path = FUNCTIONS_DIR,
        analytics_layer_dir: Path | None = None,
        **stack_kwargs: Any,
    ) -> None:
        # Fail before creating anything if a function has no code: the message names the missing folder.
        code_dirs = {spec.name: function_code_dir(functions_dir, spec.name) for spec in topology.functions}

        super().__init__(
            scope,
            construct_id,
            description=f"{topology.service}: serverless receivables platform",
            **stack_kwargs,
        )

        # Behaviour this stack relies on, pinned so it holds whatever context the app runs with: access-log
        # delivery through a bucket policy (the buckets enforce owner-only object ownership, so no ACLs).
        for flag, value in REQUIRED_FEATURE_FLAGS.items():
            self.node.set_context(flag, value)

        self.storage = Storage(self, ids.STORAGE, table=topology.table, buckets=topology.buckets)
        trigger_dlqs = tuple(t.dead_letter_queue for _f, t in topology.triggers_of_kind(BusTrigger)) + tuple(
            t.dead_letter_queue for _f, t in topology.triggers_of_kind(StreamTrigger)
        )
        self.messaging = Messaging(self, ids.MESSAGING, queues=topology.queues, trigger_dlqs=trigger_dlqs)
        layer = SharedLayer(self, ids.LAYER, layer_dir=layer_dir)
        extra_layers: dict[str, Any] = {}
        if any("analytics" in spec.layers for spec in topology.functions):
            extra_layers["analytics"] = SharedLayer(
                self,
                ids.ANALYTICS_LAYER,
                layer_dir=analytics_layer_dir or layer_dir,
                description="pyarrow: Parquet for the general-ledger export (layers/build_layer.py --analytics)",
            ).layer
        resources = GrantableResources(
            table_spec=topology.table,
            table=self.storage.table,
            buckets=self.storage.buckets,
            queues=self.messaging.queues,
            event_bus=self.messaging.event_bus,
            dead_letter_queues=self.messaging.dead_letter_queues,
        )

        functions_scope = Construct(self, ids.FUNCTIONS)
        self.functions = {
            spec.name: ReceivablesFunction(
                functions_scope,
                ids.function(spec.name),
                spec=spec,
                topology=topology,
                code_dir=code_dirs[spec.name],
                layers=[layer.layer, *(extra_layers[name] for name in spec.layers)],
                resources=resources,
            )
            for spec in topology.functions
        }
        Triggers(
            self,
            ids.TRIGGERS,
            topology=topology,
            functions=self.functions,
            resources=resources,
        )

        if any(spec.name == "gl_export" for spec in topology.functions) and "outbound" in self.storage.buckets:
            self.gl_catalog = GeneralLedgerCatalog(
                self, ids.GL_CATALOG, service=topology.service, outbound=self.storage.buckets["outbound"]
            )

        if any(spec.name == "bi_export" for spec in topology.functions) and "analytics" in self.storage.buckets:
            self.analytics = AnalyticsCatalog(
                self, ids.ANALYTICS_CATALOG, service=topology.service, bucket=self.storage.buckets["analytics"]
            )

        routes = [
            (self.functions[spec.name].function, route)
            for spec, trigger in topology.triggers_of_kind(ApiTrigger)
            for route in trigger.routes
        ]
        # A topology without API routes gets no API at all rather than an empty one.
        self.api = Api(self, ids.API, routes=routes, service=topology.service) if routes else None
        # People sign in to the user pool and call the same routes through an API of their own (a REST API method
        # has one kind of authorizer); the function checks the route's groups against the token's.
        self.people = People(self, ids.PEOPLE, service=topology.service, groups=EVERYONE) if routes else None
        # In a nested stack of its own: the API's resources and methods twice would pass CloudFormation's 500
        # resources per stack.
        self.people_api = (
            PeopleApiStack(
                self, ids.PEOPLE_API, routes=routes, service=topology.service, user_pool=self.people.user_pool
            ).api
            if self.people
            else None
        )

        self.monitoring = Monitoring(
            self,
            ids.MONITORING,
            service=topology.service,
            functions={name: fn.function for name, fn in self.functions.items()},
            dead_letter_queues=self.messaging.dead_letter_queues,
            ledger_checked=any(f.name == "verify_ledger" for f in topology.functions),
            stream_consumers=[f.name for f, _t in topology.triggers_of_kind(StreamTrigger)],
            gl_exported=any(f.name == "gl_export" for f in topology.functions),
            queues=self.messaging.queues,
            rest_api=self.api.rest_api if self.api else None,
        )
        self._outputs()

    def _outputs(self) -> None:
        CfnOutput(self, ids.OUTPUT_TABLE_NAME, value=self.storage.table.table_name)
        for name, bucket in self.storage.buckets.items():
            CfnOutput(self, ids.output_bucket_name(name), value=bucket.bucket_name)
        CfnOutput(self, ids.OUTPUT_EVENT_BUS_NAME, value=self.messaging.event_bus.event_bus_name)
        CfnOutput(self, ids.OUTPUT_ALARM_TOPIC_ARN, value=self.monitoring.alarm_topic.topic_arn)
        if self.api is not None:
            CfnOutput(self, ids.OUTPUT_API_URL, value=self.api.url)
        if self.people is not None and self.people_api is not None:
            CfnOutput(self, ids.OUTPUT_PEOPLE_API_URL, value=self.people_api.url)
            CfnOutput(self, ids.OUTPUT_USER_POOL_ID, value=self.people.user_pool.user_pool_id)
            CfnOutput(self, ids.OUTPUT_USER_POOL_CLIENT_ID, value=self.people.client.user_pool_client_id)
