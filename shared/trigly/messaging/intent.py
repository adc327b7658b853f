"""What a sender asks for (`SendIntent`) and what becomes of it (statuses, reasons, history).

A message's status only moves forward. Provider callbacks arrive late, twice and out of order, so
`record` is the one place that decides what a new fact does to a message:

- before sending (`queued`, `held`) a message may be held (again), released, sent, refused
  (`suppressed`) or `failed`;
- once sent it climbs the ladder `sent → delivered → opened → clicked`; a fact lower on the
  ladder than the current status (`delivered` after `clicked`) fills in the history but keeps
  the status; a `failed` after `delivered` contradicts what is known and changes nothing;
- `suppressed` is final; `failed` is final except `failed: unknown_outcome`, which a later
  provider fact (`sent`, `delivered`, ...) corrects — reconciliation found the message went.
"""

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import AwareDatetime, ConfigDict, Field, JsonValue, model_validator

from trigly.events.types import Channel
from trigly.messaging.kinds import HoldPolicy as HoldPolicy  # noqa: PLC0414  (re-exported)
from trigly.messaging.kinds import MessagePurpose as MessagePurpose  # noqa: PLC0414
from trigly.messaging.kinds import Priority as Priority  # noqa: PLC0414
from trigly.platform.clock import isoformat
from trigly.platform.models import DeferredModel


class MessageStatus(StrEnum):
    QUEUED = "queued"
    HELD = "held"
    SENT = "sent"
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class Reason(StrEnum):
    """Why a message was suppressed, failed or held (CONTRACT §3 names the first eight)."""

    NO_CONSENT = "no_consent"  # no consent statement for the channel and purpose
    UNSUBSCRIBED = "unsubscribed"  # the customer said no / withdrew, or an unsubscribe entry
    SUPPRESSED_CONTACT = "suppressed_contact"  # bounced, complained, carrier refusal
    FREQUENCY_CAP = "frequency_cap"
    NO_USABLE_CONTACT = "no_usable_contact"
    TEMPLATE_ERROR = "template_error"
    PROVIDER_REJECTED = "provider_rejected"
    UNKNOWN_OUTCOME = "unknown_outcome"
    QUIET_HOURS = "quiet_hours"  # held (or skipped) outside the recipient's sending window
    BOUNCED = "bounced"  # a hard bounce: the address does not exist (it is suppressed from now on)
    UNDELIVERED = "undelivered"  # the provider reported it could not deliver (expired, refused)
    # No provider for the channel (and the tenant is not in sandbox mode): never pretended sent.
    CHANNEL_NOT_CONFIGURED = "channel_not_configured"
    # Campaigns (CONTRACT §6): the campaign's holdout and the tenant's global control group get
    # a message record that never goes, so reports can compare them with the recipients.
    HOLDOUT = "holdout"
    GLOBAL_CONTROL = "global_control"
    # Held until the recipient's local time a campaign asked for (`SendIntent.local_time`).
    LOCAL_TIME = "local_time"
    # A campaign's held message when its moment came: cancelled (suppressed) or paused (held).
    CAMPAIGN_CANCELLED = "campaign_cancelled"
    CAMPAIGN_PAUSED = "campaign_paused"

    @property
    def terminal_status(self) -> MessageStatus:
        """The status of a message that ends for this reason."""
        if self in _FAILURES:
            return MessageStatus.FAILED
        return MessageStatus.SUPPRESSED


_FAILURES = frozenset(
    {
        Reason.TEMPLATE_ERROR,
        Reason.PROVIDER_REJECTED,
        Reason.UNKNOWN_OUTCOME,
        Reason.BOUNCED,
        Reason.UNDELIVERED,
        Reason.CHANNEL_NOT_CONFIGURED,
    }
)


class Offer(DeferredModel):
    """An offer riding on a service reminder (a discount on the declined brake pads...).

    It is rendered only where the customer gave the channel's marketing consent; otherwise the
    reminder goes without it (CONTRACT §3) and the template sees `offer` as none.
    """

    model_config = ConfigDict(extra="forbid")

    offer_id: str = Field(min_length=1, max_length=100)
    variables: dict[str, JsonValue] = Field(default_factory=dict)


