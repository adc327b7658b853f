"""The channel worker's job: send one queued message, at most once.

The message is claimed with a conditional write before the provider is called. A redelivered
queue message, a retried Lambda or a second worker finds the claim and stops, so no provider
ever sees a message twice. If the worker dies after the claim, the outcome is unknown and the
message is not retried blindly: the next delivery finds it claimed but not sent and records
`failed: unknown_outcome` (reconciliation from provider callbacks can still correct it).

Providers sort their failures three ways (trigly.channels.provider): a final refusal ends the
message `failed: provider_rejected`; an outcome that may have reached the provider ends it
`failed: unknown_outcome` at once; a refusal for now (429, no connection) releases the claim and
raises, so the queue redelivers it and that delivery can claim and send it.
"""

import json

from trigly.channels.provider import OutcomeUnknown, Provider, ProviderRejected, RetryLater
from trigly.channels.registry import configured_provider
from trigly.channels.sandbox import SandboxProvider
from trigly.channels.ses import SesProvider
from trigly.events.types import Channel
from trigly.messaging import progress
from trigly.messaging.caps import NEVER_WENT, give_back
from trigly.messaging.intent import (
    HistoryEntry,
    MessagePurpose,
    MessageState,
    MessageStatus,
    Reason,
    record,
)
from trigly.messaging.message import StoredMessage, pack_html
from trigly.platform import clock
from trigly.platform.observability import logger
from trigly.platform.settings import get_settings
from trigly.store import messages as store
from trigly.store.messages import MessageRef


def provider_for(tenant_id: str, message: StoredMessage) -> Provider | None:
    """The tenant's configured provider for the channel (credentials in Parameter Store); else
    SES for email when the deployment has a verified sender; else the sandbox when the tenant
    is in sandbox mode; else None: nothing may pretend to deliver it."""
    if message.channel is not None:
        configured = configured_provider(tenant_id, message.channel)
        if configured is not None:
            return configured
    sender = get_settings().email_sender
    if message.channel is Channel.EMAIL and sender:
        return SesProvider(sender)
    from trigly.messaging.settings import messaging_settings

    return SandboxProvider() if messaging_settings(tenant_id).sandbox else None


# A refusal (or a channel left without a provider since the decision) falls back at once; an
# unknown outcome waits like a sent message (it may well have arrived):
# messaging.channels.fallback_at.
_FALLS_BACK = frozenset(
    {Reason.PROVIDER_REJECTED, Reason.CHANNEL_NOT_CONFIGURED, Reason.UNKNOWN_OUTCOME}
)


def _save(ref: MessageRef, message: StoredMessage, entry: HistoryEntry) -> None:
    for _ in range(5):
        loaded = store.load(ref)
        if loaded is None:
            return
        current = StoredMessage.model_validate_json(loaded[0])
        state, changed = record(current.state, entry)
        if not changed:
            return
        if entry.status is MessageStatus.SENT or entry.reason in _FALLS_BACK:
            _schedule_fallback(ref, current, state, entry)
        update: dict[str, object] = {"state": state}
        if entry.status is MessageStatus.SENT:
            update |= {"sent_at": entry.at, "provider_message_id": message.provider_message_id}
        saved = current.model_copy(update=update)
        try:
            store.save(ref, saved.document(), loaded[1])
        except store.StaleMessage:
            continue
        progress.note(ref.tenant_id, current, saved)
        if entry.reason in NEVER_WENT and _holds_cap_place(current):
            give_back(ref.tenant_id, ref.customer_id, current.message_id)
        if entry.status is MessageStatus.SENT and message.provider_message_id and message.channel:
            from trigly.messaging import feedback  # lazily: the worker's cold start (benchmarks)

            # Callbacks name the message by the provider's id: one GetItem finds it (pattern 9).
            feedback.remember(ref, message.channel, message.provider_message_id, entry.at)
        return


def _holds_cap_place(message: StoredMessage) -> bool:
    return message.purpose is MessagePurpose.MARKETING and not message.cap_shared()


def _schedule_fallback(
    ref: MessageRef, message: StoredMessage, state: MessageState, entry: HistoryEntry
) -> None:
    """A refused message tries the next channel at the next tick; a sent one is looked at again
    when its channel's rule says (Telegram: no click within 4 h). Written before the status, so
    a crash in between leaves a look that finds nothing to do rather than a lost fallback."""
    # With the channel rules: only a message that may fall back loads the policy models.
    from trigly.messaging.channels import fallback_at
    from trigly.messaging.policy import fallback_policy

    if message.channel is None or not message.may_fall_back():
        return  # no channel left to fall back to: a look would find nothing to do
    at = fallback_at(fallback_policy(message.intent), message.channel, state, entry.at)
    if at is not None:
        store.schedule_fallback(ref, at)


def deliver(body: str) -> None:
    data = json.loads(body)
    ref = MessageRef(data["tenant_id"], data["customer_id"], data["sk"])
    loaded = store.load(ref)
    if loaded is None:
        return
    message = StoredMessage.model_validate_json(loaded[0])
    if message.state.status is not MessageStatus.QUEUED:
        return  # sent, suppressed or held meanwhile: nothing to do
    now = clock.now()
    if not store.claim_for_sending(ref, now):
        if loaded[2] is not None and message.sent_at is None:
            # Claimed earlier and never recorded as sent: the provider may have taken it.
            _save(
                ref,
                message,
                HistoryEntry(status=MessageStatus.FAILED, at=now, reason=Reason.UNKNOWN_OUTCOME),
            )
        return
    if message.has_html:
        html = store.get_body(ref)
        message = message.model_copy(update={"html_z": pack_html(html) if html else None})
    provider = provider_for(ref.tenant_id, message)
    if provider is None:
        # The channel lost its provider after the decision: never a pretended delivery.
        _save(
            ref,
            message,
            HistoryEntry(status=MessageStatus.FAILED, at=now, reason=Reason.CHANNEL_NOT_CONFIGURED),
        )
        return
    try:
        accepted = provider.send(ref.tenant_id, message)
    except ProviderRejected as refused:
        logger.info(
            "provider rejected", extra={"message_id": message.message_id, "why": str(refused)}
        )
        _save(
            ref,
            message,
            HistoryEntry(status=MessageStatus.FAILED, at=now, reason=Reason.PROVIDER_REJECTED),
        )
        return
    except OutcomeUnknown as unknown:
        logger.warning(
            "outcome unknown", extra={"message_id": message.message_id, "why": str(unknown)}
        )
        _save(
            ref,
            message,
            HistoryEntry(status=MessageStatus.FAILED, at=now, reason=Reason.UNKNOWN_OUTCOME),
        )
        return
    except RetryLater:
        # Surely not taken: give the claim back so the queue's redelivery can send it.
        store.release_claim(ref, now)
        raise
    message = message.model_copy(update={"provider_message_id": accepted.provider_message_id})
    _save(ref, message, HistoryEntry(status=MessageStatus.SENT, at=accepted.at))
    logger.info(
        "message sent", extra={"message_id": message.message_id, "channel": message.channel}
    )
