"""Ingest worker: applies queued events; a failed record is retried alone (partial batch)."""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from trigly.ingest.apply import apply_message
from trigly.platform.observability import logger, metrics, traced_handler

# Failed records are reported, not raised: a batch that fails whole is still a partial answer.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def apply_record(record: SQSRecord) -> None:
    apply_message(record.body)


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=apply_record, processor=processor, context=context
    )
    failed = len(response["batchItemFailures"])
    metrics.add_metric(name="EventsApplied", unit="Count", value=len(event["Records"]) - failed)
    metrics.add_metric(name="EventsFailed", unit="Count", value=failed)
    return response
