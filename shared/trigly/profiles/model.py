"""The customer profile document, as stored and as merged."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from trigly.events.types import Channel, ConsentPurpose
from trigly.profiles.contacts import Contact


class ConsentState(BaseModel):
    """The current consent for one channel and purpose, derived from the ledger."""

    granted: bool
    at: datetime
    source: str
    text_version: str | None = None


class CustomerProfile(BaseModel):
    customer_id: str
    created_at: datetime
    updated_at: datetime
    external_ids: dict[str, str] = Field(default_factory=dict)  # connector id → DMS id
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    birth_date: date | None = None
    city: str | None = None
    region: str | None = None
    timezone: str | None = None
    preferred_channel: Channel | None = None
    location_id: str | None = None
    anonymous_ids: list[str] = Field(default_factory=list)
    phones: list[Contact] = Field(default_factory=list)
    emails: list[Contact] = Field(default_factory=list)
    consents: dict[Channel, dict[ConsentPurpose, ConsentState]] = Field(default_factory=dict)
    # field → ordering stamp of the event that last set it, so late events never win.
    stamps: dict[str, str] = Field(default_factory=dict)

    def usable_phones(self) -> list[str]:
        return [c.value for c in self.phones if c.status == "ok"]
