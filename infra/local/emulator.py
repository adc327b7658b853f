"""Where moto's cost grows with a queue's depth, the local stack makes it not (ARCHITECTURE,
"Emulator facts").

moto's `Queue.attributes` computes the three approximate message counts (each a pass over every
message in the queue, reading the clock per message) whenever any attribute is read, and SQS's
SendMessage reads one for every message sent (`ContentBasedDeduplication`), ReceiveMessage three
for every message received (`MessageRetentionPeriod`). With a backlog of 10,000 messages, a
500-event webhook took 80 s. Here the counts are computed only when asked for
(GetQueueAttributes), so a send or a receive no longer walks the whole queue to learn a setting.

moto's EventBridge also builds a JSONPath parser (ply's parser tables, milliseconds each) for
every path of every event it delivers through an input transformer: one per path, reused here.

Only the local stack installs these; tests of the product use moto as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

# The counts moto derives from the messages; every other attribute is a stored setting.
COUNTS = {
    "ApproximateNumberOfMessages": "approximate_number_of_messages",
    "ApproximateNumberOfMessagesDelayed": "approximate_number_of_messages_delayed",
    "ApproximateNumberOfMessagesNotVisible": "approximate_number_of_messages_not_visible",
}


class QueueAttributes(Mapping[str, Any]):
    """A queue's attributes as moto's `Queue.attributes` gives them, the counts read on access."""

    def __init__(self, queue: Any, settings: dict[str, Any]) -> None:
        self._queue = queue
        self._settings = settings
        self._names = [*COUNTS, *settings]

    def __getitem__(self, name: str) -> Any:
        if name in COUNTS:
            return getattr(self._queue, COUNTS[name])
        return self._settings[name]

    def __contains__(self, name: object) -> bool:
        return name in COUNTS or name in self._settings

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _settings(queue: Any) -> dict[str, Any]:
    """moto 5's `Queue.attributes` without the counts (same names, values and encoding)."""
    from moto.core.utils import camelcase_to_underscores

    names = [name for name in queue.BASE_ATTRIBUTES if name not in COUNTS]
    if queue.fifo_queue:
        names += queue.FIFO_ATTRIBUTES
    if queue.kms_master_key_id:
        names += queue.KMS_ATTRIBUTES
    result: dict[str, Any] = {n: getattr(queue, camelcase_to_underscores(n)) for n in names}
    if queue.policy:
        result["Policy"] = queue.policy
    if queue.redrive_policy:
        import json

        result["RedrivePolicy"] = json.dumps(queue.redrive_policy)
    return {
        name: str(value).lower() if isinstance(value, bool) else value
        for name, value in result.items()
    }


class _LazyAttributes:
    """The descriptor that replaces moto's `Queue.attributes` property."""

    def __init__(self, original: Any) -> None:
        self.original = original

    def __get__(self, queue: Any, owner: type | None = None) -> Any:
        if queue is None:
            return self
        return QueueAttributes(queue, _settings(queue))


def install() -> None:
    """Make moto's queue attributes lazy and its JSONPath parsing cached, in this process
    (idempotent)."""
    import jsonpath_ng.ext
    from moto.sqs.models import Queue

    current = Queue.__dict__["attributes"]
    if not isinstance(current, _LazyAttributes):
        Queue.attributes = _LazyAttributes(current)  # type: ignore[method-assign, assignment]
    if not hasattr(jsonpath_ng.ext.parse, "cache_info"):
        jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


def uninstall() -> None:
    """moto as it was (for tests)."""
    import jsonpath_ng.ext
    from moto.sqs.models import Queue

    current = Queue.__dict__["attributes"]
    if isinstance(current, _LazyAttributes):
        Queue.attributes = current.original  # type: ignore[method-assign]
    if hasattr(jsonpath_ng.ext.parse, "cache_info"):
        jsonpath_ng.ext.parse = jsonpath_ng.ext.parse.__wrapped__
