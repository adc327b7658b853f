"""The analytics view at a tenant's size (ADR 0022): compaction time and snapshot size, a cold
and a warm reader, measured in process against moto's S3 (`mock_aws`).

    .venv/bin/python -m benchmarks.analytics_view [--customers 500000] [--changed 60000] \
        [--pending 60]

A synthetic tenant: `customers` customers with 1.2 cars, 3 visits, 0.6 purchases, 5 messages
and 0.3 model views each (values drawn per column type from the schema), written as the current
snapshot; then `changed` of them rewritten by projections in batches of 100 customers (one change
file per batch holding every table's rows, as the projection writes them). Measured: the
compaction of the snapshot + those change files (download, fold, upload), the new snapshot's
bytes, a reader's `open_view` cold (empty /tmp cache) and warm, and a 5-condition count with a
car block.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

PER_CUSTOMER = {
    "customers": 1.0,
    "cars": 1.2,
    "visits": 3.0,
    "purchases": 0.6,
    "messages": 5.0,
    "model_views": 0.3,
}
BATCH = 100  # customers a projection batch holds (the queue's BatchSize)


def _value(sql_type: str, column: str) -> str:
    """A DuckDB expression drawing a plausible value of the column's type."""
    if column == "customer_id":
        return "'cus_' || lpad(cid::VARCHAR, 10, '0')"
    if column == "version":
        return "ver"
    if column == "erased":
        return "false"
    return {
        "VARCHAR": f"'{column[:3]}_' || (hash(cid, '{column}', n) % 40)::VARCHAR",
        "BOOLEAN": f"hash(cid, '{column}', n) % 2 = 0",
        "INTEGER": f"(hash(cid, '{column}', n) % 200000)::INTEGER",
        "BIGINT": f"(hash(cid, '{column}', n) % 200000)::BIGINT",
        "DOUBLE": f"(hash(cid, '{column}', n) % 10000000) / 100.0",
        "DATE": f"current_date - (hash(cid, '{column}', n) % 3000)::INTEGER",
        "TIMESTAMP": (
            f"current_localtimestamp() - to_seconds((hash(cid, '{column}', n) % 90000000)::BIGINT)"
        ),
    }[sql_type]


def _change_file(con: Any, stem: Path, first: int, count: int, version: str) -> Path:
    """One projection's change file: every table's lines `{"table", "row"}`, written per table
    by DuckDB and joined (gzip members concatenated are one gzip file)."""
    from trigly.analytics import files
    from trigly.analytics.schema import TABLES

    joined = stem.with_name(f"{stem.name}{files.CHANGES_SUFFIX}")
    with joined.open("wb") as out:
        for table in TABLES:
            part = stem.with_name(f"{stem.name}-{table.name}.json.gz")
            sql = _rows_sql(table, first, count, f"'{version}'")
            con.execute(
                f'COPY (SELECT \'{table.name}\' AS "table", r AS "row" FROM ({sql}) r) '
                f"TO '{part}' (FORMAT json, COMPRESSION gzip)"
            )
            out.write(part.read_bytes())
            part.unlink()
    return joined


def _rows_sql(table: Any, first: int, count: int, version_sql: str) -> str:
    per = PER_CUSTOMER[table.name]
    columns = ", ".join(f'{_value(c.sql_type, c.name)} AS "{c.name}"' for c in table.columns)
    # n rows per customer: floor(per) always, one more for a share of them
    return f"""
        SELECT {columns} FROM (
            SELECT cid, n, {version_sql} AS ver
            FROM range({first}, {first + count}) AS c(cid),
                 range(0, {int(per) + 1}) AS r(n)
            WHERE n < {int(per)} OR hash(cid, '{table.name}') % 10 < {round((per % 1) * 10)}
        )"""


