"""Campaigns as the API sees them: create (checked against the segment, the templates and the
tenant's marking rule), read with their counts, pause, resume, cancel; and the tenant's
marketing settings (global control group, `erid` required)."""

from datetime import datetime
from typing import Any

from trigly.campaigns import audience, sending
from trigly.campaigns.model import (
    Campaign,
    CampaignStatus,
    NewCampaign,
)
from trigly.campaigns.settings import marketing_settings
from trigly.messaging.intent import MessagePurpose
from trigly.platform import clock, ids
from trigly.platform.clock import isoformat
from trigly.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from trigly.platform.tenancy import Tenant
from trigly.store import campaigns as store

# --- creating ---------------------------------------------------------------------------------


def _check(tenant: Tenant, request: NewCampaign) -> None:
    """What the request's shape cannot tell: the segment, the templates, the marking rule."""
    from trigly.messaging import library

    errors: list[FieldError] = []
    if not audience.segment_exists(tenant.tenant_id, request.segment_id):
        errors.append(FieldError("segment_id", "no such segment (unknown or deleted)"))
    if request.template_id is not None:
        named = [("template_id", request.template_id)]
    else:
        named = [
            (f"variants.{i}.template_id", v.template_id)
            for i, v in enumerate(request.variants or [])
        ]
    for field, template_id in named:
        try:
            library.get_template(tenant, template_id)
        except NotFound:
            errors.append(FieldError(field, f"no such template: {template_id}"))
    if (
        request.purpose == "marketing"
        and request.erid is None
        and marketing_settings(tenant.tenant_id).erid_required
    ):
        errors.append(FieldError("erid", "this tenant requires advertising marking (erid)"))
    if errors:
        raise ValidationFailed(errors=errors)


def create(tenant: Tenant, request: NewCampaign) -> Campaign:
    _check(tenant, request)
    now = clock.now()
    campaign = Campaign(
        id=ids.new_id("cmp"),
        name=request.name,
        segment_id=request.segment_id,
        purpose=MessagePurpose(request.purpose),
        channels=list(request.channels),
        variants=request.the_variants(),
        links=list(request.links),
        holdout_percent=request.holdout_percent,
        send_at=request.send_at or now,
        local_time=request.local_time,
        throttle_per_minute=request.throttle_per_minute,
        erid=request.erid,
        winner_rule=request.winner,
        created_at=now,
    )
    # On the `due` index from the start: the tick starts it even if the look below is lost.
    sending.save(
        campaign, tenant.tenant_id, None, due=max(now, campaign.send_at - sending.MAX_DELAY)
    )
    if campaign.send_at - now <= sending.MAX_DELAY:
        sending.queue_look(tenant.tenant_id, campaign.id, chain=None, delay=campaign.send_at - now)
    return campaign


# --- reading ----------------------------------------------------------------------------------


def get(tenant: Tenant, campaign_id: str) -> Campaign:
    loaded = sending.load(tenant.tenant_id, campaign_id)
    if loaded is None:
        raise NotFound("No such campaign.")
    return loaded[0]


def listed(tenant: Tenant) -> list[dict[str, Any]]:
    """The newest 100 campaigns (their ids sort by creation), without counts."""
    found = [Campaign.model_validate_json(doc) for doc in store.listed(tenant.tenant_id)]
    return [
        {
            "id": c.id,
            "name": c.name,
            "status": c.status.value,
            "segment_id": c.segment_id,
            "send_at": isoformat(c.send_at),
            "created_at": isoformat(c.created_at),
        }
        for c in found
    ]


_LADDER = ("sent", "delivered", "clicked", "booked")


