"""Date triggers: when each date-triggered journey starts for a car.

Every event that touches a car recomputes its milestones (next maintenance, insurance renewal,
warranty end...) and, for each enabled journey started by one, the day it starts (the date plus
the journey's offset). The result rides on the car record itself (`Vehicle.schedule`), saved in
the same write, so the next event can tell what changed without reading anything; only changed
triggers are written to (or taken off) the `due` index, where the daily job finds them by day.

A trigger whose day passed more than a day ago is not set (CONTRACT §3: an imported or late
event starts no step whose moment passed); one due today or yesterday starts at the next run.
"""

from datetime import date, timedelta

from pydantic import BaseModel, Field

from trigly.journeys import catalog
from trigly.lifecycle.milestones import Milestone as CarMilestone
from trigly.lifecycle.milestones import car_milestones
from trigly.lifecycle.plans import plan_for
from trigly.store import journeys as store
from trigly.store import keys
from trigly.vehicles.model import DEALER, Vehicle

STALE_AFTER = timedelta(days=1)


class ScheduledStart(BaseModel):
    """One journey's next start for a car: the occurrence it is about and the day it fires."""

    journey_id: str
    key: str  # the run's key: the car and the occurrence ("XW8…:maintenance:2")
    customer_id: str
    vin: str | None = None
    fire_on: date
    due_on: date  # the milestone's own date
    details: dict[str, object] = Field(default_factory=dict)


def car_schedule(tenant_id: str, vehicle: Vehicle, today: date) -> dict[str, ScheduledStart]:
    """The starts this car's milestones call for, by journey id (pure but for the cached
    journey list)."""
    owner = vehicle.owner_id
    journeys = catalog.milestone_journeys(tenant_id)
    if owner is None or owner == DEALER or not journeys:
        return {}
    since = vehicle.ownership_of(owner)
    milestones: dict[str, CarMilestone] = {
        m.kind: m
        for m in car_milestones(
            vehicle.as_maintained(),
            owner_since=since[0].date() if since else None,
            region=None,
            today=today,
            plan=plan_for(vehicle.make, vehicle.model),
        )
    }
    starts: dict[str, ScheduledStart] = {}
    for journey, trigger in journeys:
        milestone = milestones.get(trigger.milestone.value)
        if milestone is None:
            continue
        fire_on = milestone.due_on + timedelta(days=trigger.offset_days)
        if fire_on < today - STALE_AFTER:
            continue
        starts[journey.journey_id] = ScheduledStart(
            journey_id=journey.journey_id,
            key=f"{vehicle.vin}:{milestone.key}",
            customer_id=owner,
            vin=vehicle.vin,
            fire_on=max(fire_on, today),
            due_on=milestone.due_on,
            details={str(k): v for k, v in milestone.details.items()},
        )
    return starts


def sync_car(
    tenant_id: str,
    vin: str,
    before: dict[str, ScheduledStart],
    after: dict[str, ScheduledStart],
) -> None:
    """Write the triggers that changed; take off the index those no longer called for."""
    owner_pk = keys.vehicle(tenant_id, vin)
    for journey_id, start in after.items():
        if before.get(journey_id) != start:
            store.put_trigger(
                tenant_id, owner_pk, journey_id, start.model_dump_json(), start.fire_on
            )
    for journey_id in before.keys() - after.keys():
        store.delete_trigger(owner_pk, journey_id)
