"""Analytics compaction: requests (SQS, one per projection, delayed) → each tenant's change files
folded into a new Parquet snapshot (trigly.analytics.compaction). The function's reserved
concurrency is 1: one compaction at a time. A tenant compacted less than MIN_INTERVAL ago is
asked for again when it is due, so a burst is folded once, not once per projection."""

from trigly.platform.startup import init_phase

with init_phase():
    from datetime import timedelta
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from trigly.analytics import compaction, requests
    from trigly.platform.observability import logger, metrics, traced_handler


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records_of: dict[str, list[str]] = {}
    for record in event["Records"]:
        try:
            tenant_id = requests.parse(record["body"])
        except (ValueError, KeyError, TypeError):
            logger.warning(
                "malformed compaction request", extra={"message_id": record["messageId"]}
            )
            continue
        records_of.setdefault(tenant_id, []).append(record["messageId"])
    failures: list[dict[str, str]] = []
    compacted = later = 0
    for tenant_id, message_ids in sorted(records_of.items()):
        try:
            wait = requests.wait_before_compacting(tenant_id)
            if wait > timedelta(0):
                requests.request_compaction([tenant_id], wait)
                later += 1
                continue
            done = compaction.compact_tenant(tenant_id)
        except Exception as error:
            logger.warning(
                "compaction failed; its requests are delivered again",
                extra={"tenant_id": tenant_id, "error": type(error).__name__},
            )
            failures.extend({"itemIdentifier": m} for m in message_ids)
            continue
        if done.version is not None:
            compacted += 1
            logger.info(
                "compacted",
                extra={
                    "tenant_id": tenant_id,
                    "version": done.version,
                    "folded": done.folded,
                    "bytes": done.snapshot_bytes,
                    **done.rows,
                },
            )
    metrics.add_metric(name="TenantsCompacted", unit="Count", value=compacted)
    metrics.add_metric(name="CompactionsPostponed", unit="Count", value=later)
    return {"batchItemFailures": failures}
