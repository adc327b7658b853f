"""Delivery feedback: what providers report about a message after it was sent.

Every source — SES events, SMS.ru and SMSC.ru delivery reports, WhatsApp status webhooks, the
sandbox's own "delivered", tracking links and the open pixel — is turned into `ProviderEvent`s
and applied here, through `intent.record`: idempotent (a redelivered callback changes nothing)
and order-independent (a `delivered` after `clicked` fills in the history, never moves the
status back). The message is found by the provider's id with one GetItem (access pattern 9).

Facts about the contact (a hard bounce, a complaint, a carrier refusal) also go to the
suppression list, and for email mark the contact `bounced` / `complained` on the profile.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from trigly.events.types import Channel
from trigly.messaging import progress, suppression
from trigly.messaging.guardrails import SuppressionKind
from trigly.messaging.intent import HistoryEntry, MessageStatus, Reason, record
from trigly.messaging.message import StoredMessage
from trigly.platform import clock
from trigly.platform.observability import logger
from trigly.profiles.contacts import ContactStatus
from trigly.store import customers as customer_store
from trigly.store import feedback as feedback_store
from trigly.store import messages as store
from trigly.store.messages import MessageRef

# Callbacks come within days (SES opens and clicks: as long as people read mail); the lookup
# of a provider id lives this long.
PROVIDER_ID_LIFETIME = timedelta(days=90)
MAX_SAVE_ATTEMPTS = 5


class Outcome(StrEnum):
    APPLIED = "applied"  # the message changed
    UNCHANGED = "unchanged"  # known already (a redelivery) or contradicted by what is known
    UNKNOWN = "unknown"  # no message of ours has this provider id


@dataclass(frozen=True)
class ProviderEvent:
    tenant_id: str
    channel: Channel
    provider_message_id: str
    status: MessageStatus  # sent, delivered, opened, clicked or failed
    at: datetime
    reason: Reason | None = None  # with `failed`
    suppress: SuppressionKind | None = None  # the contact must not be messaged again
    machine: bool = False  # an open by a mail proxy or scanner, not by the person
    # Where the provider says the message is stored (SES echoes our headers): (customer, sort
    # key, message id). Used only to reconcile a message whose outcome was unknown.
    hint: tuple[str, str, str] | None = None


def remember(ref: MessageRef, channel: Channel, provider_message_id: str, at: datetime) -> None:
    """Called once the provider accepted a message: callbacks name it by the provider's id."""
    feedback_store.remember_provider_id(
        ref, channel.value, provider_message_id, at + PROVIDER_ID_LIFETIME
    )


def apply(event: ProviderEvent) -> Outcome:
    ref = feedback_store.find_by_provider_id(
        event.tenant_id, event.channel.value, event.provider_message_id, clock.now()
    )
    if ref is None:
        ref = _reconcilable(event)
    if ref is None:
        logger.info(
            "feedback for an unknown message",
            extra={"channel": event.channel.value, "status": event.status.value},
        )
        return Outcome.UNKNOWN
    return apply_to(ref, event)


def _reconcilable(event: ProviderEvent) -> MessageRef | None:
    """A message the provider names by our headers, whose worker died after the provider took
    it (`failed: unknown_outcome`, so no provider-id lookup was written): the provider's fact
    settles it (CONTRACT §3: reconciled from provider callbacks), and the lookup is written now
    for the events that follow. Anything else the hint names is ignored: a message still being
    sent gets its lookup from its worker."""
    if event.hint is None:
        return None
    customer_id, sk, message_id = event.hint
    ref = MessageRef(event.tenant_id, customer_id, sk)
    loaded = store.load(ref)
    if loaded is None:
        return None
    message = StoredMessage.model_validate_json(loaded[0])
    unknown = (message.state.status, message.state.reason) == (
        MessageStatus.FAILED,
        Reason.UNKNOWN_OUTCOME,
    )
    if message.message_id != message_id or message.channel is not event.channel or not unknown:
        return None
    remember(ref, event.channel, event.provider_message_id, event.at)
    logger.info("unknown outcome reconciled", extra={"message_id": message_id})
    return ref


