"""Field types shared by every event schema (CONTRACT §1a conventions)."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    TELEGRAM = "telegram"
    MAX = "max"
    WHATSAPP = "whatsapp"
    VIBER = "viber"
    PUSH = "push"


class ConsentPurpose(StrEnum):
    MARKETING = "marketing"
    SERVICE = "service"


def _iso_string_only(value: Any) -> Any:
    # Times in are ISO 8601 text with an offset; numbers (epoch) are not accepted.
    if not isinstance(value, str | datetime):
        raise ValueError(
            "must be an ISO 8601 date-time with an offset, e.g. 2026-11-20T10:15:00+03:00"
        )
    return value


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone, e.g. Europe/Moscow") from exc
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_string_only)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
RegionCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$"),
]
TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]
RawContact = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
ContactList = Annotated[list[RawContact], Field(max_length=20)]
