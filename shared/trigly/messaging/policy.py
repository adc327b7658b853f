"""A tenant's messaging settings: sending window, frequency caps, legal basis, channel cascade,
sandbox mode.

Every field has the default CONTRACT §3 and the messaging issue name, so a tenant that set
nothing gets the safe behaviour: 09:00–21:00, at most one marketing message a day and four in
30 days, service reminders on opt-in, Telegram → SMS → email, no sandbox (a channel without a
provider is skipped, never pretended).

`MessagingSettings` is what the tenant sets (`GET`/`PUT /v1/settings/messaging`, stored by
`messaging.settings`); `MessagingPolicy` is what a decision reads: the settings plus the
tenant's zone and the rules that are not (yet) settings.
"""

from collections.abc import Mapping
from datetime import time, timedelta
from types import MappingProxyType
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from trigly.events.types import Channel
from trigly.messaging.intent import MessagePurpose, MessageStatus


class QuietHours(BaseModel):
    """Marketing and service messages go only between `from` and `to`, recipient's local time
    (`from` inclusive, `to` exclusive: 20:59 goes, 21:00 waits for 09:00). In JSON the window is
    `{"from": "HH:MM", "to": "HH:MM"}` (CONTRACT §3 `sending_hours`)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    start: time = Field(default=time(9, 0), alias="from", description="opens, local time HH:MM")
    end: time = Field(default=time(21, 0), alias="to", description="closes, local time HH:MM")

    @field_validator("start", "end")
    @classmethod
    def _local(cls, value: time) -> time:
        # The window is the recipient's local time: an offset ("00:00Z") has no meaning here,
        # and an aware time cannot be compared with the other end.
        if value.tzinfo is not None:
            raise ValueError("a local time HH:MM, without an offset")
        return value

    @field_serializer("start", "end")
    def _hh_mm(self, value: time) -> str:
        return value.strftime("%H:%M")

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if self.start >= self.end:
            raise ValueError("the sending window must start before it ends, on the same day")
        return self


WEEK = timedelta(days=7)
THIRTY_DAYS = timedelta(days=30)


class FrequencyCap(BaseModel):
    """Marketing messages per customer across every journey and campaign (service and
    transactional are exempt); null: no cap of that length. `per_day` is the recipient's
    calendar day; `per_week` and `per_30_days` roll on business time (the last 7 / 30 days)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    per_day: int | None = Field(default=1, ge=1, le=50)
    per_week: int | None = Field(default=None, ge=1, le=200)
    per_30_days: int | None = Field(default=4, ge=1, le=500)

    def rolling(self) -> tuple[tuple[timedelta, int], ...]:
        """The rolling windows that have a cap, as (length, at most)."""
        windows = ((WEEK, self.per_week), (THIRTY_DAYS, self.per_30_days))
        return tuple((length, most) for length, most in windows if most is not None)


class FrequencyCaps(BaseModel):
    """Caps per message purpose; only marketing is capped (CONTRACT §3)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    marketing: FrequencyCap = FrequencyCap()


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


def _default_cascades() -> Mapping[MessagePurpose, tuple[Channel, ...]]:
    return MappingProxyType(dict.fromkeys(MessagePurpose, DEFAULT_CASCADE))


class MessagingSettings(BaseModel):
    """What a tenant sets (CONTRACT §3 `GET`/`PUT /v1/settings/messaging`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sending_hours: QuietHours = Field(
        default=QuietHours(),
        description="The recipient's local window in which marketing and service messages go",
    )
    frequency_caps: FrequencyCaps = Field(
        default=FrequencyCaps(),
        description="Marketing messages per customer: per calendar day, rolling 7 and 30 days",
    )
    cascade: dict[MessagePurpose, tuple[Channel, ...]] = Field(
        default_factory=lambda: dict(_default_cascades()),
        description="Channels tried in order, per message purpose (a purpose not named keeps "
        "Telegram → SMS → email)",
    )
    sandbox: bool = Field(
        default=False,
        description="Channels without a provider record to the sandbox outbox instead of being "
        "skipped (the local stack's demo tenants; never for real customers)",
    )

    @field_validator("cascade")
    @classmethod
    def _cascades(
        cls, value: dict[MessagePurpose, tuple[Channel, ...]]
    ) -> dict[MessagePurpose, tuple[Channel, ...]]:
        for purpose, channels in value.items():
            if not channels:
                raise ValueError(f"the {purpose.value} cascade names no channel")
            if len(set(channels)) != len(channels):
                raise ValueError(f"the {purpose.value} cascade names a channel twice")
        return {**_default_cascades(), **value}


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
    cascades: dict[MessagePurpose, tuple[Channel, ...]] = Field(
        default_factory=lambda: dict(_default_cascades())
    )
    fallback: tuple[FallbackRule, ...] = DEFAULT_FALLBACK
    sandbox: bool = False

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("must be an IANA time zone, e.g. Europe/Moscow") from exc
        return value

    @classmethod
    def of(cls, settings: MessagingSettings, *, timezone: str) -> "MessagingPolicy":
        """The policy a decision reads: the tenant's settings in the tenant's zone."""
        return cls(
            timezone=timezone,
            quiet_hours=settings.sending_hours,
            cap=settings.frequency_caps.marketing,
            cascades=dict(settings.cascade),
            sandbox=settings.sandbox,
        )

    def cascade(self, purpose: MessagePurpose) -> tuple[Channel, ...]:
        return self.cascades.get(purpose, DEFAULT_CASCADE)

    def fallback_rule(self, channel: Channel) -> FallbackRule | None:
        return next((rule for rule in self.fallback if rule.channel is channel), None)


# The fallback rules are not a tenant setting (yet): a sent message reads no settings to find
# its rule (the channel worker's hot path).
FALLBACK_POLICY = MessagingPolicy()
# A campaign message falls back only when its channel failed (CONTRACT §6): no reaction rules.
FAILURE_ONLY_POLICY = MessagingPolicy(fallback=())


def fallback_policy(intent: Mapping[str, object]) -> MessagingPolicy:
    """The fallback rules a stored message's intent asks for."""
    return FAILURE_ONLY_POLICY if intent.get("fall_back_only_on_failure") else FALLBACK_POLICY
