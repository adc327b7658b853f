"""A location of the tenant (dealer centre, service station) with what online booking needs."""

from datetime import date, time
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, Field, model_validator


class LocationKind(StrEnum):
    DEALER_CENTRE = "dealer_centre"
    SERVICE_STATION = "service_station"


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone, e.g. Europe/Moscow") from exc
    return value


class OpeningHours(BaseModel):
    """Hours of one weekday (0 = Monday); a day without hours is closed."""

    weekday: int = Field(ge=0, le=6)
    opens: time
    closes: time

    @model_validator(mode="after")
    def _opens_before_closes(self) -> "OpeningHours":
        if self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        return self


class ServiceCapacity(BaseModel):
    """How many cars the workshop takes at once, when, and in what slots."""

    posts: int = Field(ge=1, le=200, description="Service bays working in parallel")
    slot_minutes: int = Field(default=60, ge=15, le=480)
    hours: list[OpeningHours] = Field(max_length=7)
    holidays: list[date] = Field(
        default_factory=list,
        max_length=366,
        description="The location's own days off, on top of the production calendar",
    )
    works_public_holidays: bool = Field(
        default=False,
        description="Open on Russian public holidays and the days off the government moves "
        "(the production calendar); when false those days offer no slots, and a weekend made "
        "a working day by decree opens with the hours of the weekday it replaces",
    )


class LocationDetails(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: LocationKind
    brands: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=50
    )
    timezone: Annotated[str, AfterValidator(_zone)]
    region: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$", description="ISO 3166-2"
    )
    city: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=40)
    capacity: ServiceCapacity | None = None


class Location(LocationDetails):
    location_id: str
