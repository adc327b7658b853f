"""The dealer's stock of cars for sale (`inventory.changed`), for offers and used-car matching."""

from datetime import datetime

from trigly.events.vehicles import InventoryChanged
from trigly.platform.models import DeferredModel
from trigly.platform.tenancy import Tenant
from trigly.profiles.ordering import EventContext
from trigly.store import vehicles as store


class StockCar(DeferredModel):
    stock_id: str
    vin: str | None = None
    make: str
    model: str
    trim: str | None = None
    year: int
    condition: str
    mileage_km: int | None = None
    price: float
    currency: str
    status: str
    location_id: str | None = None
    updated_at: datetime


def apply_inventory_changed(tenant: Tenant, ctx: EventContext, event: InventoryChanged) -> None:
    car = StockCar(
        stock_id=event.stock_id,
        vin=event.vin,
        make=event.make,
        model=event.model,
        trim=event.trim,
        year=event.year,
        condition=event.condition,
        mileage_km=event.mileage_km,
        price=float(event.price),
        currency=event.currency or tenant.currency,
        status=event.status,
        location_id=event.location_id,
        updated_at=ctx.occurred_at,
    )
    store.put_stock_if_newer(tenant.tenant_id, event.stock_id, car, ctx.stamp)


def list_stock(tenant: Tenant) -> list[StockCar]:
    return [StockCar.model_validate_json(doc) for doc in store.list_stock(tenant.tenant_id)]
