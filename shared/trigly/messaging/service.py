"""The one send path: claim the idempotency key, decide (guardrails, channel), render, record,
queue for the channel worker — or hold until allowed, or refuse with a reason.

Every sender — `POST /v1/messages`, journeys, campaigns — goes through `send`, so none of them
can send without consent, at night, too often, or twice.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from trigly.events.types import Channel
from trigly.messaging import caps, customer_links, progress, queue, suppression, tracking
from trigly.messaging.channels import Recipient, Route
from trigly.messaging.decision import Decision, Hold, Refuse, SendNow, decide
from trigly.messaging.guardrails import capped_purpose
from trigly.messaging.intent import (
    HistoryEntry,
    HoldPolicy,
    MessagePurpose,
    MessageState,
    MessageStatus,
    Reason,
    SendIntent,
    intent_fingerprint,
    record,
)
from trigly.messaging.message import StoredMessage, message_view, pack_html, unpack_html
from trigly.messaging.settings import policy_for
from trigly.platform import clock, ids, tokens
from trigly.platform.errors import Conflict, NotFound
from trigly.platform.observability import logger
from trigly.platform.settings import get_settings
from trigly.platform.tenancy import Tenant
from trigly.profiles.model import CustomerProfile
from trigly.profiles.records import newest_first
from trigly.store import customers as customer_store
from trigly.store import messages as store
from trigly.store.messages import MessageRef

if TYPE_CHECKING:
    from trigly.messaging.templates import MessageTemplate, Rendered


def _template(tenant: Tenant, intent: SendIntent) -> "MessageTemplate":
    """The stored template the intent names, or its one-off text as a template."""
    from trigly.messaging import library, templates  # Jinja2 and babel only where rendering

    if intent.template_id is not None:
        return library.get_template(tenant, intent.template_id)
    assert intent.text is not None  # SendIntent requires one of the two
    return templates.MessageTemplate.from_text(intent.text, intent.subject or "Сообщение от дилера")


def _render(
    template: "MessageTemplate",
    intent: SendIntent,
    profile: CustomerProfile,
    route: Route,
    *,
    zone: ZoneInfo,
    currency: str,
    links: dict[str, str],
    dealer: str,
) -> "Rendered":
    """The message for the chosen channel; an offer rides along only where consent allows."""
    from trigly.messaging import rendering

    variables = rendering.message_variables(
        intent.variables,
        offer=intent.offer,
        include_offer=route.include_offer,
        customer=rendering.customer_variables(profile),
        links=links,
        dealer={"name": dealer},
    )
    return rendering.render(template, route.channel, variables, zone=zone, currency=currency)


def _html_footer(html: str, links: dict[str, str]) -> str:
    """The preference and unsubscribe links an email's HTML did not place itself, as a footer
    before `</body>`."""
    from markupsafe import escape

    labels = (("preferences", "Настроить рассылки"), ("unsubscribe", "Отписаться"))
    footer = "".join(
        f'<p style="font-size:12px;color:#6b7280"><a href="{escape(links[purpose])}">'
        f"{escape(label)}</a></p>"
        for purpose, label in labels
        if purpose in links and str(escape(links[purpose])) not in html
    )
    at = html.rfind("</body>")
    return html[:at] + footer + html[at:] if at >= 0 else html + footer


def _track(
    tenant: Tenant,
    message: StoredMessage,
    sk: str,
    content: tuple[str, str | None],
    now: datetime,
) -> tuple[str, str | None, list[str]]:
    """The text and HTML with foreign links through tracking tokens (one per target)."""
    body, html = content
    seen: dict[str, str] = {}
    public_url = get_settings().public_url
    customer_id = message.customer_id
    body, tracked = tracking.track_links(
        body,
        tenant_id=tenant.tenant_id,
        customer_id=customer_id,
        sk=sk,
        public_url=public_url,
        now=now,
        tracked=seen,
    )
    if html is not None:
        html, tracked = tracking.track_html(
            html,
            tenant_id=tenant.tenant_id,
            customer_id=customer_id,
            sk=sk,
            public_url=public_url,
            now=now,
            tracked=seen,
        )
    return body, html, tracked


UNSUBSCRIBE_LINK_LIFETIME = timedelta(days=365)
MESSAGE_BOOKING_LINK_LIFETIME = timedelta(days=45)  # CONTRACT §4: at least 30 days


def _links(
    tenant: Tenant,
    message: StoredMessage,
    intent: SendIntent,
    channel: Channel,
    now: datetime,
    *,
    sk: str | None = None,
) -> dict[str, str]:
    """Signed links the message carries (CONTRACT §4): marketing always gets its unsubscribe.
    A link minted for this message (`message_links`) names it (`s`, its sort key, as tracking
    tokens do) and no car: the booking page books the customer's car and marks the message."""
    carried: dict[str, str] = {str(purpose): url for purpose, url in intent.links.items()}
    if sk is not None:
        for purpose in intent.message_links:
            claims = {
                "t": tenant.tenant_id,
                "c": message.customer_id,
                "p": purpose,
                "s": sk.removeprefix("MSG#"),
            }
            carried[purpose] = tokens.link(claims, now + MESSAGE_BOOKING_LINK_LIFETIME)
    if message.purpose is not MessagePurpose.MARKETING:
        return carried
    claims = {
        "t": tenant.tenant_id,
        "c": message.customer_id,
        "p": "unsubscribe",
        "ch": channel.value,
        "m": message.message_id,
    }
    return carried | {"unsubscribe": tokens.link(claims, now + UNSUBSCRIBE_LINK_LIFETIME)}


