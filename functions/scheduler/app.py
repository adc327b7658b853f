"""Hourly tick (EventBridge Scheduler): finds the tenants whose local morning it is.

Due work per tenant (maintenance, tyres, journeys) is read from the `due` index by later parts.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from trigly.messaging.service import release_due
from trigly.platform import clock
from trigly.platform.observability import logger, metrics, tracer
from trigly.platform.schedule import tenants_in_morning


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tenants = tenants_in_morning()
    released = release_due(clock.now())
    logger.info(
        "hourly tick", extra={"tenants_in_morning": len(tenants), "messages_released": released}
    )
    metrics.add_metric(name="TenantsInMorning", unit="Count", value=len(tenants))
    metrics.add_metric(name="MessagesReleased", unit="Count", value=released)
    return {"tenants": tenants, "messages_released": released}
