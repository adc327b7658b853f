"""Messages (access patterns 9, 10): claimed by idempotency key, kept in the customer's
collection with their history, released from the `due` index when held, recorded by the sandbox
provider in the tenant's outbox."""

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from trigly.platform.clock import isoformat
from trigly.store import due_hours, keys
from trigly.store.conditions import held
from trigly.store.models import (
    FallbackItem,
    MessageBodyItem,
    MessageItem,
    MessageKeyItem,
    OutboxItem,
    bind,
)

KEY_SK = "KEY"


class StaleMessage(Exception):  # named like StaleProfile, its sibling
    """The message changed since it was read (not a StaleProfile: importing the profile store
    would pull contact validation into the channel worker's cold start)."""


@dataclass(frozen=True)
class MessageRef:
    tenant_id: str
    customer_id: str
    sk: str


@dataclass(frozen=True)
class KeyClaim:
    claimed: bool
    ref: MessageRef
    fingerprint: str


def _key_pk(tenant_id: str, idempotency_key: str) -> str:
    return f"T#{tenant_id}#MSGKEY#{hashlib.sha256(idempotency_key.encode()).hexdigest()}"


def claim_key(tenant_id: str, idempotency_key: str, ref: MessageRef, fingerprint: str) -> KeyClaim:
    """The first sender of a key owns it; later ones get the owner's message."""
    bind()
    pk = _key_pk(tenant_id, idempotency_key)
    item = MessageKeyItem(
        pk, KEY_SK, customer_id=ref.customer_id, message_sk=ref.sk, fingerprint=fingerprint
    )
    if not held(lambda: item.save(condition=MessageKeyItem.pk.does_not_exist())):
        owner = MessageKeyItem.get(pk, KEY_SK, consistent_read=True)
        return KeyClaim(
            False, MessageRef(tenant_id, owner.customer_id, owner.message_sk), owner.fingerprint
        )
    return KeyClaim(True, ref, fingerprint)


def message_sk(created_at_key: str, message_id: str) -> str:
    return f"MSG#{created_at_key}#{message_id}"


def load(ref: MessageRef) -> tuple[str, int, str | None] | None:
    """(document, version, claimed_at) of a message."""
    bind()
    try:
        item = MessageItem.get(
            keys.customer(ref.tenant_id, ref.customer_id), ref.sk, consistent_read=True
        )
    except DoesNotExist:
        return None
    return item.doc, int(item.version or 0), item.claimed_at


def save(ref: MessageRef, doc: str, version: int | None, due: datetime | None = None) -> None:
    """Optimistic; `due` puts a held message on the `due` index, None takes it off."""
    bind()
    item = MessageItem(keys.customer(ref.tenant_id, ref.customer_id), ref.sk, doc=doc)
    if due is not None:
        item.due_pk, item.due_sk = due_hours.place(due, ref.tenant_id, ref.customer_id, ref.sk)
    if version is not None:
        item.version = version
    if not held(item.save):
        raise StaleMessage(ref.sk)


def claim_for_sending(ref: MessageRef, at: datetime) -> bool:
    """Set once, before any provider call: a redelivered queue message or a retried worker finds
    it set and never calls the provider a second time."""
    bind()
    item = MessageItem(keys.customer(ref.tenant_id, ref.customer_id), ref.sk)
    return held(
        lambda: item.update(
            actions=[MessageItem.claimed_at.set(isoformat(at))],
            condition=MessageItem.pk.exists() & MessageItem.claimed_at.does_not_exist(),
            add_version_condition=False,  # the claim guards itself; the version guards documents
        )
    )


def release_claim(ref: MessageRef, at: datetime) -> bool:
    """Undo our own claim (only `claimed_at == at`) when the provider surely did not take the
    message, so the queue's redelivery can send it; False when the claim is not ours."""
    bind()
    item = MessageItem(keys.customer(ref.tenant_id, ref.customer_id), ref.sk)
    return held(
        lambda: item.update(
            actions=[MessageItem.claimed_at.remove()],
            condition=MessageItem.claimed_at == isoformat(at),
            add_version_condition=False,
        )
    )


