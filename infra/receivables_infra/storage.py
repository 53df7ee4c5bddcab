"""The ledger table and the buckets, from the topology."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct
from receivables.topology import Bucket, Table

from . import ids

_PROJECTIONS = {
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "ALL": dynamodb.ProjectionType.ALL,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}

# Versioning protects inbound files against an accidental overwrite or delete; old versions are kept this
# long.
NONCURRENT_VERSION_DAYS = 90
ABORT_MULTIPART_UPLOAD_DAYS = 1
ACCESS_LOG_RETENTION_DAYS = 365


class Storage(Construct):
    """DynamoDB ledger table, the data buckets, and the bucket that receives their server access logs."""

    def __init__(self, scope: Construct, construct_id: str, *, table: Table, buckets: tuple[Bucket, ...]) -> None:
        super().__init__(scope, construct_id)
        self.table = _ledger_table(self, table)
        self.access_logs_bucket = _access_logs_bucket(self)
        self.buckets: Mapping[str, s3.Bucket] = {
            bucket.name: _data_bucket(self, bucket, self.access_logs_bucket) for bucket in buckets
        }


def _ledger_table(scope: Construct, spec: Table) -> dynamodb.Table:
    table = dynamodb.Table(
        scope,
        ids.TABLE,
        partition_key=dynamodb.Attribute(name=spec.partition_key, type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name=spec.sort_key, type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        time_to_live_attribute=spec.ttl_attribute,
        # The outbox relay reads committed records with their events from the stream (functions/publish_events).
        stream=dynamodb.StreamViewType[spec.stream] if spec.stream else None,
        # The ledger is the system of record: neither a stack delete nor a console click may drop it.
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    for index in spec.indexes:
        table.add_global_secondary_index(
            index_name=index.name,
            partition_key=dynamodb.Attribute(name=index.partition_key, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=index.sort_key, type=dynamodb.AttributeType.STRING),
            projection_type=_PROJECTIONS[index.projection],
            non_key_attributes=list(index.include) if index.projection == "INCLUDE" else None,
        )
    return table


def _secure_bucket_defaults() -> dict[str, object]:
    return {
        "encryption": s3.BucketEncryption.S3_MANAGED,
        "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
        "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        "enforce_ssl": True,
        "versioned": True,
        "removal_policy": RemovalPolicy.RETAIN,
    }


def _access_logs_bucket(scope: Construct) -> s3.Bucket:
    # S3 server access logging can only deliver to SSE-S3 buckets, which is one reason all buckets use
    # S3_MANAGED. It logs nothing itself (that would loop); cdk-nag recognises it as a log destination.
    bucket = s3.Bucket(
        scope,
        ids.ACCESS_LOGS_BUCKET,
        **_secure_bucket_defaults(),  # type: ignore[arg-type]
        lifecycle_rules=[
            s3.LifecycleRule(
                id="expire-access-logs",
                expiration=Duration.days(ACCESS_LOG_RETENTION_DAYS),
                noncurrent_version_expiration=Duration.days(1),
                abort_incomplete_multipart_upload_after=Duration.days(ABORT_MULTIPART_UPLOAD_DAYS),
            )
        ],
    )
    return bucket


def _data_bucket(scope: Construct, spec: Bucket, access_logs: s3.IBucket) -> s3.Bucket:
    rules = [
        s3.LifecycleRule(
            id="housekeeping",
            noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_DAYS),
            abort_incomplete_multipart_upload_after=Duration.days(ABORT_MULTIPART_UPLOAD_DAYS),
        ),
        *(
            s3.LifecycleRule(
                id=f"expire-{prefix.strip('/').replace('/', '-')}",
                prefix=prefix,
                expiration=Duration.days(days),
                # Under versioning an expired object leaves a noncurrent version; drop those promptly too.
                noncurrent_version_expiration=Duration.days(1),
            )
            for prefix, days in sorted(spec.expire_prefixes.items())
        ),
    ]
    return s3.Bucket(
        scope,
        ids.bucket(spec.name),
        **_secure_bucket_defaults(),  # type: ignore[arg-type]
        lifecycle_rules=rules,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=f"{spec.name}/",
    )
