"""What a scheduled service costs on a given make and model, for reminders to quote.

The price list is keyed by make, model and step number. Its default is what the tenant last
charged for that service on the same model: the non-declined maintenance jobs of the repair
order, which is ТО number `plan.nearest_step(visit.mileage_km)`.
"""

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from trigly.lifecycle.maintenance import MAINTENANCE
from trigly.lifecycle.plans import MaintenancePlan, normalize_make, normalize_name
from trigly.profiles.records import ServiceVisit

ANY = "*"
KOPECK = 0.01


class MaintenancePrice(BaseModel):
    """What the tenant sets a scheduled service to cost (`PUT /v1/maintenance-prices`)."""

    make: str = Field(min_length=1, max_length=50)
    model: str | None = Field(default=None, max_length=50)
    number: int = Field(ge=1, le=50, description="Which scheduled service: 1 = ТО-1")
    # At least a kopeck: a price is money, and a number no store can hold is not one.
    amount: float = Field(
        ge=KOPECK, le=10_000_000, description="Price in the tenant's currency, to the kopeck"
    )

    @field_validator("amount")
    @classmethod
    def _to_kopecks(cls, amount: float) -> float:
        return round(amount, 2)


class PriceQuote(BaseModel):
    key: str = Field(description="make|model|number as normalized, e.g. KIA|RIO|2")
    amount: float | None = Field(description="None: no price known for this service")


def price_key(make: str | None, model: str | None, number: int) -> str:
    """A stable key, e.g. "KIA|RIO|2"; names normalized so DMS spellings agree."""
    return f"{normalize_make(make) or ANY}|{normalize_name(model) or ANY}|{number}"


def maintenance_price_from_visit(visit: ServiceVisit) -> float | None:
    """The sum of the visit's non-declined maintenance jobs; None when it had none."""
    amounts = [j.amount for j in visit.jobs if j.kind == MAINTENANCE and not j.declined]
    return round(sum(amounts), 2) if amounts else None


def price_from_visit(
    visit: ServiceVisit, make: str | None, model: str | None, plan: MaintenancePlan
) -> tuple[str, float] | None:
    """(price key, amount) that a closed maintenance visit teaches, or None."""
    amount = maintenance_price_from_visit(visit)
    if amount is None:
        return None
    return price_key(make, model, plan.nearest_step(visit.mileage_km)), amount


def latest_prices(
    visits: Iterable[ServiceVisit], make: str | None, model: str | None, plan: MaintenancePlan
) -> dict[str, float]:
    """Price per key from the latest visit of each step (visits of one make and model)."""
    prices: dict[str, tuple[tuple[datetime, str], float]] = {}
    for visit in visits:
        found = price_from_visit(visit, make, model, plan)
        if found is None:
            continue
        key, amount = found
        moment = (visit.closed_at, visit.order_id)
        if key not in prices or moment > prices[key][0]:
            prices[key] = (moment, amount)
    return {key: amount for key, (_, amount) in prices.items()}


def quote(
    prices: dict[str, float], make: str | None, model: str | None, number: int
) -> float | None:
    """The price for a step: this model's, else the make's ("KIA|*|2"), else None."""
    for key in (price_key(make, model, number), price_key(make, None, number)):
        if key in prices:
            return prices[key]
    return None
