"""A tenant's journeys: the built-in playbooks, each replaced by the tenant's own version when it
saved one, plus the journeys it created. Hot paths (every car event asks which date-triggered
journeys exist) read them through a short cache."""

from trigly.journeys.definition import (
    EventTrigger,
    Journey,
    JourneyDefinition,
    MilestoneTrigger,
    SegmentTrigger,
)
from trigly.journeys.playbooks import PLAYBOOKS
from trigly.platform.cache import TenantCache
from trigly.platform.errors import NotFound
from trigly.store import journeys as store


def journeys(tenant_id: str) -> dict[str, Journey]:
    """Every journey of the tenant by id (enabled or not), fresh from the table."""
    found = dict(PLAYBOOKS)
    for doc in store.list_journeys(tenant_id):
        journey = Journey.model_validate_json(doc)
        found[journey.journey_id] = journey
    return found


_cache = TenantCache(journeys, seconds=60.0)


def journeys_cached(tenant_id: str) -> dict[str, Journey]:
    return _cache.get(tenant_id)


def get_journey(tenant_id: str, journey_id: str) -> Journey:
    loaded = store.get_journey(tenant_id, journey_id)
    if loaded is not None:
        return Journey.model_validate_json(loaded[0])
    if journey_id in PLAYBOOKS:
        return PLAYBOOKS[journey_id]
    raise NotFound("No such journey.")


def save_journey(tenant_id: str, journey_id: str, definition: JourneyDefinition) -> Journey:
    """Create or replace; every save is a new version (the runs record which one started them)."""
    loaded = store.get_journey(tenant_id, journey_id)
    if loaded is not None:
        current, stored_version = Journey.model_validate_json(loaded[0]), loaded[1]
        version = current.version + 1
    else:
        stored_version = None
        version = PLAYBOOKS[journey_id].version + 1 if journey_id in PLAYBOOKS else 1
    journey = Journey.model_validate(
        {
            **definition.model_dump(mode="json"),
            "journey_id": journey_id,
            "version": version,
            "builtin": journey_id in PLAYBOOKS,
        }
    )
    store.put_journey(tenant_id, journey_id, journey.model_dump_json(), stored_version)
    _cache.forget(tenant_id)
    return journey


def milestone_journeys(tenant_id: str) -> list[tuple[Journey, MilestoneTrigger]]:
    return [
        (j, j.trigger)
        for j in journeys_cached(tenant_id).values()
        if j.enabled and isinstance(j.trigger, MilestoneTrigger)
    ]


def event_journeys(tenant_id: str, event_type: str) -> list[tuple[Journey, EventTrigger]]:
    return [
        (j, j.trigger)
        for j in journeys_cached(tenant_id).values()
        if j.enabled and isinstance(j.trigger, EventTrigger) and j.trigger.event == event_type
    ]


def segment_journeys(tenant_id: str, *, fresh: bool = True) -> list[tuple[Journey, SegmentTrigger]]:
    """Enabled journeys that start when a customer enters a segment, with their triggers."""
    found = journeys(tenant_id) if fresh else journeys_cached(tenant_id)
    return [
        (j, j.trigger)
        for j in found.values()
        if j.enabled and isinstance(j.trigger, SegmentTrigger)
    ]
