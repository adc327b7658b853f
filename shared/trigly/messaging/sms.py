"""SMS segments: how many parts a text costs, GSM-7 or UCS-2."""

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SmsSegments:
    """How an SMS text is split: GSM-7 (160 septets alone, 153 per part) or UCS-2 (70 UTF-16
    units alone, 67 per part — any Cyrillic letter or emoji makes the whole text UCS-2)."""

    encoding: Literal["gsm7", "ucs2"]
    length: int  # septets (extension characters count two) or UTF-16 code units
    segments: int
    per_segment: int
    remaining: int  # room left in the last segment


GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")  # sent as ESC + character: two septets each


def _split(units: list[int], single: int, part: int) -> tuple[int, int, int]:
    """(segments, per_segment, remaining) for characters of these sizes, never splitting one."""
    total = sum(units)
    if total == 0:
        return 0, single, single
    if total <= single:
        return 1, single, single - total
    segments, used = 1, 0
    for size in units:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return segments, part, part - used


def sms_segments(text: str) -> SmsSegments:
    """How many SMS parts a text costs (multipart headers take 7 septets / 3 UCS-2 units)."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        units = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        segments, per, remaining = _split(units, 160, 153)
        return SmsSegments("gsm7", sum(units), segments, per, remaining)
    units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]  # UTF-16 surrogate pairs
    segments, per, remaining = _split(units, 70, 67)
    return SmsSegments("ucs2", sum(units), segments, per, remaining)
