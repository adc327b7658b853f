"""Opaque list cursors: a list takes back only a cursor it handed out.

A cursor wraps the position a list stopped at (a sort key) with the list's name, so a cursor of
one list, a cursor edited by hand or any other text is refused with `400` instead of silently
answering an empty or wrong page.
"""

import base64
import binascii
import re

from trigly.platform.errors import MalformedRequest

# What a position may be: sort keys are ids and `KIND#…` keys, never free text.
_POSITION = re.compile(r"[A-Za-z0-9_#:.\-]{1,512}")


def encode(listing: str, position: str | None) -> str | None:
    """The cursor for continuing `listing` after `position` (None: the list is complete)."""
    if position is None:
        return None
    return base64.urlsafe_b64encode(f"{listing}|{position}".encode()).decode().rstrip("=")


def decode(listing: str, cursor: str | None, *, starts: tuple[str, ...] = ("",)) -> str | None:
    """The position a cursor of `listing` stands for (one of `starts` begins it); anything else
    is a malformed request."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError) as exc:
        raise _refused() from exc
    name, _, position = text.partition("|")
    if name != listing or not _POSITION.fullmatch(position) or not position.startswith(starts):
        raise _refused()
    return position


def _refused() -> MalformedRequest:
    return MalformedRequest("`cursor` is not a cursor this list gave; start again without it.")
