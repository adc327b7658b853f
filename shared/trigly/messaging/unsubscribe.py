"""Unsubscribing through a message's signed link (CONTRACT §4, RFC 8058 one-click).

The opt-out is recorded at once in the consent ledger with its proof (the link, the message, the
time), so the next marketing message on that channel is suppressed as `unsubscribed`.
"""

from dataclasses import dataclass

from trigly.events.types import Channel, ConsentPurpose
from trigly.platform import clock, tenancy, tokens
from trigly.platform.errors import NotFound
from trigly.profiles import service as profiles
from trigly.profiles.ordering import event_stamp
from trigly.profiles.upsert import ConsentStatement
from trigly.store import customers as customer_store

SOURCE = "unsubscribe link"
TRIGLY = "trigly"  # the ledger's connector for statements Trigly itself captured


@dataclass(frozen=True)
class UnsubscribeLink:
    tenant: tenancy.Tenant
    customer_id: str
    channel: Channel
    message_id: str


def open_link(token: str) -> UnsubscribeLink:
    """The link's customer and channel; a forged, tampered or foreign token is 404, expired 410."""
    claims = tokens.verify(token)
    if claims.get("p") != "unsubscribe":
        raise NotFound("No such link.")
    tenant = tenancy.get_tenant_cached(str(claims["t"]))
    if customer_store.load_profile(tenant.tenant_id, str(claims["c"])) is None:
        raise NotFound("No such link.")  # the customer was erased
    return UnsubscribeLink(tenant, str(claims["c"]), Channel(str(claims["ch"])), str(claims["m"]))


def unsubscribe(link: UnsubscribeLink) -> None:
    now = clock.now()
    statement = ConsentStatement(
        channel=link.channel,
        purpose=ConsentPurpose.MARKETING,
        granted=False,
        at=now,
        source=SOURCE,
        text_version=None,
    )
    profiles.record_consent(
        link.tenant,
        link.customer_id,
        statement,
        connector_id=TRIGLY,
        event_id=f"unsubscribe:{link.message_id}",
        stamp=event_stamp(now, now, 0),
    )
