"""Channel worker: sends each queued message through its provider, at most once.

Records of a batch go concurrently (trigly.messaging.worker); failures are reported per record
(`ReportBatchItemFailures`). A record the provider asked to retry later comes back after the wait
it named (its visibility timeout is shortened to it) rather than the queue's full timeout.
"""

from trigly.platform.startup import init_phase

with init_phase():
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from trigly.messaging.worker import deliver_batch
    from trigly.platform.observability import logger, metrics, traced_handler

MAX_WAIT = 900  # seconds: a provider's Retry-After is honoured up to 15 minutes


def _hand_back(record: dict[str, Any], seconds: float) -> None:
    """Make the record visible again after `seconds` instead of the queue's visibility timeout."""
    from trigly.platform import aws
    from trigly.platform.settings import get_settings

    name = record["eventSourceARN"].rsplit(":", 1)[-1]
    queue_url = next(
        url for url in get_settings().channel_queue_urls.values() if url.endswith(f"/{name}")
    )
    aws.sqs().change_message_visibility(
        QueueUrl=queue_url,
        ReceiptHandle=record["receiptHandle"],
        VisibilityTimeout=max(1, min(MAX_WAIT, round(seconds))),
    )


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = {r["messageId"]: r for r in event.get("Records", [])}
    failed = deliver_batch(
        [(item_id, r["body"]) for item_id, r in records.items()],
        context.get_remaining_time_in_millis,
    )
    for failure in failed:
        if failure.retry_after is not None:
            try:
                _hand_back(records[failure.item_id], failure.retry_after)
            except Exception:  # the queue's own visibility timeout still brings it back
                logger.exception("could not shorten the wait")
    return {"batchItemFailures": [{"itemIdentifier": f.item_id} for f in failed]}
