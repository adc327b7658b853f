"""Compaction requests: the projection asks, the compaction function answers (ADR 0022).

A small adapter (ADR 0021) without DuckDB, so the projection can ask on its light cold start.
"""

from __future__ import annotations

import json
from datetime import timedelta

from trigly.analytics import files
from trigly.platform import aws, clock
from trigly.platform.settings import get_settings

COMPACT_AFTER = timedelta(minutes=5)  # a request's delay: a burst's changes fold together
# Between two compactions of one tenant: each costs ~9 PUTs (6 Parquet files, the manifest, the
# listings) whatever it folds, and readers merge the ~30-60 small change files a busy half hour
# leaves in well under a second (ADR 0022). Longer than SQS's 15-min delay: a request asked
# again waits twice.
MIN_INTERVAL = timedelta(minutes=30)
SQS_MAX_DELAY = 900  # seconds


def wait_before_compacting(tenant_id: str) -> timedelta:
    """How long until the tenant may be compacted again (zero: now)."""
    manifest = files.read_manifest(aws.s3(), get_settings().archive_bucket, tenant_id)
    if manifest.version is None:
        return timedelta(0)
    due = files.version_time(manifest.version) + MIN_INTERVAL
    return max(timedelta(0), due - clock.now())


def request_compaction(tenant_ids: list[str], delay: timedelta = COMPACT_AFTER) -> None:
    """Ask for these tenants' compaction in `delay` (without a queue, e.g. the CLI: nothing)."""
    url = get_settings().analytics_compaction_queue_url
    if not url or not tenant_ids:
        return
    seconds = max(0, min(SQS_MAX_DELAY, round(delay.total_seconds())))
    for start in range(0, len(tenant_ids), aws.SQS_BATCH):
        chunk = tenant_ids[start : start + aws.SQS_BATCH]
        response = aws.sqs().send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": json.dumps({"tenant_id": t}), "DelaySeconds": seconds}
                for i, t in enumerate(chunk)
            ],
        )
        if response.get("Failed"):
            raise RuntimeError(f"{len(response['Failed'])} compaction requests not queued")


def parse(body: str) -> str:
    return str(json.loads(body)["tenant_id"])
