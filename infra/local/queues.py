"""Lambda's SQS poller, locally: batches from the queue to the mapped function.

Batches follow the mapping's BatchSize (ReceiveMessage returns at most 10, so several calls fill
one batch). Succeeded records are deleted. Failed ones (the whole batch when the handler raises
or answers malformed batchItemFailures; just the listed ones with ReportBatchItemFailures) are
made visible again at once: moto's visibility timer runs on the wall clock, and business time
may be moving much faster. moto moves a message to the DLQ on the receive after its
maxReceiveCount-th, so poison messages still end in the DLQ within one drain.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infra.deploy import QueueMapping
from infra.local.runtime import FunctionHost, report_failure

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

RECEIVE_LIMIT = 10
# A drain that keeps finding work this many times over is a loop in the product, not a backlog.
MAX_BATCHES_PER_DRAIN = 20_000


@dataclass(frozen=True)
class BatchOutcome:
    received: int
    succeeded: int
    failed: int


def _message_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """SQS API attribute values → the camelCase shape Lambda's SQS records carry."""
    converted: dict[str, Any] = {}
    for name, value in attributes.items():
        binary = value.get("BinaryValue")
        converted[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
            "stringListValues": list(value.get("StringListValues", [])),
            "binaryListValues": [
                base64.b64encode(b).decode() for b in value.get("BinaryListValues", [])
            ],
            "dataType": value["DataType"],
        }
    return converted


def sqs_record(message: MessageTypeDef, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the event Lambda's SQS poller sends."""
    body = message.get("Body", "")
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": _message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324  # SQS's own checksum
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_ids(result: Any, message_ids: Sequence[str], partial: bool) -> set[str]:
    """Which records failed, by Lambda's rules for the handler's answer."""
    if not partial:
        return set()
    if result is None or (isinstance(result, dict) and not result.get("batchItemFailures")):
        return set()
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not isinstance(failures, list):
        return set(message_ids)  # an answer Lambda cannot read fails the whole batch
    ids: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in message_ids:
            return set(message_ids)  # a null, empty or unknown id: the whole batch failed
        ids.add(identifier)
    return ids


class QueueConsumer:
    def __init__(
        self, mapping: QueueMapping, host: FunctionHost, sqs: SQSClient, region: str
    ) -> None:
        self.mapping = mapping
        self.host = host
        self.sqs = sqs
        self.region = region

    def _receive_batch(self) -> list[MessageTypeDef]:
        batch: list[MessageTypeDef] = []
        while len(batch) < self.mapping.batch_size:
            received = self.sqs.receive_message(
                QueueUrl=self.mapping.queue_url,
                MaxNumberOfMessages=min(RECEIVE_LIMIT, self.mapping.batch_size - len(batch)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not received:
                break
            batch.extend(received)
        return batch

    def poll_once(self) -> BatchOutcome:
        """Deliver one batch, if the queue has one."""
        messages = self._receive_batch()
        if not messages:
            return BatchOutcome(0, 0, 0)
        records = [sqs_record(m, self.mapping.queue_arn, self.region) for m in messages]
        ids = [r["messageId"] for r in records]
        try:
            result = self.host.invoke(self.mapping.function, {"Records": records})
            failed = failed_ids(result, ids, self.mapping.report_batch_item_failures)
        except Exception:  # a raised error fails the batch, as on Lambda
            report_failure(f"{self.mapping.function} failed a batch of {len(records)}")
            failed = set(ids)
        self._settle(messages, failed)
        return BatchOutcome(len(messages), len(messages) - len(failed), len(failed))

    def _settle(self, messages: Iterable[MessageTypeDef], failed: set[str]) -> None:
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed]
        for start in range(0, len(done), RECEIVE_LIMIT):
            chunk = done[start : start + RECEIVE_LIMIT]
            self.sqs.delete_message_batch(
                QueueUrl=self.mapping.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                ],
            )
        if not self.mapping.dead_letter_url:
            # Without a DLQ a failing message would be retried forever: leave it hidden for the
            # queue's visibility timeout, as on AWS, so a drain can finish.
            return
        for start in range(0, len(retry), RECEIVE_LIMIT):
            chunk = retry[start : start + RECEIVE_LIMIT]
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.mapping.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(chunk)
                ],
            )


class SendCounter:
    """Counts SendMessage calls per queue name made in this process (the handlers' own sends),
    so a drain between schedule firings polls only queues something was sent to since they were
    last found empty — 720 hourly firings need not poll a dozen empty queues each."""

    def __init__(self) -> None:
        self._sent: dict[str, int] = {}
        self._seen_empty: dict[str, int] = {}
        self._lock = threading.Lock()
        self._event_targets: tuple[str, ...] = ()

    def install(self, event_targets: Sequence[str] = ()) -> None:
        """`event_targets`: queue names EventBridge rules deliver to, so a `PutEvents` counts
        as a send to each of them (the emulator forwards it without an SQS call of ours)."""
        from botocore import handlers

        self._event_targets = tuple(event_targets)
        for operation in ("SendMessage", "SendMessageBatch"):
            event = f"before-parameter-build.sqs.{operation}"
            handlers.BUILTIN_HANDLERS.append((event, self._on_send))
        handlers.BUILTIN_HANDLERS.append(
            ("before-parameter-build.events.PutEvents", self._on_put_events)
        )

    def _on_put_events(self, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            for name in self._event_targets:
                self._sent[name] = self._sent.get(name, 0) + 1

    def _on_send(self, params: dict[str, Any], **_: Any) -> None:
        name = str(params.get("QueueUrl", "")).rstrip("/").rsplit("/", 1)[-1]
        with self._lock:
            self._sent[name] = self._sent.get(name, 0) + 1

    def maybe_busy(self, consumer: QueueConsumer) -> bool:
        name = consumer.mapping.queue_url.rstrip("/").rsplit("/", 1)[-1]
        with self._lock:
            return self._sent.get(name, 0) != self._seen_empty.get(name, -1)

    def found_empty(self, consumer: QueueConsumer) -> None:
        name = consumer.mapping.queue_url.rstrip("/").rsplit("/", 1)[-1]
        with self._lock:
            self._seen_empty[name] = self._sent.get(name, 0)


SENDS = SendCounter()


def drain(
    consumers: Sequence[QueueConsumer],
    *,
    only_if_sent: bool = False,
    until: Callable[[], bool] = lambda: False,
) -> int:
    """Deliver batches until every queue is empty; returns the records handled successfully.
    `only_if_sent`: skip queues nothing was sent to since they were last found empty.
    `until`: checked between batches; true ends the drain early (the stack is stopping)."""
    succeeded = 0
    active = [c for c in consumers if not only_if_sent or SENDS.maybe_busy(c)]
    for _ in range(MAX_BATCHES_PER_DRAIN):
        if until():
            return succeeded
        outcomes = [consumer.poll_once() for consumer in active]
        succeeded += sum(o.succeeded for o in outcomes)
        for consumer, outcome in zip(active, outcomes, strict=True):
            if not outcome.received:
                SENDS.found_empty(consumer)
        active = [c for c, o in zip(active, outcomes, strict=True) if o.received]
        if not active:
            # Handlers may have sent to a queue found empty earlier in this drain.
            active = [c for c in consumers if SENDS.maybe_busy(c)]
        if not active:
            return succeeded
    print(f"!! queues still busy after {MAX_BATCHES_PER_DRAIN} batches: a loop?", file=sys.stderr)
    return succeeded
