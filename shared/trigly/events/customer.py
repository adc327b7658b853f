"""Customer events: `customer.upserted` (the DMS's current record of a person) and
`customer.consent_changed` (one consent given or withdrawn, with its proof)."""

from typing import Any

from pydantic import ConfigDict, Field

from trigly.events.base import Payload, Problem, given
from trigly.events.types import (
    BirthDate,
    Channel,
    ConsentPurpose,
    ContactList,
    HappenedAt,
    Identifier,
    Name,
    RegionCode,
    Text,
    TimeZoneName,
)


class ConsentGrant(Payload):
    """A channel's consents as the DMS captured them, with their proof; a purpose left out stays
    as Trigly holds it."""

    marketing: bool | None = None
    service: bool | None = None
    at: HappenedAt
    source: Text
    text_version: Text | None = None

    @classmethod
    def input_problems(cls, data: dict[str, Any]) -> list[Problem]:
        if given(data, "marketing") or given(data, "service"):
            return []
        return [("marketing", "give `marketing` and/or `service` (true or false)")]


class CustomerUpserted(Payload):
    """The DMS's current record of a person: an absent field leaves what Trigly holds unchanged;
    a given `phones`/`emails` list is the current list."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "external_id": "C-104233",
                    "first_name": "Анна",
                    "last_name": "Смирнова",
                    "middle_name": "Игоревна",
                    "phones": ["8 (912) 345-67-89"],
                    "emails": ["anna.smirnova@mail.ru"],
                    "birth_date": "1988-04-17",
                    "city": "Екатеринбург",
                    "region": "RU-SVE",
                    "timezone": "Asia/Yekaterinburg",
                    "preferred_channel": "telegram",
                    "consents": {
                        "sms": {
                            "marketing": False,
                            "service": True,
                            "at": "2026-11-20T10:05:00+05:00",
                            "source": "dms_form",
                            "text_version": "pd-consent-2026-03",
                        }
                    },
                    "location_id": "ekb-center",
                }
            ]
        }
    )

    external_id: Identifier
    first_name: Name | None = None
    last_name: Name | None = None
    middle_name: Name | None = None
    phones: ContactList | None = None
    emails: ContactList | None = None
    birth_date: BirthDate | None = None
    city: Text | None = None
    region: RegionCode | None = None
    timezone: TimeZoneName | None = None
    preferred_channel: Channel | None = None
    consents: dict[Channel, ConsentGrant] | None = Field(default=None, max_length=len(Channel))
    location_id: Identifier | None = None
    anonymous_id: Identifier | None = None


class CustomerConsentChanged(Payload):
    """One consent (channel × purpose) given or withdrawn; consents order by their own `at`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_external_id": "C-104233",
                    "channel": "sms",
                    "purpose": "marketing",
                    "granted": False,
                    "at": "2026-11-21T18:40:00+03:00",
                    "source": "call_center",
                }
            ]
        }
    )

    customer_external_id: Identifier
    channel: Channel
    purpose: ConsentPurpose
    granted: bool
    at: HappenedAt
    source: Text
