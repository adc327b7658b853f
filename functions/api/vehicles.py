"""Cars as first-class records: the car by VIN with its owners, readings and technical history."""

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.api.context import current_tenant
from trigly.vehicles import service as vehicles

router = APIGatewayHttpRouter()


@router.get("/vehicles/<vin>", tags=["vehicles"], summary="A car: owners, readings, visits")
def get_vehicle(vin: str) -> dict[str, Any]:
    return vehicles.vehicle_view(current_tenant(router), vin)
