"""Dated records in a customer's collection, each under its own sort key.

The 360° view is one Query of the collection: the profile document, the cars (`CAR#`), and the
history (`VISIT#`, `SALE#`, `APPT#`, …). Keys are deterministic per source record, so a replayed
event rewrites the same item.
"""

from datetime import date, datetime

from pydantic import BaseModel, Field

from trigly.platform.clock import isoformat


class CustomerVehicle(BaseModel):
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
    daily_km: float | None = None
    last_service_at: datetime | None = None
    sold_at: datetime | None = None
    financing_ends_on: date | None = None
    insurance_ends_on: date | None = None
    warranty_ends_on: date | None = None

    @staticmethod
    def sk(vin: str) -> str:
        return f"CAR#{vin}"


class VisitJob(BaseModel):
    code: str | None = None
    name: str
    kind: str
    amount: float
    declined: bool = False


class VisitPart(BaseModel):
    sku: str | None = None
    name: str
    qty: float
    amount: float


class ServiceVisit(BaseModel):
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
        return f"VISIT#{isoformat(closed_at)}#{order_id}"


class Purchase(BaseModel):
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
        return f"SALE#{isoformat(sold_at)}#{deal_id}"
