"""The one interface every channel provider implements."""

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


class Provider(Protocol):
    def send(self, tenant_id: str, message: StoredMessage) -> Accepted: ...