def run(customers: int, changed: int, pending: int = 60) -> dict[str, float]:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "TRIGLY_ARCHIVE_BUCKET": "bench-archive",
            "TRIGLY_MAIN_TABLE": "main",
            "TRIGLY_IDEMPOTENCY_TABLE": "idem",
            "TRIGLY_REJECTED_EVENTS_TABLE": "rejected",
            "TRIGLY_INGEST_QUEUE_URL": "https://sqs.example/ingest",
            "TRIGLY_EVENT_BUS": "bus",
            "TRIGLY_OUTBOUND_QUEUE_URL": "https://sqs.example/outbound",
            "TRIGLY_CHANNEL_QUEUE_URLS": '{"sms": "https://sqs.example/sms"}',
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    cache = Path(tempfile.mkdtemp(prefix="bench-view-"))
    os.environ["TRIGLY_ANALYTICS_CACHE"] = str(cache)
    from moto import mock_aws

    with mock_aws():
        import boto3
        import duckdb

        from trigly.analytics import files, view
        from trigly.analytics.compaction import compact_tenant
        from trigly.analytics.schema import TABLES
        from trigly.platform import aws
        from trigly.platform.settings import get_settings

        get_settings.cache_clear()
        aws.forget_clients()
        view.CACHE_DIR = cache / "trigly-view"
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="bench-archive")
        tenant = "ten_bench"
        work = Path(tempfile.mkdtemp(prefix="bench-rows-"))
        con = duckdb.connect()
        base_version = files.new_version()
        snapshot: dict[str, str] = {}
        started = time.perf_counter()
        for table in TABLES:
            path = work / f"{table.name}.parquet"
            sql = _rows_sql(table, 0, customers, f"'{base_version}'")
            con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
            key = files.snapshot_key(tenant, table.name, base_version)
            s3.upload_file(str(path), "bench-archive", key)
            snapshot[table.name] = key
        files.write_manifest(
            s3, "bench-archive", tenant, files.Manifest(version=base_version, snapshot=snapshot)
        )
        generated = time.perf_counter() - started
        # The night's projections: `changed` customers, BATCH to a change file
        change_files = 0
        for first in range(0, changed, BATCH):
            version = files.new_version()
            path = _change_file(
                con, work / f"{first}", first * 7 % customers, min(BATCH, changed - first), version
            )
            s3.upload_file(str(path), "bench-archive", files.change_key(tenant, version))
            change_files += 1
        started = time.perf_counter()
        view.local_files(s3, "bench-archive", tenant)  # the downloads alone
        download_s = time.perf_counter() - started
        started = time.perf_counter()
        done = compact_tenant(tenant)
        compaction_s = time.perf_counter() - started
        # A compaction ten minutes into the night: 30 batches since, the snapshot in its cache
        for first in range(0, 30 * BATCH, BATCH):
            version = files.new_version()
            path = _change_file(
                con, work / f"late-{first}", (first * 13 + 1) % customers, BATCH, version
            )
            s3.upload_file(str(path), "bench-archive", files.change_key(tenant, version))
        con.close()
        started = time.perf_counter()
        incremental = compact_tenant(tenant)
        incremental_s = time.perf_counter() - started
        shutil.rmtree(cache, ignore_errors=True)
        started = time.perf_counter()
        reader = view.open_view(tenant)
        cold_open_s = time.perf_counter() - started
        count_sql = """
            SELECT count(*) FROM customers c
            WHERE c.consent_sms_marketing AND c.visits_count >= 1
              AND c.last_visit_on < current_date - 365 AND c.region IN ('reg_1', 'reg_2', 'reg_3')
              AND EXISTS (SELECT 1 FROM cars k WHERE k.customer_id = c.customer_id
                          AND k.current AND k.year BETWEEN 2015 AND 150000)
        """
        started = time.perf_counter()
        reader.execute(count_sql).fetchall()
        cold_count_s = time.perf_counter() - started
        reader.close()
        started = time.perf_counter()
        reader = view.open_view(tenant)
        warm_open_s = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(5):
            reader.execute(count_sql).fetchall()
        warm_count_s = (time.perf_counter() - started) / 5
        reader.close()
        # A busy half hour between compactions (MIN_INTERVAL): `pending` projections of a few
        # customers each, not folded yet; a reader merges them all.
        con = duckdb.connect()
        for n in range(pending):
            version = files.new_version()
            path = _change_file(con, work / f"pending-{n}", (n * 31 + 7) % customers, 3, version)
            s3.upload_file(str(path), "bench-archive", files.change_key(tenant, version))
        con.close()
        opens: list[float] = []
        for cold in (True, False, False, False):
            if cold:
                shutil.rmtree(view.CACHE_DIR, ignore_errors=True)
            started = time.perf_counter()
            reader = view.open_view(tenant)
            opens.append(time.perf_counter() - started)
            reader.execute(count_sql).fetchall()
            reader.close()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "customers": customers,
        "changed": changed,
        "change_files": change_files,
        "rows": sum(done.rows.values()),
        "generate_s": round(generated, 2),
        "downloads_s": round(download_s, 2),
        "compaction_s": round(compaction_s, 2),  # with the files already in /tmp
        "compaction_fold_s": done.fold_seconds,
        "compaction_30_batches_s": round(incremental_s, 2),
        "compaction_30_batches_fold_s": incremental.fold_seconds,
        "snapshot_mb": round(done.snapshot_bytes / 1e6, 1),
        "open_cold_s": round(cold_open_s, 3),
        "count_cold_s": round(cold_count_s, 3),
        "open_warm_s": round(warm_open_s, 3),
        "count_warm_s": round(warm_count_s, 3),
        "pending_files": pending,
        "open_pending_cold_s": round(opens[0], 3),
        "open_pending_warm_s": round(min(opens[1:]), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--changed", type=int, default=60_000)
    parser.add_argument("--pending", type=int, default=60)
    args = parser.parse_args()
    print(run(args.customers, args.changed, args.pending))


if __name__ == "__main__":
    main()
