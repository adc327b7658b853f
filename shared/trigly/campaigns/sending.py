"""A campaign's sending, in small pieces on the journey queue, none near Lambda's limits.

- *Look* (`{"kind": "campaign"}`): load the campaign and do what is due — start it (read the
  segment's members, store them as pages of customer ids: the audience when sending started;
  `START_PAGES` pages a step, a continuation look per step after the last id stored),
  release the pages the throttle allows, decide the A/B winner, mark it `sent` when every page
  is done. A look that finds more to do later queues itself again with an SQS delay
  (at most 15 minutes; a chain token lets only the latest chain continue), and the campaign sits
  on the `due` index so the hourly tick looks at it even if a chain was lost.
- *Page* (`{"kind": "campaign_page"}`): up to `page_size` recipients, each through the one send
  path (`messaging.service.send`) under the key `campaign/{campaign}/{customer}`. The key's
  conditional claim is the per-customer claim: a redelivered page, a page released again after
  a resume, a crash after the claim, or two workers on one page make one message per customer.
  A page checks the campaign's status every `CHECK_EVERY` recipients, so a pause stops it
  within that many messages; the page is then left unfinished and released again on resume.

Throttle: pages hold `min(100, throttle)` customers; page `n` of a phase may go
`n × page_size / throttle` minutes after the phase started (or resumed), so any minute sends at
most about `throttle` messages. Held messages (quiet hours, `local_time`) go when released by
the tick, outside the throttle.
"""

import math
from datetime import datetime, timedelta
from typing import Any

from trigly.campaigns import assign, audience, stats
from trigly.campaigns.model import Campaign, CampaignStatus, Phase, Variant, Winner
from trigly.campaigns.settings import marketing_settings
from trigly.journeys.queue import enqueue
from trigly.messaging.intent import MessagePurpose, Reason, SendIntent
from trigly.platform import aws, clock, ids
from trigly.platform.errors import Conflict, NotFound
from trigly.platform.observability import logger
from trigly.platform.settings import get_settings
from trigly.platform.tenancy import Tenant, get_tenant_cached
from trigly.store import campaigns as store

PAGE_SIZE = 100
START_PAGES = 1000  # audience pages one start step stores (100,000 ids: seconds, not 60)
CHECK_EVERY = 25  # recipients between two looks at the campaign's status within a page
MAX_DELAY = timedelta(seconds=900)  # SQS's longest delay
WATCHDOG = timedelta(hours=1)  # the tick looks again at a sending campaign at least this often


def load(tenant_id: str, campaign_id: str) -> tuple[Campaign, int] | None:
    loaded = store.load(tenant_id, campaign_id)
    if loaded is None:
        return None
    return Campaign.model_validate_json(loaded[0]), loaded[1]


def save(campaign: Campaign, tenant_id: str, version: int | None, due: datetime | None) -> int:
    return store.save(tenant_id, campaign.id, campaign.model_dump_json(), version, due)


def handle(message: dict[str, Any]) -> None:
    """One journey-queue message of a campaign."""
    if message["kind"] == "campaign":
        look(message["tenant_id"], message["campaign_id"], message.get("chain"))
    else:
        send_page(
            message["tenant_id"], message["campaign_id"], int(message["page"]), message["phase"]
        )


def queue_look(
    tenant_id: str, campaign_id: str, *, chain: str | None, delay: timedelta = timedelta(0)
) -> None:
    """A look at the campaign, after `delay` (wall clock; at most 15 minutes)."""
    import json

    body = {"kind": "campaign", "tenant_id": tenant_id, "campaign_id": campaign_id}
    if chain is not None:
        body["chain"] = chain
    seconds = max(0, min(math.ceil(delay.total_seconds()), int(MAX_DELAY.total_seconds())))
    aws.sqs().send_message(
        QueueUrl=get_settings().journey_queue_url,
        MessageBody=json.dumps(body),
        DelaySeconds=seconds,
    )


# --- looking at a campaign --------------------------------------------------------------------


