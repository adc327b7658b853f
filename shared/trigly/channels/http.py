"""The HTTP layer every provider shares: one keep-alive client per container, explicit timeouts,
and retries that never risk a second message.

A request is retried (with exponential backoff and full jitter, honouring `Retry-After` and
Telegram's `retry_after`) only when the provider surely did not accept it: the connection was
never made, or the provider answered 429 or a documented "not processed" error (providers raise
`RetryLater` for those). A read timeout, a broken connection after the request went out or a 5xx
is an unknown outcome (`OutcomeUnknown`) and is never retried. Retries inside the Lambda stay
within a small budget of seconds; beyond it `RetryLater` goes up to the worker, which releases
the claim and hands the message back to its queue.
"""

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from trigly.channels.provider import OutcomeUnknown, RetryLater

# Connect fails fast (nothing was sent); read waits for slow providers, but not past the point
# where a batch could outlive the worker's timeout.
TIMEOUT = httpx.Timeout(connect=3.0, read=8.0, write=5.0, pool=2.0)
# Idle connections are dropped after 20 s, before providers' and NATs' idle timeouts: a request
# on a connection the other side already closed fails after it was sent (an unknown outcome).
LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32, keepalive_expiry=20.0)

_client: httpx.Client | None = None
_client_lock = threading.Lock()


def client() -> httpx.Client:
    """The container's one client: connections stay open across messages and invocations."""
    global _client  # noqa: PLW0603  # one per container, like the AWS clients
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = httpx.Client(
                    timeout=TIMEOUT, limits=LIMITS, headers={"user-agent": "Trigly/1"}
                )
    return _client


def forget_client() -> None:
    """For tests and benchmarks: the next call creates a fresh client."""
    global _client  # noqa: PLW0603
    with _client_lock:
        if _client is not None:
            _client.close()
        _client = None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # tries in this invocation, the first included
    base: float = 0.25  # seconds; the n-th retry waits up to base * 2**n (full jitter)
    cap: float = 2.0  # longest backoff between two tries
    budget: float = 4.0  # most seconds spent waiting in one send; beyond it, back to the queue


DEFAULT_POLICY = RetryPolicy()


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One HTTP exchange, with transport failures sorted by whether the request went out."""
    try:
        return client().request(method, url, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        # No connection was made (or none was free): the provider never saw the request.
        raise RetryLater(f"connection failed: {type(exc).__name__}") from exc
    except httpx.TransportError as exc:
        # Read timeout, a connection dropped mid-exchange, a protocol error: it may have arrived.
        raise OutcomeUnknown(f"no answer: {type(exc).__name__}") from exc


def retry_after_header(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (delta-seconds or an HTTP date), if the response has it."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def json_body(response: httpx.Response) -> Any:
    """The response's JSON, or None when it is not JSON (callers decide what that means)."""
    try:
        return response.json()
    except ValueError:
        return None


def unknown_unless_client_error(response: httpx.Response, provider: str) -> None:
    """A 5xx (or any status we cannot place) after the request went out: it may have been taken."""
    if response.status_code >= 500 or response.status_code < 200:
        raise OutcomeUnknown(f"{provider} answered HTTP {response.status_code}")


def backoff(attempt: int, policy: RetryPolicy) -> float:
    """Full jitter: a random wait up to base * 2**attempt, capped."""
    return random.uniform(0, min(policy.cap, policy.base * 2**attempt))  # noqa: S311


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def with_retries[T](
    attempt: Callable[[], T],
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """Run `attempt` until it returns; only `RetryLater` is retried, within the policy's budget.

    The wait is the provider's `retry_after` when it gave one (never shorter), else the backoff.
    When the next wait would overrun the budget, `RetryLater` goes up with the provider's wait
    (None when it named none: the queue's own visibility timeout then spaces the redeliveries,
    so a provider that is down for minutes does not exhaust them in seconds).
    """
    waited = 0.0
    for n in range(policy.attempts):
        try:
            return attempt()
        except RetryLater as later:
            wait = max(later.retry_after or 0.0, backoff(n, policy))
            if n + 1 >= policy.attempts or waited + wait > policy.budget:
                raise RetryLater(later.reason, later.retry_after) from later
            (sleep or _sleep)(wait)
            waited += wait
    raise AssertionError("unreachable")  # pragma: no cover
