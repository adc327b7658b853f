"""The car record (one per VIN per tenant) and the customer's view of a car they own or owned."""

from datetime import date, datetime
from typing import Any

from pydantic import Field

from trigly.platform.models import DeferredModel

DEALER = "dealer"  # the owner of a traded-in car until it is sold on

# Readings kept on the car record for the mileage model; older ones stay in the visit history.
MAX_READINGS = 40


class OdometerReading(DeferredModel):
    at: datetime
    km: int
    source: str  # service_order, sale, registration, telematics, manual


class Ownership(DeferredModel):
    """One period of ownership; `customer_id` is DEALER for a car taken in trade."""

    customer_id: str
    since: datetime
    via: str  # sale, registration, service, trade_in
    ref: str | None = None  # deal id or event id that established it


class Financing(DeferredModel):
    type: str
    term_months: int | None = None
    monthly_payment: float | None = None
    ends_on: date | None = None


class Sale(DeferredModel):
    deal_id: str
    customer_id: str
    sold_at: datetime
    price: float
    currency: str
    condition: str
    mileage_km: int | None = None
    financing: Financing | None = None
    location_id: str | None = None
    salesperson: str | None = None


class InsurancePolicy(DeferredModel):
    policy_id: str
    kind: str
    ends_on: date
    customer_id: str


class Vehicle(DeferredModel):
    vin: str
    make: str | None = None
    model: str | None = None
    trim: str | None = None
    year: int | None = None
    plate: str | None = None
    purchased_on: date | None = None
    owners: list[Ownership] = Field(default_factory=list)  # sorted by `since`
    readings: list[OdometerReading] = Field(default_factory=list)  # sorted by `at`
    sales: list[Sale] = Field(default_factory=list)
    insurance: list[InsurancePolicy] = Field(default_factory=list)
    last_service_at: datetime | None = None
    last_maintenance_at: datetime | None = None  # the last visit with maintenance work
    stamps: dict[str, str] = Field(default_factory=dict)
    # A digest of each date-triggered journey start this car calls for (journeys.triggers), kept
    # with the car so the next event knows what changed without a read; but the one carried here.
    schedule: dict[str, str] = Field(default_factory=dict)
    # The start this record carries itself (its next maintenance, which nearly every car event
    # moves): the record is then its trigger on the `due` index, one write instead of two.
    due_start: dict[str, Any] | None = None

    def as_maintained(self) -> "Vehicle":
        """The car as its maintenance plan sees it: the last maintenance visit is its last
        service (a repair in between does not restart the schedule)."""
        if self.last_maintenance_at is None or self.last_maintenance_at == self.last_service_at:
            return self
        return self.model_copy(update={"last_service_at": self.last_maintenance_at})

    @property
    def owner_id(self) -> str | None:
        return self.owners[-1].customer_id if self.owners else None

    @property
    def mileage_km(self) -> int | None:
        """The odometer as last known; an older or lower reading never lowers it."""
        return max((r.km for r in self.readings), default=None)

    @property
    def last_reading(self) -> OdometerReading | None:
        return self.readings[-1] if self.readings else None

    def ownership_of(self, customer_id: str) -> tuple[datetime, datetime | None] | None:
        """(since, until) of the customer's latest spell of ownership, if any. Back-to-back
        periods of one customer are one spell (a visit seen before the sale that started it
        must not move the start), so the answer is the same in whatever order facts arrive."""
        for index in range(len(self.owners) - 1, -1, -1):
            if self.owners[index].customer_id == customer_id:
                until = self.owners[index + 1].since if index + 1 < len(self.owners) else None
                start = index
                while start > 0 and self.owners[start - 1].customer_id == customer_id:
                    start -= 1
                return self.owners[start].since, until
        return None
