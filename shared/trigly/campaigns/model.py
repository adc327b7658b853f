"""A campaign as the marketer asks for it (CONTRACT §6 `POST /v1/campaigns`) and as it is kept
while it sends: status, the audience taken when sending started, the phase of its fan-out, the
pages released so far, and the A/B decision."""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from trigly.events.types import Channel
from trigly.journeys.definition import parse_duration
from trigly.messaging.intent import MessagePurpose


class CampaignStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class Phase(StrEnum):
    """Which part of the audience the fan-out is sending: everyone (`all`), the A/B test share
    (`test`), or the rest after the decision (`rest`)."""

    ALL = "all"
    TEST = "test"
    REST = "rest"


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,20}$", description="e.g. `A`, `B`")
    template_id: str = Field(min_length=1, max_length=100)
    weight: int = Field(ge=1, le=100, description="Share of the audience, percent")


class WinnerRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Literal["clicked", "booked"]
    test_percent: int = Field(ge=1, le=90, description="Share of the audience in the test")
    decide_after: str = Field(description="ISO 8601 duration, business time, e.g. `P2D`")

    @field_validator("decide_after")
    @classmethod
    def _duration(cls, value: str) -> str:
        if parse_duration(value) <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    def waiting(self) -> timedelta:
        return parse_duration(self.decide_after)


class NewCampaign(BaseModel):
    """CONTRACT §6: a one-off or scheduled send to a segment. Each problem is reported at its
    field's path (field validators, not one model validator)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    segment_id: str = Field(min_length=1, max_length=100)
    purpose: Literal["marketing", "service"]
    channels: list[Channel] = Field(
        default_factory=list, max_length=7, description="The campaign's cascade, best first"
    )
    template_id: str | None = Field(default=None, min_length=1, max_length=100)
    links: list[Literal["booking"]] = Field(
        default_factory=list,
        max_length=1,
        description="Customer links each message carries, as a journey step's `links`: "
        "`booking` — the template places `{{ links.booking }}` (messengers also show a "
        "button); a booking made through it counts the message `booked`",
    )
    # Checked even when absent, so "neither" is an error about `variants`.
    variants: list[Variant] | None = Field(
        default=None, min_length=1, max_length=10, validate_default=True
    )
    holdout_percent: int = Field(default=0, ge=0, le=50)
    send_at: AwareDatetime | None = None
    local_time: str | None = Field(
        default=None,
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="HH:MM, each recipient's local time on or after `send_at`",
    )
    throttle_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    erid: str | None = Field(default=None, min_length=1, max_length=100)
    winner: WinnerRule | None = None

    @field_validator("channels")
    @classmethod
    def _distinct(cls, value: list[Channel]) -> list[Channel]:
        if len(set(value)) != len(value):
            raise ValueError("names a channel twice")
        return value

    @field_validator("variants")
    @classmethod
    def _one_body(
        cls, variants: list[Variant] | None, info: ValidationInfo
    ) -> list[Variant] | None:
        if "template_id" in info.data and (info.data["template_id"] is None) == (variants is None):
            raise ValueError("give either `template_id` or `variants`")
        if variants is not None:
            if sum(v.weight for v in variants) != 100:  # percent
                raise ValueError("the weights must sum to 100")
            if len({v.id for v in variants}) != len(variants):
                raise ValueError("two variants share an id")
        return variants

    @field_validator("winner")
    @classmethod
    def _needs_variants(cls, winner: WinnerRule | None, info: ValidationInfo) -> WinnerRule | None:
        variants = info.data.get("variants")
        if winner is not None and (variants is None or len(variants) < 2):
            raise ValueError("a winner is chosen among two or more `variants`")
        return winner

    def the_variants(self) -> list[Variant]:
        """A single template is variant `A` with all the weight."""
        if self.variants is not None:
            return list(self.variants)
        assert self.template_id is not None
        return [Variant(id="A", template_id=self.template_id, weight=100)]


class Winner(BaseModel):
    model_config = ConfigDict(frozen=True)

    variant: str
    metric: str
    p_value: float


class Campaign(BaseModel):
    """The stored campaign: what was asked and how far its sending got."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    segment_id: str
    purpose: MessagePurpose
    channels: list[Channel] = Field(default_factory=list)
    variants: list[Variant]
    links: list[Literal["booking"]] = Field(default_factory=list)
    holdout_percent: int = 0
    send_at: datetime
    local_time: str | None = None
    throttle_per_minute: int | None = None
    erid: str | None = None
    winner_rule: WinnerRule | None = None
    created_at: datetime
    status: CampaignStatus = CampaignStatus.SCHEDULED
    # While the start reads the audience in steps (sending.START_PAGES pages each): the last
    # customer id stored so far (the keyset position) and the pages and members stored.
    fill_after: str | None = None
    filled_pages: int = 0
    filled_total: int = 0
    # Set when sending starts: the audience then, in pages of `page_size` customer ids.
    started_at: datetime | None = None
    audience: int | None = None
    pages: int | None = None
    page_size: int = 100
    phase: Phase = Phase.ALL
    # The throttle: `released` pages of this phase went out, and from `rate_from` on, one more
    # page each `page_size / throttle_per_minute` minutes (reset at a resume).
    released: int = 0
    rate_from: datetime | None = None
    rate_base: int = 0
    decide_at: datetime | None = None  # the A/B test's pages are done: decide then
    winner: Winner | None = None
    finished_at: datetime | None = None
    chain: str | None = None  # the one live chain of delayed looks (sending.py)
    reconcile: bool = False  # resumed: the next look re-releases pages a pause interrupted

    @model_validator(mode="after")
    def _weights(self) -> Self:
        assert sum(v.weight for v in self.variants) == 100
        return self

    def template_ids(self) -> set[str]:
        return {v.template_id for v in self.variants}


class MarketingSettings(BaseModel):
    """CONTRACT §6 `PUT /v1/settings/marketing`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    global_control_percent: int = Field(
        default=0,
        ge=0,
        le=50,
        description="A stable share of all customers who receive no marketing at all",
    )
    erid_required: bool = Field(
        default=False,
        description="Marketing campaigns must carry an `erid` (Russian advertising marking)",
    )