def _preference_links(
    tenant: Tenant, message: StoredMessage, channel: Channel, now: datetime
) -> dict[str, str]:
    """Marketing and service reminders lead to the preference centre (CONTRACT §4)."""
    if message.purpose not in (MessagePurpose.MARKETING, MessagePurpose.SERVICE):
        return {}
    url = customer_links.url_for(
        "preferences",
        tenant.tenant_id,
        message.customer_id,
        now,
        channel=channel,
        message_id=message.message_id,
    )
    return {"preferences": url}


_INVITES_TO_TELEGRAM = frozenset({Channel.SMS, Channel.EMAIL})


def _telegram_link(  # noqa: PLR0917
    tenant: Tenant,
    message: StoredMessage,
    profile: CustomerProfile,
    template: "MessageTemplate",
    channel: Channel,
    now: datetime,
) -> dict[str, str]:
    """`links.telegram` (`t.me/<bot>?start=<token>`) for an SMS or email whose template uses
    it, when the tenant has a bot and the customer has linked no chat yet. Only then: the
    token is a write, and the bot's username a (cached) read."""
    if (
        channel not in _INVITES_TO_TELEGRAM
        or Channel.TELEGRAM in profile.linked
        or not template.uses_link("telegram")
    ):
        return {}
    from trigly.messaging import inbound

    url = inbound.deep_link(tenant.tenant_id, message.customer_id, now)
    return {"telegram": url} if url else {}


# Senders deciding for one customer at once take the cap's places in turn; past this many
# lost writes in a row the message waits a little (held, re-decided by the next tick).
_CAP_ATTEMPTS = 5
_CAP_CONTENDED_WAIT = timedelta(minutes=15)


def _decide(
    tenant: Tenant,
    message: StoredMessage,
    profile: CustomerProfile,
    now: datetime,
    *,
    intent: SendIntent,
    template: "MessageTemplate",
) -> Decision:
    """Decide, and take the message's place under the frequency cap when it is sent now: the
    place is taken with a conditional write on the ledger the decision read (messaging/caps.py),
    so two sends deciding at once cannot both take the last place."""
    policy = policy_for(tenant)
    configured = None
    if not policy.sandbox:
        from trigly.channels.configuration import configured_channels

        configured = configured_channels(tenant.tenant_id)
    # The cap counts marketing only: a service or transactional message reads no ledger.
    counted = capped_purpose(intent.purpose) and not message.cap_shared()
    # Bounced, complained, refused or unsubscribed contacts, kept by keyed hash (one read).
    suppressions = suppression.for_profile(tenant.tenant_id, profile)
    decision: Decision | None = None
    for _ in range(_CAP_ATTEMPTS):
        ledger = caps.read(tenant.tenant_id, message.customer_id) if counted else None
        decision = decide(
            intent,
            Recipient(profile=profile, linked=profile.linked),
            policy,
            now=now,
            suppressions=suppressions,
            recent_marketing=ledger.times(message.message_id) if ledger is not None else (),
            supported=template.channels(),
            configured=configured,
            tried=message.tried,
            cap_counted=message.cap_shared(),
        )
        if not isinstance(decision, SendNow) or ledger is None:
            return decision
        if caps.take(tenant.tenant_id, message.customer_id, ledger, message.message_id, now):
            return decision
    assert isinstance(decision, SendNow)
    if intent.when_held is HoldPolicy.SKIP:
        return Refuse(Reason.FREQUENCY_CAP, decision.skipped)
    until = now + _CAP_CONTENDED_WAIT
    return Hold(until, Reason.FREQUENCY_CAP, decision.route, decision.zone, decision.skipped)


