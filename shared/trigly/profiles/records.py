"""Dated records in a customer's collection, each under its own sort key.

The 360° view is one Query of the collection: the profile document, the cars (`CAR#`), and the
history (`VISIT#`, `SALE#`, `APPT#`, …). Keys are deterministic per source record, so a replayed
event rewrites the same item.
"""

import json
from datetime import date, datetime
from typing import Any

from pydantic import Field

from trigly.messaging.message import StoredMessage
from trigly.platform.models import DeferredModel


def newest_first(moment: datetime) -> str:
    """A sort-key part that orders newest first, so a customer's first page holds recent history
    and older detail is what paging reaches."""
    return f"{10**13 - int(moment.timestamp() * 1000):013d}"


class CustomerVehicle(DeferredModel):
    """The customer's view of a car they own (`until` None) or owned: a snapshot of the car record
    refreshed on every change while they own it, frozen when it passes to someone else."""

    vin: str
    make: str | None = None
    model: str | None = None
    trim: str | None = None
    year: int | None = None
    plate: str | None = None
    since: datetime
    until: datetime | None = None
    mileage_km: int | None = None
    last_reading_at: datetime | None = None
    daily_km: float | None = None  # the average km a day at the last reading (display)
    # The mileage model's level (km a day when new, season averaged out) and the start of the
    # car's age decline: what the profile projects today's mileage with (vehicles.mileage).
    mileage_level: float | None = None
    mileage_born: datetime | None = None
    last_service_at: datetime | None = None
    sold_at: datetime | None = None
    financing_ends_on: date | None = None
    insurance_ends_on: date | None = None
    warranty_ends_on: date | None = None
    next_maintenance: dict[str, Any] | None = None  # CONTRACT §3 shape (lifecycle.maintenance)

    @staticmethod
    def sk(vin: str) -> str:
        return f"CAR#{vin}"


class VisitJob(DeferredModel):
    code: str | None = None
    name: str
    kind: str
    amount: float
    declined: bool = False


class VisitPart(DeferredModel):
    sku: str | None = None
    name: str
    qty: float
    amount: float


class ServiceVisit(DeferredModel):
    order_id: str
    vin: str
    opened_at: datetime | None = None
    closed_at: datetime
    mileage_km: int
    jobs: list[VisitJob] = Field(default_factory=list)
    parts: list[VisitPart] = Field(default_factory=list)
    total_amount: float
    currency: str
    location_id: str | None = None
    advisor: str | None = None
    loyalty_points_redeemed: int | None = None

    @staticmethod
    def sk(closed_at: datetime, order_id: str) -> str:
        return f"VISIT#{newest_first(closed_at)}#{order_id}"


class Purchase(DeferredModel):
    deal_id: str
    vin: str
    make: str
    model: str
    year: int
    sold_at: datetime
    price: float
    currency: str
    condition: str
    location_id: str | None = None
    salesperson: str | None = None
    trade_in_vin: str | None = None

    @staticmethod
    def sk(sold_at: datetime, deal_id: str) -> str:
        return f"SALE#{newest_first(sold_at)}#{deal_id}"


class Appointment(DeferredModel):
    """A service booking; the latest event by `occurred_at` decides its status."""

    appointment_id: str
    vin: str | None = None
    status: str
    starts_at: datetime
    location_id: str | None = None
    source: str | None = None
    moved_from: str | None = None  # the booking this one replaced (moved through the same link)

    @staticmethod
    def sk(appointment_id: str) -> str:
        return f"APPT#{appointment_id}"


class TestDrive(DeferredModel):
    booking_id: str
    model: str
    status: str
    starts_at: datetime
    location_id: str | None = None

    @staticmethod
    def sk(booking_id: str) -> str:
        return f"TD#{booking_id}"


class Interest(DeferredModel):
    model: str | None = None
    condition: str | None = None
    budget: float | None = None


