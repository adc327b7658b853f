"""POST /v1/webhooks/{connector_id}: signed DMS events in, 202 with per-event outcomes out.

Kept free of the API resolver so its cold start stays close to a bare boto3 script.
"""

from trigly.platform.startup import init_phase

with init_phase():
    from typing import Any

    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from trigly.ingest.intake import receive_webhook
    from trigly.platform.errors import TriglyError
    from trigly.platform.http import json_response, problem_response, raw_body
    from trigly.platform.observability import logger, metrics, traced_handler


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@traced_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    connector_id = (event.get("pathParameters") or {}).get("connector_id", "")
    try:
        receipt = receive_webhook(connector_id, event.get("headers") or {}, raw_body(event))
    except TriglyError as error:
        logger.info("webhook refused", extra={"status": error.status, "reason": error.slug})
        return problem_response(error, instance=event.get("rawPath"))
    metrics.add_metric(name="EventsAccepted", unit="Count", value=receipt.accepted)
    metrics.add_metric(name="EventsRejected", unit="Count", value=len(receipt.rejected))
    return json_response(202, receipt.as_response())
