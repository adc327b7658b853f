"""The kinds a message is sent as: purpose, priority, what to do when it may not go now.

Plain enums, apart from the message models of `intent` (which re-exports them): a journey's
definition names them, and the journey worker reads definitions on every bus event without
building the message models (ADR 0019).
"""

from enum import StrEnum

from trigly.events.types import ConsentPurpose


class MessagePurpose(StrEnum):
    """CONTRACT §3: one of three per message (consent has two per channel)."""

    TRANSACTIONAL = "transactional"  # answers the customer's own action
    SERVICE = "service"  # reminders about the customer's own car that invite to a visit
    MARKETING = "marketing"  # offers, campaigns

    @property
    def consent_purpose(self) -> ConsentPurpose:
        """The consent flag that gates this purpose (transactional: an opt-out of `service`)."""
        if self is MessagePurpose.MARKETING:
            return ConsentPurpose.MARKETING
        return ConsentPurpose.SERVICE


class Priority(StrEnum):
    """Orders messages competing for the same moment; it never bypasses a guardrail.

    When a frequency-cap slot or the quiet-hours window opens, held messages are released
    highest priority first, then oldest first (`release_key`).
    """

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2}[self]


class HoldPolicy(StrEnum):
    """What to do with a message that may not go now (frequency cap or quiet hours)."""

    QUEUE_UNTIL_ALLOWED = "queue_until_allowed"  # held, released when allowed
    SKIP = "skip"  # suppressed with the reason it would have been held for (timely content)
