"""Response shapes of the 360° profile and of search results (CONTRACT §1a, §3)."""

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from trigly.messaging.message import message_view
from trigly.platform.clock import isoformat
from trigly.profiles.aggregates import Aggregates
from trigly.profiles.aggregates import compute as compute_aggregates
from trigly.profiles.model import CustomerProfile
from trigly.profiles.records import (
    Appointment,
    CustomerHistory,
    CustomerVehicle,
    Purchase,
    ServiceVisit,
    WebVisit,
)
from trigly.vehicles import mileage


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


def _iso(moment: datetime | None) -> str | None:
    return isoformat(moment) if moment else None


def estimated_mileage(car: CustomerVehicle, now: datetime) -> int | None:
    """Today's mileage from the last reading and the car's fitted level, with the season and
    the age decline since (see vehicles.mileage)."""
    if car.mileage_km is not None and car.last_reading_at is not None:
        if car.mileage_level is not None and car.mileage_born is not None:
            return mileage.project(
                car.last_reading_at, car.mileage_km, car.mileage_level, car.mileage_born, now
            )
        # A snapshot written before the model kept its level: its average rate.
        days = max(0.0, (now - car.last_reading_at).total_seconds() / 86_400)
        rate = car.daily_km or mileage.DEFAULT_PRIOR.level(None, car.make)
        return max(car.mileage_km, round(car.mileage_km + rate * days))
    if car.year:
        return mileage.unread_km(car.year, now, make=car.make)
    return None


def vehicle_view(car: CustomerVehicle, now: datetime) -> dict[str, Any]:
    return {
        "vin": car.vin,
        "make": car.make,
        "model": car.model,
        "trim": car.trim,
        "year": car.year,
        "plate": car.plate,
        "mileage_km": car.mileage_km,
        "mileage_at": _iso(car.last_reading_at),
        "estimated_mileage_km": estimated_mileage(car, now)
        if car.until is None
        else car.mileage_km,
        "next_maintenance": car.next_maintenance if car.until is None else None,
        "owned_since": _iso(car.since),
        "owned_until": _iso(car.until),
        "last_service_at": _iso(car.last_service_at),
        "warranty_ends_on": car.warranty_ends_on.isoformat() if car.warranty_ends_on else None,
        "insurance_ends_on": car.insurance_ends_on.isoformat() if car.insurance_ends_on else None,
        "financing_ends_on": car.financing_ends_on.isoformat() if car.financing_ends_on else None,
    }


def visit_view(visit: ServiceVisit) -> dict[str, Any]:
    return {
        "order_id": visit.order_id,
        "vin": visit.vin,
        "opened_at": _iso(visit.opened_at),
        "closed_at": isoformat(visit.closed_at),
        "mileage_km": visit.mileage_km,
        "jobs": [j.model_dump() for j in visit.jobs],
        "parts": [p.model_dump() for p in visit.parts],
        "total_amount": visit.total_amount,
        "currency": visit.currency,
        "location_id": visit.location_id,
        "advisor": visit.advisor,
    }


def purchase_view(purchase: Purchase) -> dict[str, Any]:
    return {**purchase.model_dump(mode="json"), "sold_at": isoformat(purchase.sold_at)}


def aggregates_view(aggregates: Aggregates) -> dict[str, Any]:
    return {**aggregates.model_dump(mode="json"), "last_visit_at": _iso(aggregates.last_visit_at)}


def newest[R: BaseModel](records: Sequence[R], field: str) -> list[R]:
    return sorted(records, key=lambda r: getattr(r, field), reverse=True)


def appointment_view(appointment: Appointment) -> dict[str, Any]:
    """A booking; `moved_from` only on one a booking link moved (the old booking's id)."""
    shown = {"id": appointment.appointment_id, **_dump(appointment)}
    if appointment.moved_from is None:
        del shown["moved_from"]
    return shown


def _dump(record: BaseModel) -> dict[str, Any]:
    """A record as JSON with times in UTC `Z` (CONTRACT §1a)."""
    return {name: _json_value(value) for name, value in record}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return _dump(value)
    if isinstance(value, list | tuple):  # e.g. the lines of a parts purchase
        return [_json_value(item) for item in value]
    return value


def web_summary(visits: Sequence[WebVisit], now: datetime) -> dict[str, Any]:
    recent = [v for v in visits if now - v.at <= timedelta(days=90)]
    return {
        "visits_90d": len(recent),
        "last_visit_at": _iso(max((v.at for v in visits), default=None)),
        "pages_90d": dict(Counter(v.page for v in recent).most_common()),
        "models_90d": dict(Counter(v.model for v in recent if v.model).most_common()),
    }


def history_view(history: CustomerHistory) -> dict[str, Any]:
    """The dated sections of the 360° view, newest first (also used to page older history)."""
    return {
        "visits": [visit_view(v) for v in newest(history.visits, "closed_at")],
        "purchases": [purchase_view(p) for p in newest(history.purchases, "sold_at")],
        "appointments": [appointment_view(a) for a in newest(history.appointments, "starts_at")],
        "test_drives": [
            {"id": t.booking_id, **_dump(t)} for t in newest(history.test_drives, "starts_at")
        ],
        "showroom_visits": [_dump(v) for v in newest(history.showroom_visits, "at")],
        "leads": [_dump(lead) for lead in newest(history.leads, "created_at")],
        "parts_purchases": [_dump(p) for p in newest(history.parts_purchases, "at")],
        "calls": [_dump(c) for c in newest(history.calls, "at")],
        "car_orders": [_dump(o) for o in newest(history.car_orders, "updated_at")],
        "consent_ledger": [_dump(c) for c in newest(history.consent_ledger, "at")],
    }


def journeys_view(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The customer's journey runs, newest first, each with its step transitions."""
    shown = [
        {
            "journey_id": run["journey_id"],
            "key": run["key"],
            "status": run["status"],
            "step": run.get("step"),
            "vin": run.get("vin"),
            "enrolled_at": run["enrolled_at"],
            "due_at": run.get("due_at"),
            "exit_reason": run.get("exit_reason"),
            "history": run.get("history", []),
        }
        for run in runs
    ]
    return sorted(shown, key=lambda r: str(r["enrolled_at"]), reverse=True)


def profile_view(
    profile: CustomerProfile, history: CustomerHistory, now: datetime
) -> dict[str, Any]:
    """The 360° profile (CONTRACT §3). Newest first everywhere."""
    cars = history.cars
    current = sorted((c for c in cars if c.until is None), key=lambda c: c.since, reverse=True)
    past = sorted((c for c in cars if c.until is not None), key=lambda c: c.since, reverse=True)
    aggregates = compute_aggregates(history.visits, history.purchases, history.parts_purchases, now)
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
        "vehicles": [vehicle_view(c, now) for c in current],
        "past_vehicles": [vehicle_view(c, now) for c in past],
        **history_view(history),
        "web_activity": web_summary(history.web_visits, now),
        "messages": [message_view(m) for m in newest(history.messages, "created_at")][:20],
        "journeys": journeys_view(history.journeys),
        # Only what is computed: no offers yet (CONTRACT §3: `[]` when none), no loyalty
        # programme (`null`), no readiness score (`null` until scored).
        "offers": [],
        "loyalty": None,
        "readiness": None,
        "aggregates": aggregates_view(aggregates),
        "created_at": isoformat(profile.created_at),
        "updated_at": isoformat(profile.updated_at),
    }
