"""The tenant's messaging settings (CONTRACT §3): sending hours, frequency caps, cascade per
purpose, sandbox mode. A `PUT` changes only what it names."""

from datetime import time
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict, Field

from trigly.events.types import Channel
from trigly.messaging import settings
from trigly.messaging.intent import MessagePurpose
from trigly.messaging.policy import MessagingSettings

router = APIGatewayHttpRouter()

SETTINGS_HELP = (
    "`sending_hours`: the recipient's local window in which marketing and service messages go "
    "(transactional go at once); `from` before `to` on one day, default 09:00–21:00. "
    "`frequency_caps.marketing`: at most `per_day` (the recipient's calendar day), `per_week` "
    "and `per_30_days` (rolling on business time) marketing messages per customer across every "
    "journey and campaign; null: no cap of that length; defaults 1 / null / 4. A message counts "
    "from the moment it is queued for a channel and gives its place back when no provider took "
    "it (`provider_rejected`, `channel_not_configured`). `cascade`: channels tried in order per "
    "message purpose (`transactional`, `service`, `marketing`). `sandbox`: channels without a "
    "provider record to the sandbox outbox instead of being skipped — for demo and test "
    "tenants, never for real customers; off by default. A change applies to every message "
    "decided after it (held messages are decided again when released)."
)


class SendingHoursChange(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: time | None = Field(default=None, alias="from", description="HH:MM, local time")
    end: time | None = Field(default=None, alias="to", description="HH:MM, local time")


class MarketingCapsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_day: int | None = Field(default=None, ge=1, le=50, description="null: no daily cap")
    per_week: int | None = Field(default=None, ge=1, le=200, description="null: no weekly cap")
    per_30_days: int | None = Field(default=None, ge=1, le=500, description="null: no cap")


class FrequencyCapsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    marketing: MarketingCapsChange | None = None


class MessagingSettingsChange(BaseModel):
    """A partial change: only the fields named change (objects field by field; a cascade list
    replaces that purpose's list)."""

    model_config = ConfigDict(extra="forbid")

    sending_hours: SendingHoursChange | None = None
    frequency_caps: FrequencyCapsChange | None = None
    # Keys checked by the domain, so an unknown purpose is reported at `cascade.<purpose>`.
    cascade: dict[str, list[Channel]] | None = Field(
        default=None,
        description="Per purpose (" + ", ".join(p.value for p in MessagePurpose) + "): the "
        "channels tried in order",
    )
    sandbox: bool | None = None


def _view(current: MessagingSettings) -> dict[str, Any]:
    view: dict[str, Any] = current.model_dump(mode="json", by_alias=True)
    return view


@router.get(
    "/settings/messaging",
    tags=["settings"],
    summary="The tenant's messaging policy",
    description=SETTINGS_HELP,
    responses={
        200: {
            "description": "The settings",
            "content": {"application/json": {"model": MessagingSettings}},
        }
    },
)
def get_messaging_settings() -> dict[str, Any]:
    return _view(settings.messaging_settings(router.context["tenant_id"]))


@router.put(
    "/settings/messaging",
    tags=["settings"],
    summary="Change the tenant's messaging policy (partial)",
    description=SETTINGS_HELP,
    responses={
        200: {
            "description": "The settings after the change",
            "content": {"application/json": {"model": MessagingSettings}},
        },
        422: {"description": "An empty sending window, an unknown channel or purpose, a cap < 1"},
    },
)
def put_messaging_settings(change: MessagingSettingsChange) -> dict[str, Any]:
    named = change.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return _view(settings.change_settings(router.context["tenant_id"], named))
