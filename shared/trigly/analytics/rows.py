"""A customer's rows of the analytics view, from their collection as the 360° view reads it.

Pure: the projection loads the collection and hands it here with the version and the moment, so
the derivations (estimated mileage, next maintenance, aggregates, consents) are the profile's own
(profiles.views, profiles.aggregates) and testable without AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from trigly.analytics.schema import CONSENT_COLUMNS, TABLES_BY_NAME, Table
from trigly.events.types import Channel, ConsentPurpose
from trigly.messaging.intent import MessageStatus
from trigly.messaging.message import StoredMessage
from trigly.profiles.aggregates import compute as compute_aggregates
from trigly.profiles.model import CustomerProfile
from trigly.profiles.records import CustomerHistory, CustomerVehicle, ServiceVisit
from trigly.profiles.views import estimated_mileage

Rows = dict[str, list[dict[str, Any]]]

MODEL_VIEWS_WINDOW = timedelta(days=90)  # web.viewed_model's window (CONTRACT §6)
RATE_SPAN_DAYS = 30  # the estimated km a day: the mileage line's slope over the next month
MAINTENANCE = "maintenance"  # a visit's job kind (lifecycle.maintenance)


def _day(moment: datetime | None) -> date | None:
    return moment.astimezone(UTC).date() if moment else None


def tombstone(customer_id: str, version: str) -> Rows:
    """An erased (or merged-away) customer: one `customers` row that hides all older ones."""
    return {"customers": [{"customer_id": customer_id, "version": version, "erased": True}]}


def _consents(profile: CustomerProfile) -> dict[str, bool]:
    """Granted now or not (no statement is no consent), one column per channel and purpose."""
    out = dict.fromkeys(CONSENT_COLUMNS, False)
    for channel in Channel:
        for purpose in ConsentPurpose:
            state = profile.consents.get(channel, {}).get(purpose)
            out[f"consent_{channel.value}_{purpose.value}"] = bool(state and state.granted)
    return out


def _clicked_at(message: StoredMessage) -> datetime | None:
    clicks = [e.at for e in message.state.history if e.status is MessageStatus.CLICKED]
    return min(clicks) if clicks else None


def _delivered_at(message: StoredMessage) -> datetime | None:
    reached = [
        e.at
        for e in message.state.history
        if e.status in (MessageStatus.DELIVERED, MessageStatus.OPENED, MessageStatus.CLICKED)
    ]
    return min(reached) if reached else None


def _first_registered(car: CustomerVehicle, history: CustomerHistory) -> date | None:
    """The car's sale as new when the customer bought it so, else 1 July of its model year (the
    maintenance model's own start of a car's life, lifecycle.maintenance.car_start)."""
    new_sales = [p.sold_at for p in history.purchases if p.vin == car.vin and p.condition == "new"]
    if new_sales:
        return _day(min(new_sales))
    return date(car.year, 7, 1) if car.year else None


def _condition(car: CustomerVehicle, history: CustomerHistory) -> str | None:
    sales = sorted((p for p in history.purchases if p.vin == car.vin), key=lambda p: p.sold_at)
    return sales[-1].condition if sales else None


def _mileage_line(car: CustomerVehicle, now: datetime) -> tuple[float | None, float | None]:
    """(km today, km a day): the profile's estimate now, and its slope over the next month."""
    if car.until is not None:
        return (float(car.mileage_km) if car.mileage_km is not None else None), 0.0
    today = estimated_mileage(car, now)
    if today is None:
        return None, None
    later = estimated_mileage(car, now + timedelta(days=RATE_SPAN_DAYS))
    rate = max(0.0, (later - today) / RATE_SPAN_DAYS) if later is not None else 0.0
    return float(today), round(rate, 3)


def _car_row(car: CustomerVehicle, history: CustomerHistory, now: datetime) -> dict[str, Any]:
    km, per_day = _mileage_line(car, now)
    due = (car.next_maintenance or {}).get("due_on") if car.until is None else None
    return {
        "vin": car.vin,
        "current": car.until is None,
        "make": car.make,
        "model": car.model,
        "year": car.year,
        "condition": _condition(car, history),
        "first_registered_on": _first_registered(car, history),
        "mileage_km": km,
        "mileage_on": now.astimezone(UTC).date() if km is not None else None,
        "km_per_day": per_day,
        "maintenance_due_on": date.fromisoformat(due) if isinstance(due, str) else None,
        "financing_ends_on": car.financing_ends_on,
        "insurance_ends_on": car.insurance_ends_on,
        "warranty_ends_on": car.warranty_ends_on,
        "owned_since": _day(car.since),
        "owned_until": _day(car.until),
    }


