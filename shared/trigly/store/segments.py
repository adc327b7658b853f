"""Saved segments and the members of the ones that start journeys (ADR 0022, CONTRACT §6)."""

from collections.abc import Iterable, Iterator

from pynamodb.exceptions import DoesNotExist

from trigly.store import keys
from trigly.store.conditions import held
from trigly.store.models import SegmentItem, SegmentMemberItem, bind

_PREFIX = "SEGMENT#"


def put_segment(tenant_id: str, segment_id: str, doc: str) -> None:
    bind()
    SegmentItem(keys.tenant(tenant_id), f"{_PREFIX}{segment_id}", doc=doc).save()


def get_segment(tenant_id: str, segment_id: str) -> str | None:
    bind()
    try:
        return SegmentItem.get(keys.tenant(tenant_id), f"{_PREFIX}{segment_id}").doc
    except DoesNotExist:
        return None


def list_segments(tenant_id: str) -> list[str]:
    bind()
    query = SegmentItem.query(keys.tenant(tenant_id), SegmentItem.sk.startswith(_PREFIX))
    return [item.doc for item in query]


def delete_segment(tenant_id: str, segment_id: str) -> bool:
    """False when there was none."""
    bind()
    item = SegmentItem(keys.tenant(tenant_id), f"{_PREFIX}{segment_id}")
    return held(lambda: item.delete(condition=SegmentItem.pk.exists()))


def _members_pk(tenant_id: str, segment_id: str) -> str:
    return keys.segment_members(tenant_id, segment_id)


def stored_members(tenant_id: str, segment_id: str) -> Iterator[str]:
    """Everyone the last passes left in the segment (the daily pass compares them all)."""
    bind()
    for item in SegmentMemberItem.query(_members_pk(tenant_id, segment_id)):
        yield item.sk.removeprefix("M#")


def stored_among(tenant_id: str, segment_id: str, customer_ids: Iterable[str]) -> set[str]:
    """Which of these customers the last passes left in the segment (one BatchGet per 100)."""
    bind()
    pk = _members_pk(tenant_id, segment_id)
    found = SegmentMemberItem.batch_get([(pk, f"M#{c}") for c in set(customer_ids)])
    return {item.sk.removeprefix("M#") for item in found}


def enter(tenant_id: str, segment_id: str, customer_id: str, at: str) -> bool:
    """Record an entry; False when the customer is already recorded as a member (a repeated
    pass or a redelivered message), so each entry is acted on once."""
    bind()
    item = SegmentMemberItem(_members_pk(tenant_id, segment_id), f"M#{customer_id}", entered_at=at)
    return held(lambda: item.save(condition=SegmentMemberItem.pk.does_not_exist()))


def leave(tenant_id: str, segment_id: str, customer_ids: Iterable[str]) -> None:
    bind()
    pk = _members_pk(tenant_id, segment_id)
    with SegmentMemberItem.batch_write() as batch:
        for customer_id in customer_ids:
            batch.delete(SegmentMemberItem(pk, f"M#{customer_id}"))
