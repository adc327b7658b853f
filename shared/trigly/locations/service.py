"""Locations of a tenant: created, replaced, listed. Stored in the tenant's own collection.

Car events, journeys and booking pages ask for them all the time and they change rarely, so
those read them through `locations_cached` (one Query every few minutes per container; a change
made in this container shows at once)."""

from trigly.locations.model import Location, LocationDetails
from trigly.platform import ids
from trigly.platform.cache import TenantCache
from trigly.platform.errors import NotFound
from trigly.store import tenants as store


def create_location(
    tenant_id: str, details: LocationDetails, location_id: str | None = None
) -> Location:
    location = Location(location_id=location_id or ids.new_id("loc"), **details.model_dump())
    store.put_location(tenant_id, location.location_id, location.model_dump_json())
    _cache.forget(tenant_id)
    return location


def replace_location(tenant_id: str, location_id: str, details: LocationDetails) -> Location:
    get_location(tenant_id, location_id)
    location = Location(location_id=location_id, **details.model_dump())
    store.put_location(tenant_id, location_id, location.model_dump_json())
    _cache.forget(tenant_id)
    return location


def get_location(tenant_id: str, location_id: str) -> Location:
    doc = store.get_location(tenant_id, location_id)
    if doc is None:
        raise NotFound("No such location.")
    return Location.model_validate_json(doc)


def list_locations(tenant_id: str) -> list[Location]:
    return [Location.model_validate_json(doc) for doc in store.list_locations(tenant_id)]


def _by_id(tenant_id: str) -> dict[str, Location]:
    return {location.location_id: location for location in list_locations(tenant_id)}


_cache = TenantCache(_by_id, seconds=300.0)


def locations_cached(tenant_id: str) -> dict[str, Location]:
    """The tenant's locations by id, in the order listed."""
    return _cache.get(tenant_id)
