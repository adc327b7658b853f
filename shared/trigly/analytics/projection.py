"""The projection: changed customers → their rows → change files in S3 (ADR 0022).

Per tenant and batch, each customer's collection is read once (one strongly consistent Query,
paged), its rows built by `analytics.rows`, and every table's rows of the batch written as one
gzipped NDJSON file (one PUT) under one new version. A customer without a profile (erased, or
merged into another) gets a tombstone. No DuckDB here: the projection's cold start stays light.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from trigly.analytics import files
from trigly.analytics.rows import Rows, as_json_rows, customer_rows, tombstone
from trigly.analytics.schema import TABLES
from trigly.platform import aws, clock
from trigly.platform.settings import get_settings
from trigly.profiles.collection import profile_and_history
from trigly.profiles.model import CustomerProfile
from trigly.profiles.records import CustomerHistory
from trigly.store import keys
from trigly.store.models import MainItem, bind


@dataclass(frozen=True)
class Projected:
    version: str
    customers: int
    erased: int
    rows: dict[str, int]  # table → rows written


def load_customer(
    tenant_id: str, customer_id: str
) -> tuple[CustomerProfile, CustomerHistory] | None:
    """The profile and its whole history, read as the 360° view reads it (profiles.service),
    but every page and strongly consistent: the notice came after the write it announces."""
    bind()
    query = MainItem.query(keys.customer(tenant_id, customer_id), consistent_read=True)
    profile, history = profile_and_history(query)
    return None if profile is None else (profile, history)


def rows_for(tenant_id: str, customer_ids: Iterable[str], version: str, now: datetime) -> Rows:
    rows: Rows = {table.name: [] for table in TABLES}
    for customer_id in sorted(set(customer_ids)):
        loaded = load_customer(tenant_id, customer_id)
        found = (
            customer_rows(loaded[0], loaded[1], version, now)
            if loaded
            else tombstone(customer_id, version)
        )
        for table, table_rows in found.items():
            rows[table].extend(table_rows)
    return rows


def write_changes(tenant_id: str, rows: Rows, version: str) -> dict[str, int]:
    """Every table's rows of the version in one change file, one PUT: a reader or a compaction
    sees the whole version or none of it (and a projection costs one request, ADR 0022)."""
    json_rows = {table: found for table, found in as_json_rows(rows).items() if found}
    aws.s3().put_object(
        Bucket=get_settings().archive_bucket,
        Key=files.change_key(tenant_id, version),
        Body=files.change_body(json_rows),
        ContentType="application/x-ndjson",
        ContentEncoding="gzip",
    )
    return {table: len(found) for table, found in json_rows.items()}


def project(tenant_id: str, customer_ids: Iterable[str]) -> Projected:
    """Rewrite these customers' rows in the tenant's view (a new version for all of them)."""
    ids = sorted(set(customer_ids))
    # Taken before the reads: a later version never holds older data than an earlier one.
    version = files.new_version()
    rows = rows_for(tenant_id, ids, version, clock.now())
    written = write_changes(tenant_id, rows, version) if ids else {}
    erased = sum(1 for row in rows["customers"] if row.get("erased"))
    return Projected(version, len(ids), erased, written)
