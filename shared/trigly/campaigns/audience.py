"""A campaign's audience: the segment's members when sending starts (CONTRACT §6), read from the
analytics view in id-ordered pages (`trigly.segments`)."""


def members_after(tenant_id: str, segment_id: str, after: str | None, limit: int) -> list[str]:
    """Up to `limit` members with ids after `after` (id order). A segment deleted after the
    campaign was created has no (more) members: the campaign ends `sent` to whoever was read
    rather than failing its start again and again."""
    from trigly.platform.errors import NotFound
    from trigly.segments import service  # DuckDB loads only where an audience is read

    try:
        return service.audience_slice(tenant_id, segment_id, after, limit)
    except NotFound:
        return []


def segment_exists(tenant_id: str, segment_id: str) -> bool:
    from trigly.store import segments

    return segments.get_segment(tenant_id, segment_id) is not None
