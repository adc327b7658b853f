"""Applying car events: the car record, its technical history, and each owner's view of it.

Reads per event: the DMS-id lookup and the car record, both by key; the customer's profile is
not read. Every write is a put of a deterministic item, so a redelivered event changes nothing.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

from trigly.events.service import ServiceOrderClosed
from trigly.events.vehicles import InsurancePolicy as InsurancePolicyEvent
from trigly.events.vehicles import VehicleOdometer, VehicleRegistered, VehicleSold
from trigly.platform import clock
from trigly.platform.clock import isoformat
from trigly.platform.errors import NotFound
from trigly.platform.tenancy import Tenant
from trigly.profiles import service as profiles
from trigly.profiles.ordering import EventContext
from trigly.profiles.records import CustomerVehicle, Purchase, ServiceVisit, VisitJob, VisitPart
from trigly.profiles.views import visit_view
from trigly.store import prices
from trigly.store import vehicles as store
from trigly.vehicles import history
from trigly.vehicles.mileage import estimate, fit
from trigly.vehicles.model import (
    DEALER,
    Financing,
    InsurancePolicy,
    OdometerReading,
    Ownership,
    Sale,
    Vehicle,
)
from trigly.vehicles.vin import decode_vin, normalize_vehicle_id
from trigly.vehicles.warranty import warranty_ends_on

MAX_SAVE_ATTEMPTS = 5


def update_vehicle(
    tenant_id: str, vin: str, change: Callable[[Vehicle], None]
) -> tuple[Vehicle | None, Vehicle]:
    """Read, change and save the car record with optimistic locking; (before, after). The car's
    journey starts are recomputed with every change and saved with it (journeys.triggers)."""
    from trigly.journeys import triggers

    today = clock.now().date()
    for _ in range(MAX_SAVE_ATTEMPTS):
        loaded = store.load_vehicle_item(tenant_id, vin)
        before, version, placed = loaded if loaded else (None, None, None)
        after = before.model_copy(deep=True) if before else Vehicle(vin=vin)
        change(after)
        starts = triggers.car_schedule(tenant_id, after, today)
        # The next maintenance's start rides on the record itself; the others are trigger items.
        carried_id = triggers.carried_journey(tenant_id)
        carried = starts.pop(carried_id) if carried_id in starts else None
        after.due_start = carried.model_dump(mode="json") if carried else None
        after.schedule = {k: v.digest() for k, v in starts.items()}
        if before is not None and after == before:
            return before, after
        due = triggers.carried_due(tenant_id, carried, before.due_start if before else None, placed)
        try:
            store.save_vehicle(tenant_id, after, version, due)
        except store.StaleVehicle:
            continue
        # A start carried now but kept as a trigger item before is taken off here (not in
        # `starts`), so it is never on the index twice.
        triggers.sync_car(tenant_id, vin, before.schedule if before else {}, starts)
        return before, after
    raise store.StaleVehicle(vin)


def _periods(vehicle: Vehicle | None) -> dict[str, tuple[datetime, datetime | None]]:
    if vehicle is None:
        return {}
    return {
        o.customer_id: span
        for o in vehicle.owners
        if o.customer_id != DEALER and (span := vehicle.ownership_of(o.customer_id)) is not None
    }


def customer_view(
    tenant_id: str, vehicle: Vehicle, since: datetime, until: datetime | None
) -> CustomerVehicle:
    new_sale = next((s for s in vehicle.sales if s.condition == "new"), None)
    financing_ends = [
        s.financing.ends_on for s in vehicle.sales if s.financing and s.financing.ends_on
    ]
    # The maintenance model loads with the first car event, not with every function using cars.
    from trigly.journeys.triggers import car_region
    from trigly.lifecycle.maintenance import next_maintenance
    from trigly.vehicles.plans import plan_of

    # The region the journeys use too (cached locations: no read), so the profile's date and
    # the reminder's agree.
    region = car_region(tenant_id, vehicle)
    model = fit(vehicle.readings, vehicle.year, make=vehicle.make, region=region)
    last = vehicle.last_reading
    upcoming = next_maintenance(
        vehicle.as_maintained(),
        plan_of(tenant_id, vehicle.make, vehicle.model),
        clock.now().date(),
        region=region,
    )
    return CustomerVehicle(
        next_maintenance=upcoming.view() if upcoming else None,
        vin=vehicle.vin,
        make=vehicle.make,
        model=vehicle.model,
        trim=vehicle.trim,
        year=vehicle.year,
        plate=vehicle.plate,
        since=since,
        until=until,
        mileage_km=vehicle.mileage_km,
        last_reading_at=last.at if last else None,
        daily_km=round(model.daily_km, 2) if model else None,
        mileage_level=round(model.level, 3) if model else None,
        mileage_born=model.born if model else None,
        last_service_at=vehicle.last_service_at,
        sold_at=vehicle.sales[-1].sold_at if vehicle.sales else None,
        financing_ends_on=max(financing_ends) if financing_ends else None,
        insurance_ends_on=max((p.ends_on for p in vehicle.insurance), default=None),
        warranty_ends_on=warranty_ends_on(vehicle.make, new_sale.sold_at.date())
        if new_sale
        else None,
    )


def refresh_owner_views(tenant_id: str, before: Vehicle | None, after: Vehicle) -> None:
    """Rewrite the `CAR#` record of the current owner and of anyone whose period changed."""
    old, new = _periods(before), _periods(after)
    owner = after.owner_id
    for customer_id, (since, until) in new.items():
        if customer_id == owner or old.get(customer_id) != (since, until):
            store.put_customer_records(
                tenant_id,
                customer_id,
                [(CustomerVehicle.sk(after.vin), customer_view(tenant_id, after, since, until))],
            )


def _at_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def apply_vehicle_sold(tenant: Tenant, ctx: EventContext, event: VehicleSold) -> str | None:
    customer_id = profiles.resolve_customer(tenant, ctx.connector_id, event.customer_external_id)
    currency = event.currency or tenant.currency
    sale = Sale(
        deal_id=event.deal_id,
        customer_id=customer_id,
        sold_at=event.sold_at,
        price=float(event.price),
        currency=currency,
        condition=event.condition,
        mileage_km=event.mileage_km,
        financing=Financing.model_validate(event.financing.model_dump())
        if event.financing
        else None,
        location_id=event.location_id,
        salesperson=event.salesperson,
    )

    def change(vehicle: Vehicle) -> None:
        history.set_details(
            vehicle,
            ctx.stamp,
            make=event.make,
            model=event.model,
            trim=event.trim,
            year=event.year,
            plate=event.plate,
        )
        history.add_ownership(
            vehicle,
            Ownership(customer_id=customer_id, since=event.sold_at, via="sale", ref=event.deal_id),
        )
        history.add_sale(vehicle, sale)
        if event.mileage_km is not None:
            history.add_reading(
                vehicle, OdometerReading(at=event.sold_at, km=event.mileage_km, source="sale")
            )

    before, after = update_vehicle(tenant.tenant_id, event.vin, change)
    purchase = Purchase(
        deal_id=event.deal_id,
        vin=event.vin,
        make=event.make,
        model=event.model,
        year=event.year,
        sold_at=event.sold_at,
        price=float(event.price),
        currency=currency,
        condition=event.condition,
        location_id=event.location_id,
        salesperson=event.salesperson,
        trade_in_vin=event.trade_in_vin,
    )
    store.put_customer_records(
        tenant.tenant_id, customer_id, [(Purchase.sk(event.sold_at, event.deal_id), purchase)]
    )
    refresh_owner_views(tenant.tenant_id, before, after)
    if event.trade_in_vin:
        # The traded-in car leaves its owner for the dealer's stock on the day of the deal.
        trade_in = Ownership(
            customer_id=DEALER, since=event.sold_at, via="trade_in", ref=event.deal_id
        )
        before, after = update_vehicle(
            tenant.tenant_id, event.trade_in_vin, lambda v: history.add_ownership(v, trade_in)
        )
        refresh_owner_views(tenant.tenant_id, before, after)
    return customer_id


def apply_vehicle_registered(
    tenant: Tenant, ctx: EventContext, event: VehicleRegistered
) -> str | None:
    customer_id = profiles.resolve_customer(tenant, ctx.connector_id, event.customer_external_id)
    stamp, occurred_at = ctx.stamp, ctx.occurred_at
    since = _at_midnight(event.purchased_on) if event.purchased_on else occurred_at

    def change(vehicle: Vehicle) -> None:
        history.set_details(
            vehicle, stamp, make=event.make, model=event.model, year=event.year, plate=event.plate
        )
        history.add_ownership(
            vehicle, Ownership(customer_id=customer_id, since=since, via="registration")
        )
        if event.purchased_on:
            vehicle.purchased_on = event.purchased_on
        if event.mileage_km is not None:
            history.add_reading(
                vehicle, OdometerReading(at=occurred_at, km=event.mileage_km, source="registration")
            )

    before, after = update_vehicle(tenant.tenant_id, event.vin, change)
    refresh_owner_views(tenant.tenant_id, before, after)
    return customer_id


def apply_service_order_closed(
    tenant: Tenant, ctx: EventContext, event: ServiceOrderClosed
) -> str | None:
    customer_id = profiles.resolve_customer(tenant, ctx.connector_id, event.customer_external_id)

    def change(vehicle: Vehicle) -> None:
        history.set_details(vehicle, ctx.stamp, plate=event.plate)
        history.claim_if_unowned(vehicle, customer_id, event.closed_at, "service", event.order_id)
        history.add_reading(
            vehicle,
            OdometerReading(at=event.closed_at, km=event.mileage_km, source="service_order"),
        )
        history.note_service(
            vehicle,
            event.closed_at,
            maintenance=any(j.kind == "maintenance" and not j.declined for j in event.jobs),
        )

    before, after = update_vehicle(tenant.tenant_id, event.vin, change)
    visit = ServiceVisit(
        order_id=event.order_id,
        vin=event.vin,
        opened_at=event.opened_at,
        closed_at=event.closed_at,
        mileage_km=event.mileage_km,
        jobs=[VisitJob.model_validate(j.model_dump()) for j in event.jobs],
        parts=[VisitPart.model_validate(p.model_dump()) for p in event.parts or []],
        total_amount=float(event.total_amount),
        currency=event.currency or tenant.currency,
        location_id=event.location_id,
        advisor=event.advisor,
        loyalty_points_redeemed=event.loyalty_points_redeemed,
    )
    sk = ServiceVisit.sk(event.closed_at, event.order_id)
    store.put_customer_records(tenant.tenant_id, customer_id, [(sk, visit)])
    from trigly.lifecycle.prices import price_from_visit
    from trigly.vehicles.plans import plan_of

    plan = plan_of(tenant.tenant_id, after.make, after.model)
    learnt = price_from_visit(visit, after.make, after.model, plan)
    if learnt is not None:  # reminders quote what this service last cost on this model
        prices.learn_price(tenant.tenant_id, *learnt, at=isoformat(event.closed_at))
    # The car keeps its technical history without the person (it survives the owner's erasure).
    store.put_vehicle_records(
        tenant.tenant_id,
        event.vin,
        [(sk, visit.model_copy(update={"advisor": None, "loyalty_points_redeemed": None}))],
    )
    refresh_owner_views(tenant.tenant_id, before, after)
    return customer_id


def apply_vehicle_odometer(tenant: Tenant, ctx: EventContext, event: VehicleOdometer) -> str | None:
    reading = OdometerReading(at=event.at, km=event.mileage_km, source=event.source)

    def change(vehicle: Vehicle) -> None:
        history.set_details(vehicle, ctx.stamp, plate=event.plate)
        history.add_reading(vehicle, reading)

    before, after = update_vehicle(tenant.tenant_id, event.vin, change)
    refresh_owner_views(tenant.tenant_id, before, after)
    return after.owner_id if after.owner_id != DEALER else None


def apply_insurance_policy(
    tenant: Tenant, ctx: EventContext, event: InsurancePolicyEvent
) -> str | None:
    customer_id = profiles.resolve_customer(tenant, ctx.connector_id, event.customer_external_id)
    policy = InsurancePolicy(
        policy_id=event.policy_id, kind=event.kind, ends_on=event.ends_on, customer_id=customer_id
    )
    before, after = update_vehicle(
        tenant.tenant_id, event.vin, lambda v: history.add_policy(v, policy, ctx.stamp)
    )
    refresh_owner_views(tenant.tenant_id, before, after)
    return customer_id


def vehicle_view(tenant: Tenant, raw_vin: str) -> dict[str, Any]:
    """The car record (CONTRACT §1a shapes): details, owners, readings, sales, policies, visits."""
    try:
        vin = normalize_vehicle_id(raw_vin)
    except ValueError as exc:
        raise NotFound("No such vehicle.") from exc
    vehicle, visit_docs = store.read_vehicle_collection(tenant.tenant_id, vin)
    if vehicle is None:
        raise NotFound("No such vehicle.")
    now = clock.now()
    decoded = decode_vin(vin)
    from trigly.journeys.triggers import car_region

    estimated = estimate(
        vehicle.readings,
        vehicle.year or decoded.year,
        now,
        make=vehicle.make or decoded.make,
        region=car_region(tenant.tenant_id, vehicle),
    )
    return {
        "vin": vehicle.vin,
        "make": vehicle.make or decoded.make,
        "model": vehicle.model,
        "trim": vehicle.trim,
        "year": vehicle.year or decoded.year,
        "plate": vehicle.plate,
        "owner_customer_id": vehicle.owner_id if vehicle.owner_id not in (DEALER, None) else None,
        "in_dealer_stock": vehicle.owner_id == DEALER,
        "owners": [
            {"customer_id": o.customer_id, "since": isoformat(o.since), "via": o.via}
            for o in reversed(vehicle.owners)
        ],
        "mileage_km": vehicle.mileage_km,
        "estimated_mileage_km": estimated.km if estimated else None,
        "estimated_mileage_sd_km": estimated.sd_km if estimated else None,
        "daily_km": estimated.daily_km if estimated else None,
        "readings": [
            {"at": isoformat(r.at), "km": r.km, "source": r.source}
            for r in reversed(vehicle.readings)
        ],
        "sales": [
            {**s.model_dump(mode="json", exclude={"customer_id"}), "sold_at": isoformat(s.sold_at)}
            for s in reversed(vehicle.sales)
        ],
        "insurance": [
            {"policy_id": p.policy_id, "kind": p.kind, "ends_on": p.ends_on.isoformat()}
            for p in vehicle.insurance
        ],
        "last_service_at": isoformat(vehicle.last_service_at) if vehicle.last_service_at else None,
        "visits": [visit_view(ServiceVisit.model_validate_json(doc)) for doc in visit_docs],
    }
