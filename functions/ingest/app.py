"""Ingest worker: applies queued events; a failed record is retried alone (partial batch), a
failed event of a several-event record is queued again alone (trigly.ingest.apply)."""

from trigly.platform.startup import init_phase

with init_phase():
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from trigly.ingest.apply import Applied, apply_message
    from trigly.platform.batches import SQSRecord, process_partial_batch
    from trigly.platform.observability import logger, metrics, traced_handler


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes: list[Applied] = []

    def apply_record(record: SQSRecord) -> None:
        outcomes.append(apply_message(record["body"]))

    response = process_partial_batch(event, apply_record)
    applied = sum(o.applied for o in outcomes)
    metrics.add_metric(name="EventsApplied", unit="Count", value=applied)
    metrics.add_metric(name="EventsRequeued", unit="Count", value=sum(o.requeued for o in outcomes))
    # Messages retried whole: their events are counted when a retry applies them.
    metrics.add_metric(
        name="MessagesFailed", unit="Count", value=len(response["batchItemFailures"])
    )
    return response
