"""Per-event validation: an event is accepted whole or rejected with every failing field named.

Field paths are dot-joined with list indexes as numbers (CONTRACT §1a): `data.phones.0`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trigly.events.customer import CustomerUpserted
from trigly.events.types import Identifier, Timestamp
from trigly.platform.errors import FieldError

# Things that already happened may not lie more than a day in the future (business time).
FUTURE_TOLERANCE = timedelta(days=1)

PAYLOADS: Mapping[str, type[BaseModel]] = {
    "customer.upserted": CustomerUpserted,
}


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Identifier
    type: str = Field(min_length=1, max_length=64)
    occurred_at: Timestamp
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


def _future_errors(payload: BaseModel, envelope: Envelope, now: datetime) -> list[FieldError]:
    limit = now + FUTURE_TOLERANCE
    errors = []
    if envelope.occurred_at > limit:
        errors.append(FieldError("occurred_at", "lies more than a day in the future"))
    if isinstance(payload, CustomerUpserted):
        for channel, grant in (payload.consents or {}).items():
            if grant.at > limit:
                errors.append(
                    FieldError(f"data.consents.{channel}.at", "lies more than a day in the future")
                )
    return errors


def validate_event(raw: object, now: datetime) -> ValidEvent | list[FieldError]:
    """The typed event, or the list of what is wrong with it (never raises on bad input)."""
    if not isinstance(raw, dict):
        return [FieldError("", "an event must be a JSON object")]
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        return field_errors(exc)
    schema = PAYLOADS.get(envelope.type)
    if schema is None:
        known = ", ".join(sorted(PAYLOADS))
        return [FieldError("type", f"unknown event type '{envelope.type}'; known types: {known}")]
    try:
        payload = schema.model_validate(envelope.data)
    except ValidationError as exc:
        return field_errors(exc, prefix="data.")
    errors = _future_errors(payload, envelope, now)
    if errors:
        return errors
    return ValidEvent(envelope.id, envelope.type, envelope.occurred_at, payload, raw)
