"""Analytics compaction (EventBridge Scheduler, every 15 minutes): each tenant with change
files gets a new Parquet snapshot (trigly.analytics.compaction). One runs at a time."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from trigly.platform.observability import logger, metrics, traced_handler


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from trigly.analytics.compaction import compact_all

    done = [c for c in compact_all() if c.version is not None]
    for compacted in done:
        logger.info(
            "compacted",
            extra={
                "tenant_id": compacted.tenant_id,
                "version": compacted.version,
                "folded": compacted.folded,
                "bytes": compacted.snapshot_bytes,
                **compacted.rows,
            },
        )
    metrics.add_metric(name="TenantsCompacted", unit="Count", value=len(done))
    return {"tenants": len(done), "folded": sum(c.folded for c in done)}
