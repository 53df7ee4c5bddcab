"""The BI export as tables a warehouse or Athena reads as they are: a Glue database with one table per exported
table over ``bi/<table>/date=<D>/`` in the analytics bucket, partitions projected from the date (no crawler), and an
Athena workgroup whose results stay in the same bucket, encrypted. The columns come from
``receivables.reporting.bi.TABLES``, the description the Parquet writer uses too."""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct
from receivables.reporting.bi import PREFIX, TABLES

from .catalog import parquet_table_input

GLUE_TYPES = {"string": "string", "date": "date", "money": "decimal(18,2)", "int": "bigint", "bool": "boolean"}


class AnalyticsCatalog(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, service: str, bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        self.database_name = f"{service}_bi"
        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name, description=f"{service}: the daily BI export, one partition per day"
            ),
        )
        self.tables: dict[str, glue.CfnTable] = {}
        for name, columns in TABLES.items():
            location = f"s3://{bucket.bucket_name}/{PREFIX}/{name}/"
            table = glue.CfnTable(
                self,
                f"Table{name.title()}",
                catalog_id=Aws.ACCOUNT_ID,
                database_name=self.database_name,
                table_input=parquet_table_input(
                    name=name,
                    description=f"The BI export's {name}: what changed each day (keep the last row of a key)",
                    location=location,
                    partition="date",
                    columns=tuple((c, GLUE_TYPES[k]) for c, k in columns),
                ),
            )
            table.add_dependency(database)
            self.tables[name] = table
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=f"{service}-analytics",
            description="Queries over the BI export; results kept 30 days in the analytics bucket",
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{bucket.bucket_name}/athena-results/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )
