"""Journey worker: starts and advances journey runs, one queue message at a time.

The journey queue carries domain events (an EventBridge rule sends every one), tenants' days and
the date triggers their jobs found due, and what the hourly tick found due: runs whose wait
ended, held messages to release and sent messages to follow up by the next channel. Failed
records are reported per record and retried; a poison message ends in the DLQ (with an alarm).
"""

from trigly.platform.startup import init_phase

with init_phase():
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from trigly.journeys.worker import handle
    from trigly.platform.batches import SQSRecord, process_partial_batch
    from trigly.platform.observability import logger, metrics, traced_handler


def handle_record(record: SQSRecord) -> None:
    handle(record["body"])


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_batch(event, handle_record)
