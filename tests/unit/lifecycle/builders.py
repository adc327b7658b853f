"""Cars and repair orders for lifecycle tests, built in a line each."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from trigly.profiles.records import ServiceVisit, VisitJob
from trigly.vehicles.model import (
    Financing,
    InsurancePolicy,
    OdometerReading,
    Ownership,
    Sale,
    Vehicle,
)

VIN = "XWEFF41BBN0000001"


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def reading(day: date, km: int, source: str = "service_order") -> OdometerReading:
    return OdometerReading(at=at(day), km=km, source=source)


def sale(
    day: date,
    *,
    condition: str = "new",
    customer_id: str = "c1",
    km: int | None = None,
    financing: Financing | None = None,
) -> Sale:
    return Sale(
        deal_id=f"deal-{day.isoformat()}",
        customer_id=customer_id,
        sold_at=at(day),
        price=2_000_000,
        currency="RUB",
        condition=condition,
        mileage_km=km,
        financing=financing,
    )


def job(name: str, kind: str = "maintenance", amount: float = 10_000, **extra: object) -> VisitJob:
    return VisitJob.model_validate({"name": name, "kind": kind, "amount": amount, **extra})


def visit(
    day: date, km: int, *jobs: VisitJob, order_id: str | None = None, vin: str = VIN
) -> ServiceVisit:
    return ServiceVisit(
        order_id=order_id or f"RO-{day.isoformat()}",
        vin=vin,
        closed_at=at(day, 17),
        mileage_km=km,
        jobs=list(jobs) or [job("ТО")],
        total_amount=sum(j.amount for j in jobs),
        currency="RUB",
    )


def car(
    make: str | None = "KIA",
    model: str | None = "RIO",
    year: int | None = 2022,
    *,
    readings: list[OdometerReading] | None = None,
    sales: list[Sale] | None = None,
    visits: Sequence[ServiceVisit] = (),
    policies: list[InsurancePolicy] | None = None,
    owner: str = "c1",
    owner_since: date | None = None,
) -> Vehicle:
    """A car whose readings include its visits' and whose last service is its latest visit."""
    all_readings = list(readings or []) + [
        OdometerReading(at=v.closed_at, km=v.mileage_km, source="service_order") for v in visits
    ]
    owners = (
        [Ownership(customer_id=owner, since=at(owner_since), via="sale")] if owner_since else []
    )
    return Vehicle(
        vin=VIN,
        make=make,
        model=model,
        year=year,
        owners=owners,
        readings=sorted(all_readings, key=lambda r: r.at),
        sales=sales or [],
        insurance=policies or [],
        last_service_at=max((v.closed_at for v in visits), default=None),
    )
