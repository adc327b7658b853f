"""Segments (CONTRACT §6): saved conditions over the analytics view, counted, previewed and
listed synchronously from the view (ADR 0022); the members of segments that start journeys are
tracked by `membership`."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, JsonValue

from trigly.analytics import sql
from trigly.analytics.sql import Connection
from trigly.platform import clock, cursors
from trigly.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from trigly.platform.tenancy import Tenant
from trigly.segments.conditions import Condition, parse_conditions
from trigly.store import segments as store

SEGMENT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
PAGE_SIZE = 100


class Segment(BaseModel):
    id: str
    name: str = Field(min_length=1, max_length=200)
    conditions: dict[str, JsonValue]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Counted:
    segment: Segment
    count: int
    computed_at: datetime


def tenant_today(tenant: Tenant) -> date:
    """ "Days ago" and "in days" count whole days in the tenant's time zone (CONTRACT §6)."""
    return clock.now().astimezone(ZoneInfo(tenant.timezone)).date()


def parse(conditions: Any, path: str = "conditions") -> Condition:
    """The condition tree, or a 422 naming each bad field under `path`."""
    return parse_conditions(conditions, path)


def all_members(view: Connection, condition: Condition, today: date) -> list[str]:
    """Every member's id in id order, read in keyset pages (bounded memory inside DuckDB)."""
    found: list[str] = []
    while page := sql.members_page(view, condition, today, found[-1] if found else None, 50_000):
        found.extend(page)
    return found


def save_segment(tenant: Tenant, segment_id: str, name: Any, conditions: Any) -> Counted:
    errors = []
    if not SEGMENT_ID.fullmatch(segment_id):
        errors.append(FieldError("id", "must be 1–64 of a-z, 0-9, - and _, starting alnum"))
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        errors.append(FieldError("name", "must be a text of 1–200 characters"))
    try:
        parse(conditions)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors=errors)
    now = clock.now()
    previous = store.get_segment(tenant.tenant_id, segment_id)
    created_at = Segment.model_validate_json(previous).created_at if previous else now
    segment = Segment(
        id=segment_id,
        name=name.strip(),
        conditions=conditions,
        created_at=created_at,
        updated_at=now,
    )
    store.put_segment(tenant.tenant_id, segment_id, segment.model_dump_json())
    return _counted(tenant, [segment])[0]


def load_segment(tenant: Tenant, segment_id: str) -> Segment:
    doc = store.get_segment(tenant.tenant_id, segment_id)
    if doc is None:
        raise NotFound("No such segment.")
    return Segment.model_validate_json(doc)


def get_segment(tenant: Tenant, segment_id: str) -> Counted:
    return _counted(tenant, [load_segment(tenant, segment_id)])[0]


def list_segments(tenant: Tenant) -> list[Counted]:
    segments = [Segment.model_validate_json(doc) for doc in store.list_segments(tenant.tenant_id)]
    return _counted(tenant, sorted(segments, key=lambda s: s.id))


def delete_segment(tenant: Tenant, segment_id: str) -> None:
    from trigly.journeys import catalog

    starts = [
        j.journey_id
        for j, trigger in catalog.segment_journeys(tenant.tenant_id)
        if trigger.segment_entered == segment_id
    ]
    if starts:
        raise Conflict(f"Journeys start on this segment: {', '.join(sorted(starts))}.")
    if not store.delete_segment(tenant.tenant_id, segment_id):
        raise NotFound("No such segment.")


def preview(tenant: Tenant, conditions: Any) -> tuple[int, list[str]]:
    """The count and a sample of up to 20 customer ids, synchronously."""
    from trigly.analytics.view import open_view

    condition = parse(conditions)
    with open_view(tenant.tenant_id) as view:
        found = sql.preview(view, condition, tenant_today(tenant))
    return found.count, found.sample


def members_page(
    tenant: Tenant, segment_id: str, cursor: str | None
) -> tuple[list[str], str | None]:
    """A page of member ids in id order and the cursor of the next page (None: the last)."""
    from trigly.analytics.view import open_view

    segment = load_segment(tenant, segment_id)
    after = cursors.decode(f"segment-members:{segment_id}", cursor)
    condition = parse(segment.conditions)
    with open_view(tenant.tenant_id) as view:
        ids = sql.members_page(view, condition, tenant_today(tenant), after, PAGE_SIZE + 1)
    following = ids[PAGE_SIZE - 1] if len(ids) > PAGE_SIZE else None
    return ids[:PAGE_SIZE], cursors.encode(f"segment-members:{segment_id}", following)


def _counted(tenant: Tenant, segments: list[Segment]) -> list[Counted]:
    if not segments:
        return []
    from trigly.analytics.view import open_view

    today, now = tenant_today(tenant), clock.now()
    with open_view(tenant.tenant_id) as view:
        return [
            Counted(s, sql.count_members(view, parse(s.conditions), today), now) for s in segments
        ]


def audience_slice(tenant_id: str, segment_id: str, after: str | None, limit: int) -> list[str]:
    """Up to `limit` of the segment's members now with ids after `after`, in id order: a keyset
    slice of a campaign's audience when sending starts (CONTRACT §6), so a start of millions
    goes in steps. Raises NotFound for a deleted segment."""
    from trigly.analytics.view import open_view
    from trigly.platform.tenancy import get_tenant_cached

    tenant = get_tenant_cached(tenant_id)
    condition = parse(load_segment(tenant, segment_id).conditions)
    with open_view(tenant_id) as view:
        return sql.members_page(view, condition, tenant_today(tenant), after, limit)
