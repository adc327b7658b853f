"""The one interface every channel provider implements, and the three ways a send can go wrong.

- `ProviderRejected`: the provider surely did not take the message and never will (an invalid
  phone, a blocked bot, a revoked token): the message ends `failed: provider_rejected`.
- `RetryLater`: the provider surely did not take it *this time* (connection refused, 429, a
  documented "not processed" error): the claim is released and the queue delivers it again.
- `OutcomeUnknown`: the request may have reached the provider (a read timeout, a 5xx, an answer
  we cannot read): never retried blindly, the message ends `failed: unknown_outcome`.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from trigly.messaging.message import StoredMessage


@dataclass(frozen=True)
class Accepted:
    provider_message_id: str
    at: datetime


class ProviderRejected(Exception):
    """The provider surely did not take the message (a 4xx with a reason): final, no retry."""


class RetryLater(Exception):
    """The provider surely did not take the message this time; safe to send again later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after  # seconds the provider asked us to wait, if it said


class OutcomeUnknown(Exception):
    """The provider may have taken the message: sending it again could make a duplicate."""


class Provider(Protocol):
    def send(self, tenant_id: str, message: StoredMessage) -> Accepted: ...