def look(tenant_id: str, campaign_id: str, chain: str | None = None) -> None:
    """Do what is due for the campaign (module doc). Safe to repeat and to run concurrently:
    every change is saved under the version read; a look that lost the race stops."""
    loaded = load(tenant_id, campaign_id)
    if loaded is None:
        return
    campaign, version = loaded
    if chain is not None and chain != campaign.chain:
        return  # an older chain of looks: a newer one took over
    now = clock.now()
    if campaign.status in (CampaignStatus.PAUSED, CampaignStatus.CANCELLED, CampaignStatus.SENT):
        return
    try:
        if campaign.status is CampaignStatus.SCHEDULED:
            if now < campaign.send_at:
                _later(tenant_id, campaign, version, campaign.send_at, now)
                return
            begun = _start(tenant_id, campaign, version, now)
            if begun is None:
                return  # more of the audience to read: a continuation look goes on
            campaign, version = begun
        _advance(tenant_id, campaign, version, now)
    except store.StaleCampaign:
        logger.info("campaign changed meanwhile", extra={"campaign_id": campaign_id})


def _later(tenant_id: str, campaign: Campaign, version: int, at: datetime, now: datetime) -> None:
    """Look again at `at`: a delayed look when it is within SQS's reach, and the `due` index
    (the hourly tick) in any case, a little before, so a delayed chain can take over from it."""
    token = ids.new_id("chn")
    changed = campaign.model_copy(update={"chain": token})
    save(changed, tenant_id, version, due=max(now, at - MAX_DELAY))
    if at - now <= MAX_DELAY:
        queue_look(tenant_id, campaign.id, chain=token, delay=at - now)


def _start(
    tenant_id: str, campaign: Campaign, version: int, now: datetime
) -> tuple[Campaign, int] | None:
    """The audience is the segment's members now: stored as pages, so later pages, resumes and
    retries read the same people whatever the segment does. Read in steps of `START_PAGES`
    pages (a keyset slice after the last id stored) so millions stay far inside the worker's
    60 s: a step that leaves more saves its position and queues a continuation look (None).
    A redelivered step reads the same position and rewrites the same pages; only one save of
    the position wins (the campaign's version)."""
    size = min(PAGE_SIZE, campaign.throttle_per_minute or PAGE_SIZE)
    limit = size * START_PAGES
    members = audience.members_after(tenant_id, campaign.segment_id, campaign.fill_after, limit + 1)
    more, members = len(members) > limit, members[:limit]
    pages = [members[at : at + size] for at in range(0, len(members), size)]
    store.put_pages(tenant_id, campaign.id, campaign.filled_pages, pages)  # 25 a request
    pages_total = campaign.filled_pages + len(pages)
    total = campaign.filled_total + len(members)
    if more:
        token = ids.new_id("chn")
        step = campaign.model_copy(
            update={
                "fill_after": members[-1],
                "filled_pages": pages_total,
                "filled_total": total,
                "chain": token,
            }
        )
        save(step, tenant_id, version, due=now + WATCHDOG)
        queue_look(tenant_id, campaign.id, chain=token)
        logger.info("campaign audience step", extra={"campaign_id": campaign.id, "read": total})
        return None
    started = campaign.model_copy(
        update={
            "status": CampaignStatus.SENDING,
            "started_at": now,
            "audience": total,
            "pages": pages_total,
            "page_size": size,
            "phase": Phase.TEST if campaign.winner_rule else Phase.ALL,
            "released": 0,
            "rate_from": now,
            "rate_base": 0,
            "fill_after": None,
        }
    )
    version = save(started, tenant_id, version, due=now + WATCHDOG)
    logger.info("campaign started", extra={"campaign_id": campaign.id, "audience": total})
    return started, version


def allowed_pages(campaign: Campaign, now: datetime) -> int:
    """How many pages of the phase may have gone by `now` (the throttle)."""
    assert campaign.pages is not None
    if campaign.throttle_per_minute is None or campaign.rate_from is None:
        return campaign.pages
    minutes = max(0.0, (now - campaign.rate_from).total_seconds() / 60)
    paced = (
        campaign.rate_base
        + 1
        + math.floor(minutes * campaign.throttle_per_minute / campaign.page_size)
    )
    return min(campaign.pages, paced)


