"""Webhook intake (CONTRACT §2): size, then signature, then JSON; then each event on its own.

An event is validated, claimed by its id (a conditional write, up to 100 of them in one
transaction: the first acceptance wins) and queued; the answer counts accepted, duplicate and
rejected events. Nothing sent is lost: invalid events are kept for replay, and if the queue
refuses events their claims are released and the whole request fails, so the DMS's retry is
accepted rather than counted as a duplicate.
"""

import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from trigly.events.validation import ValidEvent, validate_event
from trigly.ingest import rejections
from trigly.ingest.messages import QueuedEvent
from trigly.ingest.queue import enqueue
from trigly.platform import clock, tenancy
from trigly.platform.errors import (
    FieldError,
    MalformedRequest,
    PayloadTooLarge,
    Unauthorized,
    UpstreamUnavailable,
)
from trigly.platform.observability import logger
from trigly.platform.settings import get_settings
from trigly.profiles.ordering import event_stamp
from trigly.store import intake as claims

MAX_BODY_BYTES = 1024 * 1024
MAX_EVENTS = 500
MAX_EVENT_BYTES = 256 * 1024


@dataclass
class Rejection:
    index: int
    event_id: str | None
    rejection_id: str
    errors: list[FieldError]


@dataclass
class Receipt:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_response(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [
                {
                    "index": r.index,
                    "id": r.event_id,
                    "rejection_id": r.rejection_id,
                    "errors": [{"field": e.field, "message": e.message} for e in r.errors],
                }
                for r in self.rejected
            ],
        }


def _signature_valid(connector: tenancy.Connector, headers: Mapping[str, str], body: bytes) -> bool:
    for secret in connector.signing_secrets(clock.wall_now()):
        try:
            # The replay window runs on the wall clock (CONTRACT §5), never on business time.
            Webhook(secret).verify(body, dict(headers), json_parse=False)
        except (WebhookVerificationError, ValueError, binascii.Error, UnicodeDecodeError):
            continue
        return True
    return False


def _split_events(document: object) -> list[object]:
    if not isinstance(document, dict):
        raise MalformedRequest('The body must be a JSON object: one event or {"events": [...]}.')
    if "events" not in document:
        return [document]
    events = document["events"]
    if not isinstance(events, list):
        raise MalformedRequest("`events` must be a JSON array of events.")
    if len(events) > MAX_EVENTS:
        raise PayloadTooLarge(f"A batch holds at most {MAX_EVENTS} events.")
    return events


def receive_webhook(connector_id: str, headers: Mapping[str, str], body: bytes) -> Receipt:
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge("The body is over 1 MB; send fewer events per request.")
    connector = tenancy.find_connector(connector_id)
    # An unknown connector answers exactly like a bad signature, so ids cannot be probed.
    if connector is None or not _signature_valid(connector, headers, body):
        raise Unauthorized(
            "The webhook signature is missing, invalid or outside the 5-minute window."
        )
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest("The body is not valid JSON.") from exc
    events = _split_events(document)
    tenant = tenancy.get_tenant_cached(connector.tenant_id)
    receipt = accept_events(tenant, connector.connector_id, events, received_at=clock.now())
    logger.info(
        "webhook received",
        extra={
            "tenant_id": tenant.tenant_id,
            "connector_id": connector.connector_id,
            "accepted": receipt.accepted,
            "duplicates": receipt.duplicates,
            "rejected": len(receipt.rejected),
        },
    )
    return receipt


