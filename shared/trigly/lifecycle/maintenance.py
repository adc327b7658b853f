"""Next maintenance of a car: which service, at what odometer, and when (P10/P50/P90).

The service done last is the plan step whose km is nearest the odometer at the last maintenance
(a repair order with a maintenance job, else the car's last service); the next is the one after
it. It falls due at the earlier of two dates:
- by time: the last maintenance + the months between the two steps (for a car never serviced:
  the car's start + the step's months);
- by km: the day the mileage model (vehicles.mileage: the car's level learned from its readings
  over the prior of its region and make, with the season and the age decline) expects the
  odometer to reach the step's km, with P10/P90 from the model's uncertainty.
The quantiles of the earlier of the two are the earlier of each quantile and the time date.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel

from trigly.lifecycle.calendar import add_months, months_between
from trigly.lifecycle.plans import MaintenancePlan
from trigly.profiles.records import ServiceVisit
from trigly.vehicles import mileage
from trigly.vehicles.model import OdometerReading, Vehicle

MAINTENANCE = "maintenance"


class MaintenanceWindow(BaseModel):
    p10: date
    p90: date


class LastMaintenance(BaseModel):
    on: date
    km: int | None
    order_id: str | None = None


class NextMaintenance(BaseModel):
    number: int
    service: str
    due_km: int
    due_on: date  # P50: the earlier of the km-based P50 date and the time-based date
    window: MaintenanceWindow
    by: Literal["km", "time"]
    works: list[str] = []
    time_due_on: date | None = None
    km_due_on: date | None = None  # P50 of the km-based date, when the mileage is known
    last: LastMaintenance | None = None
    overdue: bool = False  # due_on is before `today`

    def view(self) -> dict[str, Any]:
        """The 360° profile's `next_maintenance` (CONTRACT §3)."""
        return {
            "due_on": self.due_on.isoformat(),
            "due_km": self.due_km,
            "window": {"p10": self.window.p10.isoformat(), "p90": self.window.p90.isoformat()},
            "service": self.service,
            "number": self.number,
        }


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def is_maintenance(visit: ServiceVisit) -> bool:
    return any(j.kind == MAINTENANCE and not j.declined for j in visit.jobs)


def car_start(vehicle: Vehicle) -> date | None:
    """When the car's life (and its plan's months) began: its sale as new, else 1 July of its
    model year, else the earliest sale or reading we know."""
    new_sales = [s.sold_at.date() for s in vehicle.sales if s.condition == "new"]
    if new_sales:
        return min(new_sales)
    if vehicle.year:
        return date(vehicle.year, 7, 1)
    known = [s.sold_at.date() for s in vehicle.sales] + [r.at.date() for r in vehicle.readings]
    if vehicle.purchased_on:
        known.append(vehicle.purchased_on)
    return min(known) if known else None


def readings_of(vehicle: Vehicle, visits: Sequence[ServiceVisit]) -> list[OdometerReading]:
    """The car's readings and its visits', deduplicated and sorted by time; a car sold new
    without a reading at its sale starts there at (almost) zero."""
    seen = {(r.at, r.km) for r in vehicle.readings}
    extra = [
        OdometerReading(at=v.closed_at, km=v.mileage_km, source="service_order")
        for v in visits
        if v.vin == vehicle.vin and (v.closed_at, v.mileage_km) not in seen
    ]
    readings = sorted([*vehicle.readings, *extra], key=lambda r: r.at)
    sold_new = [s for s in vehicle.sales if s.condition == "new"]
    if sold_new:
        first = min(sold_new, key=lambda s: s.sold_at)
        if not readings or readings[0].at > first.sold_at:
            start = OdometerReading(at=first.sold_at, km=first.mileage_km or 0, source="sale")
            readings.insert(0, start)
    return readings


def last_maintenance(
    vehicle: Vehicle, visits: Sequence[ServiceVisit], region: str | None = None
) -> LastMaintenance | None:
    done = [v for v in visits if v.vin == vehicle.vin and is_maintenance(v)]
    if done:
        latest = max(done, key=lambda v: (v.closed_at, v.order_id))
        return LastMaintenance(
            on=latest.closed_at.date(), km=latest.mileage_km, order_id=latest.order_id
        )
    at = vehicle.last_service_at
    if at is None or any(v.vin == vehicle.vin and v.closed_at == at for v in visits):
        return None  # never serviced, or its last visit is known and was not maintenance
    same_day = [r for r in vehicle.readings if abs((r.at - at).total_seconds()) < 86_400]
    if same_day:
        return LastMaintenance(on=at.date(), km=max(r.km for r in same_day))
    before = [r for r in vehicle.readings if r.at <= at]
    model = mileage.fit(before, vehicle.year, make=vehicle.make, region=region) if before else None
    return LastMaintenance(on=at.date(), km=model.km_at(at) if model else None)


def _step_done(plan: MaintenancePlan, last: LastMaintenance, start: date | None) -> int:
    if last.km is not None:
        return plan.nearest_step(last.km)
    if start is not None:  # no odometer: count the plan's months
        return max(1, round(months_between(start, last.on) / plan.interval_months))
    return 1


def _next_unserviced(plan: MaintenancePlan, floor_km: int) -> int:
    number = 1
    while plan.due(number)[0] < floor_km:
        number += 1
    return number


def next_maintenance(
    vehicle: Vehicle,
    plan: MaintenancePlan,
    today: date,
    visits: Sequence[ServiceVisit] = (),
    region: str | None = None,
) -> NextMaintenance | None:
    """The car's next scheduled service, or None when neither its mileage nor its age is known.
    Deterministic; never dated before the last maintenance. `region` (ISO 3166-2) picks the
    mileage prior of the car's region."""
    start = car_start(vehicle)
    readings = readings_of(vehicle, visits)
    model = mileage.fit(readings, vehicle.year, make=vehicle.make, region=region)
    last = last_maintenance(vehicle, visits, region)
    if last is not None:
        done = _step_done(plan, last, start)
        number = done + 1
        gap = plan.due(number)[1] - plan.due(done)[1]
        time_due: date | None = add_months(last.on, gap)
        not_before = last.on
    else:
        number = _next_unserviced(plan, model.floor_km if model else 0)
        time_due = add_months(start, plan.due(number)[1]) if start else None
        not_before = start or today
    step = plan.step(number)
    if time_due is not None:
        time_due = max(time_due, not_before)
    if model is None:
        if time_due is None:
            return None
        km_median = None
        p10 = p50 = p90 = time_due
    else:
        # The P90 rate gives the early date, P10 the late one; each capped by the time date.
        early, km_median, late = (
            max(model.reaches(step.due_km, q).date(), not_before) for q in (0.9, 0.5, 0.1)
        )
        p10, p50, p90 = (min(d, time_due) if time_due else d for d in (early, km_median, late))
    by: Literal["km", "time"] = (
        "time" if time_due is not None and (km_median is None or time_due <= km_median) else "km"
    )
    return NextMaintenance(
        number=number,
        service=step.service,
        due_km=step.due_km,
        due_on=p50,
        window=MaintenanceWindow(p10=p10, p90=p90),
        by=by,
        works=step.works,
        time_due_on=time_due,
        km_due_on=km_median,
        last=last,
        overdue=p50 < today,
    )
