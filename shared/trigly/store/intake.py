"""Event claims (idempotency, access pattern 1) and rejected events (pattern 12)."""

from collections.abc import Sequence
from dataclasses import dataclass

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from trigly.store import keys
from trigly.store.models import EventClaimItem, RejectedEventItem, bind

ACCEPTED = "accepted"
REJECTED = "rejected"
# DynamoDB's most items in one TransactWriteItems.
CLAIMS_PER_TRANSACTION = 100
# Rounds of a transaction cancelled only by concurrent writers before the claim gives up.
TRANSACTION_ROUNDS = 5


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


class ClaimsUnavailable(RuntimeError):
    """A claim transaction kept being cancelled by concurrent writes, or for a reason other than
    an id taken already; nothing of it was written."""


def claim_events(
    *,
    tenant_id: str,
    connector_id: str,
    event_ids: Sequence[str],
    claimed_at: str,
    expires_at: int,
) -> dict[str, ClaimOutcome]:
    """Claim up to `CLAIMS_PER_TRANSACTION` distinct ids in one transaction, each put on the
    condition that the id is new: one request instead of one per event (a single id: one
    conditional put, as a transaction costs two writes an item).

    A transaction is all or nothing, and its cancellation says which conditions failed: those
    ids are taken (duplicates), the rest are claimed again without them. An id that was only
    rejected before is claimed on its own (`claim_event`), which also returns the rejections to
    resolve. Any other cancellation reason raises; nothing of that transaction was written.
    """
    if len(set(event_ids)) != len(event_ids) or len(event_ids) > CLAIMS_PER_TRANSACTION:
        raise ValueError(f"at most {CLAIMS_PER_TRANSACTION} distinct event ids per transaction")
    if len(event_ids) == 1:
        # A transaction writes each item twice (prepare, commit): one id is one conditional put.
        [event_id] = event_ids
        return {
            event_id: claim_event(
                tenant_id=tenant_id,
                connector_id=connector_id,
                event_id=event_id,
                claimed_at=claimed_at,
                expires_at=expires_at,
            )
        }
    outcomes: dict[str, ClaimOutcome] = {}
    rejected_before: list[str] = []
    pending = list(event_ids)
    for _ in range(TRANSACTION_ROUNDS):
        if not pending:
            break
        try:
            _claim_together(tenant_id, connector_id, pending, claimed_at, expires_at)
        except TransactWriteError as exc:
            if exc.cause_response_code != "TransactionCanceledException":
                raise
            pending = _after_cancellation(exc, pending, outcomes, rejected_before)
            continue
        outcomes.update((event_id, ClaimOutcome(claimed=True)) for event_id in pending)
        pending = []
    if pending:
        raise ClaimsUnavailable(f"{len(pending)} claims cancelled {TRANSACTION_ROUNDS} times")
    outcomes.update(
        _claim_each(
            tenant_id=tenant_id,
            connector_id=connector_id,
            event_ids=rejected_before,
            claimed_at=claimed_at,
            expires_at=expires_at,
            claimed_before=outcomes,
        )
    )
    return outcomes


def _claim_each(
    *,
    tenant_id: str,
    connector_id: str,
    event_ids: list[str],
    claimed_at: str,
    expires_at: int,
    claimed_before: dict[str, ClaimOutcome],
) -> dict[str, ClaimOutcome]:
    """Claim ids that were rejected before, one conditional write each (it returns their
    rejections). On a failure the transaction's claims too are released: the caller learns only
    of the failure, and must not be left holding them."""
    outcomes: dict[str, ClaimOutcome] = {}
    try:
        for event_id in event_ids:
            outcomes[event_id] = claim_event(
                tenant_id=tenant_id,
                connector_id=connector_id,
                event_id=event_id,
                claimed_at=claimed_at,
                expires_at=expires_at,
            )
    except Exception:
        for event_id, outcome in (claimed_before | outcomes).items():
            if outcome.claimed:
                release_claim(tenant_id, connector_id, event_id)
        raise
    return outcomes


def _claim_together(
    tenant_id: str, connector_id: str, event_ids: list[str], claimed_at: str, expires_at: int
) -> None:
    bind()
    with TransactWrite(connection=_claims_connection()) as transaction:
        for event_id in event_ids:
            transaction.save(
                EventClaimItem(
                    keys.event_claim(tenant_id, connector_id, event_id),
                    status=ACCEPTED,
                    claimed_at=claimed_at,
                    expires_at=expires_at,
                ),
                condition=EventClaimItem.pk.does_not_exist(),
                return_values="ALL_OLD",
            )


def _after_cancellation(
    exc: TransactWriteError,
    pending: list[str],
    outcomes: dict[str, ClaimOutcome],
    rejected_before: list[str],
) -> list[str]:
    """Sort a cancelled claim transaction's ids: taken (a duplicate), rejected before (claimed
    alone afterwards), or to try again (cancelled because of the others, or a conflicting
    concurrent write). Returns the last kind."""
    reasons = exc.cancellation_reasons
    if len(reasons) != len(pending):
        raise exc
    again: list[str] = []
    for event_id, reason in zip(pending, reasons, strict=True):
        if reason is None or reason.code == "TransactionConflict":
            again.append(event_id)
        elif reason.code == "ConditionalCheckFailed":
            old = reason.raw_item or {}
            if old.get("status", {}).get("S") == REJECTED:
                rejected_before.append(event_id)
            else:
                outcomes[event_id] = ClaimOutcome(claimed=False)
        else:
            raise exc
    return again


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
