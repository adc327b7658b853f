"""Journeys (data, versioned), free service slots and the prices reminders quote."""

import re
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field, JsonValue, ValidationError

from functions.api.context import current_tenant
from trigly.events.validation import field_errors
from trigly.journeys import catalog
from trigly.journeys.definition import JourneyDefinition
from trigly.platform.errors import FieldError, ValidationFailed

router = APIGatewayHttpRouter()
JOURNEY_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


@router.get("/journeys", tags=["journeys"], summary="Journeys: built-in playbooks and your own")
def list_journeys() -> dict[str, Any]:
    journeys = catalog.journeys(current_tenant(router).tenant_id)
    return {
        "items": [j.model_dump(mode="json") for _, j in sorted(journeys.items())],
        "cursor": None,
    }


@router.get("/journeys/<journey_id>", tags=["journeys"], summary="One journey")
def get_journey(journey_id: str) -> dict[str, Any]:
    return catalog.get_journey(current_tenant(router).tenant_id, journey_id).model_dump(mode="json")


@router.put(
    "/journeys/<journey_id>",
    tags=["journeys"],
    summary="Create or replace a journey (a new version); a built-in id overrides the playbook",
)
def save_journey(
    journey_id: str, definition: Annotated[dict[str, JsonValue], Body()]
) -> dict[str, Any]:
    try:
        parsed = JourneyDefinition.model_validate(definition)
    except ValidationError as exc:
        raise ValidationFailed(errors=field_errors(exc)) from exc
    if not JOURNEY_ID.fullmatch(journey_id):
        raise ValidationFailed(
            errors=[FieldError("journey_id", "lower-case letters, digits and _, from a letter")]
        )
    return catalog.save_journey(current_tenant(router).tenant_id, journey_id, parsed).model_dump(
        mode="json"
    )


@router.get(
    "/locations/<location_id>/slots",
    tags=["locations"],
    summary="Free service slots of a location for the next two weeks",
)
def free_slots(location_id: str) -> dict[str, Any]:
    from trigly.booking.service import location_slots

    slots = location_slots(current_tenant(router), location_id)
    return {
        "items": [{"starts_at": s.value, "free": s.free} for s in slots],
        "cursor": None,
    }


class MaintenancePrice(BaseModel):
    make: str = Field(min_length=1, max_length=50)
    model: str | None = Field(default=None, max_length=50)
    number: int = Field(ge=1, le=50, description="Which scheduled service: 1 = ТО-1")
    amount: float = Field(gt=0, le=10_000_000, description="Price in the tenant's currency")


@router.put(
    "/maintenance-prices",
    tags=["journeys"],
    summary="Set what a scheduled service costs on a make/model (reminders quote it)",
)
def set_price(price: MaintenancePrice) -> dict[str, Any]:
    from trigly.lifecycle.prices import price_key
    from trigly.platform import clock
    from trigly.store import prices

    key = price_key(price.make, price.model, price.number)
    prices.set_price(
        current_tenant(router).tenant_id, key, price.amount, clock.isoformat(clock.now())
    )
    return {"key": key, "amount": price.amount}


@router.get(
    "/maintenance-prices/quote",
    tags=["journeys"],
    summary="The price a reminder would quote for a make/model and service number",
)
def quote_price(
    make: Annotated[str, Query(min_length=1)],
    number: Annotated[int, Query(ge=1, le=50)],
    model: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    from trigly.lifecycle.prices import price_key
    from trigly.store import prices

    key = price_key(make, model, number)
    return {"key": key, "amount": prices.quote(current_tenant(router).tenant_id, key)}
