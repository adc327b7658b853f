"""The suppression list: contacts that must not be messaged (again), kept by keyed hash only.

Hard bounces, complaints, carrier refusals and unsubscribes add rules for the contact they
concern. An entry holds no contact in clear: its key is an HMAC of the normalized contact under
the list's own key (`tokens.suppression_digest`; it never rotates, so rotating the link keys
never forgets an opt-out — ADR 0014), so it survives the customer's erasure (CONTRACT §3
DELETE) and a later re-import of the same phone or email is refused by the send path, which looks
up the hashes of exactly the candidate contacts (one BatchGetItem) — never the whole list.

A rule is `{kind}|{channel or *}|{purpose or *}|{at}`. An `unsubscribed` rule yields to a newer
opt-in on the same channel and purpose (the customer came back and said yes again); bounces,
complaints and carrier refusals do not expire.
"""

from collections.abc import Iterable
from datetime import datetime

from trigly.events.types import Channel, ConsentPurpose
from trigly.messaging.channels import PHONE_CHANNELS
from trigly.messaging.guardrails import Suppression, SuppressionKind
from trigly.platform import tokens
from trigly.platform.clock import isoformat
from trigly.platform.settings import get_settings
from trigly.profiles.contacts import ContactStatus
from trigly.profiles.model import CustomerProfile
from trigly.store import feedback as store

ANY = "*"


def family(channel: Channel) -> str:
    """Which kind of contact a channel uses: one phone serves SMS, WhatsApp, Viber and MAX."""
    if channel in PHONE_CHANNELS:
        return "phone"
    return channel.value  # email, telegram, push


def digest(channel: Channel, address: str) -> str:
    return tokens.suppression_digest(f"suppress:{family(channel)}", address.strip().lower())


def legacy_digest(channel: Channel, address: str) -> str | None:
    """The hash entries written before the list had its own key are stored under."""
    return tokens.legacy_suppression_digest(f"suppress:{family(channel)}", address.strip().lower())


def rule(
    kind: SuppressionKind,
    channel: Channel | None,
    purpose: ConsentPurpose | None,
    at: datetime,
) -> str:
    scope = channel.value if channel else ANY
    purposes = purpose.value if purpose else ANY
    return f"{kind.value}|{scope}|{purposes}|{isoformat(at)}"


def add(
    tenant_id: str,
    channel: Channel,
    address: str,
    kind: SuppressionKind,
    at: datetime,
    *,
    only_channel: bool = True,
    purpose: ConsentPurpose | None = None,
) -> None:
    """Refuse `address` from now on: on `channel` only, or on every channel of its family."""
    store.add_suppression_rules(
        tenant_id,
        digest(channel, address),
        [rule(kind, channel if only_channel else None, purpose, at)],
    )


def _parse(address: str, text: str) -> tuple[Suppression, datetime] | None:
    try:
        kind, channel, purpose, at = text.split("|", 3)
        entry = Suppression(
            address=address,
            kind=SuppressionKind(kind),
            channels=frozenset() if channel == ANY else frozenset({Channel(channel)}),
            purpose=None if purpose == ANY else ConsentPurpose(purpose),
        )
        return entry, datetime.fromisoformat(at)
    except ValueError:
        return None


def _candidates(profile: CustomerProfile) -> list[tuple[Channel, str]]:
    """Every contact the send path could use, once per family."""
    found: list[tuple[Channel, str]] = [
        (Channel.SMS, c.value) for c in profile.phones if c.status is ContactStatus.OK
    ]
    found += [(Channel.EMAIL, c.value) for c in profile.emails if c.status is ContactStatus.OK]
    found += [(channel, address) for channel, address in profile.linked.items()]
    return found


def _lifted(profile: CustomerProfile, entry: Suppression, at: datetime) -> bool:
    """An unsubscribe the customer took back later (a newer opt-in on that channel)."""
    if entry.kind is not SuppressionKind.UNSUBSCRIBED or len(entry.channels) != 1:
        return False
    [channel] = entry.channels
    purposes = [entry.purpose] if entry.purpose else list(ConsentPurpose)
    states = [profile.consents.get(channel, {}).get(p) for p in purposes]
    return all(s is not None and s.granted and s.at > at for s in states)


def for_profile(tenant_id: str, profile: CustomerProfile) -> list[Suppression]:
    """The entries that concern this customer's usable contacts (one batched read)."""
    candidates = _candidates(profile)
    if not candidates or not get_settings().suppression_key_arn:
        return []  # no key, no keyed list (a deployment always has one: SuppressionKeySecret)
    by_digest = {digest(channel, address): address for channel, address in candidates}
    for channel, address in candidates:  # entries from before the list had its own key
        if (legacy := legacy_digest(channel, address)) is not None:
            by_digest[legacy] = address
    found = store.suppression_rules(tenant_id, list(by_digest))
    entries: list[Suppression] = []
    for key, rules in found.items():
        for text in sorted(rules):
            parsed = _parse(by_digest[key], text)
            if parsed is not None and not _lifted(profile, *parsed):
                entries.append(parsed[0])
    return entries


def _addresses(profile: CustomerProfile, channel: Channel) -> Iterable[str]:
    if channel in profile.linked:
        yield profile.linked[channel]
    if channel in PHONE_CHANNELS:
        yield from (c.value for c in profile.phones if c.status is not ContactStatus.INVALID)
    elif channel is Channel.EMAIL:
        yield from (c.value for c in profile.emails if c.status is not ContactStatus.INVALID)


def keep_before_erasure(tenant_id: str, profile: CustomerProfile, now: datetime) -> int:
    """What the list must remember of a customer who is being erased: their bounced and
    complained contacts, and every opt-out they recorded (as `unsubscribed` on that channel and
    purpose). Returns how many rules were written (idempotent: a rerun adds nothing new)."""
    rules: dict[str, set[str]] = {}

    def keep(channel: Channel, address: str, text: str) -> None:
        rules.setdefault(digest(channel, address), set()).add(text)

    refused = {
        ContactStatus.BOUNCED: SuppressionKind.BOUNCED,
        ContactStatus.COMPLAINED: SuppressionKind.COMPLAINED,
    }
    for contacts, channel in ((profile.phones, Channel.SMS), (profile.emails, Channel.EMAIL)):
        for contact in contacts:
            if contact.status in refused:
                keep(channel, contact.value, rule(refused[contact.status], None, None, now))
    opted_out = [
        (channel, purpose, state.at)
        for channel, purposes in profile.consents.items()
        for purpose, state in purposes.items()
        if not state.granted
    ]
    for channel, purpose, at in opted_out:
        for address in _addresses(profile, channel):
            keep(channel, address, rule(SuppressionKind.UNSUBSCRIBED, channel, purpose, at))
    for key, texts in rules.items():
        store.add_suppression_rules(tenant_id, key, texts)
    return sum(len(t) for t in rules.values())
