"""Ordering of inbound events: by `occurred_at`, ties broken by the later receipt.

A stamp is a fixed-width string, so comparing stamps compares (occurred_at, received_at, index).
"""

from dataclasses import dataclass
from datetime import UTC, datetime


def event_stamp(occurred_at: datetime, received_at: datetime, index: int) -> str:
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return (
        f"{occurred_at.astimezone(UTC).strftime(fmt)}|"
        f"{received_at.astimezone(UTC).strftime(fmt)}|{index:04d}"
    )


@dataclass(frozen=True)
class EventContext:
    """What an applier needs to know about the event besides its payload."""

    connector_id: str
    event_id: str
    occurred_at: datetime
    stamp: str
