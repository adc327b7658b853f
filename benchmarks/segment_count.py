"""Segment count preview over one tenant's analytics snapshot: 10k / 100k / 1M customers.

    .venv/bin/python -m benchmarks.segment_count                 # 10,000, 100,000, 1,000,000
    .venv/bin/python -m benchmarks.segment_count --customers 100000

For each size: synthetic customers (1.2 cars each, 0.3 model views each) of one tenant, written
by DuckDB as zstd Parquet snapshots (one file per table) and put into moto's S3 (a moto server on
127.0.0.1, so a fresh process can read them). Then a **new Python process** does what a cold
Lambda does: import boto3 and duckdb, download the snapshots to its own /tmp folder, open a
DuckDB connection with the views `customers`, `cars`, `model_views` over the files, and answer
the count of a 5-condition segment with a car block (`trigly.analytics.sql.count_members`).
That is "cold"; the same query again on the open connection (files local) is "warm" (median of
5). The count is checked against DuckDB counting the generated rows directly.

The reader reads the files as the analytics view's reader will (boto3 download to /tmp, DuckDB
`read_parquet`); the snapshot keys here are this benchmark's own (`<tenant>/<table>.parquet`).
The OS page cache is not dropped (a shared machine): a cold Lambda reads /tmp it just wrote too.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

BUCKET = "trigly-analytics-bench"
TENANT = "ten_bench"
TABLES = ("customers", "cars", "model_views")
SIZES = (10_000, 100_000, 1_000_000)

CONDITIONS: dict[str, Any] = {
    "all": [
        {"field": "customer.city", "op": "in", "value": ["Москва", "Казань"]},
        {"field": "consent.sms.marketing", "op": "eq", "value": True},
        {
            "car": {
                "all": [
                    {"field": "car.make", "op": "eq", "value": "kia"},
                    {"field": "car.age_years", "op": "between", "value": [3, 5]},
                ]
            }
        },
        {"field": "visits.last_days_ago", "op": "gt", "value": 365},
    ]
}
RFM_CONDITIONS: dict[str, Any] = {
    "all": [
        {"field": "rfm.m", "op": "gte", "value": 4},
        {"field": "status", "op": "eq", "value": "dormant"},
    ]
}

# --- the snapshot ---------------------------------------------------------------------------


def _h(salt: str, modulo: int) -> str:
    """A pseudo-random 0..modulo-1 per row, stable across runs and engines' versions."""
    return f"CAST(hash(i, '{salt}') % {modulo} AS BIGINT)"