class SendIntent(DeferredModel):
    """One request to message one customer, from a journey, a campaign or `POST /v1/messages`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_id: str = Field(min_length=1, max_length=100)
    purpose: MessagePurpose
    kind: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,63}$",
        description="What sends it: `maintenance_reminder`, `booking_confirmation`, `one_off`...",
    )
    template_id: str | None = Field(default=None, min_length=1, max_length=100)
    text: str | None = Field(default=None, min_length=1, max_length=4000)
    subject: str | None = Field(
        default=None, max_length=200, description="Email subject of a `text` message"
    )
    variables: dict[str, JsonValue] = Field(default_factory=dict)
    channels: list[Channel] = Field(
        default_factory=list,
        max_length=7,
        description="Preferred channels, best first; the tenant's cascade follows",
    )
    only_listed_channels: bool = Field(
        default=False, description="Never fall back beyond `channels`"
    )
    priority: Priority = Priority.NORMAL
    idempotency_key: str = Field(min_length=1, max_length=200)
    when_held: HoldPolicy = HoldPolicy.QUEUE_UNTIL_ALLOWED
    offer: Offer | None = None
    links: dict[Literal["booking", "referral"], str] = Field(
        default_factory=dict,
        description="Customer links the message carries (CONTRACT §4), by purpose; templates "
        "see them as `links.booking`...",
    )
    message_links: list[Literal["booking"]] = Field(
        default_factory=list,
        description="Customer links the send path mints for this very message (a campaign's "
        "`links`): they name the message, so a booking made through one marks it `booked`",
    )
    meta: dict[str, str] = Field(
        default_factory=dict,
        description="Carried in the message's `meta` (CONTRACT §5): `campaign_id`, `variant`, "
        "`erid`",
    )
    local_time: str | None = Field(
        default=None,
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Held until this local time (HH:MM) of the recipient, on or after `not_before`",
    )
    not_before: AwareDatetime | None = None
    fall_back_only_on_failure: bool = Field(
        default=False,
        description="The next channel only when this one failed, never for a lack of reaction "
        "(campaigns: at most one message reaches the customer)",
    )

    @model_validator(mode="after")
    def _one_body(self) -> Self:
        if (self.template_id is None) == (self.text is None):
            raise ValueError("give exactly one of `template_id` and `text`")
        if self.subject is not None and self.text is None:
            raise ValueError("`subject` goes with `text`; a template has its own subject")
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("`channels` names a channel twice")
        if self.only_listed_channels and not self.channels:
            raise ValueError("`only_listed_channels` needs `channels`")
        return self


def intent_fingerprint(intent: SendIntent) -> str:
    """A stable hash of everything the intent asks for: the same idempotency key arriving with
    a different fingerprint is a different request under a used key (`409`)."""
    body = intent.model_dump(mode="json")
    if not body["message_links"]:
        # Added later: left out when unused, so keys claimed before it keep their fingerprint.
        del body["message_links"]
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def release_key(priority: Priority, created_at: datetime) -> tuple[int, float]:
    """Sort key for held messages released together: highest priority, then oldest first."""
    return (-priority.rank, created_at.timestamp())


# --- status history ---------------------------------------------------------------------------


class HistoryEntry(DeferredModel):
    model_config = ConfigDict(frozen=True)

    status: MessageStatus
    at: AwareDatetime
    reason: Reason | None = None
    until: AwareDatetime | None = None  # a `held` entry: when the message may go

    @model_validator(mode="after")
    def _until_only_when_held(self) -> Self:
        if (self.until is not None) != (self.status is MessageStatus.HELD):
            raise ValueError("`until` belongs to a `held` entry, and a `held` entry needs it")
        return self


class MessageState(DeferredModel):
    """A message's current status and its history, oldest first."""

    model_config = ConfigDict(frozen=True)

    status: MessageStatus = MessageStatus.QUEUED
    reason: Reason | None = None
    history: tuple[HistoryEntry, ...] = ()

    @classmethod
    def queued(cls, at: datetime) -> "MessageState":
        return cls(history=(HistoryEntry(status=MessageStatus.QUEUED, at=at),))


# Pre-send statuses; the ladder a sent message climbs; statuses that end a message.
_WAITING = frozenset({MessageStatus.QUEUED, MessageStatus.HELD})
_LADDER = (
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.OPENED,
    MessageStatus.CLICKED,
)
_ONCE = frozenset(_LADDER) | {MessageStatus.SUPPRESSED, MessageStatus.FAILED}


def _ladder_rank(status: MessageStatus) -> int:
    return _LADDER.index(status) if status in _LADDER else -1


def _moves_to(state: MessageState, new: HistoryEntry) -> bool:
    """Whether the new fact becomes the current status."""
    current = state.status
    if current in _WAITING:
        return True  # held again, released, sent, refused, failed, or a callback before `sent`
    if current is MessageStatus.FAILED:
        return state.reason is Reason.UNKNOWN_OUTCOME and new.status in _LADDER
    if current in _LADDER:
        if new.status is MessageStatus.FAILED:
            return current is MessageStatus.SENT  # a provider reports non-delivery
        return _ladder_rank(new.status) > _ladder_rank(current)
    return False  # suppressed is final


def _fills_in(state: MessageState, new: HistoryEntry) -> bool:
    """A late fact lower on the ladder (`delivered` after `clicked`) is history, not status."""
    return state.status in _LADDER and 0 <= _ladder_rank(new.status) < _ladder_rank(state.status)


def record(state: MessageState, new: HistoryEntry) -> tuple[MessageState, bool]:
    """Apply one fact to a message; returns the new state and whether anything changed.

    Idempotent: a fact already recorded (the same status for a status that happens once, or an
    identical entry) changes nothing, so redelivered callbacks are harmless.
    """
    seen = any(
        entry == new or (new.status in _ONCE and entry.status is new.status)
        for entry in state.history
    )
    if seen:
        return state, False
    if new.status is MessageStatus.QUEUED and state.status is not MessageStatus.HELD:
        return state, False  # only a held message is released back to the queue
    if _moves_to(state, new):
        status, reason = new.status, new.reason
    elif _fills_in(state, new):
        status, reason = state.status, state.reason
    else:
        return state, False
    history = tuple(sorted((*state.history, new), key=lambda entry: entry.at))  # stable on ties
    return MessageState(status=status, reason=reason, history=history), True


def history_json(state: MessageState) -> list[dict[str, Any]]:
    """`history[]` as the API shows it: `{status, at, reason?, until?}`, times in UTC `Z`."""
    out: list[dict[str, Any]] = []
    for entry in state.history:
        item: dict[str, Any] = {"status": entry.status.value, "at": isoformat(entry.at)}
        if entry.reason is not None:
            item["reason"] = entry.reason.value
        if entry.until is not None:
            item["until"] = isoformat(entry.until)
        out.append(item)
    return out
