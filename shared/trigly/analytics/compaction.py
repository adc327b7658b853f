"""Compaction: a tenant's snapshot plus its change files → a new snapshot (ADR 0022).

Per table, the live rows the reader's views show (newest version per customer, erased ones
gone) are written as one zstd Parquet file under a new version; then the manifest names them and
the change files folded in; then those change files and the previous snapshot are deleted. A
change file written while a compaction runs was not listed by it: it is not in `folded`, so
readers keep reading it and the next compaction folds it (never lost, never counted twice).
A crash after the manifest leaves folded files behind: the next run deletes them first.

Demand-driven, not on a clock (analytics.requests): every projection asks for its tenant's
compaction, delayed by COMPACT_AFTER; the compaction function (reserved concurrency 1: one runs
at a time) folds a tenant at most every MIN_INTERVAL and, asked sooner, asks again for when it
is due. A quiet tenant costs nothing; a busy one is compacted about every half hour; the last
change of a burst is folded within COMPACT_AFTER + MIN_INTERVAL. `trigly analytics rebuild`
compacts directly.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from trigly.analytics import files, view
from trigly.analytics.schema import TABLES
from trigly.platform import aws, clock
from trigly.platform.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DELETE_BATCH = 1000  # DeleteObjects' limit


@dataclass(frozen=True)
class Compacted:
    tenant_id: str
    version: str | None  # None: nothing was pending
    folded: int  # change files folded in
    rows: dict[str, int]  # table → live rows in the new snapshot
    tombstones: int
    snapshot_bytes: int
    fold_seconds: float = 0.0  # DuckDB's share (the rest is S3)


def tenants_with_changes(s3: S3Client, bucket: str) -> list[str]:
    """Tenants that have change files (one listing of the `changes/` prefix's folders)."""
    found: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=f"{files.PREFIX}/changes/", Delimiter="/"):
        for prefix in page.get("CommonPrefixes", []):
            tenant = files.tenant_of_change(prefix["Prefix"] + "x/")
            if tenant:
                found.append(tenant)
    return sorted(found)


def _delete(s3: S3Client, bucket: str, keys: list[str]) -> None:
    for start in range(0, len(keys), DELETE_BATCH):
        chunk = keys[start : start + DELETE_BATCH]
        s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
        )


def compact_tenant(
    tenant_id: str, *, force: bool = False, drop_older_than: str | None = None
) -> Compacted:
    """Fold the tenant's pending change files into a new snapshot (`force`: write a snapshot
    even with nothing pending; `drop_older_than`: a version before which every customer's rows
    are dropped — a rebuild's start)."""
    s3 = aws.s3()
    bucket = get_settings().archive_bucket
    now = clock.now()
    manifest, snapshot, changes, pending = view.local_files(s3, bucket, tenant_id)
    listed_folded = [
        key for key in files.change_files(s3, bucket, tenant_id) if key in set(manifest.folded)
    ]
    if listed_folded:  # left behind by a compaction that stopped after its manifest
        _delete(s3, bucket, listed_folded)
    if not pending and not force:
        return Compacted(tenant_id, None, 0, {}, len(manifest.tombstones), 0)
    folding = time.perf_counter()
    con = view.build_views(view.connect(), snapshot, changes, manifest.live_tombstones(now))
    version = files.new_version()
    cutoff = files.version_at(now - timedelta(days=files.TOMBSTONE_DAYS))
    tombstones = {c: v for c, v in view.erased_since_snapshot(con).items() if v >= cutoff}
    work = Path(tempfile.mkdtemp(prefix="trigly-compact-"))
    fold_seconds = time.perf_counter() - folding
    new_snapshot: dict[str, str] = {}
    counts: dict[str, int] = {}
    size = 0
    try:
        for table in TABLES:
            path = work / f"{table.name}.parquet"
            kept = f" WHERE version >= '{drop_older_than}'" if drop_older_than else ""
            folding = time.perf_counter()
            con.execute(
                f"COPY (SELECT * FROM {table.name}{kept}) TO '{path}' "
                "(FORMAT parquet, COMPRESSION zstd)"
            )
            fold_seconds += time.perf_counter() - folding
            found = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()
            counts[table.name] = int(found[0]) if found else 0
            key = files.snapshot_key(tenant_id, table.name, version)
            size += path.stat().st_size
            s3.upload_file(str(path), bucket, key)
            new_snapshot[table.name] = key
            # The next compaction in this container starts from it without downloading it.
            view.keep_in_cache(bucket, key, path)
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)
    files.write_manifest(
        s3,
        bucket,
        tenant_id,
        files.Manifest(
            version=version, snapshot=new_snapshot, folded=pending, tombstones=tombstones
        ),
    )
    # Readers holding the old manifest find the old snapshot gone and read again (view.OPEN_
    # ATTEMPTS); Athena must never see two snapshots in one partition.
    _delete(
        s3,
        bucket,
        pending + [k for k in manifest.snapshot.values() if k not in new_snapshot.values()],
    )
    return Compacted(
        tenant_id, version, len(pending), counts, len(tombstones), size, round(fold_seconds, 3)
    )


def compact_all() -> list[Compacted]:
    """Every tenant with change files (an operator's catch-up)."""
    s3 = aws.s3()
    bucket = get_settings().archive_bucket
    return [compact_tenant(tenant) for tenant in tenants_with_changes(s3, bucket)]
