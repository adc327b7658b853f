"""Journeys (data, versioned), free service slots, and the maintenance plans reminders use
(their prices are in `prices`)."""

import re
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import JsonValue, ValidationError

from functions.api.context import current_tenant
from functions.api.schemas import (
    EffectivePlan,
    Journey,
    JourneyList,
    MaintenancePlan,
    MaintenancePlanList,
    SlotList,
)
from trigly.events.validation import field_errors
from trigly.platform.errors import FieldError, NotFound, ValidationFailed

router = APIGatewayHttpRouter()
JOURNEY_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


@router.get("/journeys", tags=["journeys"], summary="Journeys: built-in playbooks and your own")
def list_journeys() -> JourneyList:
    from trigly.journeys import catalog  # journeys load where they are asked for (cold start)

    journeys = catalog.journeys(current_tenant(router).tenant_id)
    items = [j.model_dump(mode="json") for _, j in sorted(journeys.items())]
    return JourneyList.model_validate({"items": items, "cursor": None})


@router.get("/journeys/<journey_id>", tags=["journeys"], summary="One journey")
def get_journey(journey_id: str) -> Journey:
    from trigly.journeys import catalog

    journey = catalog.get_journey(current_tenant(router).tenant_id, journey_id)
    return Journey.model_validate(journey.model_dump(mode="json"))


@router.put(
    "/journeys/<journey_id>",
    tags=["journeys"],
    summary="Create or replace a journey (a new version); a built-in id overrides the playbook",
)
def save_journey(journey_id: str, definition: Annotated[dict[str, JsonValue], Body()]) -> Journey:
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
    tenant = current_tenant(router)
    segment_id = getattr(parsed.trigger, "segment_entered", None)
    if segment_id is not None:
        from trigly.store import segments

        if segments.get_segment(tenant.tenant_id, segment_id) is None:
            raise ValidationFailed(
                errors=[FieldError("trigger.segment_entered", f"no segment {segment_id!r}")]
            )
    saved = catalog.save_journey(tenant.tenant_id, journey_id, parsed)
    return Journey.model_validate(saved.model_dump(mode="json"))


@router.get(
    "/locations/<location_id>/slots",
    tags=["locations"],
    summary="Free service slots of a location for the next two weeks",
)
def free_slots(location_id: str) -> SlotList:
    from trigly.booking.service import location_slots

    slots = location_slots(current_tenant(router), location_id)
    items = [{"starts_at": s.value, "free": s.free} for s in slots]
    return SlotList.model_validate({"items": items, "cursor": None})


@router.get(
    "/maintenance-plans",
    tags=["journeys"],
    summary="The tenant's own maintenance plans (the built-in catalogue applies elsewhere)",
)
def list_plans() -> MaintenancePlanList:
    from trigly.vehicles import plans

    own = plans.tenant_plans(current_tenant(router).tenant_id)
    items = [p.model_dump(mode="json") for p in own]
    return MaintenancePlanList.model_validate({"items": items, "cursor": None})


@router.put(
    "/maintenance-plans",
    tags=["journeys"],
    summary="Set a plan for a make (model optional; make '*' for unknown makes): intervals in km "
    "and months, whichever comes first, an optional first-service exception, works per step",
)
def save_plan(plan: Annotated[dict[str, JsonValue], Body()]) -> MaintenancePlan:
    from trigly.lifecycle.plans import MaintenancePlan
    from trigly.vehicles import plans

    try:
        parsed = MaintenancePlan.model_validate({**plan, "source": "tenant"})
    except ValidationError as exc:
        raise ValidationFailed(errors=field_errors(exc)) from exc
    saved = plans.save_plan(current_tenant(router).tenant_id, parsed)
    return MaintenancePlan.model_validate(saved.model_dump(mode="json"))


@router.get(
    "/maintenance-plans/effective",
    tags=["journeys"],
    summary="The plan a car of this make and model follows, and its first steps",
)
def effective_plan(
    make: Annotated[str, Query(min_length=1)], model: Annotated[str | None, Query()] = None
) -> EffectivePlan:
    from trigly.vehicles import plans

    plan = plans.plan_of(current_tenant(router).tenant_id, make, model)
    steps = [plan.step(n).model_dump(mode="json") for n in range(1, 7)]
    return EffectivePlan.model_validate({**plan.model_dump(mode="json"), "steps": steps})


@router.delete(
    "/maintenance-plans",
    tags=["journeys"],
    summary="Remove the tenant's plan for a make (and model): the built-in one applies again",
    status_code=204,
)
def delete_plan(
    make: Annotated[str, Query(min_length=1)], model: Annotated[str | None, Query()] = None
) -> Response[None]:
    from trigly.vehicles import plans

    if not plans.delete_plan(current_tenant(router).tenant_id, make, model):
        raise NotFound("No such plan.")
    return Response(status_code=204)
