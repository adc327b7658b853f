"""SQS partial batch responses for the queue workers (ReportBatchItemFailures).

What Powertools' batch utility does for a standard SQS queue, as a plain loop: its import cost
every queue worker's cold start (ADR 0019).
"""

from collections.abc import Callable
from typing import Any

from trigly.platform.observability import logger

SQSRecord = dict[str, Any]  # one record of Lambda's SQS event, as Lambda sends it


def process_partial_batch(
    event: dict[str, Any], handle_record: Callable[[SQSRecord], None]
) -> dict[str, list[dict[str, str]]]:
    """Handle every record; the queue delivers again only the ones that raised. A batch that
    fails whole is still a partial answer (every record listed), never an exception."""
    failures = []
    for record in event["Records"]:
        try:
            handle_record(record)
        except Exception as error:
            # The error's type only: a message can quote a customer's data.
            logger.warning(
                "Record failed; the queue delivers it again",
                extra={"message_id": record["messageId"], "error": type(error).__name__},
            )
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def receive_count(record: SQSRecord) -> int:
    """How many times the queue has delivered this record (1 on the first delivery)."""
    return int(record["attributes"]["ApproximateReceiveCount"])
