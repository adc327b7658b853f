"""Identifiers: a type prefix and a ULID, so ids sort by creation time and say what they are."""

import secrets

from trigly.platform import clock


def new_id(prefix: str) -> str:
    """E.g. `cus_01JD3...`; the time part comes from business time so local replays sort right."""
    from ulid import ULID  # here: a webhook or a send whose call makes no id does not load it

    return f"{prefix}_{ULID.from_datetime(clock.now())}".lower()


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
