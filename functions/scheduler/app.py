"""Hourly tick (EventBridge Scheduler): releases held messages whose moment came.

Reads only what is due (the `due` index, this hour's and the last hour's buckets). The lifecycle
work (maintenance, tyres, journeys) joins this tick, reading its own due items per tenant.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from trigly.messaging.service import release_due
from trigly.platform import clock
from trigly.platform.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    released = release_due(clock.now())
    logger.info("hourly tick", extra={"messages_released": released})
    metrics.add_metric(name="MessagesReleased", unit="Count", value=released)
    return {"messages_released": released}
