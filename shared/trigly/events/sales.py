"""Sales funnel events: test drives, showroom visits, leads and a new car's order status."""

from enum import StrEnum
from typing import Any

from pydantic import ConfigDict

from trigly.events.base import Payload, Problem, given
from trigly.events.types import (
    Condition,
    HappenedAt,
    Identifier,
    Money,
    Name,
    PlannedAt,
    RawContact,
    Text,
    UtmTags,
)
from trigly.platform.models import DeferredModel


class TestDriveStatus(StrEnum):
    BOOKED = "booked"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class VisitOutcome(StrEnum):
    BOUGHT = "bought"
    LEFT = "left"
    THINKING = "thinking"


class VisitReason(StrEnum):
    PRICE = "price"
    CREDIT = "credit"
    NO_STOCK = "no_stock"
    OTHER = "other"


class LeadSource(StrEnum):
    FORM = "form"
    CALL = "call"
    CHAT = "chat"
    OTHER = "other"


class OrderStatus(StrEnum):
    ORDERED = "ordered"
    PRODUCED = "produced"
    SHIPPED = "shipped"
    ARRIVED = "arrived"
    READY = "ready"


class Contact(DeferredModel):
    """A person not (yet) in the DMS; phone and email are kept as sent and normalized later."""

    model_config = ConfigDict(extra="ignore")

    name: Name
    phone: RawContact | None = None
    email: RawContact | None = None


class LeadContact(DeferredModel):
    model_config = ConfigDict(extra="ignore")

    name: Name | None = None
    phone: RawContact | None = None
    email: RawContact | None = None


class Interest(DeferredModel):
    """What the person is looking for; `budget` in the tenant's currency."""

    model_config = ConfigDict(extra="ignore")

    model: Text | None = None
    condition: Condition | None = None
    budget: Money | None = None


class TestDriveChanged(Payload):
    """A test drive booked, taken, cancelled or missed. The person is named exactly one way:
    `customer_external_id` (known to the DMS) or `contact`."""

    __test__ = False  # a pydantic model, not a pytest class

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "booking_id": "TD-8841",
                    "contact": {"name": "Дмитрий", "phone": "+7 916 123-45-67"},
                    "model": "Haval Jolion",
                    "status": "booked",
                    "starts_at": "2026-11-28T12:30:00+03:00",
                    "location_id": "msk-varshavka",
                }
            ]
        }
    )

    booking_id: Identifier
    customer_external_id: Identifier | None = None
    contact: Contact | None = None
    model: Text
    status: TestDriveStatus
    starts_at: PlannedAt
    location_id: Identifier | None = None

    @classmethod
    def input_problems(cls, data: dict[str, Any]) -> list[Problem]:
        by_id, by_contact = given(data, "customer_external_id"), given(data, "contact")
        if by_id and by_contact:
            return [("contact", "name the person by customer_external_id or contact, not both")]
        if not (by_id or by_contact):
            return [
                (
                    "customer_external_id",
                    "name the person: customer_external_id or contact {name, phone?, email?}",
                )
            ]
        return []


class ShowroomVisited(Payload):
    """A visit to the showroom and how it ended (`reason` why a visitor left or hesitates)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "visit_id": "V-2026-11-20-017",
                    "customer_external_id": "C-104233",
                    "at": "2026-11-20T16:10:00+03:00",
                    "interest": {
                        "model": "Chery Tiggo 7 Pro",
                        "condition": "new",
                        "budget": 2500000,
                    },
                    "outcome": "left",
                    "reason": "credit",
                }
            ]
        }
    )

    visit_id: Identifier
    customer_external_id: Identifier
    at: HappenedAt
    interest: Interest | None = None
    outcome: VisitOutcome
    reason: VisitReason | None = None


class LeadCreated(Payload):
    """A new lead from a form, call or chat; it needs a phone, an email or an `anonymous_id`
    (which ties the visitor's earlier web activity to the person)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lead_id": "L-553201",
                    "contact": {"name": "Ольга", "phone": "89031112233", "email": "olga@yandex.ru"},
                    "anonymous_id": "web-7f3c2a9e",
                    "source": "form",
                    "interest": {"model": "Geely Monjaro", "condition": "new", "budget": 4000000},
                    "utm": {"utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "monjaro"},
                }
            ]
        }
    )

    lead_id: Identifier
    contact: LeadContact
    anonymous_id: Identifier | None = None
    source: LeadSource
    interest: Interest | None = None
    utm: UtmTags | None = None

    @classmethod
    def input_problems(cls, data: dict[str, Any]) -> list[Problem]:
        contact = data.get("contact")
        if not isinstance(contact, dict):
            return []  # reported as the missing or malformed `contact` itself
        if given(contact, "phone") or given(contact, "email") or given(data, "anonymous_id"):
            return []
        return [("contact", "a lead needs contact.phone, contact.email or anonymous_id")]


class OrderStatusChanged(Payload):
    """The status of a car ordered from the factory; `eta` is a planned time."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": "FO-2026-0412",
                    "customer_external_id": "C-104233",
                    "status": "shipped",
                    "eta": "2026-12-15T12:00:00+03:00",
                }
            ]
        }
    )

    order_id: Identifier
    customer_external_id: Identifier
    status: OrderStatus
    eta: PlannedAt | None = None