def accept_events(
    tenant: tenancy.Tenant, connector_id: str, events: list[object], *, received_at: datetime
) -> Receipt:
    """Validate, claim and queue each event; the same path serves webhooks and replays."""
    receipt = Receipt()
    valid_events: list[tuple[int, ValidEvent]] = []
    for index, raw in enumerate(events):
        raw_bytes = json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode()
        if len(raw_bytes) > MAX_EVENT_BYTES:
            errors = [FieldError("", "too_large: an event may be at most 256 KB")]
            rejection_id = rejections.reject(
                tenant_id=tenant.tenant_id,
                connector_id=connector_id,
                raw=raw,
                raw_bytes=raw_bytes,
                errors=errors,
                too_large=True,
            )
            receipt.rejected.append(Rejection(index, _event_id(raw), rejection_id, errors))
            continue
        valid = validate_event(raw, now=received_at)
        if isinstance(valid, list):
            rejection_id = rejections.reject(
                tenant_id=tenant.tenant_id,
                connector_id=connector_id,
                raw=raw,
                raw_bytes=raw_bytes,
                errors=valid,
            )
            receipt.rejected.append(Rejection(index, _event_id(raw), rejection_id, valid))
            continue
        valid_events.append((index, valid))
    claimed: list[tuple[QueuedEvent, tuple[str, ...]]] = []
    outcomes = _claim_all(tenant.tenant_id, connector_id, valid_events, received_at)
    for (index, valid), outcome in zip(valid_events, outcomes, strict=True):
        if outcome is None or not outcome.claimed:
            receipt.duplicates += 1
            continue
        queued = QueuedEvent(
            event_id=valid.id,
            stamp=event_stamp(valid.occurred_at, received_at, index),
            event=valid.raw,
        )
        claimed.append((queued, outcome.earlier_rejections))
    _queue_or_release(tenant.tenant_id, connector_id, received_at, [q for q, _ in claimed])
    receipt.accepted = len(claimed)
    rejections.mark_resolved(tenant.tenant_id, tuple(r for _, rs in claimed for r in rs))
    return receipt


def _claim_all(
    tenant_id: str, connector_id: str, events: list[tuple[int, ValidEvent]], received_at: datetime
) -> list[claims.ClaimOutcome | None]:
    """Claim each event id, up to 100 in one transaction: one conditional write per event, one
    after another, spent a 500-event batch's time on DynamoDB's round trips (and on the local
    stack, the emulator's per-request cost); now it is 5 requests. An id repeated in the batch
    is claimed once, by its first event (later ones: None, a duplicate). If any claim fails,
    the ones made are released before the error propagates, so the DMS's retry is accepted
    rather than counted as duplicates."""
    claimed_at = clock.isoformat(received_at)
    expires_at = int((received_at + timedelta(days=get_settings().idempotency_days)).timestamp())
    first_ids = list(dict.fromkeys(valid.id for _, valid in events))
    size = claims.CLAIMS_PER_TRANSACTION
    by_id: dict[str, claims.ClaimOutcome] = {}
    try:
        for start in range(0, len(first_ids), size):
            by_id |= claims.claim_events(
                tenant_id=tenant_id,
                connector_id=connector_id,
                event_ids=first_ids[start : start + size],
                claimed_at=claimed_at,
                expires_at=expires_at,
            )
    except Exception as exc:
        for event_id, outcome in by_id.items():
            if outcome.claimed:
                claims.release_claim(tenant_id, connector_id, event_id)
        if isinstance(exc, claims.ClaimsUnavailable):
            raise UpstreamUnavailable("Events could not be claimed; retry the request.") from exc
        raise
    outcomes: list[claims.ClaimOutcome | None] = []
    seen: set[str] = set()
    for _, valid in events:
        outcomes.append(None if valid.id in seen else by_id[valid.id])
        seen.add(valid.id)
    return outcomes


def _queue_or_release(
    tenant_id: str, connector_id: str, received_at: datetime, events: list[QueuedEvent]
) -> None:
    failed = enqueue(tenant_id, connector_id, received_at, events) if events else []
    if failed:
        for queued in failed:
            claims.release_claim(tenant_id, connector_id, queued.event_id)
        logger.error("ingest queue refused events", extra={"count": len(failed)})
        raise UpstreamUnavailable("Events could not be queued; retry the request.")


def _event_id(raw: object) -> str | None:
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def replay_rejected(tenant_id: str, rejection_id: str, corrected: object | None) -> Receipt:
    """Replay a rejected event as stored (after a fix on our side) or corrected by the caller."""
    rejected = rejections.get_rejected(tenant_id, rejection_id)
    event = corrected if corrected is not None else rejected.payload
    tenant = tenancy.get_tenant_cached(tenant_id)
    receipt = accept_events(tenant, rejected.connector_id, [event], received_at=clock.now())
    if receipt.accepted or receipt.duplicates:
        rejections.mark_resolved(tenant_id, (rejection_id,), rejections.REPLAYED)
    return receipt
