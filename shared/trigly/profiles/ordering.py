"""Ordering of inbound events: by `occurred_at`, ties broken by the later receipt.

A stamp is a fixed-width string, so comparing stamps compares (occurred_at, received_at, index).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_WIDTH = 9  # base-36 milliseconds: fixed width until the year 5138


def _base36(value: int) -> str:
    digits = []
    for _ in range(_WIDTH):
        value, digit = divmod(value, 36)
        digits.append(_DIGITS[digit])
    return "".join(reversed(digits))


def _millis(moment: datetime) -> int:
    return max(0, int(moment.astimezone(UTC).timestamp() * 1000))


def event_stamp(occurred_at: datetime, received_at: datetime, index: int) -> str:
    """21 characters; compact because a profile keeps one per field it holds."""
    return f"{_base36(_millis(occurred_at))}{_base36(_millis(received_at))}{index:03x}"


@dataclass(frozen=True)
class EventContext:
    """What an applier needs to know about the event besides its payload."""

    connector_id: str
    event_id: str
    occurred_at: datetime
    stamp: str
