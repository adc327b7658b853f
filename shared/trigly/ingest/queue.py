"""Sending accepted events to the ingest queue (SQS): several events to a message, ten messages
to a request.

A message holds at most `EVENTS_PER_MESSAGE` events and `MESSAGE_BYTES` of JSON (an event
larger than that goes alone), so one ingest invocation (BatchSize 25) applies at most 250
events, well within its timeout. A request holds at most ten messages and `REQUEST_BYTES`.
"""

from collections.abc import Iterator
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from trigly.ingest.messages import IngestMessage, QueuedEvent
from trigly.platform import aws
from trigly.platform.observability import logger
from trigly.platform.settings import get_settings

EVENTS_PER_MESSAGE = 10
MESSAGE_BYTES = 200 * 1024  # within SQS's historical 256 KiB message limit
SQS_BATCH = 10
REQUEST_BYTES = 1024 * 1024  # SendMessageBatch's limit for all its messages together

Packed = tuple[IngestMessage, str]  # a message and its JSON body


def pack(
    tenant_id: str, connector_id: str, received_at: datetime, events: list[QueuedEvent]
) -> Iterator[Packed]:
    """Messages of consecutive events, each with its JSON body."""

    def message(group: list[QueuedEvent]) -> Packed:
        built = IngestMessage(
            tenant_id=tenant_id, connector_id=connector_id, received_at=received_at, events=group
        )
        return built, built.model_dump_json()

    group: list[QueuedEvent] = []
    size = 0
    for queued in events:
        event_bytes = len(queued.model_dump_json().encode())
        if group and (len(group) == EVENTS_PER_MESSAGE or size + event_bytes > MESSAGE_BYTES):
            yield message(group)
            group, size = [], 0
        group.append(queued)
        size += event_bytes
    if group:
        yield message(group)


def _requests(
    messages: list[tuple[IngestMessage, str]],
) -> Iterator[list[tuple[IngestMessage, str]]]:
    chunk: list[tuple[IngestMessage, str]] = []
    size = 0
    for item in messages:
        body_bytes = len(item[1].encode())
        if chunk and (len(chunk) == SQS_BATCH or size + body_bytes > REQUEST_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += body_bytes
    if chunk:
        yield chunk


def enqueue(
    tenant_id: str, connector_id: str, received_at: datetime, events: list[QueuedEvent]
) -> list[QueuedEvent]:
    """Queue every event; returns the ones SQS did not take (the caller releases their claims)."""
    queue_url = get_settings().ingest_queue_url
    failed: list[QueuedEvent] = []
    for chunk in _requests(list(pack(tenant_id, connector_id, received_at, events))):
        try:
            response = aws.sqs().send_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "MessageBody": body} for i, (_, body) in enumerate(chunk)],
            )
        except (BotoCoreError, ClientError):
            logger.exception("ingest queue unavailable")
            failed.extend(e for message, _ in chunk for e in message.events)
            continue
        for entry in response.get("Failed", []):
            failed.extend(chunk[int(entry["Id"])][0].events)
    return failed


def requeue_alone(message: IngestMessage, events: list[QueuedEvent]) -> None:
    """Queue each of `events` (taken from `message`) as a message of its own, so each is retried
    and, if it keeps failing, dead-lettered by itself. Raises if SQS does not take them all."""
    singles = [
        message.model_copy(update={"events": [queued]}).model_dump_json() for queued in events
    ]
    queue_url = get_settings().ingest_queue_url
    for start in range(0, len(singles), SQS_BATCH):
        chunk = singles[start : start + SQS_BATCH]
        response = aws.sqs().send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)],
        )
        if response.get("Failed"):
            raise RuntimeError(f"{len(response['Failed'])} events could not be queued again")
