"""A batch of queued messages, sent concurrently: one provider round trip no longer waits for
the previous one (providers answer in ~100 ms; a batch of ten takes one round trip, not ten).

Each message is still claimed alone before its provider call (delivery.deliver). A message is
left for the queue — reported as a batch item failure, never claimed — when too little of the
invocation remains to finish it, so a worker timing out never leaves a claimed, unsent message.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from trigly.channels.provider import RetryLater
from trigly.messaging.delivery import deliver
from trigly.platform.observability import logger

CONCURRENCY = 10
# Enough for one send at its worst: the retry budget plus a read timeout, plus the saves.
MIN_REMAINING_MS = 15_000


@dataclass(frozen=True)
class Failed:
    item_id: str
    retry_after: float | None  # seconds the provider asked for, when it said


def deliver_batch(
    records: Sequence[tuple[str, str]],
    remaining_ms: Callable[[], int],
    concurrency: int = CONCURRENCY,
) -> list[Failed]:
    """Send (item id, body) records; the ones to hand back to the queue, with their waits."""

    def one(record: tuple[str, str]) -> Failed | None:
        item_id, body = record
        if remaining_ms() < MIN_REMAINING_MS:
            return Failed(item_id, None)
        try:
            deliver(body)
        except RetryLater as later:
            logger.info("provider busy, message handed back", extra={"why": later.reason})
            return Failed(item_id, later.retry_after)
        except Exception:
            logger.exception("delivery failed")
            return Failed(item_id, None)
        return None

    if len(records) <= 1 or concurrency <= 1:
        results = [one(record) for record in records]
    else:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(records))) as pool:
            results = list(pool.map(one, records))
    return [failed for failed in results if failed is not None]
