"""Rebuilding a tenant's analytics view from the tables (`trigly analytics rebuild`): for a new
column, or after a bug. An operator's command, never a request or schedule path (ADR 0022).

The tenant's customers are found by a parallel Scan of the main table filtered to the tenant's
profile items: no index lists a tenant's customers, and keeping one written on every upsert
would cost every ingest for a command run a few times a year. The Scan reads the whole table
(every tenant's items count against it), which is why only an operator runs it.
Each customer is then projected as the projection function would (new versions), and the tenant
compacted with every row older than the rebuild dropped: a customer the Scan did not find (gone
without a tombstone, e.g. before the view existed) leaves the view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from trigly.analytics import files
from trigly.analytics.compaction import Compacted, compact_tenant
from trigly.analytics.projection import project
from trigly.platform import aws
from trigly.platform.settings import get_settings
from trigly.store import keys
from trigly.store.customers import PROFILE_SK

SCAN_SEGMENTS = 8
BATCH = 200  # customers a change file (one version) holds
THREADS = 8


@dataclass(frozen=True)
class Rebuilt:
    tenant_id: str
    customers: int
    compacted: Compacted


def _segment(tenant_id: str, segment: int, total: int) -> Iterator[str]:
    prefix = keys.customer(tenant_id, "")
    paginator = aws.dynamodb().get_paginator("scan")
    pages = paginator.paginate(
        TableName=get_settings().main_table,
        Segment=segment,
        TotalSegments=total,
        FilterExpression="begins_with(pk, :prefix) AND sk = :profile",
        ExpressionAttributeValues={":prefix": {"S": prefix}, ":profile": {"S": PROFILE_SK}},
        ProjectionExpression="pk",
    )
    for page in pages:
        for item in page.get("Items", []):
            yield item["pk"]["S"].removeprefix(prefix)


def tenant_customers(tenant_id: str, segments: int = SCAN_SEGMENTS) -> list[str]:
    """Every customer of the tenant with a profile (a parallel Scan, `segments` at once)."""
    with ThreadPoolExecutor(max_workers=segments) as pool:
        found = pool.map(lambda s: list(_segment(tenant_id, s, segments)), range(segments))
        return sorted({customer for part in found for customer in part})


def rebuild(
    tenant_id: str,
    *,
    found: Callable[[int], None] = lambda total: None,
    progress: Callable[[int], None] = lambda done: None,
    segments: int = SCAN_SEGMENTS,
    batch: int = BATCH,
) -> Rebuilt:
    """Scan, project in batches (`progress` gets each batch's size), then compact."""
    started = files.new_version()
    aws.dynamodb(), aws.s3()  # created here: botocore's client creation is not thread-safe
    customers = tenant_customers(tenant_id, segments)
    found(len(customers))
    batches = [customers[i : i + batch] for i in range(0, len(customers), batch)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for projected in pool.map(lambda ids: project(tenant_id, ids), batches):
            progress(projected.customers)
    compacted = compact_tenant(tenant_id, force=True, drop_older_than=started)
    return Rebuilt(tenant_id, len(customers), compacted)