def _apply_decision(
    tenant: Tenant,
    message: StoredMessage,
    profile: CustomerProfile,
    now: datetime,
    template: "MessageTemplate | None" = None,
    *,
    sk: str | None = None,
) -> tuple[StoredMessage, datetime | None]:
    """Decide (again) from the stored intent: send now (rendered), hold until, or refuse.
    `sk` (the message's sort key) lets its links and open pixel be tracked."""
    intent = SendIntent.model_validate(message.intent)
    template = template or _template(tenant, intent)
    decision = _decide(tenant, message, profile, now, intent=intent, template=template)
    if isinstance(decision, Refuse):
        state, _ = record(message.state, decision.entry(now))
        return message.model_copy(update={"state": state}), None
    if isinstance(decision, Hold):
        state, _ = record(message.state, decision.entry(now))
        return message.model_copy(update={"state": state}), decision.until
    assert isinstance(decision, SendNow)
    from trigly.messaging.templates import TemplateError

    links = _links(tenant, message, intent, decision.route.channel, now, sk=sk)
    links |= _preference_links(tenant, message, decision.route.channel, now)
    links |= _telegram_link(tenant, message, profile, template, decision.route.channel, now)
    try:
        rendered = _render(
            template,
            intent,
            profile,
            decision.route,
            zone=decision.zone.zone,
            currency=tenant.currency,
            links=links,
            dealer=tenant.name,
        )
    except TemplateError:
        if decision.counts_against_cap:
            caps.give_back(tenant.tenant_id, message.customer_id, message.message_id)
        state, _ = record(
            message.state,
            HistoryEntry(status=MessageStatus.FAILED, at=now, reason=Reason.TEMPLATE_ERROR),
        )
        return message.model_copy(update={"state": state}), None
    subject, body = rendered.subject, rendered.text
    html = rendered.html if decision.route.channel is Channel.EMAIL else None
    queued = HistoryEntry(status=MessageStatus.QUEUED, at=now)
    state = (
        MessageState.queued(now) if not message.state.history else record(message.state, queued)[0]
    )
    if "unsubscribe" in links and links["unsubscribe"] not in body:
        # Every marketing message carries a way out, whether or not its template placed one.
        body = f"{body}\n\nОтписаться: {links['unsubscribe']}"
    preferences = links.get("preferences")
    if preferences and decision.route.channel is Channel.EMAIL and preferences not in body:
        # An email's footer also leads to the preference centre (SMS stays short).
        body = f"{body}\n\nНастроить рассылки: {preferences}"
    if html is not None:
        html = _html_footer(html, links)  # the same ways out, where its template has none
    listed = [{"purpose": purpose, "url": url} for purpose, url in links.items()]
    pixel = None
    if sk is not None and get_settings().public_url:
        # Foreign links go through tracking tokens (`clicked`); an email carries an open pixel.
        body, html, tracked = _track(tenant, message, sk, (body, html), now)
        listed += [{"purpose": "tracking", "url": url} for url in tracked]
        if decision.route.channel is Channel.EMAIL:
            pixel = tracking.pixel_url(tenant.tenant_id, message.customer_id, sk, now)
    update = {
        "state": state,
        "channel": decision.route.channel,
        "to": decision.route.address,
        "subject": subject,
        "body": body,
        "html_z": pack_html(html) if html is not None else None,
        "links": listed,
        **rendered.provider_parts(),
        "open_pixel": pixel,
    }
    return message.model_copy(update=update), None


