"""The customer profile document, as stored and as merged."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from trigly.events.types import Channel, ConsentPurpose
from trigly.platform.models import DeferredModel
from trigly.profiles.contacts import Contact


class ConsentState(DeferredModel):
    """The current consent for one channel and purpose, derived from the ledger."""

    granted: bool
    at: datetime
    source: str
    text_version: str | None = None


class IdentityLink(DeferredModel):
    """Why a DMS record was joined to this customer rather than made a new one."""

    connector_id: str | None  # None for a merge of two customers
    external_id: str  # the DMS id, or the merged customer's id
    reason: str  # email, phone+name, merge: <why>
    at: datetime


class CustomerProfile(DeferredModel):
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
    links: list[IdentityLink] = Field(default_factory=list)
    # Addresses a channel linked itself (a Telegram chat id through /start): channel → address.
    linked: dict[Channel, str] = Field(default_factory=dict)
    merged_from: list[str] = Field(default_factory=list)  # merge ids, newest last
    # field → ordering stamp of the event that last set it, so late events never win.
    stamps: dict[str, str] = Field(default_factory=dict)

    def usable_phones(self) -> list[str]:
        return [c.value for c in self.phones if c.status == "ok"]


def known_external_ids(profile: CustomerProfile) -> list[tuple[str, str]]:
    """Every (connector, DMS id) that names the customer: the primary ones and merged links."""
    pairs = set(profile.external_ids.items())
    pairs |= {(link.connector_id, link.external_id) for link in profile.links if link.connector_id}
    return sorted(pairs)


class MergeState(StrEnum):
    STARTED = "started"  # recorded with its plan; the steps are running (or were interrupted)
    DONE = "done"
    UNDOING = "undoing"  # the split is running (or was interrupted)
    UNDONE = "undone"


class MergeRecord(DeferredModel):
    """A merge of a duplicate into a survivor, written before any of its steps: an interrupted
    merge or undo is finished by running it again from here."""

    merge_id: str
    survivor_id: str
    duplicate_id: str
    reason: str
    at: datetime
    state: MergeState = MergeState.DONE
    snapshot_key: str
    # Sort keys of the duplicate's items that moved to the survivor; those the survivor already
    # had under the same key (the same source record twice) stay the survivor's.
    moved: list[str] = Field(default_factory=list)
    kept: list[str] = Field(default_factory=list)
    undone_at: datetime | None = None