def _is_maintenance(visit: ServiceVisit) -> bool:
    return any(j.kind == MAINTENANCE and not j.declined for j in visit.jobs)


def _message_row(message: StoredMessage) -> dict[str, Any]:
    intent = message.intent
    # Campaigns carry theirs in `meta` (CONTRACT §3); journeys name theirs in the intent.
    meta = intent.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    return {
        "message_id": message.message_id,
        "kind": message.kind,
        "purpose": message.purpose.value,
        "channel": message.channel.value if message.channel else None,
        "status": message.state.status.value,
        "reason": message.state.reason.value if message.state.reason else None,
        "created_at": message.created_at,
        "delivered_at": _delivered_at(message),
        "clicked_at": _clicked_at(message),
        "journey_id": intent.get("journey_id") or meta.get("journey_id"),
        "campaign_id": meta.get("campaign_id") or intent.get("campaign_id"),
        "variant": meta.get("variant") or intent.get("variant"),
        "cost": None,
    }


def customer_rows(
    profile: CustomerProfile, history: CustomerHistory, version: str, now: datetime
) -> Rows:
    """Every row of one customer, each table's list (possibly empty) under its name."""
    owner = {"customer_id": profile.customer_id, "version": version}
    aggregates = compute_aggregates(history.visits, history.purchases, history.parts_purchases, now)
    clicks = [c for m in history.messages if (c := _clicked_at(m)) is not None]
    purchases = sorted(history.purchases, key=lambda p: p.sold_at)
    customer = {
        **owner,
        "erased": False,
        "region": profile.region,
        "city": profile.city,
        "location_id": profile.location_id,
        "preferred_channel": profile.preferred_channel.value if profile.preferred_channel else None,
        "timezone": profile.timezone,
        "birth_date": profile.birth_date,
        **_consents(profile),
        "visits_count": aggregates.visit_count,
        "last_visit_on": _day(aggregates.last_visit_at),
        "visits_total_amount": round(sum(v.total_amount for v in history.visits), 2),
        "purchases_count": len(purchases),
        "last_purchase_on": _day(purchases[-1].sold_at) if purchases else None,
        "spend_total": aggregates.total_spend,
        "last_clicked_on": _day(max(clicks)) if clicks else None,
        "web_last_visit_on": _day(max((v.at for v in history.web_visits), default=None)),
        "readiness_score": None,  # §7 scoring writes it when it exists
        "loyalty_balance": None,
        "loyalty_tier": None,
        "updated_at": profile.updated_at,
    }
    viewed: dict[tuple[str | None, str], datetime] = {}
    makes = {(c.model or "").casefold(): c.make for c in history.cars if c.model}
    for visit in history.web_visits:
        if visit.model and now - visit.at <= MODEL_VIEWS_WINDOW:
            key = (makes.get(visit.model.casefold()), visit.model)
            viewed[key] = max(viewed.get(key, visit.at), visit.at)
    return {
        "customers": [customer],
        "cars": [{**owner, **_car_row(car, history, now)} for car in history.cars],
        "model_views": [
            {**owner, "make": make, "model": model, "last_viewed_on": _day(at)}
            for (make, model), at in sorted(viewed.items(), key=lambda kv: kv[0][1])
        ],
        "visits": [
            {
                **owner,
                "order_id": v.order_id,
                "vin": v.vin,
                "closed_at": v.closed_at,
                "total_amount": v.total_amount,
                "currency": v.currency,
                "location_id": v.location_id,
                "mileage_km": v.mileage_km,
                "maintenance": _is_maintenance(v),
            }
            for v in history.visits
        ],
        "purchases": [
            {
                **owner,
                "deal_id": p.deal_id,
                "vin": p.vin,
                "sold_at": p.sold_at,
                "price": p.price,
                "currency": p.currency,
                "condition": p.condition,
                "location_id": p.location_id,
            }
            for p in purchases
        ],
        "messages": [{**owner, **_message_row(m)} for m in history.messages],
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # Naive UTC, as the view's TIMESTAMP columns hold it.
        moment = value.astimezone(UTC) if value.tzinfo else value
        return moment.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def json_row(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as one line of a change file: the table's columns only, dates as ISO text."""
    unknown = set(row) - set(table.column_names)
    if unknown:
        raise ValueError(f"{table.name}: unknown columns {sorted(unknown)}")
    return {name: _json_value(row.get(name)) for name in table.column_names}


def as_json_rows(rows: Rows) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [json_row(TABLES_BY_NAME[name], r) for r in found] for name, found in rows.items()
    }
