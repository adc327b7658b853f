"""Car events: sale, registration of a car bought elsewhere, odometer, insurance, stock.

Cars are referenced by `vin` (a VIN or a Japanese frame number); every car event may also carry
the registration number as `plate?`.
"""

from enum import StrEnum

from pydantic import ConfigDict

from trigly.events.base import Payload
from trigly.events.types import (
    Condition,
    CurrencyCode,
    Day,
    HappenedAt,
    HappenedOn,
    Identifier,
    Mileage,
    ModelYear,
    Money,
    Months,
    Name,
    Plate,
    Text,
    VehicleId,
)
from trigly.platform.models import DeferredModel


class FinancingType(StrEnum):
    CASH = "cash"
    LOAN = "loan"
    LEASE = "lease"


class OdometerSource(StrEnum):
    TELEMATICS = "telematics"
    MANUAL = "manual"


class InsuranceKind(StrEnum):
    OSAGO = "osago"
    KASKO = "kasko"
    OTHER = "other"


class StockStatus(StrEnum):
    IN_STOCK = "in_stock"
    RESERVED = "reserved"
    SOLD = "sold"


class Financing(DeferredModel):
    """How the car was paid for; `ends_on` is when the loan or lease ends (a planned date)."""

    model_config = ConfigDict(extra="ignore")

    type: FinancingType
    term_months: Months | None = None
    monthly_payment: Money | None = None
    ends_on: Day | None = None


class VehicleSold(Payload):
    """A car sold to a customer (new or used), with its deal, financing and trade-in."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "deal_id": "D-2026-01187",
                    "customer_external_id": "C-104233",
                    "vin": "XWEPH81ADK0001234",
                    "make": "Kia",
                    "model": "Rio",
                    "trim": "Prestige",
                    "year": 2026,
                    "sold_at": "2026-11-20T15:30:00+03:00",
                    "price": 1899900.00,
                    "currency": "RUB",
                    "condition": "new",
                    "mileage_km": 12,
                    "financing": {
                        "type": "loan",
                        "term_months": 36,
                        "monthly_payment": 48750.50,
                        "ends_on": "2029-11-20",
                    },
                    "trade_in_vin": "XTA217030D0456789",
                    "location_id": "msk-varshavka",
                    "salesperson": "Алексей Кузнецов",
                    "plate": "А123ВС777",
                }
            ]
        }
    )

    deal_id: Identifier
    customer_external_id: Identifier
    vin: VehicleId
    make: Text
    model: Text
    trim: Text | None = None
    year: ModelYear
    sold_at: HappenedAt
    price: Money
    currency: CurrencyCode | None = None
    condition: Condition
    mileage_km: Mileage | None = None
    financing: Financing | None = None
    trade_in_vin: VehicleId | None = None
    referral_code: Identifier | None = None
    location_id: Identifier | None = None
    salesperson: Name | None = None
    plate: Plate | None = None


class VehicleRegistered(Payload):
    """A customer's car that was bought elsewhere (e.g. first seen at the service desk)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_external_id": "C-100871",
                    "vin": "NZE141-1234567",
                    "make": "Toyota",
                    "model": "Corolla Axio",
                    "year": 2010,
                    "mileage_km": 187400,
                    "purchased_on": "2023-06-15",
                    "plate": "М456ОР125",
                }
            ]
        }
    )

    customer_external_id: Identifier
    vin: VehicleId
    make: Text
    model: Text
    year: ModelYear
    mileage_km: Mileage | None = None
    purchased_on: HappenedOn | None = None
    plate: Plate | None = None


class VehicleOdometer(Payload):
    """An odometer reading; an older reading never lowers the car's mileage."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vin": "XTA210740C1234567",
                    "mileage_km": 64210,
                    "at": "2026-11-22T08:12:00+03:00",
                    "source": "telematics",
                }
            ]
        }
    )

    vin: VehicleId
    mileage_km: Mileage
    at: HappenedAt
    source: OdometerSource
    plate: Plate | None = None


class InsurancePolicy(Payload):
    """An insurance policy on a customer's car (OSAGO, KASKO), for renewal reminders."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "policy_id": "XXX-0123456789",
                    "customer_external_id": "C-104233",
                    "vin": "XWEPH81ADK0001234",
                    "kind": "osago",
                    "ends_on": "2027-11-19",
                }
            ]
        }
    )

    policy_id: Identifier
    customer_external_id: Identifier
    vin: VehicleId
    kind: InsuranceKind
    ends_on: Day
    plate: Plate | None = None


class InventoryChanged(Payload):
    """A car in the dealer's stock appeared, changed price or status, or was sold."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "stock_id": "STK-55120",
                    "vin": "Z94K241CBPR123456",
                    "make": "Hyundai",
                    "model": "Solaris",
                    "trim": "Elegance",
                    "year": 2023,
                    "condition": "used",
                    "mileage_km": 38500,
                    "price": 1450000,
                    "status": "in_stock",
                    "location_id": "spb-primorsky",
                }
            ]
        }
    )

    stock_id: Identifier
    vin: VehicleId | None = None
    make: Text
    model: Text
    trim: Text | None = None
    year: ModelYear
    condition: Condition
    mileage_km: Mileage | None = None
    price: Money
    currency: CurrencyCode | None = None
    status: StockStatus
    location_id: Identifier | None = None
    plate: Plate | None = None
