"""Per-event validation: an event is accepted whole or rejected with every failing field named.

Field paths are dot-joined with list indexes as numbers (CONTRACT §1a): `data.phones.0`.
Validation runs at a business time `now` passed as the pydantic context, so "this already
happened" fields (`HappenedAt`) check themselves wherever they sit in the payload.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trigly.events.customer import CustomerConsentChanged, CustomerUpserted
from trigly.events.marketing import CallTracked, WebActivity
from trigly.events.sales import LeadCreated, OrderStatusChanged, ShowroomVisited, TestDriveChanged
from trigly.events.service import PartsPurchased, ServiceAppointmentChanged, ServiceOrderClosed
from trigly.events.types import FUTURE_TOLERANCE, HappenedAt, Identifier
from trigly.events.vehicles import (
    InsurancePolicy,
    InventoryChanged,
    VehicleOdometer,
    VehicleRegistered,
    VehicleSold,
)
from trigly.platform.errors import FieldError
from trigly.platform.models import DeferredModel

__all__ = [
    "FUTURE_TOLERANCE",
    "PAYLOADS",
    "Envelope",
    "ValidEvent",
    "field_errors",
    "validate_event",
]

# The inbound event catalogue (CONTRACT §2): event type → the schema of its `data`.
PAYLOADS: Mapping[str, type[BaseModel]] = {
    "customer.upserted": CustomerUpserted,
    "customer.consent_changed": CustomerConsentChanged,
    "vehicle.sold": VehicleSold,
    "vehicle.registered": VehicleRegistered,
    "vehicle.odometer": VehicleOdometer,
    "insurance.policy": InsurancePolicy,
    "inventory.changed": InventoryChanged,
    "service_order.closed": ServiceOrderClosed,
    "service_appointment.changed": ServiceAppointmentChanged,
    "parts.purchased": PartsPurchased,
    "test_drive.changed": TestDriveChanged,
    "showroom.visited": ShowroomVisited,
    "lead.created": LeadCreated,
    "order.status_changed": OrderStatusChanged,
    "web.activity": WebActivity,
    "call.tracked": CallTracked,
}


class Envelope(DeferredModel):
    model_config = ConfigDict(extra="ignore")

    id: Identifier
    type: str = Field(min_length=1, max_length=64)
    occurred_at: HappenedAt
    data: dict[str, Any]


@dataclass(frozen=True)
class ValidEvent:
    id: str
    type: str
    occurred_at: datetime
    payload: BaseModel
    raw: dict[str, Any]


def field_errors(error: ValidationError, prefix: str = "") -> list[FieldError]:
    errors = []
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"])
        errors.append(
            FieldError(field=f"{prefix}{path}" if path else prefix.rstrip("."), message=item["msg"])
        )
    return errors


def _unknown_type(event_type: str) -> FieldError:
    known = ", ".join(sorted(PAYLOADS))
    return FieldError("type", f"unknown event type '{event_type}'; known types: {known}")


def validate_event(raw: object, now: datetime) -> ValidEvent | list[FieldError]:
    """The typed event, or the list of what is wrong with it (never raises on bad input).

    `now` is business time: things that already happened may lie at most a day after it.
    """
    if not isinstance(raw, dict):
        return [FieldError("", "an event must be a JSON object")]
    context = {"now": now}
    errors: list[FieldError] = []
    envelope: Envelope | None = None
    try:
        envelope = Envelope.model_validate(raw, context=context)
    except ValidationError as exc:
        errors += field_errors(exc)
    event_type, data = raw.get("type"), raw.get("data")
    schema = PAYLOADS.get(event_type) if isinstance(event_type, str) else None
    if isinstance(event_type, str) and schema is None and not _names(errors, "type"):
        errors.append(_unknown_type(event_type))
    payload: BaseModel | None = None
    if schema is not None and isinstance(data, dict):
        # The data is checked even when the envelope is not, so every failing field is named.
        try:
            payload = schema.model_validate(data, context=context)
        except ValidationError as exc:
            errors += field_errors(exc, prefix="data.")
    if envelope is None or payload is None:
        return errors or [FieldError("", "the event could not be read")]
    if errors:
        return errors
    return ValidEvent(envelope.id, envelope.type, envelope.occurred_at, payload, raw)


def _names(errors: list[FieldError], field: str) -> bool:
    return any(error.field == field for error in errors)
