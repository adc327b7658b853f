"""A campaign's audience: the segment's members when sending starts (CONTRACT §6), read from the
analytics view in id-ordered pages (`trigly.segments`)."""

from collections.abc import Iterator


def members(tenant_id: str, segment_id: str) -> Iterator[list[str]]:
    """A segment deleted after the campaign was created has no members: the campaign ends
    `sent` to nobody rather than failing its start again and again."""
    from trigly.platform.errors import NotFound
    from trigly.segments import service  # DuckDB loads only where an audience is read

    try:
        yield from service.audience_pages(tenant_id, segment_id)
    except NotFound:
        return


def segment_exists(tenant_id: str, segment_id: str) -> bool:
    from trigly.store import segments

    return segments.get_segment(tenant_id, segment_id) is not None
