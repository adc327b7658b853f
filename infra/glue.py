"""The template's Glue tables of the analytics view, generated from `trigly.analytics.schema`
(the one definition): `python -m infra.glue` prints the YAML pasted into template.yaml, and
tests/infrastructure/test_analytics_template.py checks the template still equals it."""

from __future__ import annotations

from trigly.analytics.schema import TABLES, Table


def logical_id(table: Table) -> str:
    return "Analytics" + "".join(part.title() for part in table.name.split("_")) + "GlueTable"


def glue_yaml(table: Table) -> str:
    columns = "\n".join(
        f"            - {{Name: {c.name}, Type: {c.glue_type}}}" for c in table.columns
    )
    location = f"s3://${{ArchiveBucket}}/analytics/snapshot/{table.name}/"
    return f"""  {logical_id(table)}:
    Type: AWS::Glue::Table
    Properties:
      CatalogId: !Ref AWS::AccountId
      DatabaseName: !Ref AnalyticsDatabase
      TableInput:
        Name: {table.name}
        TableType: EXTERNAL_TABLE
        Parameters:
          classification: parquet
          projection.enabled: "true"
          projection.tenant.type: injected
          storage.location.template: !Sub "{location}tenant=${{!tenant}}/"
        PartitionKeys:
          - {{Name: tenant, Type: string}}
        StorageDescriptor:
          Location: !Sub "{location}"
          InputFormat: org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat
          OutputFormat: org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat
          SerdeInfo:
            SerializationLibrary: org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe
          Columns:
{columns}
"""


if __name__ == "__main__":
    print("\n".join(glue_yaml(table) for table in TABLES), end="")
