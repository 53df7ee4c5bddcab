"""The synthesized stack holds exactly what the topology describes, configured as the platform requires."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from receivables.topology import (
    TOPOLOGY,
    ApiTrigger,
    BusTrigger,
    Queue,
    S3Trigger,
    ScheduleTrigger,
    SqsTrigger,
    StreamTrigger,
    env_var,
    function_environment,
)
from receivables_infra import ids

from .cfn import api_resource_paths, lambda_functions, logical_id_of, props, ref, resources
from .conftest import Synthesis

FUNCTIONS = {f.name: f for f in TOPOLOGY.functions}


def test_ledger_table_keys_indexes_and_protection(assertions: Template, template: dict[str, Any]) -> None:
    table = TOPOLOGY.table
    assertions.resource_count_is("AWS::DynamoDB::Table", 1)
    assertions.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "KeySchema": [
                        {"AttributeName": table.partition_key, "KeyType": "HASH"},
                        {"AttributeName": table.sort_key, "KeyType": "RANGE"},
                    ],
                    "BillingMode": "PAY_PER_REQUEST",
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": {"SSEEnabled": True},
                    "TimeToLiveSpecification": {"AttributeName": table.ttl_attribute, "Enabled": True},
                    "DeletionProtectionEnabled": True,
                }
            ),
        },
    )
    (resource,) = resources(template, "AWS::DynamoDB::Table").values()
    indexes = {i["IndexName"]: i for i in props(resource)["GlobalSecondaryIndexes"]}
    assert set(indexes) == {i.name for i in table.indexes}
    for index in table.indexes:
        assert indexes[index.name]["KeySchema"] == [
            {"AttributeName": index.partition_key, "KeyType": "HASH"},
            {"AttributeName": index.sort_key, "KeyType": "RANGE"},
        ]
        assert indexes[index.name]["Projection"]["ProjectionType"] == index.projection
    attributes = {a["AttributeName"]: a["AttributeType"] for a in props(resource)["AttributeDefinitions"]}
    assert all(kind == "S" for kind in attributes.values())


def test_one_function_per_topology_function(template: dict[str, Any]) -> None:
    functions = lambda_functions(template)
    assert set(functions) == {f.description for f in TOPOLOGY.functions}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_configuration(template: dict[str, Any], name: str) -> None:
    spec = FUNCTIONS[name]
    function = props(lambda_functions(template)[spec.description])
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["x86_64"]
    assert function["Handler"] == "handler.lambda_handler"
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["MemorySize"] == spec.memory_mb
    assert function["Timeout"] == spec.timeout_seconds
    assert function.get("ReservedConcurrentExecutions") == spec.reserved_concurrency
    layers = {
        props(layer)["Description"]: logical_id
        for logical_id, layer in resources(template, "AWS::Lambda::LayerVersion").items()
    }
    shared = layers["receivables package and its runtime dependencies"]
    extra = [layers[d] for d in layers if spec.layers and d.startswith("pyarrow")]
    # The shared layer, and only the layers the topology asks for (pyarrow: the GL export alone).
    assert sorted(ref(layer) for layer in function["Layers"]) == sorted([shared, *extra])
    logging = function["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    log_group = template["Resources"][ref(logging["LogGroup"])]
    assert props(log_group)["RetentionInDays"] > 0
    # The environment is exactly what the topology gives the function: the names of what it is granted.
    expected = function_environment(TOPOLOGY, spec, lambda kind, logical: f"<{kind}:{logical}>")
    assert set(function["Environment"]["Variables"]) == set(expected)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_environment_points_at_the_granted_resources(synthesis: Synthesis, name: str) -> None:
    spec, stack = FUNCTIONS[name], synthesis.stack
    variables = props(lambda_functions(synthesis.template)[spec.description])["Environment"]["Variables"]
    expected = {}
    if spec.grants.table:
        expected[env_var("table", TOPOLOGY.table.name)] = stack.storage.table
    for bucket in spec.grants.buckets:
        expected[env_var("bucket", bucket)] = stack.storage.buckets[bucket]
    for queue in spec.grants.send_to_queues:
        expected[env_var("queue", queue)] = stack.messaging.queues[queue]  # Ref of a queue is its URL
    if spec.grants.put_events:
        expected[env_var("bus", TOPOLOGY.event_bus)] = stack.messaging.event_bus
    for variable, construct in expected.items():
        assert ref(variables[variable]) == synthesis.logical_id(construct), variable


def test_shared_layer_matches_the_runtime(assertions: Template) -> None:
    assertions.resource_count_is("AWS::Lambda::LayerVersion", 2)  # shared, and analytics (pyarrow)
    assertions.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {"CompatibleRuntimes": ["python3.13"], "CompatibleArchitectures": ["x86_64"]},
    )


@pytest.mark.parametrize("queue", TOPOLOGY.queues, ids=lambda q: q.name)
def test_every_queue_has_a_dead_letter_queue(synthesis: Synthesis, queue: Queue) -> None:
    queues = resources(synthesis.template, "AWS::SQS::Queue")
    main_props = props(queues[synthesis.logical_id(synthesis.stack.messaging.queues[queue.name])])
    assert main_props["VisibilityTimeout"] == queue.visibility_timeout_seconds
    assert main_props["SqsManagedSseEnabled"] is True
    assert main_props["MessageRetentionPeriod"] == queue.retention_days * 86400
    redrive = main_props["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == queue.max_receive_count
    dlq = props(queues[ref(redrive["deadLetterTargetArn"])])
    assert dlq["SqsManagedSseEnabled"] is True
    assert dlq["MessageRetentionPeriod"] == 14 * 86400
    assert "RedrivePolicy" not in dlq


def test_queues_and_buckets_refuse_plain_http(template: dict[str, Any]) -> None:
    def denies_insecure_transport(policy: dict[str, Any]) -> bool:
        return any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in props(policy)["PolicyDocument"]["Statement"]
        )

    queue_policies = resources(template, "AWS::SQS::QueuePolicy").values()
    protected_queues = {ref(q) for p in queue_policies if denies_insecure_transport(p) for q in props(p)["Queues"]}
    assert protected_queues == set(resources(template, "AWS::SQS::Queue"))
    bucket_policies = resources(template, "AWS::S3::BucketPolicy").values()
    protected_buckets = {ref(props(p)["Bucket"]) for p in bucket_policies if denies_insecure_transport(p)}
    assert protected_buckets == set(resources(template, "AWS::S3::Bucket"))


def test_buckets_are_private_encrypted_versioned_and_logged(template: dict[str, Any]) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == len(TOPOLOGY.buckets) + 1  # + the access-log bucket
    logged = [b for b in buckets.values() if "LoggingConfiguration" in props(b)]
    assert len(logged) == len(TOPOLOGY.buckets)
    (log_bucket_id,) = {ref(props(b)["LoggingConfiguration"]["DestinationBucketName"]) for b in logged}
    for bucket in buckets.values():
        p = props(bucket)
        assert bucket["DeletionPolicy"] == "Retain"
        assert p["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
        assert p["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "LoggingConfiguration" not in props(buckets[log_bucket_id])


def test_bucket_lifecycle_expires_the_topology_prefixes(template: dict[str, Any]) -> None:
    rules = [
        rule
        for bucket in resources(template, "AWS::S3::Bucket").values()
        for rule in props(bucket).get("LifecycleConfiguration", {}).get("Rules", [])
    ]
    for bucket in TOPOLOGY.buckets:
        for prefix, days in bucket.expire_prefixes.items():
            assert any(r.get("Prefix") == prefix and r.get("ExpirationInDays") == days for r in rules), prefix


def test_s3_notifications_announce_every_prefix_on_its_queue(synthesis: Synthesis) -> None:
    configured = {
        (ref(props(n)["BucketName"]), rule["Filter"]["Key"]["FilterRules"][0]["Value"], ref(rule["QueueArn"]))
        for n in resources(synthesis.template, "Custom::S3BucketNotifications").values()
        for rule in props(n)["NotificationConfiguration"]["QueueConfigurations"]
        if rule["Events"] == ["s3:ObjectCreated:*"]
    }
    stack = synthesis.stack
    expected = {
        (
            synthesis.logical_id(stack.storage.buckets[trigger.bucket]),
            prefix,
            synthesis.logical_id(stack.messaging.queues[trigger.queue]),
        )
        for _, trigger in TOPOLOGY.triggers_of_kind(S3Trigger)
        for prefix in trigger.prefixes
    }
    assert configured == expected


def test_queue_consumers_report_batch_item_failures(template: dict[str, Any]) -> None:
    mappings = [props(m) for m in resources(template, "AWS::Lambda::EventSourceMapping").values()]
    consumers = TOPOLOGY.triggers_of_kind(S3Trigger) + TOPOLOGY.triggers_of_kind(SqsTrigger)
    assert len(mappings) == len(consumers) + len(TOPOLOGY.triggers_of_kind(StreamTrigger))
    mappings = [m for m in mappings if "StartingPosition" not in m]
    functions = lambda_functions(template)
    for spec in {spec.name: spec for spec, _ in consumers}.values():
        function_id = logical_id_of(template, functions[spec.description])
        own = [m for m in mappings if ref(m["FunctionName"]) == function_id]
        triggers = [t for s, t in consumers if s.name == spec.name]
        assert len(own) == len(triggers)
        assert all(m["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in own)
        assert sorted(m["BatchSize"] for m in own) == sorted(t.batch_size for t in triggers)
        concurrency = sorted(m.get("ScalingConfig", {}).get("MaximumConcurrency", 0) for m in own)
        wanted = sorted((t.max_concurrency or 0) if isinstance(t, SqsTrigger) else 0 for t in triggers)
        assert concurrency == wanted


def test_schedules_invoke_their_function_with_cron_timezone_and_input(template: dict[str, Any]) -> None:
    schedules = [props(s) for s in resources(template, "AWS::Scheduler::Schedule").values()]
    triggers = TOPOLOGY.triggers_of_kind(ScheduleTrigger)
    assert len(schedules) == len(triggers)
    functions = lambda_functions(template)
    for spec, trigger in triggers:
        (schedule,) = [s for s in schedules if s["ScheduleExpression"] == trigger.cron]
        assert schedule["ScheduleExpressionTimezone"] == trigger.timezone
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert ref(schedule["Target"]["Arn"]) == logical_id_of(template, functions[spec.description])
        assert json.loads(schedule["Target"]["Input"]) == trigger.input


def test_api_has_a_method_for_every_route(template: dict[str, Any]) -> None:
    paths = api_resource_paths(template)
    methods = {
        (props(m)["HttpMethod"], paths[ref(props(m)["ResourceId"])]): props(m)
        for m in resources(template, "AWS::ApiGateway::Method").values()
    }
    owner = {
        (r.method, r.path): logical_id_of(template, lambda_functions(template)[f.description])
        for f, t in TOPOLOGY.triggers_of_kind(ApiTrigger)
        for r in t.routes
    }
    assert set(methods) == set(owner)
    for (verb, path), method in methods.items():
        assert method["AuthorizationType"] == "AWS_IAM"
        assert method["Integration"]["Type"] == "AWS_PROXY"
        assert owner[verb, path] in json.dumps(method["Integration"]["Uri"])  # the function that serves the route
        assert "RequestValidatorId" in method
        if "{" in path:
            assert method["RequestParameters"], path


def test_api_stage_logs_traces_and_throttles(assertions: Template) -> None:
    assertions.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "TracingEnabled": True,
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
            "MethodSettings": [
                Match.object_like(
                    {
                        "LoggingLevel": "ERROR",
                        "DataTraceEnabled": False,
                        "ThrottlingRateLimit": Match.any_value(),
                        "ThrottlingBurstLimit": Match.any_value(),
                    }
                )
            ],
        },
    )
    assertions.has_resource_properties(
        "AWS::ApiGateway::RequestValidator", {"ValidateRequestParameters": True, "ValidateRequestBody": True}
    )


def test_alarms_on_every_dead_letter_queue_and_function(template: dict[str, Any]) -> None:
    alarms = [props(a) for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    dlq_alarms = [a for a in alarms if a["MetricName"] == "ApproximateNumberOfMessagesVisible"]
    error_alarms = [a for a in alarms if a["MetricName"] == "Errors"]
    trigger_dlqs = TOPOLOGY.triggers_of_kind(BusTrigger) + TOPOLOGY.triggers_of_kind(StreamTrigger)
    assert len(dlq_alarms) == len(TOPOLOGY.queues) + len(trigger_dlqs)
    assert len(error_alarms) == len(TOPOLOGY.functions)
    dead_letter_queues = {
        ref(props(q)["RedrivePolicy"]["deadLetterTargetArn"])
        for q in resources(template, "AWS::SQS::Queue").values()
        if "RedrivePolicy" in props(q)
    }
    dead_letter_queues |= {
        ref(t["DeadLetterConfig"]["Arn"])
        for rule in resources(template, "AWS::Events::Rule").values()
        for t in props(rule).get("Targets", [])
        if "DeadLetterConfig" in t
    }
    dead_letter_queues |= {
        ref(props(m)["DestinationConfig"]["OnFailure"]["Destination"])
        for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if "DestinationConfig" in props(m)
    }
    assert {ref(a["Dimensions"][0]["Value"]) for a in dlq_alarms} == dead_letter_queues
    for alarm in alarms:
        # Anything at all is too much, except a stream consumer's iterator age (an hour behind).
        assert alarm["Threshold"] == (3_600_000 if alarm["MetricName"] == "IteratorAge" else 0)
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["AlarmActions"], "an alarm nobody hears is no alarm"


def test_dashboard_and_outputs(assertions: Template, template: dict[str, Any]) -> None:
    assertions.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    outputs = set(template["Outputs"])
    assert {ids.OUTPUT_TABLE_NAME, ids.OUTPUT_API_URL, ids.OUTPUT_EVENT_BUS_NAME} <= outputs
    assert {ids.output_bucket_name(b.name) for b in TOPOLOGY.buckets} <= outputs


def test_every_bus_rule_target_has_a_dead_letter_queue_and_a_retry_policy(template: dict[str, Any]) -> None:
    rules = [props(r) for r in resources(template, "AWS::Events::Rule").values() if "EventBusName" in props(r)]
    targets = [t for rule in rules for t in rule.get("Targets", [])]
    assert len(targets) == len(TOPOLOGY.triggers_of_kind(BusTrigger)) > 0
    for (_, trigger), target in zip(TOPOLOGY.triggers_of_kind(BusTrigger), targets, strict=True):
        assert "Arn" in target["DeadLetterConfig"]
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == trigger.max_event_age_seconds
    configs = [props(c) for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()]
    assert len(configs) == len(TOPOLOGY.triggers_of_kind(BusTrigger))
    for (_, trigger), config in zip(TOPOLOGY.triggers_of_kind(BusTrigger), configs, strict=True):
        assert config["MaximumRetryAttempts"] == trigger.retry_attempts
        assert "Destination" in config["DestinationConfig"]["OnFailure"]


def test_the_outbox_relay_reads_only_inserted_records_with_events_from_the_stream(template: dict[str, Any]) -> None:
    (table,) = [props(t) for t in resources(template, "AWS::DynamoDB::Table").values()]
    assert table["StreamSpecification"] == {"StreamViewType": TOPOLOGY.table.stream}
    mappings = [
        props(m)
        for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" in props(m)
    ]
    triggers = [trigger for _, trigger in TOPOLOGY.triggers_of_kind(StreamTrigger)]
    assert len(mappings) == len(triggers)
    expected = sorted(
        json.dumps(
            [
                {"eventName": ["INSERT"], "dynamodb": {"NewImage": {attribute: {"S": [{"exists": True}]}}}}
                for attribute in trigger.required_attributes
            ],
            sort_keys=True,
        )
        for trigger in triggers
    )
    patterns = sorted(
        json.dumps([json.loads(f["Pattern"]) for f in m["FilterCriteria"]["Filters"]], sort_keys=True) for m in mappings
    )
    assert patterns == expected
    for mapping in mappings:
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["MaximumRetryAttempts"] in {t.retry_attempts for t in triggers}
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert "Destination" in mapping["DestinationConfig"]["OnFailure"]


def test_a_ledger_difference_raises_an_alarm(template: dict[str, Any]) -> None:
    alarms = [props(a) for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    (alarm,) = [a for a in alarms if a["MetricName"] == "LedgerDifferences"]
    assert alarm["Namespace"] == "Receivables" and alarm["Threshold"] == 0 and alarm["AlarmActions"]


def test_the_gl_export_is_an_athena_table_over_its_parquet_copies(template: dict[str, Any]) -> None:
    (table,) = [
        t for t in map(props, resources(template, "AWS::Glue::Table").values()) if t["TableInput"]["Name"] == "journal"
    ]
    spec = table["TableInput"]
    assert spec["PartitionKeys"] == [{"Name": "business_date", "Type": "date"}]
    assert spec["Parameters"]["projection.enabled"] == "true"
    assert spec["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    columns = {c["Name"]: c["Type"] for c in spec["StorageDescriptor"]["Columns"]}
    assert columns["debit"] == columns["credit"] == "decimal(18,2)"
    # The writer's schema and the table's agree, column for column.
    from receivables.accounting.gl import CSV_COLUMNS

    assert ["business_date", *columns] == list(CSV_COLUMNS)
    names = {props(d)["DatabaseInput"]["Name"] for d in resources(template, "AWS::Glue::Database").values()}
    assert spec and names == {f"{TOPOLOGY.service}_gl", f"{TOPOLOGY.service}_bi"}


def test_stream_consumers_falling_behind_and_an_unbalanced_gl_day_raise_alarms(template: dict[str, Any]) -> None:
    alarms = [props(a) for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    ages = [a for a in alarms if a["MetricName"] == "IteratorAge"]
    assert len(ages) == len(TOPOLOGY.triggers_of_kind(StreamTrigger))
    assert {a["Threshold"] for a in ages} == {3_600_000}
    assert [a["MetricName"] for a in alarms if a["MetricName"] == "GlExportsUnbalanced"] == ["GlExportsUnbalanced"]


def test_the_bi_export_is_a_glue_table_per_exported_table_and_an_athena_workgroup(template: dict[str, Any]) -> None:
    from receivables.reporting.bi import TABLES

    tables = {
        t["TableInput"]["Name"]: t["TableInput"]
        for t in map(props, resources(template, "AWS::Glue::Table").values())
        if t["DatabaseName"].endswith("_bi")
    }
    assert set(tables) == set(TABLES)
    items = tables["items"]
    assert items["PartitionKeys"] == [{"Name": "date", "Type": "date"}]
    assert items["Parameters"]["projection.date.type"] == "date"
    columns = {c["Name"]: c["Type"] for c in items["StorageDescriptor"]["Columns"]}
    assert [c for c, _k in TABLES["items"]] == list(columns) and columns["open_amount"] == "decimal(18,2)"
    (workgroup,) = [props(w) for w in resources(template, "AWS::Athena::WorkGroup").values()]
    result = workgroup["WorkGroupConfiguration"]["ResultConfiguration"]
    assert result["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