def _save_decided(
    ref: MessageRef, message: StoredMessage, version: int | None, *, due: datetime | None
) -> None:
    """Save a decided message; an email's HTML part goes once into its own item (the worker
    reads it back), so the status updates that follow rewrite only the small message."""
    if message.html_z is not None:
        store.put_body(ref, unpack_html(message.html_z), message.created_at)
        message = message.model_copy(update={"html_z": None, "has_html": True})
    store.save(ref, message.document(), version, due=due)


def send(
    tenant: Tenant,
    intent: SendIntent,
    *,
    tried: Sequence[Channel] = (),
    fallback_of: str | None = None,
    cap_counted: bool = False,
    suppress: Reason | None = None,
) -> StoredMessage:
    """Exactly one message per idempotency key; the same key with another body is a conflict.
    `tried`/`fallback_of`: a fallback's channels already used and the message it follows up;
    `cap_counted`: that message reached a provider, so the follow-up shares its place under
    the frequency cap. `suppress`: the sender decided it goes to nobody (a campaign's holdout,
    the global control group): recorded `suppressed` with that reason, under the same key."""
    loaded = customer_store.load_profile(tenant.tenant_id, intent.customer_id)
    if loaded is None:
        raise NotFound("No such customer.")
    profile = loaded[0]
    template = _template(tenant, intent)  # unknown: the caller's 404, before the key is taken
    now = clock.now()
    message_id = ids.new_id("msg")
    ref = MessageRef(
        tenant.tenant_id, intent.customer_id, store.message_sk(newest_first(now), message_id)
    )
    fingerprint = intent_fingerprint(intent)
    claim = store.claim_key(tenant.tenant_id, intent.idempotency_key, ref, fingerprint)
    if not claim.claimed:
        if claim.fingerprint != fingerprint:
            raise Conflict("This idempotency key was used for a different message.")
        existing = store.load(claim.ref)
        if existing is not None:
            return StoredMessage.model_validate_json(existing[0])
        # The first attempt claimed the key and stopped before saving: finish its message.
        ref = claim.ref
        message_id = ref.sk.rsplit("#", 1)[1]
    message = StoredMessage(
        message_id=message_id,
        customer_id=intent.customer_id,
        idempotency_key=intent.idempotency_key,
        kind=intent.kind,
        purpose=intent.purpose,
        created_at=now,
        state=MessageState(),
        intent=intent.model_dump(mode="json", exclude_defaults=True),  # as `document()`
        meta=dict(intent.meta),
        fallback_of=fallback_of,
        cap_counted=cap_counted,
        tried=list(tried),
    )
    if suppress is not None:
        entry = HistoryEntry(status=MessageStatus.SUPPRESSED, at=now, reason=suppress)
        message, hold_until = (
            message.model_copy(update={"state": record(MessageState(), entry)[0]}),
            None,
        )
    else:
        message, hold_until = _apply_decision(tenant, message, profile, now, template, sk=ref.sk)
    try:
        _save_decided(ref, message, None, due=hold_until)
    except store.StaleMessage:  # a concurrent retry finished it first
        return _load(ref)
    progress.note(tenant.tenant_id, None, message)
    if message.state.status is MessageStatus.QUEUED and message.channel is not None:
        queue.enqueue(ref, message.channel)
    logger.info(
        "message decided", extra={"message_id": message_id, "status": message.state.status.value}
    )
    return message


def _load(ref: MessageRef) -> StoredMessage:
    loaded = store.load(ref)
    if loaded is None:
        raise NotFound("No such message.")
    return StoredMessage.model_validate_json(loaded[0])


