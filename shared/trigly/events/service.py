"""Service events: a closed repair order, a service booking's changes, a parts sale."""

from enum import StrEnum

from pydantic import ConfigDict, Field

from trigly.events.base import Payload, Problem
from trigly.events.types import (
    CurrencyCode,
    HappenedAt,
    Identifier,
    LongText,
    Mileage,
    Money,
    Name,
    PlannedAt,
    Plate,
    Points,
    Quantity,
    Text,
    VehicleId,
)
from trigly.platform.models import DeferredModel

MAX_JOBS = 200
MAX_PARTS = 500
MAX_ITEMS = 500


class JobKind(StrEnum):
    MAINTENANCE = "maintenance"
    REPAIR = "repair"
    TIRES = "tires"
    DIAGNOSTICS = "diagnostics"
    BODY = "body"
    OTHER = "other"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


class ServiceJob(DeferredModel):
    """One job of the order; a job the customer declined or deferred carries `declined: true`
    and its quoted amount."""

    model_config = ConfigDict(extra="ignore")

    code: Identifier | None = None
    name: LongText
    kind: JobKind
    amount: Money
    declined: bool = False


class ServicePart(DeferredModel):
    model_config = ConfigDict(extra="ignore")

    sku: Identifier | None = None
    name: LongText
    qty: Quantity
    amount: Money


class PartsItem(DeferredModel):
    model_config = ConfigDict(extra="ignore")

    sku: Identifier | None = None
    name: LongText
    category: Text
    qty: Quantity
    amount: Money


class ServiceOrderClosed(Payload):
    """A closed repair order: the visit, the mileage read at the desk, jobs done or declined,
    parts used."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": "RO-77812",
                    "customer_external_id": "C-104233",
                    "vin": "XWEPH81ADK0001234",
                    "opened_at": "2026-11-20T09:02:00+03:00",
                    "closed_at": "2026-11-20T10:15:00+03:00",
                    "mileage_km": 15230,
                    "jobs": [
                        {"code": "TO-1", "name": "ТО-1", "kind": "maintenance", "amount": 6500},
                        {
                            "name": "Замена тормозных колодок передних",
                            "kind": "repair",
                            "amount": 4200,
                            "declined": True,
                        },
                    ],
                    "parts": [
                        {
                            "sku": "26300-35505",
                            "name": "Фильтр масляный",
                            "qty": 1,
                            "amount": 890,
                        },
                        {"name": "Масло моторное 5W-30", "qty": 4.5, "amount": 3960.75},
                    ],
                    "total_amount": 11350.75,
                    "currency": "RUB",
                    "location_id": "msk-varshavka",
                    "advisor": "Ирина Волкова",
                    "loyalty_points_redeemed": 500,
                    "plate": "А123ВС777",
                }
            ]
        }
    )

    order_id: Identifier
    customer_external_id: Identifier
    vin: VehicleId
    opened_at: HappenedAt | None = None
    closed_at: HappenedAt
    mileage_km: Mileage
    jobs: list[ServiceJob] = Field(max_length=MAX_JOBS)
    parts: list[ServicePart] | None = Field(default=None, max_length=MAX_PARTS)
    total_amount: Money
    currency: CurrencyCode | None = None
    location_id: Identifier | None = None
    advisor: Name | None = None
    loyalty_points_redeemed: Points | None = None
    plate: Plate | None = None

    def problems(self) -> list[Problem]:
        if self.opened_at is not None and self.opened_at > self.closed_at:
            return [("opened_at", "must not be after closed_at")]
        return []


class ServiceAppointmentChanged(Payload):
    """A service booking made, moved, cancelled, completed or missed (`starts_at` is planned)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "appointment_id": "APT-30511",
                    "customer_external_id": "C-104233",
                    "vin": "XWEPH81ADK0001234",
                    "status": "booked",
                    "starts_at": "2026-12-03T11:00:00+03:00",
                    "location_id": "msk-varshavka",
                    "source": "call_center",
                }
            ]
        }
    )

    appointment_id: Identifier
    customer_external_id: Identifier
    vin: VehicleId | None = None
    status: AppointmentStatus
    starts_at: PlannedAt
    location_id: Identifier | None = None
    source: Text | None = None
    plate: Plate | None = None


class PartsPurchased(Payload):
    """Parts or accessories bought over the counter (tyres, mats, oil)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": "PS-20931",
                    "customer_external_id": "C-104233",
                    "at": "2026-11-18T17:45:00+03:00",
                    "items": [
                        {
                            "sku": "NOK-T430174",
                            "name": "Шина Nokian Hakkapeliitta 10 205/55 R16",
                            "category": "tyres",
                            "qty": 4,
                            "amount": 43960,
                        }
                    ],
                    "total_amount": 43960,
                    "location_id": "msk-varshavka",
                }
            ]
        }
    )

    order_id: Identifier
    customer_external_id: Identifier
    at: HappenedAt
    items: list[PartsItem] = Field(min_length=1, max_length=MAX_ITEMS)
    total_amount: Money
    currency: CurrencyCode | None = None
    location_id: Identifier | None = None
