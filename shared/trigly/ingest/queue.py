"""Sending accepted events to the ingest queue (SQS), ten to a request."""

from functools import lru_cache
from typing import TYPE_CHECKING

import boto3

from trigly.ingest.messages import IngestMessage
from trigly.platform.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SQS_BATCH = 10


@lru_cache(maxsize=1)
def _sqs() -> "SQSClient":
    return boto3.client("sqs")


def enqueue(messages: list[IngestMessage]) -> list[IngestMessage]:
    """Queue every message; returns the ones SQS did not take (the caller releases their claims)."""
    queue_url = get_settings().ingest_queue_url
    failed: list[IngestMessage] = []
    for start in range(0, len(messages), SQS_BATCH):
        chunk = messages[start : start + SQS_BATCH]
        response = _sqs().send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "MessageBody": m.model_dump_json()} for i, m in enumerate(chunk)
            ],
        )
        failed.extend(chunk[int(entry["Id"])] for entry in response.get("Failed", []))
    return failed
