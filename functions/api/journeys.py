"""Journeys (data, versioned), free service slots, and the service catalogue reminders use:
maintenance plans and prices per make and model."""

import re
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field, JsonValue, ValidationError

from functions.api.context import current_tenant
from trigly.events.validation import field_errors
from trigly.platform.errors import FieldError, NotFound, ValidationFailed

router = APIGatewayHttpRouter()
JOURNEY_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


@router.get("/journeys", tags=["journeys"], summary="Journeys: built-in playbooks and your own")
def list_journeys() -> dict[str, Any]:
    from trigly.journeys import catalog  # journeys load where they are asked for (cold start)

    journeys = catalog.journeys(current_tenant(router).tenant_id)
    return {
        "items": [j.model_dump(mode="json") for _, j in sorted(journeys.items())],
        "cursor": None,
    }


@router.get("/journeys/<journey_id>", tags=["journeys"], summary="One journey")
def get_journey(journey_id: str) -> dict[str, Any]:
    from trigly.journeys import catalog

    return catalog.get_journey(current_tenant(router).tenant_id, journey_id).model_dump(mode="json")


@router.put(
    "/journeys/<journey_id>",
    tags=["journeys"],
    summary="Create or replace a journey (a new version); a built-in id overrides the playbook",
)
def save_journey(
    journey_id: str, definition: Annotated[dict[str, JsonValue], Body()]
) -> dict[str, Any]:
    from trigly.journeys import catalog
    from trigly.journeys.definition import JourneyDefinition

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


@router.get(
    "/maintenance-plans",
    tags=["journeys"],
    summary="The tenant's own maintenance plans (the built-in catalogue applies elsewhere)",
)
def list_plans() -> dict[str, Any]:
    from trigly.vehicles import plans

    own = plans.tenant_plans(current_tenant(router).tenant_id)
    return {"items": [p.model_dump(mode="json") for p in own], "cursor": None}


@router.put(
    "/maintenance-plans",
    tags=["journeys"],
    summary="Set a plan for a make (model optional; make '*' for unknown makes): intervals in km "
    "and months, whichever comes first, an optional first-service exception, works per step",
)
def save_plan(plan: Annotated[dict[str, JsonValue], Body()]) -> dict[str, Any]:
    from trigly.lifecycle.plans import MaintenancePlan
    from trigly.vehicles import plans

    try:
        parsed = MaintenancePlan.model_validate({**plan, "source": "tenant"})
    except ValidationError as exc:
        raise ValidationFailed(errors=field_errors(exc)) from exc
    return plans.save_plan(current_tenant(router).tenant_id, parsed).model_dump(mode="json")


@router.get(
    "/maintenance-plans/effective",
    tags=["journeys"],
    summary="The plan a car of this make and model follows, and its first steps",
)
def effective_plan(
    make: Annotated[str, Query(min_length=1)], model: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    from trigly.vehicles import plans

    plan = plans.plan_of(current_tenant(router).tenant_id, make, model)
    return {
        **plan.model_dump(mode="json"),
        "steps": [plan.step(n).model_dump(mode="json") for n in range(1, 7)],
    }


@router.delete(
    "/maintenance-plans",
    tags=["journeys"],
    summary="Remove the tenant's plan for a make (and model): the built-in one applies again",
)
def delete_plan(
    make: Annotated[str, Query(min_length=1)], model: Annotated[str | None, Query()] = None
) -> Response[None]:
    from trigly.vehicles import plans

    if not plans.delete_plan(current_tenant(router).tenant_id, make, model):
        raise NotFound("No such plan.")
    return Response(status_code=204)
