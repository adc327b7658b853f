"""Consent statements Trigly captures itself (unsubscribe link, one-click, preference centre).

Each change is recorded in the consent ledger at once, with its proof (where it was said, the
page's text version, the message and link, the user agent), so the next send already obeys it
(the guardrails read the profile's consents). The dealer's systems are told too: every
connector with an outbound URL that knows the customer gets a signed
`customer.consent_changed` (CONTRACT §2b) with its own customer id, shaped like §2's inbound
event, with a stable `id`.
"""

from dataclasses import dataclass

from trigly.events.types import Channel, ConsentPurpose
from trigly.messaging.customer_links import CustomerLink
from trigly.outbound import queue as outbound
from trigly.platform import clock
from trigly.platform.observability import logger
from trigly.profiles import service as profiles
from trigly.profiles.model import CustomerProfile
from trigly.profiles.ordering import event_stamp
from trigly.profiles.upsert import ConsentStatement

TRIGLY = "trigly"  # the ledger's connector for statements Trigly itself captured
EVENT_TYPE = "customer.consent_changed"
USER_AGENT_CHARS = 300


@dataclass(frozen=True)
class ConsentChange:
    channel: Channel
    purpose: ConsentPurpose
    granted: bool


@dataclass(frozen=True)
class Proof:
    source: str  # "unsubscribe link", "preference centre"
    method: str  # "page" (a person pressed the page's button), "one-click" (RFC 8058)
    text_version: str | None = None
    user_agent: str | None = None

    def for_link(self, link: CustomerLink) -> dict[str, str]:
        facts = {
            "method": self.method,
            "link_purpose": link.purpose,
            "token_id": link.token_id,
            "message_id": link.message_id,
            "user_agent": (self.user_agent or "")[:USER_AGENT_CHARS] or None,
        }
        return {k: v for k, v in facts.items() if v}


def _external_ids(profile: CustomerProfile) -> dict[str, str]:
    """The id each connector knows the customer by: its primary one, else a merged link's."""
    known = dict(profile.external_ids)
    for identity in profile.links:
        if identity.connector_id and identity.connector_id != TRIGLY:
            known.setdefault(identity.connector_id, identity.external_id)
    return known


def capture(link: CustomerLink, changes: list[ConsentChange], proof: Proof) -> int:
    """Record each change now, in order, and queue it to the dealer's systems; returns how many
    outbound deliveries were queued."""
    now = clock.now()
    at = clock.isoformat(now)
    facts = proof.for_link(link)
    known = _external_ids(link.profile)
    queued = 0
    for index, change in enumerate(changes):
        statement = ConsentStatement(
            channel=change.channel,
            purpose=change.purpose,
            granted=change.granted,
            at=now,
            source=proof.source,
            text_version=proof.text_version,
        )
        change_id = f"consent:{link.customer_id}:{change.channel}:{change.purpose}:{at}"
        profiles.record_consent(
            link.tenant,
            link.customer_id,
            statement,
            connector_id=TRIGLY,
            event_id=f"{link.purpose}:{link.message_id or link.token_id}",
            stamp=event_stamp(now, now, index),
            proof=facts,
        )
        data = {
            "customer_id": link.customer_id,
            "channel": change.channel.value,
            "purpose": change.purpose.value,
            "granted": change.granted,
            "at": at,
            "source": proof.source,
            "text_version": proof.text_version,
            "proof": facts,
        }
        queued += outbound.send_to_connectors(
            link.tenant.tenant_id,
            change_id,
            EVENT_TYPE,
            data_for={
                connector_id: {"customer_external_id": external_id, **data}
                for connector_id, external_id in known.items()
            },
        )
    if changes:
        logger.info(
            "consent captured",
            extra={
                "customer_id": link.customer_id,
                "source": proof.source,
                "changes": [f"{c.channel}.{c.purpose}={int(c.granted)}" for c in changes],
                "outbound_queued": queued,
            },
        )
    return queued
