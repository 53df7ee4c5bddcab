"""The general-ledger export as a table Athena can query: a Glue database and a table over the Parquet copies the
export writes under ``gl/_athena/business_date=<date>/`` in the outbound bucket (docs/general-ledger.md).

Partitions are projected from the date (no crawler, no ``MSCK REPAIR``): a new day is queryable the moment its file
lands. The CSV beside each day's Parquet stays out of the table's folder, since Athena reads every file there.
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct

# Must agree with receivables.adapters.general_ledger.journal_parquet (the writer) and ATHENA (the prefix).
GL_PREFIX = "gl/_athena"
GL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("entry_id", "string"),
    ("line_no", "bigint"),
    ("gl_account", "string"),
    ("gl_account_name", "string"),
    ("party", "string"),
    ("account_id", "string"),
    ("currency", "string"),
    ("debit", "decimal(18,2)"),
    ("credit", "decimal(18,2)"),
    ("posting_kind", "string"),
    ("target_id", "string"),
    ("description", "string"),
    ("source_line", "string"),
)


def parquet_table_input(
    *, name: str, description: str, location: str, partition: str, columns: tuple[tuple[str, str], ...]
) -> glue.CfnTable.TableInputProperty:
    """An external Parquet table over ``<location><partition>=<yyyy-MM-dd>/``, its date partitions projected (no
    crawler, no ``MSCK REPAIR``): a new day is queryable the moment its file lands."""
    return glue.CfnTable.TableInputProperty(
        name=name,
        description=description,
        table_type="EXTERNAL_TABLE",
        parameters={
            "classification": "parquet",
            "EXTERNAL": "TRUE",
            "projection.enabled": "true",
            f"projection.{partition}.type": "date",
            f"projection.{partition}.format": "yyyy-MM-dd",
            f"projection.{partition}.range": "2020-01-01,NOW",
            f"projection.{partition}.interval": "1",
            f"projection.{partition}.interval.unit": "DAYS",
            "storage.location.template": f"{location}{partition}=${{{partition}}}/",
        },
        partition_keys=[glue.CfnTable.ColumnProperty(name=partition, type="date")],
        storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
            location=location,
            input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            serde_info=glue.CfnTable.SerdeInfoProperty(
                serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
            ),
            columns=[glue.CfnTable.ColumnProperty(name=column, type=kind) for column, kind in columns],
        ),
    )


class GeneralLedgerCatalog(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, service: str, outbound: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        database_name = f"{service}_gl"
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database_name, description=f"{service}: the general-ledger export, one Parquet file per day"
            ),
        )
        location = f"s3://{outbound.bucket_name}/{GL_PREFIX}/"
        self.table = glue.CfnTable(
            self,
            "JournalTable",
            catalog_id=Aws.ACCOUNT_ID,
            database_name=database_name,
            table_input=parquet_table_input(
                name="journal",
                description="Double-entry journal lines, one row per line, by business date",
                location=location,
                partition="business_date",
                columns=GL_COLUMNS,
            ),
        )
        self.table.add_dependency(self.database)