def follow_up(ref: MessageRef) -> bool:
    """A sent message whose fallback moment came (CONTRACT §3, issue: no click on Telegram in
    4 h → SMS), one journey-queue message the hourly tick queued: the same content goes by the
    next channel of the cascade it has not used, as its own message keyed after the first, so a
    repeated tick or a redelivery sends it once. A message that reached the awaited status
    meanwhile (delivered, clicked) needs none. True when a follow-up was sent."""
    from trigly.messaging.channels import fallback_at
    from trigly.messaging.policy import fallback_policy
    from trigly.platform.tenancy import get_tenant_cached

    now = clock.now()
    loaded = store.load(ref)
    if loaded is None:
        store.clear_fallback(ref)
        return False
    message = StoredMessage.model_validate_json(loaded[0])
    tenant = get_tenant_cached(ref.tenant_id)
    at = (
        fallback_at(
            fallback_policy(message.intent), message.channel, message.state, message.sent_at or now
        )
        if message.channel is not None
        else None
    )
    if at is not None and at > now:
        store.schedule_fallback(ref, at)  # a rule changed meanwhile: look again then
        return False
    followed = False
    if at is not None:
        intent = SendIntent.model_validate(message.intent)
        tried = [*message.tried, *([message.channel] if message.channel else [])]
        follow_up = intent.model_copy(
            update={"idempotency_key": f"{intent.idempotency_key}#fallback{len(tried)}"}
        )
        # A message a provider refused (or that had no provider) gave its place under the cap
        # back: its follow-up takes one of its own. One that went shares its place.
        never_went = message.state.status is MessageStatus.FAILED and (
            message.state.reason in caps.NEVER_WENT
        )
        try:
            send(
                tenant,
                follow_up,
                tried=tried,
                fallback_of=message.message_id,
                cap_counted=message.cap_shared() or not never_went,
            )
            followed = True
        except NotFound:  # the customer or the template is gone: nothing to follow up
            pass
    store.clear_fallback(ref)
    return followed


CAMPAIGN_PAUSE_RECHECK = timedelta(hours=1)


def _campaign_stopped(
    tenant_id: str, message: StoredMessage, now: datetime
) -> tuple[StoredMessage, datetime | None] | None:
    """A held campaign message whose campaign was cancelled goes to nobody; one whose campaign
    is paused waits (looked at again in an hour). None: its campaign is not in the way."""
    campaign_id = message.meta.get("campaign_id")
    if not campaign_id:
        return None
    from trigly.store import campaigns

    status = campaigns.status_of(tenant_id, campaign_id)
    if status == "cancelled":
        entry = HistoryEntry(
            status=MessageStatus.SUPPRESSED, at=now, reason=Reason.CAMPAIGN_CANCELLED
        )
        return message.model_copy(update={"state": record(message.state, entry)[0]}), None
    if status == "paused":
        until = now + CAMPAIGN_PAUSE_RECHECK
        entry = HistoryEntry(
            status=MessageStatus.HELD, at=now, reason=Reason.CAMPAIGN_PAUSED, until=until
        )
        return message.model_copy(update={"state": record(message.state, entry)[0]}), until
    return None


def release_held(ref: MessageRef) -> bool:
    """A held message whose moment came, one journey-queue message the hourly tick queued:
    decide again (consent may have changed meanwhile) and queue it for its channel. Safe to
    repeat: a message no longer held is left alone, and of two concurrent releases the version
    check lets one save. True when it was queued."""
    from trigly.platform.tenancy import get_tenant_cached

    now = clock.now()
    loaded = store.load(ref)
    profile = customer_store.load_profile(ref.tenant_id, ref.customer_id)
    if loaded is None or profile is None:
        return False
    message = before = StoredMessage.model_validate_json(loaded[0])
    unclaimed = loaded[2] is None
    if message.state.status is MessageStatus.QUEUED and unclaimed and message.channel:
        # Released by an attempt that stopped before queueing it (this is its redelivery): the
        # channel worker claims before any provider call, so a second queue message sends once.
        queue.enqueue(ref, message.channel)
        return True
    if message.state.status is not MessageStatus.HELD:
        return False
    tenant = get_tenant_cached(ref.tenant_id)
    waiting = _campaign_stopped(ref.tenant_id, message, now)
    if waiting is not None:
        message, hold_until = waiting
    else:
        message, hold_until = _apply_decision(tenant, message, profile[0], now, sk=ref.sk)
    try:
        _save_decided(ref, message, loaded[1], due=hold_until)
    except store.StaleMessage:
        return False  # another consumer released it
    progress.note(ref.tenant_id, before, message)
    if message.state.status is MessageStatus.QUEUED and message.channel is not None:
        queue.enqueue(ref, message.channel)
        return True
    return False


def list_messages(tenant: Tenant, customer_id: str) -> list[dict[str, Any]]:
    if customer_store.load_profile(tenant.tenant_id, customer_id) is None:
        raise NotFound("No such customer.")
    return [
        message_view(StoredMessage.model_validate_json(doc))
        for doc in store.recent(tenant.tenant_id, customer_id)
    ]