def apply_to(ref: MessageRef, event: ProviderEvent) -> Outcome:
    """Apply one fact to the message `ref` names (tracking links know the message directly)."""
    if event.status is MessageStatus.FAILED and event.reason is None:
        event = ProviderEvent(**{**event.__dict__, "reason": Reason.UNDELIVERED})
    outcome, message = _record(ref, event)
    if event.suppress is not None and message is not None and message.to:
        _suppress(ref, message, event)
    return outcome


def _record(ref: MessageRef, event: ProviderEvent) -> tuple[Outcome, StoredMessage | None]:
    for _ in range(MAX_SAVE_ATTEMPTS):
        loaded = store.load(ref)
        if loaded is None:
            return Outcome.UNCHANGED, None  # erased meanwhile
        message = StoredMessage.model_validate_json(loaded[0])
        if event.machine:
            if message.machine_opened_at is not None:
                return Outcome.UNCHANGED, message
            # A proxy fetched the pixel: noted, but not an `opened` in the status.
            updated = message.model_copy(update={"machine_opened_at": event.at})
        else:
            entry = HistoryEntry(status=event.status, at=event.at, reason=event.reason)
            state, changed = record(message.state, entry)
            if not changed:
                return Outcome.UNCHANGED, message
            updated = message.model_copy(update={"state": state})
        try:
            store.save(ref, updated.document(), loaded[1])
        except store.StaleMessage:
            continue
        progress.note(ref.tenant_id, message, updated)
        logger.info(
            "message feedback",
            extra={"message_id": message.message_id, "status": event.status.value},
        )
        return Outcome.APPLIED, updated
    raise store.StaleMessage(ref.sk)


def mark_booked(ref: MessageRef, appointment_id: str, at: datetime) -> bool:
    """A booking was made through the message's own booking link: `meta.booked_at` (and the
    booking's id) once — a form posted again, a move to another slot or a second booking from
    the same link leave the first mark, so the campaign counts the message once. False when it
    was marked already (or erased)."""
    for _ in range(MAX_SAVE_ATTEMPTS):
        loaded = store.load(ref)
        if loaded is None:
            return False
        message = StoredMessage.model_validate_json(loaded[0])
        if message.meta.get("booked_at"):
            return False
        meta = {**message.meta, "booked_at": clock.isoformat(at), "appointment_id": appointment_id}
        updated = message.model_copy(update={"meta": meta})
        try:
            store.save(ref, updated.document(), loaded[1])
        except store.StaleMessage:
            continue
        progress.note(ref.tenant_id, message, updated)
        logger.info("message booked", extra={"message_id": message.message_id})
        return True
    raise store.StaleMessage(ref.sk)


_CONTACT_STATUS = {
    SuppressionKind.BOUNCED: ContactStatus.BOUNCED,
    SuppressionKind.COMPLAINED: ContactStatus.COMPLAINED,
}


def _suppress(ref: MessageRef, message: StoredMessage, event: ProviderEvent) -> None:
    assert event.suppress is not None and message.to is not None
    # A bounced or complained email is refused on email; a carrier's refusal on its channel.
    suppression.add(ref.tenant_id, event.channel, message.to, event.suppress, event.at)
    status = _CONTACT_STATUS.get(event.suppress)
    if status is not None and event.channel is Channel.EMAIL:
        mark_contact(ref.tenant_id, ref.customer_id, message.to, status)


def mark_contact(tenant_id: str, customer_id: str, address: str, status: ContactStatus) -> None:
    """Set an email's status on the profile (the 360° view shows it; the send path skips it)."""
    for _ in range(MAX_SAVE_ATTEMPTS):
        loaded = customer_store.load_profile(tenant_id, customer_id)
        if loaded is None:
            return
        profile, version = loaded
        changed = profile.model_copy(deep=True)
        for contact in changed.emails:
            if contact.value == address and contact.status is not status:
                contact.status = status
        if changed == profile:
            return
        changed.updated_at = clock.now()
        try:
            customer_store.save_profile(tenant_id, changed, version)
        except customer_store.StaleProfile:
            continue
        return
