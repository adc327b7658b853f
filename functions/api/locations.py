"""The dealer group's locations: dealer centres and service stations."""

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.api.schemas import Location, LocationList
from trigly.locations import service as locations
from trigly.locations.model import LocationDetails

router = APIGatewayHttpRouter()


def _view(location: Any) -> Location:
    return Location.model_validate(
        {"id": location.location_id, **location.model_dump(mode="json", exclude={"location_id"})}
    )


@router.get("/locations", tags=["locations"], summary="Locations of the dealer group")
def list_locations() -> LocationList:
    items = locations.list_locations(router.context["tenant_id"])
    return LocationList(items=[_view(i) for i in items], cursor=None)


@router.post("/locations", tags=["locations"], summary="Add a location", status_code=201)
def create_location(details: LocationDetails) -> Location:
    return _view(locations.create_location(router.context["tenant_id"], details))


@router.get("/locations/<location_id>", tags=["locations"], summary="One location")
def get_location(location_id: str) -> Location:
    return _view(locations.get_location(router.context["tenant_id"], location_id))


@router.put("/locations/<location_id>", tags=["locations"], summary="Replace a location")
def replace_location(location_id: str, details: LocationDetails) -> Location:
    return _view(locations.replace_location(router.context["tenant_id"], location_id, details))
