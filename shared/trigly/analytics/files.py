"""Where the analytics view lives in S3, and the versions that order its files (ADR 0022).

    analytics/changes/tenant={tenant}/{version}.ndjson.gz           one per projection: every
                                                                    table's rows of the version
    analytics/snapshot/{table}/tenant={tenant}/{version}.parquet    the compacted rows (Glue's
                                                                    partition layout)
    analytics/manifest/tenant={tenant}.json                         the current snapshot files and
                                                                    the change files folded in

A change file is written with one PUT, so a reader sees a whole version or none of it; each line
is `{"table": name, "row": {...}}`. Change and snapshot files are immutable (a new version is a
new key), so a reader caches them by key. This module is light (no DuckDB): the projection
function imports it on its cold start.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ulid import ULID

from trigly.platform import clock

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PREFIX = "analytics"
CHANGES_SUFFIX = ".ndjson.gz"


class _Versions:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last = 0


_versions = _Versions()


def new_version() -> str:
    """A ULID from business time, strictly increasing within the process: two projections of one
    customer in the same millisecond (a frozen test clock) still order as they ran."""
    with _versions.lock:
        candidate = int(ULID.from_datetime(clock.now()))
        _versions.last = candidate if candidate > _versions.last else _versions.last + 1
        return str(ULID.from_int(_versions.last))


def version_at(moment: datetime) -> str:
    """The smallest version written at `moment` (compares with versions as strings)."""
    return str(ULID.from_timestamp(moment.timestamp()))[:10] + "0" * 16


def version_time(version: str) -> datetime:
    return ULID.from_str(version).datetime


def changes_prefix(tenant_id: str) -> str:
    return f"{PREFIX}/changes/tenant={tenant_id}/"


def change_key(tenant_id: str, version: str) -> str:
    return f"{changes_prefix(tenant_id)}{version}{CHANGES_SUFFIX}"


def snapshot_key(tenant_id: str, table: str, version: str) -> str:
    return f"{PREFIX}/snapshot/{table}/tenant={tenant_id}/{version}.parquet"


def manifest_key(tenant_id: str) -> str:
    return f"{PREFIX}/manifest/tenant={tenant_id}.json"


def tenant_of_change(key: str) -> str | None:
    """`analytics/changes/tenant=X/...` → X."""
    parts = key.split("/")
    if len(parts) < 4 or parts[1] != "changes" or not parts[2].startswith("tenant="):
        return None
    return parts[2].removeprefix("tenant=")


# A tombstone is kept this long after the snapshot dropped the customer's rows, so a projection
# that loaded the customer before the erasure and wrote its file late cannot bring them back.
TOMBSTONE_DAYS = 7


@dataclass
class Manifest:
    """The tenant's current snapshot: one Parquet file per table (absent: no rows yet), the change
    files already folded into it (a reader skips them; compaction deletes them), and the recent
    tombstones (customer id → version of the erasure)."""

    version: str | None = None
    snapshot: dict[str, str] = field(default_factory=dict)  # table → key
    folded: list[str] = field(default_factory=list)
    tombstones: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> str:
        return json.dumps(
            {
                "version": self.version,
                "snapshot": self.snapshot,
                "folded": sorted(self.folded),
                "tombstones": self.tombstones,
            },
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, text: str | bytes) -> Manifest:
        data = json.loads(text)
        return cls(
            version=data.get("version"),
            snapshot=dict(data.get("snapshot") or {}),
            folded=list(data.get("folded") or []),
            tombstones=dict(data.get("tombstones") or {}),
        )

    def live_tombstones(self, now: datetime) -> dict[str, str]:
        cutoff = version_at(now - timedelta(days=TOMBSTONE_DAYS))
        return {c: v for c, v in self.tombstones.items() if v >= cutoff}


def read_manifest(s3: S3Client, bucket: str, tenant_id: str) -> Manifest:
    try:
        body = s3.get_object(Bucket=bucket, Key=manifest_key(tenant_id))["Body"].read()
    except s3.exceptions.NoSuchKey:
        return Manifest()
    return Manifest.parse(body)


def write_manifest(s3: S3Client, bucket: str, tenant_id: str, manifest: Manifest) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=manifest_key(tenant_id),
        Body=manifest.as_json().encode(),
        ContentType="application/json",
    )


def list_keys(s3: S3Client, bucket: str, prefix: str) -> list[str]:
    found: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.extend(o["Key"] for o in page.get("Contents", []))
    return found


def change_files(s3: S3Client, bucket: str, tenant_id: str) -> list[str]:
    """The tenant's change files, oldest first (the version leads each name)."""
    keys = [k for k in list_keys(s3, bucket, changes_prefix(tenant_id)) if k.endswith(".gz")]
    return sorted(keys, key=lambda k: k.rsplit("/", 1)[-1])


def change_body(rows_by_table: Mapping[str, Iterable[Mapping[str, Any]]]) -> bytes:
    """A change file's bytes: one gzipped NDJSON line per row, `{"table": name, "row": {...}}`
    (rows already as `rows.json_row` gives them)."""
    text = "".join(
        json.dumps({"table": table, "row": row}, ensure_ascii=False, separators=(",", ":")) + "\n"
        for table, rows in rows_by_table.items()
        for row in rows
    )
    return gzip.compress(text.encode(), compresslevel=6, mtime=0)
