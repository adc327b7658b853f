"""Cars as first-class records: the car by VIN with its owners, readings and technical history."""

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.api.context import current_tenant
from functions.api.schemas import VehicleRecord
from trigly.vehicles import service as vehicles

router = APIGatewayHttpRouter()


@router.get("/vehicles/<vin>", tags=["vehicles"], summary="A car: owners, readings, visits")
def get_vehicle(vin: str) -> VehicleRecord:
    return VehicleRecord.model_validate(vehicles.vehicle_view(current_tenant(router), vin))
