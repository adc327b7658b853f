"""Hourly tick (EventBridge Scheduler): everything whose moment came, read by time, never scanned.

- held messages whose quiet hours or frequency cap ended (the `due` index, this hour and the last);
- journey runs whose wait ended (the same index, their own buckets), queued to the journey worker;
- for each tenant whose local morning it is, the day's date triggers (maintenance reminders,
  renewals...: the index keyed by tenant and day), queued to the journey worker.
The tick itself only reads and queues; the work fans out through SQS.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from trigly.platform import clock
from trigly.platform.observability import logger, metrics, traced_handler


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from trigly.journeys.service import daily_job, journey_tick
    from trigly.messaging.service import fall_back, release_due
    from trigly.store.due import due_work

    now = clock.now()
    due = due_work(now)  # one Query per hour bucket, whatever waits in it
    result = {
        "messages_released": release_due(now, due.messages),
        "fallbacks_sent": fall_back(now, due.fallbacks),
        "runs_due": journey_tick(now, due.runs),
        "tenant_days_queued": daily_job(now),
    }
    logger.info("hourly tick", extra=result)
    metrics.add_metric(name="MessagesReleased", unit="Count", value=result["messages_released"])
    metrics.add_metric(name="JourneyRunsDue", unit="Count", value=result["runs_due"])
    metrics.add_metric(name="LifecycleTenantDays", unit="Count", value=result["tenant_days_queued"])
    return result
