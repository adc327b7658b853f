"""Date triggers: when each date-triggered journey starts for a car (or a customer: birthdays).

Every event that touches a car recomputes its milestones (next maintenance, insurance renewal,
warranty end...) and, for each enabled journey started by one, the day it starts (the date plus
the journey's offset). The result rides on the car record itself (`Vehicle.schedule`), saved in
the same write, so the next event can tell what changed without reading anything; only changed
triggers are written to (or taken off) the `due` index, where the daily job finds them by day.
The start of the next maintenance, which nearly every car event moves, is carried whole by the
car record (`Vehicle.due_start`), and the record itself sits on the `due` index as its trigger:
the write the event makes anyway, instead of a second item (ADR 0025).

A trigger whose day passed more than a day ago is not set (CONTRACT §3: an imported or late
event starts no step whose moment passed); one due today or yesterday starts at the next run.

A customer's own milestones (the birthday) ride on the customer's collection the same way: set
when `customer.upserted` changes the birth date (from the profile already in hand), and rolled
on to the next occurrence when one fires, since no car event recomputes them.
"""

import hashlib
from datetime import date, timedelta

from pydantic import BaseModel, Field

from trigly.journeys import catalog
from trigly.lifecycle.milestones import Milestone as CarMilestone
from trigly.lifecycle.milestones import car_milestones, customer_milestones
from trigly.locations.service import locations_cached
from trigly.store import journeys as store
from trigly.store import keys
from trigly.store.vehicles import DueKey
from trigly.vehicles.model import DEALER, Vehicle
from trigly.vehicles.plans import plan_of

STALE_AFTER = timedelta(days=1)
# The milestone whose start the car record carries (the first such journey by id, if several).
CARRIED_MILESTONE = "maintenance"
# Milestone details no message shows: left off the trigger so it stays one write unit.
BULKY_DETAILS = frozenset({"works", "window"})


class ScheduledStart(BaseModel):
    """One journey's next start for a car: the occurrence it is about and the day it fires."""

    journey_id: str
    key: str  # the run's key: the car and the occurrence ("XW8…:maintenance:2")
    customer_id: str
    vin: str | None = None
    fire_on: date
    due_on: date  # the milestone's own date
    details: dict[str, object] = Field(default_factory=dict)

    def digest(self) -> str:
        """What the car record keeps of it: enough to tell a change (12 hex of SHA-256)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]


def car_region(tenant_id: str, vehicle: Vehicle) -> str | None:
    """The region whose tyre seasons a car follows: where it was sold, else the tenant's first
    location with a region (the owner's own region is not read on the car's hot path)."""
    located = [loc for loc in locations_cached(tenant_id).values() if loc.region]
    sold_at = {s.location_id for s in vehicle.sales[-1:] if s.location_id}
    for location in located:
        if location.location_id in sold_at:
            return location.region
    return located[0].region if located else None


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
            region=car_region(tenant_id, vehicle),
            today=today,
            plan=plan_of(tenant_id, vehicle.make, vehicle.model),
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
            details={str(k): v for k, v in milestone.details.items() if k not in BULKY_DETAILS},
        )
    return starts


def carried_journey(tenant_id: str) -> str | None:
    """The journey whose start the car record carries: the first, by id, of the enabled ones
    started by the next maintenance."""
    return min(
        (
            journey.journey_id
            for journey, trigger in catalog.milestone_journeys(tenant_id)
            if trigger.milestone.value == CARRIED_MILESTONE
        ),
        default=None,
    )


def carried_due(
    tenant_id: str,
    start: ScheduledStart | None,
    before: dict[str, object] | None,
    placed: DueKey | None,
) -> DueKey | None:
    """Where the car record sits on the `due` index for the start it carries: as it sat when
    the start is unchanged (`placed`, None once the daily job took it off), else under the
    start's day. Its sort key there is the journey id alone: the index entry brings the record's
    own key, and the record is near a kilobyte (DynamoDB bills a write per started KB)."""
    if start is None:
        return None
    if before is not None and before == start.model_dump(mode="json"):
        return placed
    return DueKey(store.trigger_partition(tenant_id, start.fire_on), start.journey_id)


def sync_car(
    tenant_id: str, vin: str, before: dict[str, str], after: dict[str, ScheduledStart]
) -> None:
    """Write the triggers that changed (`before`: the digests the car record kept); take off
    the index those no longer called for."""
    _sync(tenant_id, keys.vehicle(tenant_id, vin), before, after)


def customer_schedule(
    tenant_id: str, customer_id: str, birth_date: date | None, today: date
) -> dict[str, ScheduledStart]:
    """The starts a customer's own milestones (the birthday) call for, by journey id; an
    occurrence whose start passed (a journey starting days before) gives way to the next."""
    starts: dict[str, ScheduledStart] = {}
    if birth_date is None:
        return starts
    found = {m.kind: m for m in customer_milestones(birth_date, today)}
    for journey, trigger in catalog.milestone_journeys(tenant_id):
        milestone = found.get(trigger.milestone.value)
        if milestone is None:
            continue
        fire_on = milestone.due_on + timedelta(days=trigger.offset_days)
        if fire_on < today - STALE_AFTER:
            later = customer_milestones(birth_date, milestone.due_on + timedelta(days=1))
            milestone = next(m for m in later if m.kind == milestone.kind)
            fire_on = milestone.due_on + timedelta(days=trigger.offset_days)
        starts[journey.journey_id] = ScheduledStart(
            journey_id=journey.journey_id,
            key=milestone.key,
            customer_id=customer_id,
            fire_on=max(fire_on, today),
            due_on=milestone.due_on,
            details={str(k): v for k, v in milestone.details.items()},
        )
    return starts


def sync_customer(
    tenant_id: str, customer_id: str, before: date | None, after: date | None, today: date
) -> None:
    """The birth date changed (`customer.upserted`): write the customer's triggers on their own
    collection (`DUE#{journey}`), computed without reading anything."""
    _sync(
        tenant_id,
        keys.customer(tenant_id, customer_id),
        {
            k: v.digest()
            for k, v in customer_schedule(tenant_id, customer_id, before, today).items()
        },
        customer_schedule(tenant_id, customer_id, after, today),
    )


def next_customer_start(tenant_id: str, scheduled: ScheduledStart) -> ScheduledStart | None:
    """After a customer's trigger fired: the same journey's next occurrence (next year's
    birthday), so the chain goes on without the customer event that set the first."""
    birth_date = scheduled.details.get("birth_date")
    if scheduled.vin is not None or not isinstance(birth_date, str):
        return None
    after = customer_schedule(
        tenant_id,
        scheduled.customer_id,
        date.fromisoformat(birth_date),
        scheduled.due_on + timedelta(days=1),
    )
    return after.get(scheduled.journey_id)


def _sync(
    tenant_id: str, owner_pk: str, before: dict[str, str], after: dict[str, ScheduledStart]
) -> None:
    for journey_id, start in after.items():
        if before.get(journey_id) != start.digest():
            store.put_trigger(
                tenant_id, owner_pk, journey_id, start.model_dump_json(), start.fire_on
            )
    for journey_id in before.keys() - after.keys():
        store.delete_trigger(owner_pk, journey_id)
