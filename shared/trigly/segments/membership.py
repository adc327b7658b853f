"""Who entered which segment, for journeys that start on entry (CONTRACT §6).

Only segments an enabled journey starts on are tracked: their members are items
(`SegmentMemberItem`), so an entry is recorded by one conditional write and starts its journeys
once, whatever passes repeat. Two passes find entries and exits:

- changed customers, re-evaluated as soon as the projection has written their rows (the
  analytics view names them; ADR 0022), so data-driven entries follow within a minute;
- the tenant's day (its morning), every member against every stored one, because conditions
  relative to the clock ("maintenance due in 14 days") change with no data changing.

A pass only computes and queues: entries go to the journey queue in pages of `PAGE` (a first
pass over a new segment may find a million), where the worker records each one and enrolls.
Exits are deleted by the pass itself, so a customer who leaves and comes back enters again.
"""

from collections.abc import Iterable
from typing import Any

from trigly.journeys import catalog
from trigly.journeys.queue import enqueue
from trigly.platform import clock
from trigly.platform.clock import isoformat
from trigly.platform.observability import logger
from trigly.platform.tenancy import get_tenant_cached
from trigly.store import segments as store

PAGE = 100


def tracked_segments(tenant_id: str) -> set[str]:
    """The segments an enabled journey starts on."""
    return {t.segment_entered for _, t in catalog.segment_journeys(tenant_id, fresh=False)}


def segment_changes(tenant_id: str, customer_ids: Iterable[str]) -> int:
    """After the projection wrote these customers' rows: queue their re-evaluation (journey
    worker) when a journey starts on a segment; nothing otherwise. Returns messages queued."""
    if not tracked_segments(tenant_id):
        return 0
    changed = sorted(set(customer_ids))
    bodies: list[dict[str, Any]] = [
        {"kind": "segment_changes", "tenant_id": tenant_id, "customer_ids": changed[i : i + PAGE]}
        for i in range(0, len(changed), PAGE)
    ]
    enqueue(bodies)
    return len(bodies)


def refresh(tenant_id: str, customer_ids: Iterable[str] | None) -> dict[str, int]:
    """Re-evaluate the tracked segments for these customers (None: everyone — the daily pass);
    returns the entries queued per segment."""
    segments = tracked_segments(tenant_id)
    if not segments:
        return {}
    from trigly.analytics import sql
    from trigly.analytics.view import open_view  # DuckDB loads only where segments start journeys
    from trigly.segments import service

    tenant = get_tenant_cached(tenant_id)
    today = service.tenant_today(tenant)
    changed = None if customer_ids is None else sorted(set(customer_ids))
    queued: dict[str, int] = {}
    with open_view(tenant_id) as view:
        for segment_id in sorted(segments):
            doc = store.get_segment(tenant_id, segment_id)
            if doc is None:
                continue  # deleted since: its journeys cannot start
            condition = service.parse(service.Segment.model_validate_json(doc).conditions)
            if changed is None:
                now_in = set(service.all_members(view, condition, today))
                was_in = set(store.stored_members(tenant_id, segment_id))
            else:
                now_in = set(sql.members_among(view, condition, today, changed))
                was_in = store.stored_among(tenant_id, segment_id, changed)
            store.leave(tenant_id, segment_id, sorted(was_in - now_in))
            entered = sorted(now_in - was_in)
            _queue_entries(tenant_id, segment_id, entered)
            queued[segment_id] = len(entered)
    if any(queued.values()):
        logger.info("segment entries queued", extra={"entries": queued})
    return queued


def _queue_entries(tenant_id: str, segment_id: str, entered: list[str]) -> None:
    at = isoformat(clock.now())
    bodies: list[dict[str, Any]] = [
        {
            "kind": "segment_entered",
            "tenant_id": tenant_id,
            "segment_id": segment_id,
            "customer_ids": entered[start : start + PAGE],
            "at": at,
        }
        for start in range(0, len(entered), PAGE)
    ]
    enqueue(bodies)


def record_entries(tenant_id: str, segment_id: str, customer_ids: list[str], at: str) -> int:
    """The journey worker's half: record each entry once and start the segment's journeys for
    it (a run per entry: its key is the segment, its event the entry's moment, so `reentry`
    decides whether a second entry starts a second run). Returns the entries recorded."""
    from trigly.journeys.starting import enroll

    journeys = [
        j
        for j, trigger in catalog.segment_journeys(tenant_id, fresh=False)
        if trigger.segment_entered == segment_id
    ]
    tenant = get_tenant_cached(tenant_id)
    recorded = 0
    for customer_id in customer_ids:
        if not store.enter(tenant_id, segment_id, customer_id, at):
            continue  # a repeated pass or a redelivered page: started already
        recorded += 1
        for journey in journeys:
            enroll(
                tenant,
                journey,
                key=segment_id,
                customer_id=customer_id,
                vin=None,
                subject={"segment_id": segment_id, "event_id": f"{segment_id}@{at}"},
            )
    return recorded
