"""Sending accepted events to the ingest queue (SQS), ten to a request."""

from botocore.exceptions import BotoCoreError, ClientError

from trigly.ingest.messages import IngestMessage
from trigly.platform import aws
from trigly.platform.observability import logger
from trigly.platform.settings import get_settings

SQS_BATCH = 10


def enqueue(messages: list[IngestMessage]) -> list[IngestMessage]:
    """Queue every message; returns the ones SQS did not take (the caller releases their claims)."""
    queue_url = get_settings().ingest_queue_url
    failed: list[IngestMessage] = []
    for start in range(0, len(messages), SQS_BATCH):
        chunk = messages[start : start + SQS_BATCH]
        try:
            response = aws.sqs().send_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "MessageBody": m.model_dump_json()} for i, m in enumerate(chunk)
                ],
            )
        except (BotoCoreError, ClientError):
            logger.exception("ingest queue unavailable")
            failed.extend(chunk)
            continue
        failed.extend(chunk[int(entry["Id"])] for entry in response.get("Failed", []))
    return failed
