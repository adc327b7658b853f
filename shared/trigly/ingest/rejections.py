"""Rejected inbound events: kept with their reasons, listed, fixed and replayed (CONTRACT §2).

Retention: `rejected_retention_days` (30 by default), by DynamoDB TTL and the archive bucket's
lifecycle rule; a rejected event resent correctly under its id marks the rejection `resolved`.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from trigly.ingest import archive
from trigly.platform import clock, cursors, ids
from trigly.platform.errors import FieldError, NotFound
from trigly.platform.settings import get_settings
from trigly.store import intake as store
from trigly.store import keys
from trigly.store.models import RejectedEventItem

PENDING = "pending"
RESOLVED = "resolved"  # the DMS resent it corrected
REPLAYED = "replayed"  # replayed through the API
LISTING = "rejected-events"  # the list its cursors belong to


@dataclass(frozen=True)
class RejectedEvent:
    rejection_id: str
    connector_id: str
    event_id: str | None
    event_type: str | None
    received_at: datetime
    errors: list[FieldError]
    status: str
    payload: dict[str, Any] | None
    archived: bool
    resolved_at: datetime | None


def _expiry(now: datetime) -> int:
    return int((now + timedelta(days=get_settings().rejected_retention_days)).timestamp())


def reject(
    *,
    tenant_id: str,
    connector_id: str,
    raw: object,
    raw_bytes: bytes,
    errors: list[FieldError],
    too_large: bool = False,
) -> str:
    """Keep a rejected event whole (inline, or in the archive when too large); returns its id."""
    now = clock.now()
    rejection_id = ids.new_id("rej")
    event_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
    event_type = (
        raw.get("type") if isinstance(raw, dict) and isinstance(raw.get("type"), str) else None
    )
    archive_key = None
    if too_large:
        archive_key = archive.archive_key(tenant_id, rejection_id)
        archive.put(archive_key, raw_bytes)
    store.put_rejected(
        RejectedEventItem(
            keys.tenant(tenant_id),
            rejection_id,
            connector_id=connector_id,
            event_id=event_id,
            event_type=event_type[:64] if event_type else None,
            received_at=clock.isoformat(now),
            errors=json.dumps([{"field": e.field, "message": e.message} for e in errors]),
            payload=None if too_large else raw_bytes.decode(),
            archive_key=archive_key,
            status=PENDING,
            expires_at=_expiry(now),
        )
    )
    if event_id:
        store.note_rejection(
            tenant_id=tenant_id,
            connector_id=connector_id,
            event_id=event_id[:128],
            rejection_id=rejection_id,
            at=clock.isoformat(now),
            expires_at=_expiry(now),
        )
    return rejection_id


def _to_rejected(item: RejectedEventItem, with_payload: bool) -> RejectedEvent:
    payload = None
    if with_payload:
        text = archive.get(item.archive_key).decode() if item.archive_key else item.payload
        payload = json.loads(text) if text else None
    return RejectedEvent(
        rejection_id=item.sk,
        connector_id=item.connector_id,
        event_id=item.event_id,
        event_type=item.event_type,
        received_at=datetime.fromisoformat(item.received_at),
        errors=[FieldError(**e) for e in json.loads(item.errors)],
        status=item.status,
        payload=payload if isinstance(payload, dict) else None,
        archived=bool(item.archive_key),
        resolved_at=datetime.fromisoformat(item.resolved_at) if item.resolved_at else None,
    )


def list_rejected(
    tenant_id: str, limit: int = 50, cursor: str | None = None
) -> tuple[list[RejectedEvent], str | None]:
    after = cursors.decode(LISTING, cursor, starts=("rej_",))
    items, next_position = store.list_rejected(tenant_id, limit, after)
    now = int(clock.now().timestamp())
    live = [i for i in items if i.expires_at > now]  # TTL deletion is lazy; expired is absent
    rejected = [_to_rejected(i, with_payload=True) for i in live]
    return rejected, cursors.encode(LISTING, next_position)


def get_rejected(tenant_id: str, rejection_id: str) -> RejectedEvent:
    item = store.get_rejected(tenant_id, rejection_id)
    if item is None or item.expires_at <= int(clock.now().timestamp()):
        raise NotFound("No such rejected event.")
    return _to_rejected(item, with_payload=True)


def mark_resolved(tenant_id: str, rejection_ids: tuple[str, ...], status: str = RESOLVED) -> None:
    if rejection_ids:
        store.mark_rejections_resolved(
            tenant_id, rejection_ids, status, clock.isoformat(clock.now())
        )


REDACTED = "[erased]"


def stored_payloads(tenant_id: str) -> Iterator[tuple[str, object, str | None]]:
    """(rejection id, payload, archive key) of every kept rejected event of the tenant.
    Reads the tenant's rejected events, bounded by their retention: an erasure path only."""
    cursor = None
    while True:
        items, cursor = store.list_rejected(tenant_id, 200, cursor)
        for item in items:
            text = archive.get(item.archive_key).decode() if item.archive_key else item.payload
            yield item.sk, json.loads(text) if text else None, item.archive_key
        if cursor is None:
            return


def erase_payload(tenant_id: str, rejection_id: str, archive_key: str | None) -> None:
    if archive_key:
        archive.delete(archive_key)
    store.redact_rejected(tenant_id, rejection_id, json.dumps({"redacted": REDACTED}))
