"""Outbound worker: delivers Trigly's events to DMS connectors (CONTRACT §2b)."""

from trigly.platform.startup import init_phase

with init_phase():
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from trigly.outbound.delivery import deliver_message
    from trigly.platform.batches import SQSRecord, process_partial_batch, receive_count
    from trigly.platform.observability import logger, metrics, traced_handler


def deliver_record(record: SQSRecord) -> None:
    deliver_message(
        record["body"],
        receipt_handle=record["receiptHandle"],
        receive_count=receive_count(record),
    )


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_batch(event, deliver_record)