def recent(tenant_id: str, customer_id: str, limit: int = 50) -> Iterator[str]:
    """The customer's newest messages (their sort keys order newest first)."""
    bind()
    query = MessageItem.query(
        keys.customer(tenant_id, customer_id), MessageItem.sk.startswith("MSG#"), limit=limit
    )
    for item in query:
        yield item.doc


# CONTRACT §5: the sandbox outbox keeps what it recorded at least 400 days of business time.
OUTBOX_LIFETIME = timedelta(days=400)


def record_outbox(tenant_id: str, sent_at: datetime, message_id: str, doc: str) -> None:
    bind()
    OutboxItem(
        f"T#{tenant_id}#OUTBOX",
        f"{isoformat(sent_at)}#{message_id}",
        doc_z=doc,
        expires_at=int((sent_at + OUTBOX_LIFETIME).timestamp()),
    ).save()


def delete_outbox_entries(tenant_id: str, sent: Iterable[tuple[datetime, str]]) -> None:
    """Erasure: the outbox entries of a customer's messages, by (sent at, message id)."""
    bind()
    with OutboxItem.batch_write() as batch:
        for sent_at, message_id in sent:
            batch.delete(OutboxItem(f"T#{tenant_id}#OUTBOX", f"{isoformat(sent_at)}#{message_id}"))


def outbox(tenant_id: str, now: datetime) -> list[str]:
    """What the sandbox recorded for the tenant, newest first; an entry past its TTL is absent
    whether or not DynamoDB deleted it yet (it deletes lazily; moto never does)."""
    bind()
    alive = int(now.timestamp())
    return [
        item.doc_z or item.doc or "{}"
        for item in OutboxItem.query(f"T#{tenant_id}#OUTBOX", scan_index_forward=False)
        if item.expires_at is None or item.expires_at > alive
    ]


# --- fallbacks to the next channel ------------------------------------------------------------

FALLBACK_LIFETIME = timedelta(days=7)


def _fallback_pk(ref: MessageRef) -> str:
    return f"T#{ref.tenant_id}#FALLBACK#{ref.customer_id}"


def schedule_fallback(ref: MessageRef, at: datetime) -> None:
    """Look again at `at` whether the message needs the next channel (the hourly tick)."""
    bind()
    due_pk, due_sk = due_hours.place(at, ref.tenant_id, ref.customer_id, ref.sk)
    FallbackItem(
        _fallback_pk(ref),
        ref.sk,
        due_pk=due_pk,
        due_sk=due_sk,
        expires_at=int((at + FALLBACK_LIFETIME).timestamp()),
    ).save()


def clear_fallback(ref: MessageRef) -> None:
    bind()
    FallbackItem(_fallback_pk(ref), ref.sk).delete()


# --- an email's HTML part, written once ---------------------------------------------------------

BODY_LIFETIME = timedelta(days=30)


def _body_pk(tenant_id: str, customer_id: str) -> str:
    return f"T#{tenant_id}#MSGBODY#{customer_id}"


def put_body(ref: MessageRef, html: str, at: datetime) -> None:
    bind()
    MessageBodyItem(
        _body_pk(ref.tenant_id, ref.customer_id),
        ref.sk,
        html=html,
        expires_at=int((at + BODY_LIFETIME).timestamp()),
    ).save()


def get_body(ref: MessageRef) -> str | None:
    bind()
    try:
        return MessageBodyItem.get(_body_pk(ref.tenant_id, ref.customer_id), ref.sk).html
    except DoesNotExist:
        return None


def delete_bodies(tenant_id: str, customer_id: str) -> None:
    """Erasure: the customer's email bodies (one Query of their own partition)."""
    bind()
    with MessageBodyItem.batch_write() as batch:
        for item in MessageBodyItem.query(_body_pk(tenant_id, customer_id)):
            batch.delete(item)
