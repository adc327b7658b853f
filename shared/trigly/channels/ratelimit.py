"""Provider rate limits shared by every concurrent worker: fixed-window counters in DynamoDB.

Each request first counts itself in the current window of every limit that applies (e.g.
Telegram: 30 per second per bot and 1 per second per chat) with one conditional UpdateItem per
limit. A full window means waiting for the next one — briefly, inside the worker — or, when the
wait would be long, `RetryLater` so the queue brings the message back. Windows run on the wall
clock: providers count real seconds, whatever the business clock says.

A request counted in a window and then not sent (a later limit was full) uses up its slot: the
limiter errs on the side of sending less, never more.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from trigly.channels.provider import RetryLater
from trigly.store import channels as store


@dataclass(frozen=True)
class Limit:
    scope: str  # what is counted, e.g. "telegram:bot" or "telegram:chat:12345"
    per_window: int
    window_seconds: int = 1


class RateLimiter:
    """`acquire` returns once every limit has room, waiting at most `max_wait` seconds."""

    def __init__(
        self,
        max_wait: float = 2.0,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_wait = max_wait
        self.now = now
        self.sleep = sleep

    def acquire(self, tenant_id: str, limits: list[Limit]) -> None:
        waited = 0.0
        for limit in limits:
            while True:
                moment = self.now()
                window = int(moment // limit.window_seconds) * limit.window_seconds
                if store.count_in_window(tenant_id, limit.scope, window, limit.per_window):
                    break
                wait = window + limit.window_seconds - moment
                if waited + wait > self.max_wait:
                    raise RetryLater(f"rate limit {limit.scope}", retry_after=wait)
                self.sleep(wait)
                waited += wait


class NoLimit:
    """For providers without a documented per-second limit, and for unit tests of providers."""

    def acquire(self, tenant_id: str, limits: list[Limit]) -> None:
        del tenant_id, limits
