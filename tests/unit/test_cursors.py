"""List cursors: a list takes back only what it handed out."""

import pytest

from trigly.platform import cursors
from trigly.platform.errors import MalformedRequest


def test_a_cursor_brings_back_its_position() -> None:
    cursor = cursors.encode("imports", "imp_01jd3abc")

    assert cursor is not None and "imp_" not in cursor  # opaque
    assert cursors.decode("imports", cursor, starts=("imp_",)) == "imp_01jd3abc"
    assert cursors.encode("imports", None) is None
    assert cursors.decode("imports", None) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "bm9wZQ",  # base64 of "nope"
        "Ω",
        cursors.encode("rejected-events", "imp_01jd3abc"),  # another list's
        cursors.encode("imports", "rej_01jd3abc"),  # a position this list never holds
        cursors.encode("imports", "imp_01 OR 1=1"),
    ],
)
def test_anything_else_is_a_malformed_request(cursor: str | None) -> None:
    with pytest.raises(MalformedRequest):
        cursors.decode("imports", cursor, starts=("imp_",))
