"""Hourly tick (EventBridge Scheduler): queues everything that fell due since the last tick, read
by time from the `due` index, never scanned — held messages, fallbacks, journey runs whose wait
ended, and the day's job of each tenant whose local morning came. The decisions run in the
journey worker; a missed tick's hours are caught up by the next (trigly.scheduling.tick)."""

from trigly.platform.startup import init_phase

with init_phase():
    from dataclasses import asdict
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from trigly.platform import clock
    from trigly.platform.clock import isoformat
    from trigly.platform.observability import logger, metrics, traced_handler


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from trigly.scheduling.tick import hourly_tick

    tick = hourly_tick(clock.now())
    result = {
        name: isoformat(value) if name in ("after", "through") and value else value
        for name, value in asdict(tick).items()
    }
    logger.info("hourly tick", extra=result)
    metrics.add_metric(name="HeldMessagesDue", unit="Count", value=tick.held_messages)
    metrics.add_metric(name="JourneyRunsDue", unit="Count", value=tick.runs)
    metrics.add_metric(name="LifecycleTenantDays", unit="Count", value=tick.tenant_days)
    metrics.add_metric(name="TickBehind", unit="Count", value=0 if tick.caught_up else 1)
    return result
