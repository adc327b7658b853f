"""Field types shared by every event schema (CONTRACT §1a and §2 conventions).

Validation runs with a context `{"now": <business time>}` (see `validation.validate_event`), so
types that depend on the time (`HappenedAt`, `ModelYear`) check themselves and their errors land
on their own field path.
"""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from trigly.platform import clock
from trigly.vehicles.vin import ACCEPTED_FORMS, normalize_vehicle_id

# Things that already happened may not lie more than a day in the future (business time).
FUTURE_TOLERANCE = timedelta(days=1)
EARLIEST_MODEL_YEAR = 1950
MAX_MILEAGE_KM = 2_000_000
MAX_AMOUNT = Decimal(10**12)


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


class Condition(StrEnum):
    NEW = "new"
    USED = "used"


# --- times and dates ------------------------------------------------------------------------

_DATETIME_SHAPE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}([.,]\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$"
)
_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_datetime(value: Any) -> Any:
    # ISO 8601 text with an offset only: numbers (epoch seconds) and naive times are refused.
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATETIME_SHAPE.match(value.strip()):
        return value.strip()
    raise PydanticCustomError(
        "datetime_with_offset",
        "must be an ISO 8601 date-time with an offset, e.g. 2026-11-20T10:15:00+03:00",
    )


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_SHAPE.match(value.strip()):
        return value.strip()
    raise PydanticCustomError("date_format", "must be a date as YYYY-MM-DD, e.g. 2027-05-31")


def business_now(info: ValidationInfo) -> datetime | None:
    """The business time validation runs at, when the caller gave one."""
    context = info.context
    now = context.get("now") if isinstance(context, dict) else None
    return now if isinstance(now, datetime) else None


def _not_ahead(value: datetime, info: ValidationInfo) -> datetime:
    now = business_now(info)
    if now is not None and value > now + FUTURE_TOLERANCE:
        raise PydanticCustomError("time_in_future", "lies more than a day in the future")
    return value


# A planned time (`starts_at`, `eta`): ISO 8601 with an offset, may lie in the future.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_datetime)]
PlannedAt = Timestamp
# The time of something that already happened: at most a day ahead of business time.
HappenedAt = Annotated[Timestamp, AfterValidator(_not_ahead)]
Day = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["2027-05-31"]}),
]


def _day_not_ahead(value: date, info: ValidationInfo) -> date:
    now = business_now(info)
    if now is not None and value > (now + FUTURE_TOLERANCE).date():
        raise PydanticCustomError("date_in_future", "lies in the future")
    return value


def _born_after_1900(value: date) -> date:
    if value.year < 1900:
        raise PydanticCustomError("birth_date", "must be a birth date after 1900")
    return value


# The day something already happened (`purchased_on`): not after (business) today.
HappenedOn = Annotated[Day, AfterValidator(_day_not_ahead)]
BirthDate = Annotated[HappenedOn, AfterValidator(_born_after_1900)]


# --- numbers ----------------------------------------------------------------------------------


def _json_number(value: Any) -> Any:
    # A JSON number: booleans and numeric strings are not amounts.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise PydanticCustomError("number_type", "must be a JSON number")
    return value


def _json_integer(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    whole = (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value()
    )
    if not whole:
        raise PydanticCustomError("integer_type", "must be a whole JSON number")
    return int(value)


def _money_out(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _not_after_next_year(value: int, info: ValidationInfo) -> int:
    latest = (business_now(info) or clock.now()).year + 1
    if value > latest:
        raise PydanticCustomError(
            "model_year",
            "must be a model year from {first} to {last}",
            {"first": EARLIEST_MODEL_YEAR, "last": latest},
        )
    return value


# Money in major units (roubles with kopecks as decimals), never negative, NaN or infinite.
Money = Annotated[
    Decimal,
    Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False),
    BeforeValidator(_json_number),
    PlainSerializer(_money_out, return_type=int | float, when_used="json"),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": int(MAX_AMOUNT)}),
]
# A quantity of parts: positive, may be fractional (4.5 litres of oil).
Quantity = Annotated[
    Decimal,
    Field(gt=0, le=1_000_000, allow_inf_nan=False),
    BeforeValidator(_json_number),
    PlainSerializer(_money_out, return_type=int | float, when_used="json"),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000}),
]
Mileage = Annotated[int, Field(ge=0, le=MAX_MILEAGE_KM), BeforeValidator(_json_integer)]
ModelYear = Annotated[
    int,
    Field(ge=EARLIEST_MODEL_YEAR),
    BeforeValidator(_json_integer),
    AfterValidator(_not_after_next_year),
]
Seconds = Annotated[int, Field(ge=0, le=24 * 3600), BeforeValidator(_json_integer)]
Months = Annotated[int, Field(ge=1, le=600), BeforeValidator(_json_integer)]
Points = Annotated[int, Field(ge=0, le=10**9), BeforeValidator(_json_integer)]


# --- text -------------------------------------------------------------------------------------


def _shaped(pattern: str, error_type: str, message: str) -> AfterValidator:
    """A text check with its own message (pydantic's names only the pattern)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise PydanticCustomError(error_type, message)
        return value

    return AfterValidator(check)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PydanticCustomError(
            "timezone", "must be an IANA time zone, e.g. Europe/Moscow"
        ) from exc
    return value


def _vehicle_id(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("vehicle_id", f"must be {ACCEPTED_FORMS}")
    try:
        return normalize_vehicle_id(value)
    except ValueError as exc:
        raise PydanticCustomError("vehicle_id", str(exc)) from exc


_PLATE_SPACES = re.compile(r"\s+")
_PLATE = re.compile(r"^[0-9A-ZА-ЯЁ-]{2,12}$")


def _plate(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("plate", "must be a registration number, e.g. А123ВС777")
    plate = _PLATE_SPACES.sub("", value).upper()
    if not _PLATE.match(plate):
        raise PydanticCustomError(
            "plate",
            "must be a registration number of 2-12 letters (Latin or Cyrillic), digits or dashes",
        )
    return plate


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
RegionCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True),
    _shaped(r"[A-Z]{2}-[A-Z0-9]{1,3}", "region", "must be an ISO 3166-2 code, e.g. RU-MOW"),
    WithJsonSchema({"type": "string", "pattern": "^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$"}),
]
CurrencyCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True),
    _shaped(r"[A-Z]{3}", "currency", "must be an ISO 4217 code, e.g. RUB"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z]{3}$",
            "description": "ISO 4217, e.g. RUB; the tenant's currency when absent",
        }
    ),
]
TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]
# Phones and emails are kept as sent: an unusable contact never rejects an event (CONTRACT §2).
RawContact = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
ContactList = Annotated[list[RawContact], Field(max_length=20)]
VehicleId = Annotated[
    str,
    BeforeValidator(_vehicle_id),
    WithJsonSchema(
        {
            "type": "string",
            "description": f"{ACCEPTED_FORMS[0].upper()}{ACCEPTED_FORMS[1:]}; any case.",
            "examples": ["XTA210740C1234567", "NZE141-1234567"],
        }
    ),
]
Plate = Annotated[
    str,
    BeforeValidator(_plate),
    WithJsonSchema(
        {
            "type": "string",
            "description": "Registration number; spaces are removed, letters upper-cased.",
            "examples": ["А123ВС777"],
        }
    ),
]
UtmTags = Annotated[
    dict[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)],
        Annotated[str, StringConstraints(max_length=256)],
    ],
    Field(max_length=20),
]
