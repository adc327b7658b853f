"""Pure, order-independent updates of a car record: applying the same facts in any order, or
twice, gives the same record (ownership by date, readings as a set, sales and policies by id)."""

from datetime import datetime

from trigly.vehicles.model import (
    MAX_READINGS,
    InsurancePolicy,
    OdometerReading,
    Ownership,
    Sale,
    Vehicle,
)

DETAIL_FIELDS = ("make", "model", "trim", "year", "plate")


def set_details(vehicle: Vehicle, stamp: str, **details: object) -> None:
    """Descriptive fields: the newest event wins per field; absent (None) changes nothing."""
    for name in DETAIL_FIELDS:
        value = details.get(name)
        if value is not None and stamp >= vehicle.stamps.get(name, ""):
            setattr(vehicle, name, value)
            vehicle.stamps[name] = stamp


def add_ownership(vehicle: Vehicle, period: Ownership) -> None:
    """Insert a period by date; the latest period is the current owner."""
    key = (period.since, period.customer_id, period.via, period.ref or "")
    if any((o.since, o.customer_id, o.via, o.ref or "") == key for o in vehicle.owners):
        return
    vehicle.owners = sorted(
        [*vehicle.owners, period], key=lambda o: (o.since, o.customer_id, o.via)
    )


def claim_if_unowned(
    vehicle: Vehicle, customer_id: str, since: datetime, via: str, ref: str
) -> None:
    """A customer servicing a car nobody owns (in our data) is taken to be its owner."""
    if not vehicle.owners:
        add_ownership(vehicle, Ownership(customer_id=customer_id, since=since, via=via, ref=ref))


def add_reading(vehicle: Vehicle, reading: OdometerReading) -> None:
    if any(r.at == reading.at and r.km == reading.km for r in vehicle.readings):
        return
    readings = sorted([*vehicle.readings, reading], key=lambda r: (r.at, r.km, r.source))
    vehicle.readings = readings[-MAX_READINGS:]


def add_sale(vehicle: Vehicle, sale: Sale) -> None:
    others = [s for s in vehicle.sales if s.deal_id != sale.deal_id]
    vehicle.sales = sorted([*others, sale], key=lambda s: (s.sold_at, s.deal_id))


def add_policy(vehicle: Vehicle, policy: InsurancePolicy, stamp: str) -> None:
    key = f"policy.{policy.policy_id}"
    if stamp < vehicle.stamps.get(key, ""):
        return
    others = [p for p in vehicle.insurance if p.policy_id != policy.policy_id]
    vehicle.insurance = sorted([*others, policy], key=lambda p: (p.ends_on, p.policy_id))
    vehicle.stamps[key] = stamp


def note_service(vehicle: Vehicle, closed_at: datetime, *, maintenance: bool) -> None:
    """A closed repair order; only a maintenance visit restarts the maintenance schedule."""
    if vehicle.last_service_at is None or closed_at > vehicle.last_service_at:
        vehicle.last_service_at = closed_at
    if maintenance and (
        vehicle.last_maintenance_at is None or closed_at > vehicle.last_maintenance_at
    ):
        vehicle.last_maintenance_at = closed_at


def replace_customer(vehicle: Vehicle, old: str, new: str) -> None:
    """Every mention of one customer on the car becomes another (a merge, or erasure's stand-in)."""
    for period in vehicle.owners:
        if period.customer_id == old:
            period.customer_id = new
    for sale in vehicle.sales:
        if sale.customer_id == old:
            sale.customer_id = new
    for policy in vehicle.insurance:
        if policy.customer_id == old:
            policy.customer_id = new