def next_page_at(campaign: Campaign) -> datetime:
    """When the throttle lets the next page go."""
    assert campaign.rate_from is not None and campaign.throttle_per_minute is not None
    pages_since = campaign.released - campaign.rate_base
    minutes = pages_since * campaign.page_size / campaign.throttle_per_minute
    return campaign.rate_from + timedelta(minutes=minutes)


def _advance(tenant_id: str, campaign: Campaign, version: int, now: datetime) -> None:
    total = campaign.pages
    assert total is not None
    if campaign.decide_at is not None:
        if now < campaign.decide_at:
            _later(tenant_id, campaign, version, campaign.decide_at, now)
            return
        campaign, version = _decide(tenant_id, campaign, version, now)
    phase = campaign.phase.value
    allowed = allowed_pages(campaign, now)
    pages = list(range(campaign.released, allowed))
    if campaign.reconcile:
        # Resumed: the pages a pause interrupted go again (their sent customers are skipped
        # by their keys); finished ones do not.
        done = store.pages_done(tenant_id, campaign.id, phase)
        pages = [n for n in range(campaign.released) if n not in done] + pages
    if pages or campaign.reconcile:
        released = campaign.model_copy(update={"released": allowed, "reconcile": False})
        version = save(released, tenant_id, version, due=now + WATCHDOG)
        enqueue(
            [
                {
                    "kind": "campaign_page",
                    "tenant_id": tenant_id,
                    "campaign_id": campaign.id,
                    "page": n,
                    "phase": phase,
                }
                for n in pages
            ]
        )
        campaign = released
    if allowed < total:
        _later(tenant_id, campaign, version, next_page_at(campaign), now)
        return
    if len(store.pages_done(tenant_id, campaign.id, phase)) < total:
        # Pages on their way: the last to finish asks for a look; the tick looks in an hour.
        save(campaign, tenant_id, version, due=now + WATCHDOG)
        return
    if campaign.phase is Phase.TEST:
        assert campaign.winner_rule is not None
        decide_at = now + campaign.winner_rule.waiting()
        waiting = campaign.model_copy(update={"decide_at": decide_at})
        _later(tenant_id, waiting, version, decide_at, now)
        return
    if held(tenant_id, campaign.id):
        # Messages wait for their local time (or quiet hours, a cap): released by the hourly
        # tick; until then the campaign is still sending (and can be cancelled).
        save(campaign, tenant_id, version, due=now + WATCHDOG)
        return
    finished = campaign.model_copy(
        update={"status": CampaignStatus.SENT, "finished_at": now, "chain": None}
    )
    save(finished, tenant_id, version, due=None)
    logger.info("campaign sent", extra={"campaign_id": campaign.id})


def _decide(
    tenant_id: str, campaign: Campaign, version: int, now: datetime
) -> tuple[Campaign, int]:
    """The A/B test's rates from the campaign's message counters: the best variant wins the
    rest of the audience when a two-proportion test gives p < 0.05; otherwise the split goes on."""
    assert campaign.winner_rule is not None
    metric = campaign.winner_rule.metric
    counted = store.counts(tenant_id, campaign.id)
    arms = [
        stats.Arm(v.id, counted.get(v.id, {}).get(metric, 0), counted.get(v.id, {}).get("sent", 0))
        for v in campaign.variants
    ]
    decision = stats.decide(arms)
    winner = (
        Winner(variant=decision.winner, metric=metric, p_value=decision.p_value)
        if decision.winner is not None
        else None
    )
    logger.info(
        "campaign A/B decided",
        extra={"campaign_id": campaign.id, "winner": decision.winner, "p": decision.p_value},
    )
    decided = campaign.model_copy(
        update={
            "winner": winner,
            "decide_at": None,
            "phase": Phase.REST,
            "released": 0,
            "rate_from": now,
            "rate_base": 0,
        }
    )
    version = save(decided, tenant_id, version, due=now + WATCHDOG)
    return decided, version