class ShowroomVisit(DeferredModel):
    visit_id: str
    at: datetime
    interest: Interest | None = None
    outcome: str
    reason: str | None = None

    @staticmethod
    def sk(at: datetime, visit_id: str) -> str:
        return f"SHOWROOM#{newest_first(at)}#{visit_id}"


class Lead(DeferredModel):
    lead_id: str
    created_at: datetime
    source: str
    interest: Interest | None = None
    utm: dict[str, str] | None = None

    @staticmethod
    def sk(lead_id: str) -> str:
        return f"LEAD#{lead_id}"


class PartsLine(DeferredModel):
    sku: str | None = None
    name: str
    category: str
    qty: float
    amount: float


class PartsPurchase(DeferredModel):
    order_id: str
    at: datetime
    items: list[PartsLine]
    total_amount: float
    location_id: str | None = None

    @staticmethod
    def sk(at: datetime, order_id: str) -> str:
        return f"PARTS#{newest_first(at)}#{order_id}"


class WebVisit(DeferredModel):
    at: datetime
    page: str
    model: str | None = None
    url: str | None = None

    @staticmethod
    def sk(at: datetime, event_id: str) -> str:
        return f"WEB#{newest_first(at)}#{event_id}"


class Call(DeferredModel):
    call_id: str
    at: datetime
    tracking_number: str
    duration_s: int
    answered: bool

    @staticmethod
    def sk(at: datetime, call_id: str) -> str:
        return f"CALL#{newest_first(at)}#{call_id}"


class CarOrder(DeferredModel):
    """A new car the customer waits for; the latest status event wins."""

    order_id: str
    status: str
    eta: datetime | None = None
    updated_at: datetime

    @staticmethod
    def sk(order_id: str) -> str:
        return f"ORDER#{order_id}"


class ConsentProof(DeferredModel):
    """One entry of the consent ledger: a statement as its source gave it, with its proof."""

    channel: str
    purpose: str
    granted: bool
    at: datetime
    source: str
    text_version: str | None = None
    connector_id: str | None = None
    event_id: str | None = None
    external_id: str | None = None  # the DMS id a connector's statement came under
    proof: dict[str, str] | None = None  # statements Trigly captured: message, link, user agent


class CustomerHistory(DeferredModel):
    """Every record of a customer's collection, parsed by kind (the sort key's prefix)."""

    cars: list[CustomerVehicle] = Field(default_factory=list)
    visits: list[ServiceVisit] = Field(default_factory=list)
    purchases: list[Purchase] = Field(default_factory=list)
    appointments: list[Appointment] = Field(default_factory=list)
    test_drives: list[TestDrive] = Field(default_factory=list)
    showroom_visits: list[ShowroomVisit] = Field(default_factory=list)
    leads: list[Lead] = Field(default_factory=list)
    parts_purchases: list[PartsPurchase] = Field(default_factory=list)
    web_visits: list[WebVisit] = Field(default_factory=list)
    calls: list[Call] = Field(default_factory=list)
    car_orders: list[CarOrder] = Field(default_factory=list)
    consent_ledger: list[ConsentProof] = Field(default_factory=list)
    messages: list[StoredMessage] = Field(default_factory=list)
    journeys: list[dict[str, Any]] = Field(default_factory=list)  # runs (journeys.engine)

    @classmethod
    def parse(cls, docs_by_kind: dict[str, list[str]]) -> "CustomerHistory":
        parsed = {
            SECTIONS[kind]: [json.loads(doc) for doc in docs]
            for kind, docs in docs_by_kind.items()
            if kind in SECTIONS
        }
        return cls.model_validate(parsed)


# Sort-key prefix → section of CustomerHistory.
SECTIONS = {
    "CAR": "cars",
    "VISIT": "visits",
    "SALE": "purchases",
    "APPT": "appointments",
    "TD": "test_drives",
    "SHOWROOM": "showroom_visits",
    "LEAD": "leads",
    "PARTS": "parts_purchases",
    "WEB": "web_visits",
    "CALL": "calls",
    "ORDER": "car_orders",
    "CONSENT": "consent_ledger",
    "MSG": "messages",
    "JRN": "journeys",
}
