"""Where a campaign's audience comes from: the one small interface the segments work plugs in.

`AudienceSource(tenant_id, segment_id)` yields the segment's members as pages of customer ids
(the analytics view's membership, `trigly.segments`, once it lands). `SegmentLookup(tenant_id,
segment_id)` says whether the segment exists (a campaign on an unknown or deleted one is a
`422`). Until the segments code replaces them, the defaults read `SegmentItem`s for existence
and answer an empty audience; tests and the demo give a source of their own with `use()`.
"""

from collections.abc import Callable, Iterator

from trigly.store import campaigns as store

AudienceSource = Callable[[str, str], Iterator[list[str]]]
SegmentLookup = Callable[[str, str], bool]


def _no_members(tenant_id: str, segment_id: str) -> Iterator[list[str]]:
    return iter(())


_source: AudienceSource = _no_members
_lookup: SegmentLookup = store.segment_exists


def use(source: AudienceSource | None = None, lookup: SegmentLookup | None = None) -> None:
    """Wire the segments' membership (and existence check) in; None keeps the current one."""
    global _source, _lookup  # noqa: PLW0603  # process-wide wiring, set once at start-up
    if source is not None:
        _source = source
    if lookup is not None:
        _lookup = lookup


def members(tenant_id: str, segment_id: str) -> Iterator[list[str]]:
    return _source(tenant_id, segment_id)


def segment_exists(tenant_id: str, segment_id: str) -> bool:
    return _lookup(tenant_id, segment_id)
