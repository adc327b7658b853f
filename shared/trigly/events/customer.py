"""`customer.upserted`: the DMS's current record of a person (absent fields change nothing)."""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from trigly.events.types import (
    Channel,
    ContactList,
    Identifier,
    Name,
    RegionCode,
    Text,
    Timestamp,
    TimeZoneName,
)


class ConsentGrant(BaseModel):
    """A channel's consents as the DMS captured them, with their proof."""

    model_config = ConfigDict(extra="ignore")

    marketing: bool | None = None
    service: bool | None = None
    at: Timestamp
    source: Text
    text_version: Text | None = None


class CustomerUpserted(BaseModel):
    model_config = ConfigDict(extra="ignore")

    external_id: Identifier
    first_name: Name | None = None
    last_name: Name | None = None
    middle_name: Name | None = None
    phones: ContactList | None = None
    emails: ContactList | None = None
    birth_date: date | None = None
    city: Text | None = None
    region: RegionCode | None = None
    timezone: TimeZoneName | None = None
    preferred_channel: Channel | None = None
    consents: dict[Channel, ConsentGrant] | None = Field(default=None, max_length=len(Channel))
    location_id: Identifier | None = None
    anonymous_id: Identifier | None = None
