"""Event claims (idempotency, access pattern 1) and rejected events (pattern 12)."""

from dataclasses import dataclass

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError

from trigly.store import keys
from trigly.store.models import EventClaimItem, RejectedEventItem, bind

ACCEPTED = "accepted"
REJECTED = "rejected"


@dataclass(frozen=True)
class ClaimOutcome:
    claimed: bool
    # Rejections this event id had before it was accepted; their records get marked resolved.
    earlier_rejections: tuple[str, ...] = ()


def _claims_connection() -> Connection:
    bind()
    return EventClaimItem._get_connection().connection


def claim_event(
    *, tenant_id: str, connector_id: str, event_id: str, claimed_at: str, expires_at: int
) -> ClaimOutcome:
    """One conditional write: first acceptance wins; an id that was only rejected is free again."""
    table = EventClaimItem.Meta.table_name
    try:
        response = _claims_connection().put_item(
            table,
            keys.event_claim(tenant_id, connector_id, event_id),
            attributes={
                "status": {"S": ACCEPTED},
                "claimed_at": {"S": claimed_at},
                "expires_at": {"N": str(expires_at)},
            },
            condition=EventClaimItem.pk.does_not_exist() | (EventClaimItem.status == REJECTED),
            return_values="ALL_OLD",
        )
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return ClaimOutcome(claimed=False)
        raise
    old = response.get("Attributes", {})
    return ClaimOutcome(
        claimed=True, earlier_rejections=tuple(old.get("rejected_ids", {}).get("SS", []))
    )


def release_claim(tenant_id: str, connector_id: str, event_id: str) -> None:
    """Undo a claim whose event could not be queued, so the DMS's retry is not a 'duplicate'."""
    bind()
    EventClaimItem(keys.event_claim(tenant_id, connector_id, event_id)).delete(
        condition=EventClaimItem.status == ACCEPTED
    )


def note_rejection(
    *, tenant_id: str, connector_id: str, event_id: str, rejection_id: str, at: str, expires_at: int
) -> None:
    """Remember the rejection under the event id unless the id was already accepted."""
    bind()
    try:
        EventClaimItem(keys.event_claim(tenant_id, connector_id, event_id)).update(
            actions=[
                EventClaimItem.status.set(REJECTED),
                EventClaimItem.claimed_at.set(at),
                EventClaimItem.expires_at.set(expires_at),
                EventClaimItem.rejected_ids.add({rejection_id}),
            ],
            condition=EventClaimItem.pk.does_not_exist() | (EventClaimItem.status == REJECTED),
        )
    except Exception as exc:
        cause = getattr(exc, "cause_response_code", None)
        if cause != "ConditionalCheckFailedException":
            raise


def put_rejected(item: RejectedEventItem) -> None:
    bind()
    item.save()


def get_rejected(tenant_id: str, rejection_id: str) -> RejectedEventItem | None:
    bind()
    try:
        return RejectedEventItem.get(keys.tenant(tenant_id), rejection_id)
    except DoesNotExist:
        return None


def list_rejected(
    tenant_id: str, limit: int, cursor: str | None
) -> tuple[list[RejectedEventItem], str | None]:
    """Newest first; the cursor is the last id returned (opaque to callers)."""
    bind()
    query = RejectedEventItem.query(
        keys.tenant(tenant_id),
        RejectedEventItem.sk < cursor if cursor else None,
        scan_index_forward=False,
        limit=limit,
    )
    items = list(query)
    next_cursor = items[-1].sk if len(items) == limit and query.last_evaluated_key else None
    return items, next_cursor


def mark_rejections_resolved(
    tenant_id: str, rejection_ids: tuple[str, ...], status: str, at: str
) -> None:
    bind()
    for rejection_id in rejection_ids:
        try:
            RejectedEventItem(keys.tenant(tenant_id), rejection_id).update(
                actions=[
                    RejectedEventItem.status.set(status),
                    RejectedEventItem.resolved_at.set(at),
                ],
                condition=RejectedEventItem.pk.exists(),
            )
        except Exception as exc:
            if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise


def redact_rejected(tenant_id: str, rejection_id: str, payload: str) -> None:
    bind()
    RejectedEventItem(keys.tenant(tenant_id), rejection_id).update(
        actions=[
            RejectedEventItem.payload.set(payload),
            RejectedEventItem.archive_key.remove(),
            RejectedEventItem.status.set("erased"),
        ]
    )