def _values(table: str, n: int, today: date) -> dict[str, str]:
    day = f"DATE '{today.isoformat()}'"
    if table == "customers":
        cities = "['Москва', 'Казань', 'Самара', 'Тула', 'Омск']"
        return {
            "customer_id": "'cus_' || lpad(CAST(i AS VARCHAR), 8, '0')",
            "version": "'01'",
            "erased": "FALSE",
            "region": "'RU-' || CAST(" + _h("region", 80) + " AS VARCHAR)",
            "city": f"{cities}[1 + {_h('city', 5)}]",
            "location_id": "'loc_' || CAST(" + _h("loc", 12) + " AS VARCHAR)",
            "preferred_channel": "['sms', 'email', 'telegram'][1 + " + _h("ch", 3) + "]",
            "timezone": "'Europe/Moscow'",
            "birth_date": f"{day} - CAST(6570 + {_h('birth', 18000)} AS INTEGER)",
            "consent_sms_marketing": f"{_h('sms', 10)} < 6",
            "consent_sms_service": "TRUE",
            "consent_email_marketing": f"{_h('email', 10)} < 4",
            "visits_count": _h("visits", 12),
            "last_visit_on": f"CASE WHEN {_h('lv', 10)} = 0 THEN NULL "
            f"ELSE {day} - CAST({_h('lastvisit', 1500)} AS INTEGER) END",
            "visits_total_amount": f"CAST({_h('vta', 300000)} AS DOUBLE)",
            "purchases_count": _h("purchases", 3),
            "last_purchase_on": f"CASE WHEN {_h('lp', 3)} = 0 THEN NULL "
            f"ELSE {day} - CAST({_h('lastpurchase', 3000)} AS INTEGER) END",
            "spend_total": f"CAST({_h('spend', 4000000)} AS DOUBLE)",
            "last_clicked_on": f"{day} - CAST({_h('click', 400)} AS INTEGER)",
        }
    if table == "cars":
        makes = "['Kia', 'Hyundai', 'Toyota', 'LADA', 'Skoda', 'Haval']"
        # The first n cars are one per customer, the rest (0.2 n) go to random customers.
        owner = f"CASE WHEN i < {n} THEN i ELSE {_h('owner', n)} END"
        return {
            "customer_id": f"'cus_' || lpad(CAST({owner} AS VARCHAR), 8, '0')",
            "version": "'01'",
            "vin": "'XW8' || lpad(CAST(i AS VARCHAR), 14, '0')",
            "current": f"{_h('current', 20)} > 0",
            "make": f"{makes}[1 + {_h('make', 6)}]",
            "model": "'Model ' || CAST(" + _h("model", 30) + " AS VARCHAR)",
            "year": f"{today.year} - CAST({_h('year', 15)} AS INTEGER)",
            "condition": f"CASE WHEN {_h('cond', 3)} = 0 THEN 'used' ELSE 'new' END",
            "first_registered_on": f"{day} - CAST({_h('reg', 5500)} AS INTEGER)",
            "mileage_km": f"CAST({_h('km', 200000)} AS DOUBLE)",
            "mileage_on": f"{day} - CAST({_h('kmon', 400)} AS INTEGER)",
            "km_per_day": f"CAST({_h('kmd', 80)} AS DOUBLE)",
            "maintenance_due_on": f"{day} + CAST({_h('due', 500)} - 150 AS INTEGER)",
        }
    return {
        "customer_id": f"'cus_' || lpad(CAST({_h('viewer', n)} AS VARCHAR), 8, '0')",
        "version": "'01'",
        "make": "'Kia'",
        "model": "['Rio', 'Sportage', 'K5'][1 + " + _h("viewed", 3) + "]",
        "last_viewed_on": f"{day} - CAST({_h('viewedon', 90)} AS INTEGER)",
    }


