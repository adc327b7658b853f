"""Locations of a tenant: created, replaced, listed. Stored in the tenant's own collection.

Car events, journeys and booking pages ask for them all the time and they change rarely, so
those read them through `locations_cached` (one Query every few minutes per container; a change
made in this container shows at once)."""

import time

from trigly.locations.model import Location, LocationDetails
from trigly.platform import ids
from trigly.platform.errors import NotFound
from trigly.store import tenants as store


def create_location(
    tenant_id: str, details: LocationDetails, location_id: str | None = None
) -> Location:
    location = Location(location_id=location_id or ids.new_id("loc"), **details.model_dump())
    store.put_location(tenant_id, location.location_id, location.model_dump_json())
    _cache.pop(tenant_id, None)
    return location


def replace_location(tenant_id: str, location_id: str, details: LocationDetails) -> Location:
    get_location(tenant_id, location_id)
    location = Location(location_id=location_id, **details.model_dump())
    store.put_location(tenant_id, location_id, location.model_dump_json())
    _cache.pop(tenant_id, None)
    return location


def get_location(tenant_id: str, location_id: str) -> Location:
    doc = store.get_location(tenant_id, location_id)
    if doc is None:
        raise NotFound("No such location.")
    return Location.model_validate_json(doc)


def list_locations(tenant_id: str) -> list[Location]:
    return [Location.model_validate_json(doc) for doc in store.list_locations(tenant_id)]


_CACHE_SECONDS = 300.0
_cache: dict[str, tuple[float, dict[str, Location]]] = {}


def locations_cached(tenant_id: str) -> dict[str, Location]:
    """The tenant's locations by id, in the order listed."""
    hit = _cache.get(tenant_id)
    moment = time.monotonic()
    if hit and moment - hit[0] < _CACHE_SECONDS:
        return hit[1]
    found = {location.location_id: location for location in list_locations(tenant_id)}
    _cache[tenant_id] = (moment, found)
    return found