def held(tenant_id: str, campaign_id: str) -> int:
    """How many of the campaign's messages are held now (its counters, one Query)."""
    return sum(c.get("held", 0) for c in store.counts(tenant_id, campaign_id).values())


# --- sending one page -------------------------------------------------------------------------


def send_page(tenant_id: str, campaign_id: str, page: int, phase: str) -> None:
    loaded = load(tenant_id, campaign_id)
    if loaded is None:
        return
    campaign = loaded[0]
    if campaign.status is not CampaignStatus.SENDING or campaign.phase.value != phase:
        return  # paused, cancelled, or a phase that is over: a resume releases it again
    customer_ids, done = store.get_page(tenant_id, campaign_id, page)
    if phase in done:
        return  # a redelivery of a finished page
    tenant = get_tenant_cached(tenant_id)
    control = (
        _global_control_percent(tenant_id) if campaign.purpose is MessagePurpose.MARKETING else 0
    )
    for at, customer_id in enumerate(customer_ids):
        if at and at % CHECK_EVERY == 0:
            current = load(tenant_id, campaign_id)
            if current is None or current[0].status is not CampaignStatus.SENDING:
                return  # paused or cancelled meanwhile: the page stays unfinished
        recipient(tenant, campaign, customer_id, control)
    if store.finish_page(tenant_id, campaign_id, page, phase):
        finished = store.count_finished(tenant_id, campaign_id, phase)
        if finished >= (campaign.pages or 0):
            queue_look(tenant_id, campaign_id, chain=None)  # the last page: the phase is done


def _global_control_percent(tenant_id: str) -> int:
    return marketing_settings(tenant_id).global_control_percent


def recipient(tenant: Tenant, campaign: Campaign, customer_id: str, control_percent: int) -> None:
    """One customer of the audience: holdout, global control, or the variant's message — each
    a message record under the campaign's key for this customer."""
    rule = campaign.winner_rule
    if rule is not None:
        tested = assign.in_test(campaign.id, customer_id, rule.test_percent)
        if tested != (campaign.phase is Phase.TEST):
            return  # the other phase's customer
    suppress: Reason | None = None
    variant: Variant | None = None
    if assign.in_holdout(campaign.id, customer_id, campaign.holdout_percent):
        suppress = Reason.HOLDOUT
    elif control_percent and assign.in_global_control(
        tenant.tenant_id, customer_id, control_percent
    ):
        suppress = Reason.GLOBAL_CONTROL
    elif campaign.winner is not None and campaign.phase is Phase.REST:
        variant = next(v for v in campaign.variants if v.id == campaign.winner.variant)
    else:
        variant = assign.variant_of(campaign.id, customer_id, campaign.variants)
    template_id = (variant or campaign.variants[0]).template_id
    meta = {"campaign_id": campaign.id}
    if variant is not None:
        meta["variant"] = variant.id
    if campaign.erid:
        meta["erid"] = campaign.erid
    intent = SendIntent(
        customer_id=customer_id,
        purpose=campaign.purpose,
        kind="campaign",
        template_id=template_id,
        variables={"erid": campaign.erid or ""},
        channels=list(campaign.channels),
        only_listed_channels=bool(campaign.channels),
        message_links=list(campaign.links),  # each names its message: a booking marks it
        idempotency_key=f"campaign/{campaign.id}/{customer_id}",
        meta=meta,
        local_time=campaign.local_time,
        not_before=campaign.send_at if campaign.local_time else None,
        fall_back_only_on_failure=True,
    )
    from trigly.messaging import service as messaging

    try:
        messaging.send(tenant, intent, suppress=suppress)
    except NotFound:
        pass  # erased since sending started, or the template was deleted: nobody to send to
    except Conflict:
        # The key is taken with another body (the global control changed between two tries):
        # this customer already has the campaign's one message.
        pass
