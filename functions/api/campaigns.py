"""Campaigns (CONTRACT §6): sends to a segment's members, paused, resumed, cancelled, with their
progress; and the tenant's marketing settings."""

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict, Field

from functions.api.context import current_tenant
from functions.api.schemas import (
    CampaignList,
    CampaignView,
    CreatedCampaign,
    MarketingSettingsView,
)
from trigly.campaigns import service, settings
from trigly.campaigns.model import NewCampaign

router = APIGatewayHttpRouter()

CAMPAIGN_HELP = (
    "The audience is the segment's members when sending starts (`send_at`, absent: now). "
    "`local_time`: each recipient at that local time (HH:MM) on or after `send_at`. "
    "`throttle_per_minute`: messages released per minute. `holdout_percent` (0–50): a stable "
    "share of the audience gets nothing, listed as messages `suppressed: holdout`. `variants` "
    "split the rest by weight (summing to 100); with `winner`, `test_percent` of the audience "
    "goes first and after `decide_after` (ISO 8601 duration) the best `metric` rate takes the "
    "rest when a two-proportion test gives p < 0.05. Each customer gets at most one message per "
    "campaign (`kind: campaign`, `meta.campaign_id`, `meta.variant`, `meta.erid`); every "
    "guardrail applies; the cascade falls back only when a channel failed. `links: "
    '["booking"]`: each message carries its own booking link (the template places '
    "`{{ links.booking }}`); a booking made through it counts the message `booked`, once."
)


@router.post(
    "/campaigns",
    tags=["campaigns"],
    summary="Create a campaign to a segment",
    description=CAMPAIGN_HELP,
    status_code=201,
)
def create_campaign(request: NewCampaign) -> CreatedCampaign:
    campaign = service.create(current_tenant(router), request)
    return CreatedCampaign(id=campaign.id, status=campaign.status.value)


@router.get("/campaigns", tags=["campaigns"], summary="The newest 100 campaigns, newest first")
def list_campaigns() -> CampaignList:
    items = service.listed(current_tenant(router))
    return CampaignList.model_validate({"items": items, "cursor": None})


@router.get(
    "/campaigns/<campaign_id>",
    tags=["campaigns"],
    summary="A campaign with its counts (cumulative), variants and winner",
)
def get_campaign(campaign_id: str) -> CampaignView:
    tenant = current_tenant(router)
    return CampaignView.model_validate(service.view(tenant, service.get(tenant, campaign_id)))


def _answer(campaign_id: str, action: Any) -> CampaignView:
    tenant = current_tenant(router)
    return CampaignView.model_validate(service.view(tenant, action(tenant, campaign_id)))


@router.post(
    "/campaigns/<campaign_id>/pause",
    tags=["campaigns"],
    summary="Pause sending (takes effect within a few messages)",
)
def pause_campaign(campaign_id: str) -> CampaignView:
    return _answer(campaign_id, service.pause)


@router.post(
    "/campaigns/<campaign_id>/resume",
    tags=["campaigns"],
    summary="Resume a paused campaign (resuming twice sends nothing twice)",
)
def resume_campaign(campaign_id: str) -> CampaignView:
    return _answer(campaign_id, service.resume)


@router.post(
    "/campaigns/<campaign_id>/cancel",
    tags=["campaigns"],
    summary="Cancel what has not gone yet (a finished campaign: 409)",
)
def cancel_campaign(campaign_id: str) -> CampaignView:
    return _answer(campaign_id, service.cancel)


class MarketingSettingsChange(BaseModel):
    """A partial change: only the fields named change."""

    model_config = ConfigDict(extra="forbid")

    global_control_percent: int | None = Field(default=None, ge=0, le=50)
    erid_required: bool | None = None


@router.get("/settings/marketing", tags=["settings"], summary="The tenant's marketing settings")
def get_marketing_settings() -> MarketingSettingsView:
    current = settings.marketing_settings(current_tenant(router).tenant_id)
    return MarketingSettingsView.model_validate(current.model_dump())


@router.put(
    "/settings/marketing",
    tags=["settings"],
    summary="Global control group (a stable share of all customers who receive no marketing) "
    "and whether marketing campaigns must carry an `erid` (partial)",
)
def put_marketing_settings(change: MarketingSettingsChange) -> MarketingSettingsView:
    named = change.model_dump(exclude_unset=True, exclude_none=True)
    changed = settings.change_marketing_settings(current_tenant(router).tenant_id, named)
    return MarketingSettingsView.model_validate(changed.model_dump())
