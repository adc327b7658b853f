"""Which channel a message goes by, and when to try the next one.

Order: the intent's preferred channels, then the customer's own preferred channel, then the
tenant's cascade (e.g. Telegram → SMS → email); with `only_listed_channels` nothing beyond the
intent's list. A channel is available when

- the customer has a usable address for it: SMS, WhatsApp, Viber and MAX an `ok` E.164 phone
  (or an id linked for that channel), email an `ok` email, Telegram and push a linked chat id or
  device token;
- consent allows it (guardrail 1) and the suppression list does not refuse the address (2);
- the template has a variant for it;
- it was not tried for this message already: the same content never goes twice on one channel;
- the tenant can send on it: a provider is configured (or SES for email), or the tenant is in
  sandbox mode. Otherwise it is skipped (`channel_not_configured`), never pretended sent.

When none is available the message is refused with the reason of the channel that came closest
to sending (no address < a bounced address < consent < suppression list < template < no
provider), so the dealer sees the fix that matters: `no_consent` for a customer with a phone but
no SMS consent, not `no_usable_contact` for the Telegram they never linked; and
`channel_not_configured` where only the tenant's missing provider stood in the way.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from trigly.events.types import Channel
from trigly.messaging.guardrails import Suppression, check_consent, check_suppression
from trigly.messaging.intent import MessagePurpose, MessageState, MessageStatus, Reason, SendIntent
from trigly.messaging.policy import MessagingPolicy
from trigly.profiles.contacts import Contact, ContactStatus
from trigly.profiles.model import CustomerProfile

PHONE_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP, Channel.VIBER, Channel.MAX})
LINKED_CHANNELS = frozenset({Channel.TELEGRAM, Channel.PUSH})
_REFUSED_STATUSES = frozenset({ContactStatus.BOUNCED, ContactStatus.COMPLAINED})


@dataclass(frozen=True)
class Recipient:
    """The customer as messaging sees them.

    `linked`: addresses the profile does not hold — a Telegram chat id, a push device token, a
    MAX user id — looked up by the I/O layer. `location_timezone`: the zone of the customer's
    location (`profile.location_id`), for time-zone resolution.
    """

    profile: CustomerProfile
    linked: Mapping[Channel, str] = field(default_factory=dict)
    location_timezone: str | None = None


@dataclass(frozen=True)
class Addresses:
    usable: tuple[str, ...]
    reason: Reason | None  # why none is usable


def _from_contacts(contacts: Iterable[Contact]) -> Addresses:
    listed = list(contacts)
    usable = tuple(c.value for c in listed if c.status is ContactStatus.OK)
    if usable:
        return Addresses(usable, None)
    if any(c.status in _REFUSED_STATUSES for c in listed):
        return Addresses((), Reason.SUPPRESSED_CONTACT)  # bounced or complained: not ours to use
    return Addresses((), Reason.NO_USABLE_CONTACT)


def addresses_for(recipient: Recipient, channel: Channel) -> Addresses:
    """The addresses a channel could use for the customer, best first."""
    linked = recipient.linked.get(channel)
    if linked:
        return Addresses((linked,), None)
    if channel in PHONE_CHANNELS:
        return _from_contacts(recipient.profile.phones)
    if channel is Channel.EMAIL:
        return _from_contacts(recipient.profile.emails)
    return Addresses((), Reason.NO_USABLE_CONTACT)  # Telegram, push: only when linked


def channel_order(
    intent: SendIntent, profile: CustomerProfile, policy: MessagingPolicy
) -> list[Channel]:
    """Candidate channels, best first, each once."""
    if intent.only_listed_channels:
        ordered: list[Channel] = list(intent.channels)
    else:
        preferred = [profile.preferred_channel] if profile.preferred_channel else []
        ordered = [*intent.channels, *preferred, *policy.cascade(intent.purpose)]
    return list(dict.fromkeys(ordered))


@dataclass(frozen=True)
class Route:
    channel: Channel
    address: str
    include_offer: bool  # an offer block rides along (marketing consent on this channel)


@dataclass(frozen=True)
class Skipped:
    channel: Channel
    reason: Reason


@dataclass(frozen=True)
class ChannelChoice:
    route: Route | None
    skipped: tuple[Skipped, ...]  # channels passed over, in order, with why
    reason: Reason | None  # why no channel: set exactly when `route` is None


def _try_channel(
    recipient: Recipient,
    channel: Channel,
    purpose: MessagePurpose,
    *,
    has_offer: bool,
    suppressions: Collection[Suppression],
    service_opt_out: bool,
    supported: Collection[Channel] | None,
    configured: Collection[Channel] | None,
) -> tuple[Route | None, Reason | None, int]:
    found = addresses_for(recipient, channel)
    if found.reason is not None:  # a bounced address came closer than none at all
        return None, found.reason, 1 if found.reason is Reason.SUPPRESSED_CONTACT else 0
    consent = check_consent(recipient.profile, channel, purpose, service_opt_out=service_opt_out)
    if not consent.allowed:
        assert consent.reason is not None
        return None, consent.reason, 2
    refused: Reason | None = None
    address = None
    for candidate in found.usable:
        refused = check_suppression(suppressions, channel, candidate, purpose)
        if refused is None:
            address = candidate
            break
    if address is None:
        return None, refused, 3
    if supported is not None and channel not in supported:
        return None, Reason.TEMPLATE_ERROR, 4
    if configured is not None and channel not in configured:
        return None, Reason.CHANNEL_NOT_CONFIGURED, 5
    return Route(channel, address, include_offer=has_offer and consent.offer_allowed), None, 6


def choose_channel(
    recipient: Recipient,
    intent: SendIntent,
    policy: MessagingPolicy,
    *,
    suppressions: Collection[Suppression] = (),
    tried: Collection[Channel] = (),
    supported: Collection[Channel] | None = None,
    configured: Collection[Channel] | None = None,
) -> ChannelChoice:
    """The first available channel (see the module), or why there is none.

    `tried`: channels this message already went by (its fallback never repeats one).
    `supported`: channels the template has a variant for (None: any).
    `configured`: channels the tenant can send on (None: every one — sandbox mode).
    """
    skipped: list[Skipped] = []
    closest: tuple[int, Reason] | None = None
    for channel in channel_order(intent, recipient.profile, policy):
        if channel in tried:
            continue
        route, reason, stage = _try_channel(
            recipient,
            channel,
            intent.purpose,
            has_offer=intent.offer is not None,
            suppressions=suppressions,
            service_opt_out=policy.service_opt_out,
            supported=supported,
            configured=configured,
        )
        if route is not None:
            return ChannelChoice(route, tuple(skipped), None)
        assert reason is not None
        skipped.append(Skipped(channel, reason))
        if closest is None or stage > closest[0]:
            closest = (stage, reason)
    return ChannelChoice(None, tuple(skipped), closest[1] if closest else Reason.NO_USABLE_CONTACT)


def fallback_at(
    policy: MessagingPolicy, channel: Channel, state: MessageState, sent_at: datetime
) -> datetime | None:
    """When to try the next channel for a message that went on `channel`; None: no fallback.

    A provider's refusal falls back at once. Otherwise the channel's rule (e.g. Telegram: no
    click within 4 h) decides; a message that reached the awaited status, or a channel without a
    rule, needs none. An unknown outcome waits like a sent message: it may well have arrived.
    """
    if state.status is MessageStatus.FAILED and state.reason is not Reason.UNKNOWN_OUTCOME:
        return sent_at
    if state.status is MessageStatus.SUPPRESSED:
        return None
    rule = policy.fallback_rule(channel)
    if rule is None or _reached(state, rule.awaited):
        return None
    return sent_at + rule.within


_PROGRESS = (MessageStatus.DELIVERED, MessageStatus.OPENED, MessageStatus.CLICKED)


def _reached(state: MessageState, awaited: MessageStatus) -> bool:
    if state.status not in _PROGRESS:
        return False
    return _PROGRESS.index(state.status) >= _PROGRESS.index(awaited)
