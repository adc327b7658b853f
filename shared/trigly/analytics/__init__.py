"""The analytics view: a columnar copy of each tenant's customers, cars, visits, sales and
messages (Parquet on S3, queried by DuckDB in process, by Athena through Glue at scale).
ADR 0022 says why and how."""
