"""A tenant's messaging settings: sending window, frequency cap, legal basis, channel cascade.

Every field has the default CONTRACT §3 and the messaging issue name, so a tenant that set
nothing gets the safe behaviour: 09:00–21:00, at most one marketing message a day and four in
30 days, service reminders on opt-in, Telegram → SMS → email.
"""

from datetime import time, timedelta
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trigly.events.types import Channel
from trigly.messaging.intent import MessageStatus


class QuietHours(BaseModel):
    """Marketing and service messages go only between `start` and `end`, recipient's local time
    (`start` inclusive, `end` exclusive: 20:59 goes, 21:00 waits for 09:00)."""

    model_config = ConfigDict(frozen=True)

    start: time = time(9, 0)
    end: time = time(21, 0)

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if self.start >= self.end:
            raise ValueError("the sending window must start before it ends, on the same day")
        return self


class FrequencyCap(BaseModel):
    """Marketing messages per customer across every journey and campaign (service and
    transactional are exempt). A day is the recipient's calendar day; the longer window rolls."""

    model_config = ConfigDict(frozen=True)

    per_day: int = Field(default=1, ge=1, le=50)
    per_window: int = Field(default=4, ge=1, le=500)
    window: timedelta = Field(default=timedelta(days=30), ge=timedelta(days=1))


class FallbackRule(BaseModel):
    """After a message went on `channel`, try the next channel if it has not reached `awaited`
    (or further) within `within`. A failed send falls back at once, with or without a rule."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    within: timedelta = Field(gt=timedelta(0))
    awaited: MessageStatus

    @field_validator("awaited")
    @classmethod
    def _a_reaction(cls, value: MessageStatus) -> MessageStatus:
        if value not in {MessageStatus.DELIVERED, MessageStatus.OPENED, MessageStatus.CLICKED}:
            raise ValueError("wait for `delivered`, `opened` or `clicked`")
        return value


DEFAULT_CASCADE = (Channel.TELEGRAM, Channel.SMS, Channel.EMAIL)
_HOURS_4 = timedelta(hours=4)
DEFAULT_FALLBACK = (
    # The Bot API has no read receipts: a click (or an answer) is the only sign of life.
    FallbackRule(channel=Channel.TELEGRAM, within=_HOURS_4, awaited=MessageStatus.CLICKED),
    FallbackRule(channel=Channel.MAX, within=_HOURS_4, awaited=MessageStatus.CLICKED),
    FallbackRule(channel=Channel.WHATSAPP, within=_HOURS_4, awaited=MessageStatus.OPENED),
    FallbackRule(channel=Channel.VIBER, within=_HOURS_4, awaited=MessageStatus.OPENED),
    FallbackRule(channel=Channel.PUSH, within=_HOURS_4, awaited=MessageStatus.OPENED),
    FallbackRule(channel=Channel.SMS, within=timedelta(hours=2), awaited=MessageStatus.DELIVERED),
)


class MessagingPolicy(BaseModel):
    """One tenant's messaging settings."""

    model_config = ConfigDict(frozen=True)

    timezone: str = Field(default="Europe/Moscow", description="The tenant's zone, last resort")
    quiet_hours: QuietHours = QuietHours()
    cap: FrequencyCap = FrequencyCap()
    service_opt_out: bool = Field(
        default=False,
        description=(
            "The tenant's legal basis lets service reminders go unless the customer opted out "
            "(38-FZ treats an invitation to a paid service as advertising: opt-in by default)"
        ),
    )
    cascade: tuple[Channel, ...] = DEFAULT_CASCADE
    fallback: tuple[FallbackRule, ...] = DEFAULT_FALLBACK

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("must be an IANA time zone, e.g. Europe/Moscow") from exc
        return value

    @field_validator("cascade")
    @classmethod
    def _distinct(cls, value: tuple[Channel, ...]) -> tuple[Channel, ...]:
        if len(set(value)) != len(value):
            raise ValueError("the cascade names a channel twice")
        return value

    def fallback_rule(self, channel: Channel) -> FallbackRule | None:
        return next((rule for rule in self.fallback if rule.channel is channel), None)
