"""The dealer group's locations: dealer centres and service stations."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from trigly.locations import service as locations
from trigly.locations.model import LocationDetails

router = APIGatewayHttpRouter()


def _view(location: Any) -> dict[str, Any]:
    return {"id": location.location_id, **location.model_dump(mode="json", exclude={"location_id"})}


@router.get("/locations", tags=["locations"], summary="Locations of the dealer group")
def list_locations() -> dict[str, Any]:
    items = locations.list_locations(router.context["tenant_id"])
    return {"items": [_view(i) for i in items], "cursor": None}


@router.post("/locations", tags=["locations"], summary="Add a location")
def create_location(details: LocationDetails) -> Response[dict[str, Any]]:
    location = locations.create_location(router.context["tenant_id"], details)
    return Response(status_code=201, content_type="application/json", body=_view(location))


@router.get("/locations/<location_id>", tags=["locations"], summary="One location")
def get_location(location_id: str) -> dict[str, Any]:
    return _view(locations.get_location(router.context["tenant_id"], location_id))


@router.put("/locations/<location_id>", tags=["locations"], summary="Replace a location")
def replace_location(location_id: str, details: LocationDetails) -> dict[str, Any]:
    return _view(locations.replace_location(router.context["tenant_id"], location_id, details))
