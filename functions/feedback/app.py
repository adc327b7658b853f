"""Feedback worker: SES events (configuration set → SNS → SQS) and the sandbox's delivery
reports, applied to message statuses through `trigly.messaging.feedback`."""

from trigly.platform.startup import init_phase

with init_phase():
    from datetime import timedelta
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from trigly.messaging import feedback
    from trigly.messaging.reports import queued_events
    from trigly.platform import clock
    from trigly.platform.batches import SQSRecord, process_partial_batch
    from trigly.platform.observability import logger, metrics, traced_handler

# A report may overtake the worker that is still saving the message as sent: retried this long.
RACE_WINDOW = timedelta(minutes=10)


class NotYetKnown(Exception):
    """A fresh report for a message not saved as sent yet: the queue delivers it again."""


def apply_record(record: SQSRecord) -> None:
    now = clock.now()
    for event in queued_events(record["body"], received_at=now):
        outcome = feedback.apply(event)
        if outcome is feedback.Outcome.UNKNOWN and now - event.at < RACE_WINDOW:
            raise NotYetKnown(event.provider_message_id)


@logger.inject_lambda_context
@traced_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_batch(event, apply_record)
