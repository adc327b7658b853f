"""Analytics projection: change notices (SQS) → the changed customers' rows → change files in S3.

Notices of one batch are grouped by tenant and each customer is projected once, however many
notices named them (trigly.analytics.projection). A tenant whose projection fails has its
records delivered again; the others' stand. No DuckDB here (ADR 0019, 0022).
"""

from trigly.platform.startup import init_phase

with init_phase():
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from trigly.analytics import notices
    from trigly.analytics.projection import project
    from trigly.analytics.requests import request_compaction
    from trigly.platform.observability import logger, metrics, traced_handler


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    by_tenant: dict[str, set[str]] = {}
    records_of: dict[str, list[str]] = {}
    failures: list[dict[str, str]] = []
    for record in event["Records"]:
        try:
            tenant_id, customer_ids = notices.parse(record["body"])
        except (ValueError, KeyError, TypeError):
            # Never valid, never will be: dropped (logged), not retried into the DLQ.
            logger.warning("malformed change notice", extra={"message_id": record["messageId"]})
            continue
        by_tenant.setdefault(tenant_id, set()).update(customer_ids)
        records_of.setdefault(tenant_id, []).append(record["messageId"])
    customers = 0
    projected_tenants: list[str] = []
    for tenant_id, customer_ids in sorted(by_tenant.items()):
        try:
            projected = project(tenant_id, customer_ids)
        except Exception as error:
            logger.warning(
                "projection failed; its notices are delivered again",
                extra={"tenant_id": tenant_id, "error": type(error).__name__},
            )
            failures.extend({"itemIdentifier": m} for m in records_of[tenant_id])
            continue
        customers += projected.customers
        projected_tenants.append(tenant_id)
        try:  # segments that start journeys look at these customers again (rows are out)
            from trigly.segments.membership import segment_changes

            segment_changes(tenant_id, customer_ids)
        except Exception:  # the tenant's daily pass finds what this one missed
            logger.exception("segment re-evaluation not queued")
        logger.info(
            "projected",
            extra={"tenant_id": tenant_id, "version": projected.version, **projected.rows},
        )
    try:
        request_compaction(projected_tenants)
    except Exception:  # the next projection of the tenant asks again
        logger.exception("compaction not requested")
    metrics.add_metric(name="CustomersProjected", unit="Count", value=customers)
    return {"batchItemFailures": failures}
