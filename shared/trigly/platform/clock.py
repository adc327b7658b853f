"""The one clock all business logic reads time from.

On AWS it is the system clock. The local stack swaps in a clock it can move forward, so months of
reminders replay in seconds; transport security (webhook replay windows) keeps the wall clock.
"""

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class AdjustableClock:
    """Wall clock plus an offset that only grows: business time never runs backwards."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        if start is not None:
            self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, by: timedelta) -> datetime:
        if by < timedelta(0):
            raise ValueError("the clock never goes back")
        with self._lock:
            self._offset += by
            return datetime.now(UTC) + self._offset

    def move_to(self, when: datetime) -> datetime:
        return self.advance(when - self.now())


_clock: Clock = SystemClock()


def now() -> datetime:
    """Business time, timezone-aware UTC."""
    return _clock.now()


def use(clock: Clock) -> None:
    """Install the clock business logic reads (the local stack and tests do this)."""
    global _clock  # noqa: PLW0603  # one process-wide clock is the point
    _clock = clock


def wall_now() -> datetime:
    """Real time, for transport security only (signature replay windows, token signing)."""
    return datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    """Times out are ISO 8601 in UTC with `Z` (CONTRACT §1a)."""
    utc = moment.astimezone(UTC)
    text = utc.isoformat(timespec="milliseconds" if utc.microsecond else "seconds")
    return text.replace("+00:00", "Z")
