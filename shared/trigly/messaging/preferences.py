"""The preference centre (`/l/{token}` with a `preferences` token, CONTRACT §4).

The customer sees their channels — those they have a usable contact on, and any channel they
gave a consent on (so a consent can always be withdrawn where it was given) — times two topics:
service reminders (`service`) and offers (`marketing`), each a checkbox showing the current
state. Saving records each *change* at once in the consent ledger with its proof; a box left as
it was records nothing (an unticked box the customer never said anything about stays "no
statement", not an opt-out).

The form lists the boxes it showed (`shown`), so a box the page did not show — a contact added
since the page was opened — is never read as unticked.
"""

from dataclasses import dataclass
from urllib.parse import parse_qs

from trigly.events.types import Channel, ConsentPurpose
from trigly.messaging.consent_capture import ConsentChange, Proof, capture
from trigly.messaging.customer_links import CustomerLink
from trigly.platform.errors import NotFound
from trigly.profiles.contacts import Contact, ContactStatus
from trigly.profiles.model import CustomerProfile

SOURCE = "preference centre"
PURPOSE = "preferences"
PHONE_CHANNELS = (Channel.SMS,)  # messengers appear once linked or consented on
TOPICS = (ConsentPurpose.SERVICE, ConsentPurpose.MARKETING)
MAX_FORM_FIELDS = 64


@dataclass(frozen=True)
class Choice:
    channel: Channel
    purpose: ConsentPurpose
    granted: bool  # the box is ticked: an opt-in is current

    @property
    def field(self) -> str:
        return f"{self.channel.value}.{self.purpose.value}"


@dataclass(frozen=True)
class ChannelChoices:
    channel: Channel
    address: str | None  # masked, for the customer to recognise
    choices: tuple[Choice, ...]


def _usable(contacts: list[Contact]) -> str | None:
    return next((c.value for c in contacts if c.status is ContactStatus.OK), None)


def mask(address: str) -> str:
    """`+7 ··· ···-44-33`, `o···@example.ru`: recognisable, not readable off a forwarded link."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}···@{domain}"
    return f"{address[:2]} ··· ···-{address[-4:-2]}-{address[-2:]}" if len(address) > 6 else "···"


def channels_of(profile: CustomerProfile) -> list[ChannelChoices]:
    """The channels the page shows, in the product's channel order, with their topics."""
    phone, email = _usable(profile.phones), _usable(profile.emails)
    addresses: dict[Channel, str | None] = {}
    if phone:
        addresses.update(dict.fromkeys(PHONE_CHANNELS, phone))
    if email:
        addresses[Channel.EMAIL] = email
    for channel, by_purpose in profile.consents.items():
        if any(state.granted for state in by_purpose.values()):
            addresses.setdefault(channel, phone if channel is not Channel.EMAIL else email)
    shown = []
    for channel in Channel:
        if channel not in addresses:
            continue
        address = addresses[channel]
        states = profile.consents.get(channel, {})
        choices = tuple(
            Choice(channel, topic, granted=bool(states.get(topic) and states[topic].granted))
            for topic in TOPICS
        )
        shown.append(ChannelChoices(channel, mask(address) if address else None, choices))
    return shown


def check(link: CustomerLink) -> CustomerLink:
    if link.purpose != PURPOSE:
        raise NotFound("No such link.")
    return link


def changes_from_form(profile: CustomerProfile, body: str) -> list[ConsentChange]:
    """What the submitted form changes: for each box the page showed, its new state if it
    differs from the current one."""
    form = parse_qs(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    shown = set(form.get("shown", []))
    changes = []
    for row in channels_of(profile):
        for choice in row.choices:
            if choice.field not in shown:
                continue
            wanted = choice.field in form
            if wanted != choice.granted:
                changes.append(ConsentChange(choice.channel, choice.purpose, granted=wanted))
    return changes


def save(
    link: CustomerLink, body: str, *, user_agent: str | None, text_version: str
) -> list[ConsentChange]:
    """Record what the form changed (nothing when nothing did); returns the changes."""
    check(link)
    changes = changes_from_form(link.profile, body)
    if changes:
        capture(
            link,
            changes,
            Proof(SOURCE, "page", text_version=text_version, user_agent=user_agent),
        )
    return changes


def after(profile: CustomerProfile, changes: list[ConsentChange]) -> list[ChannelChoices]:
    """The page's rows as they stand once the changes are applied (for the confirmation)."""
    changed = {(c.channel, c.purpose): c.granted for c in changes}
    return [
        ChannelChoices(
            row.channel,
            row.address,
            tuple(
                Choice(c.channel, c.purpose, changed.get((c.channel, c.purpose), c.granted))
                for c in row.choices
            ),
        )
        for row in channels_of(profile)
    ]
