"""Response shapes of the 360° profile and of search results (CONTRACT §1a, §3)."""

from typing import Any

from trigly.platform.clock import isoformat
from trigly.profiles.model import CustomerProfile


def _contacts(profile: CustomerProfile) -> dict[str, Any]:
    return {
        "phones": [{"value": c.value, "status": c.status.value} for c in profile.phones],
        "emails": [{"value": c.value, "status": c.status.value} for c in profile.emails],
    }


def _consents(profile: CustomerProfile) -> dict[str, Any]:
    return {
        channel.value: {
            purpose.value: {
                "granted": state.granted,
                "at": isoformat(state.at),
                "source": state.source,
                **({"text_version": state.text_version} if state.text_version else {}),
            }
            for purpose, state in sorted(purposes.items())
        }
        for channel, purposes in sorted(profile.consents.items())
    }


def search_view(profile: CustomerProfile) -> dict[str, Any]:
    return {
        "id": profile.customer_id,
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        **_contacts(profile),
        "external_ids": profile.external_ids,
        "updated_at": isoformat(profile.updated_at),
    }


def profile_view(profile: CustomerProfile) -> dict[str, Any]:
    """Sections other parts of the product fill (cars, visits, messages…) are present and empty
    until those parts store items in the customer's collection."""
    return {
        "id": profile.customer_id,
        "external_ids": profile.external_ids,
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "middle_name": profile.middle_name,
        "birth_date": profile.birth_date.isoformat() if profile.birth_date else None,
        "city": profile.city,
        "region": profile.region,
        "timezone": profile.timezone,
        "preferred_channel": profile.preferred_channel.value if profile.preferred_channel else None,
        "location_id": profile.location_id,
        **_contacts(profile),
        "consents": _consents(profile),
        "vehicles": [],
        "past_vehicles": [],
        "visits": [],
        "appointments": [],
        "messages": [],
        "offers": [],
        "loyalty": {"balance": 0},
        "created_at": isoformat(profile.created_at),
        "updated_at": isoformat(profile.updated_at),
    }