def view(tenant: Tenant, campaign: Campaign) -> dict[str, Any]:
    """CONTRACT §6 `GET /v1/campaigns/{id}`: counts from the counters (one Query)."""
    counted = store.counts(tenant.tenant_id, campaign.id)
    total: dict[str, int] = {}
    for by_variant in counted.values():
        for name, n in by_variant.items():
            total[name] = total.get(name, 0) + n
    suppressed = {
        name.removeprefix("s_"): n
        for name, n in sorted(total.items())
        if name.startswith("s_") and n
    }
    audience_size = campaign.audience or 0
    decided = total.get("sent", 0) + total.get("failed", 0) + sum(suppressed.values())
    counts = {
        "audience": audience_size,
        "holdout": suppressed.get("holdout", 0),
        # What waits now: held or queued messages, and customers whose page has not gone yet
        # (none once the campaign is over).
        "queued": max(0, audience_size - decided)
        if campaign.status is not CampaignStatus.CANCELLED
        else 0,
        **{name: total.get(name, 0) for name in _LADDER},
        "suppressed": suppressed,
        "failed": total.get("failed", 0),
    }
    variants = [
        {
            "id": v.id,
            "audience": counted.get(v.id, {}).get("audience", 0),
            **{name: counted.get(v.id, {}).get(name, 0) for name in _LADDER},
        }
        for v in campaign.variants
    ]
    return {
        "id": campaign.id,
        "name": campaign.name,
        "segment_id": campaign.segment_id,
        "purpose": campaign.purpose.value,
        "status": campaign.status.value,
        "send_at": isoformat(campaign.send_at),
        "started_at": _at(campaign.started_at),
        "finished_at": _at(campaign.finished_at),
        "counts": counts,
        "variants": variants,
        "winner": campaign.winner.model_dump() if campaign.winner else None,
    }


def _at(moment: datetime | None) -> str | None:
    return isoformat(moment) if moment else None


# --- pause, resume, cancel --------------------------------------------------------------------


def _change(tenant: Tenant, campaign_id: str, change: Any) -> Campaign:
    """Apply `change(campaign, now)` under the version read (retried when a look saved first)."""
    for _ in range(5):
        loaded = sending.load(tenant.tenant_id, campaign_id)
        if loaded is None:
            raise NotFound("No such campaign.")
        campaign, version = loaded
        now = clock.now()
        changed: Campaign | None = change(campaign, now)
        if changed is None:
            return campaign  # nothing to change (a second resume, a second pause)
        try:
            sending.save(changed, tenant.tenant_id, version, due=_due_after(changed, now))
        except store.StaleCampaign:
            continue
        return changed
    raise Conflict("The campaign is changing; try again.")


def _due_after(campaign: Campaign, now: datetime) -> datetime | None:
    if campaign.status is CampaignStatus.SENDING:
        return now
    if campaign.status is CampaignStatus.SCHEDULED:
        return max(now, campaign.send_at - sending.MAX_DELAY)
    return None  # paused, cancelled: nothing to look at until a resume


def pause(tenant: Tenant, campaign_id: str) -> Campaign:
    def change(campaign: Campaign, now: datetime) -> Campaign | None:
        if campaign.status is CampaignStatus.PAUSED:
            return None
        if campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.SENDING):
            raise Conflict(f"A {campaign.status.value} campaign cannot be paused.")
        return campaign.model_copy(update={"status": CampaignStatus.PAUSED, "chain": None})

    return _change(tenant, campaign_id, change)


def resume(tenant: Tenant, campaign_id: str) -> Campaign:
    """Sending goes on from where it stopped; resuming a campaign that is not paused changes
    nothing (a second resume sends nothing twice)."""

    def change(campaign: Campaign, now: datetime) -> Campaign | None:
        if campaign.status in (CampaignStatus.SENDING, CampaignStatus.SCHEDULED):
            return None
        if campaign.status is not CampaignStatus.PAUSED:
            raise Conflict(f"A {campaign.status.value} campaign cannot be resumed.")
        if campaign.started_at is None:
            return campaign.model_copy(update={"status": CampaignStatus.SCHEDULED})
        return campaign.model_copy(
            update={
                "status": CampaignStatus.SENDING,
                "rate_from": now,
                "rate_base": campaign.released,
                "reconcile": True,
            }
        )

    before = get(tenant, campaign_id)
    resumed = _change(tenant, campaign_id, change)
    if before.status is CampaignStatus.PAUSED:
        sending.queue_look(tenant.tenant_id, campaign_id, chain=None)
    return resumed


def cancel(tenant: Tenant, campaign_id: str) -> Campaign:
    """Stops what has not gone; a campaign whose sending finished is `409`."""

    def change(campaign: Campaign, now: datetime) -> Campaign | None:
        if campaign.status is CampaignStatus.CANCELLED:
            return None
        if campaign.status is CampaignStatus.SENT:
            raise Conflict("The campaign's sending finished; it cannot be cancelled.")
        return campaign.model_copy(
            update={"status": CampaignStatus.CANCELLED, "finished_at": now, "chain": None}
        )

    return _change(tenant, campaign_id, change)