def write_snapshot(folder: Path, n: int, today: date) -> dict[str, int]:
    """The three tables as zstd Parquet files in `folder`; their sizes in bytes."""
    import duckdb

    from trigly.analytics.schema import TABLES_BY_NAME

    rows = {"customers": n, "cars": n * 6 // 5, "model_views": n * 3 // 10}
    conn = duckdb.connect()
    sizes = {}
    for name in TABLES:
        values = _values(name, n, today)
        columns = ", ".join(
            f'CAST({values.get(c.name, "NULL")} AS {c.sql_type}) AS "{c.name}"'
            for c in TABLES_BY_NAME[name].columns
        )
        path = folder / f"{name}.parquet"
        conn.execute(
            f"COPY (SELECT {columns} FROM range({rows[name]}) t(i)) TO '{path}' "
            "(FORMAT PARQUET, COMPRESSION ZSTD)"
        )
        sizes[name] = path.stat().st_size
    return sizes


# --- the reader (the child process) ---------------------------------------------------------


def read_and_count(endpoint: str, today_iso: str) -> dict[str, Any]:
    """In a fresh process: download, connect, count; then the warm repeats."""
    started = time.perf_counter()
    import boto3
    import duckdb

    from trigly.analytics import sql
    from trigly.segments.conditions import parse_conditions

    imported = time.perf_counter()
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-central-1")
    folder = Path(tempfile.mkdtemp(prefix="trigly-view-"))
    for name in TABLES:
        s3.download_file(BUCKET, f"{TENANT}/{name}.parquet", str(folder / f"{name}.parquet"))
    downloaded = time.perf_counter()
    conn = duckdb.connect()
    for name in TABLES:
        path = folder / f"{name}.parquet"
        conn.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    today = date.fromisoformat(today_iso)
    condition = parse_conditions(CONDITIONS)
    count = sql.count_members(conn, condition, today)
    counted = time.perf_counter()
    answered_at = time.time()
    warm = []
    for _ in range(5):
        t = time.perf_counter()
        sql.count_members(conn, condition, today)
        warm.append(time.perf_counter() - t)
    t = time.perf_counter()
    preview = sql.preview(conn, condition, today)
    preview_s = time.perf_counter() - t
    rfm = parse_conditions(RFM_CONDITIONS)
    sql.count_members(conn, rfm, today)
    t = time.perf_counter()
    rfm_count = sql.count_members(conn, rfm, today)
    rfm_s = time.perf_counter() - t
    return {
        "count": count,
        "answered_at": answered_at,
        "imports_s": imported - started,
        "download_s": downloaded - imported,
        "query_cold_s": counted - downloaded,
        "cold_in_process_s": counted - started,
        "warm_s": statistics.median(warm),
        "preview_warm_s": preview_s,
        "preview_sample": len(preview.sample),
        "rfm_count": rfm_count,
        "rfm_warm_s": rfm_s,
    }


def expected_count(folder: Path, today: date) -> int:
    """The same segment counted by hand over the files (no trigly SQL)."""
    import duckdb

    c, v = folder / "customers.parquet", folder / "cars.parquet"
    query = f"""
        SELECT count(*) FROM read_parquet('{c}') cu
        WHERE cu.city IN ('Москва', 'Казань') AND cu.consent_sms_marketing
          AND cu.last_visit_on < DATE '{today.isoformat()}' - INTERVAL 365 DAY
          AND EXISTS (SELECT 1 FROM read_parquet('{v}') ca WHERE ca.customer_id = cu.customer_id
            AND ca."current" AND lower(ca.make) = 'kia'
            AND ca.first_registered_on <= DATE '{today.isoformat()}' - INTERVAL 3 YEAR
            AND ca.first_registered_on > DATE '{today.isoformat()}' - INTERVAL 6 YEAR)
    """
    return int(duckdb.sql(query).fetchall()[0][0])


# --- the driver -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure(n: int, endpoint: str, today: date) -> dict[str, Any]:
    import boto3

    with tempfile.TemporaryDirectory(prefix="trigly-snapshot-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        sizes = write_snapshot(folder, n, today)
        written = time.perf_counter() - t
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-central-1")
        for name in TABLES:
            s3.upload_file(str(folder / f"{name}.parquet"), BUCKET, f"{TENANT}/{name}.parquet")
        expected = expected_count(folder, today)
    spawned_at = time.time()
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.segment_count", "--child", endpoint, today.isoformat()],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    )
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    spawn_to_answer = result.pop("answered_at") - spawned_at
    if result["count"] != expected:
        raise SystemExit(f"count {result['count']} != expected {expected} at {n}")
    return {
        "customers": n,
        "write_s": written,
        "bytes": sizes,
        "process_s": spawn_to_answer,
        **result,
    }


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "| customers | snapshot (zstd) | count | cold: process start → answer "
        "| of it: imports, S3 download, first query | warm count "
        "| warm preview (count + 20 ids) | warm RFM + status count |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        mb = sum(r["bytes"].values()) / 1e6
        lines.append(
            f"| {r['customers']:,} | {mb:.1f} MB | {r['count']:,} | {r['process_s']:.2f} s | "
            f"{r['imports_s']:.2f} s, {r['download_s']:.2f} s, {r['query_cold_s']:.3f} s | "
            f"{r['warm_s'] * 1000:.0f} ms | {r['preview_warm_s'] * 1000:.0f} ms | "
            f"{r['rfm_warm_s'] * 1000:.0f} ms |"
        )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return "\n".join([*lines, "", f"load average at the end: {load}"])


def run(sizes: list[int]) -> str:
    """Every size against one moto server; the report's table."""
    import boto3
    from moto.server import ThreadedMotoServer

    from trigly.platform import clock

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server's access log
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ.setdefault(name, value)
    today = clock.now().astimezone(ZoneInfo("Europe/Moscow")).date()
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boto3.client("s3", endpoint_url=endpoint, region_name="eu-central-1").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
        )
        results = []
        for n in sizes:
            results.append(measure(n, endpoint, today))
            print(f"{n:,} customers: {json.dumps(results[-1])}", file=sys.stderr)
    finally:
        server.stop()
    return "Segment count (5 conditions with a car block; cold = a new process)\n" + report(results)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.segment_count", description=__doc__)
    parser.add_argument("--customers", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--child", nargs=2, metavar=("ENDPOINT", "TODAY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(read_and_count(*args.child)))
        return
    print(run(args.customers))


if __name__ == "__main__":
    main()
