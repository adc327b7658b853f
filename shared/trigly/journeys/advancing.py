"""Advancing runs: walking a run's due steps (the engine decides) with the facts they need —
the customer, their car and its service location, workshop load, prices — and carrying out
what the steps ask through the messaging core."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from trigly.journeys import catalog
from trigly.journeys.definition import Journey, SendStep
from trigly.journeys.engine import (
    Enrollment,
    Facts,
    RunStatus,
    SendAction,
    TaskAction,
    advance,
)
from trigly.lifecycle.prices import price_key
from trigly.locations.model import Location
from trigly.locations.service import locations_cached
from trigly.messaging.intent import Offer, SendIntent
from trigly.messaging.rendering import customer_variables
from trigly.messaging.timezones import resolve_zone
from trigly.platform import clock, tokens
from trigly.platform.clock import isoformat
from trigly.platform.observability import logger
from trigly.platform.tenancy import Tenant, get_tenant_cached
from trigly.profiles.model import CustomerProfile
from trigly.profiles.records import CustomerHistory
from trigly.profiles.service import load_customer
from trigly.store import journeys as store
from trigly.store.journeys import RunRef
from trigly.store.prices import quote

BOOKING_LINK_LIFETIME = timedelta(days=45)  # CONTRACT §4: at least 30 days
MAX_SAVE_ATTEMPTS = 5


def advance_run(ref: RunRef, created: tuple[str, int] | None = None) -> None:
    """Walk the run's due steps and carry out what they ask; safe to repeat at any point.
    `created`: the run as just written (document, version), so it is not read back."""
    for _ in range(MAX_SAVE_ATTEMPTS):
        loaded, created = created or store.load_run(ref), None
        if loaded is None:
            return
        run = Enrollment.model_validate_json(loaded[0])
        if not run.active:
            return
        tenant = get_tenant_cached(ref.tenant_id)
        now = clock.now()
        customer = load_customer(tenant.tenant_id, run.customer_id)
        if customer is None:  # erased meanwhile
            run.status, run.due_at, run.exit_reason = RunStatus.EXITED, None, "customer_gone"
            after, actions = run, list[SendAction | TaskAction]()
        else:
            journey = catalog.journeys_cached(ref.tenant_id).get(
                run.journey_id
            ) or catalog.get_journey(ref.tenant_id, run.journey_id)
            facts = _facts(tenant, run, *customer, paced=_paced(journey))
            after, actions = advance(journey, run, facts, now)
            for action in actions:
                _carry_out(tenant, after, action, facts)
        if after == run:
            return
        try:
            store.save_run(ref, after.model_dump_json(), loaded[1], after.due_at)
        except store.StaleEnrollment:
            continue  # someone advanced it meanwhile: look again (actions are idempotent)
        return
    raise store.StaleEnrollment(ref.sk)


def service_location(
    tenant: Tenant, profile: CustomerProfile, history: CustomerHistory, vin: str | None
) -> Location | None:
    """Where the car is serviced: the customer's own location, else where the car was last
    serviced, else the tenant's first location that takes bookings."""
    known = locations_cached(tenant.tenant_id)
    wanted = [profile.location_id, *(v.location_id for v in history.visits if v.vin == vin)]
    for location_id in wanted:
        found = known.get(location_id or "")
        if found is not None and found.capacity is not None:
            return found
    return next((loc for loc in known.values() if loc.capacity), None)


def _paced(journey: Journey) -> bool:
    return any(isinstance(s, SendStep) and s.pace_by_capacity for s in journey.steps)


PACING_DAYS = 7


def workshop_load(tenant_id: str, location: Location, now: datetime) -> dict[str, Any] | None:
    """How full the location's next week is (one Query of its slots): `free_share` of its
    places and `free_by_day`, the free places of each day from tomorrow — paced sends spread
    over the days in proportion to it."""
    from trigly.booking.slots import days_ahead, free_share
    from trigly.store import slots as slot_store

    if location.capacity is None:
        return None
    zone = ZoneInfo(location.timezone)
    today = now.astimezone(zone).date()
    taken = slot_store.booked_slots(
        tenant_id, location.location_id, today, today + timedelta(days=PACING_DAYS)
    )
    loads = days_ahead(location.capacity, zone, taken, now, PACING_DAYS)
    return {"free_share": free_share(loads), "free_by_day": [load.free for load in loads]}


def _facts(
    tenant: Tenant,
    run: Enrollment,
    profile: CustomerProfile,
    history: CustomerHistory,
    *,
    paced: bool = False,
) -> Facts:
    values: dict[str, Any] = {
        "customer": customer_variables(profile),
        "event": run.subject,
        "maintenance": {k: run.subject.get(k) for k in ("service", "due_km", "due_on", "price")},
    }
    car = next((c for c in history.cars if c.vin == run.vin), None)
    if car is not None:
        values["car"] = car.model_dump(mode="json")
        number = run.subject.get("number")
        if isinstance(number, int):
            values["maintenance"]["price"] = quote(
                tenant.tenant_id, price_key(car.make, car.model, number)
            )
    appointment_id = run.subject.get("appointment_id")
    appointment = next(
        (a for a in history.appointments if a.appointment_id == appointment_id), None
    )
    values |= _trigger_values(run, history)
    location_id = appointment.location_id if appointment else None
    location_id = location_id or run.subject.get("location_id")  # a test drive's, a sale's
    location = locations_cached(tenant.tenant_id).get(location_id or "")
    if location is None:
        location = service_location(tenant, profile, history, run.vin)
    values["location"] = None  # templates guard it: `{% if location and location.phone %}`
    if location is not None:
        values["location"] = {
            "id": location.location_id,
            "name": location.name,
            "address": location.address,
            "phone": location.phone,
        }
        if paced:
            values["workshop"] = workshop_load(tenant.tenant_id, location, clock.now())
    if appointment is not None:
        values["appointment"] = {
            **appointment.model_dump(mode="json", exclude_none=True),
            "starts_at": isoformat(appointment.starts_at),
            "lead_hours": (appointment.starts_at - run.enrolled_at).total_seconds() / 3600,
            "moved_from": appointment.moved_from,  # a booking moved through its link
        }
    zone = resolve_zone(
        profile,
        location_timezone=location.timezone if location else None,
        tenant_timezone=tenant.timezone,
    ).zone
    return Facts(
        zone=zone,
        values=values,
        appointments=history.appointments,
        visits=history.visits,
        purchases=history.purchases,
        test_drives=history.test_drives,
    )


_SUBJECT_GROUPS = {
    # group: (the subject field that says the run is about one, the fields templates see)
    "sale": ("deal_id", ("deal_id", "make", "model", "year", "condition", "sold_at")),
    "order": ("order_id", ("order_id", "status", "eta")),
}


def _trigger_values(run: Enrollment, history: CustomerHistory) -> dict[str, Any]:
    """What the run's trigger is about, for conditions, waits and templates: `run.age_hours`
    (how long ago the trigger happened: playbooks exit on a stale one), the test drive, the
    sale, the car order, the showroom visit or the milestone. Every key is present (none when
    not sent), so strict templates can test it."""
    subject = run.subject
    values: dict[str, Any] = {
        "run": {"age_hours": (clock.now() - run.enrolled_at).total_seconds() / 3600}
    }
    for group, (marker, fields) in _SUBJECT_GROUPS.items():
        if subject.get(marker) is not None and (group != "order" or "status" in subject):
            values[group] = {k: subject.get(k) for k in fields}
    if subject.get("booking_id") is not None:
        drive = next(
            (d for d in history.test_drives if d.booking_id == subject["booking_id"]), None
        )
        starts_at = drive.starts_at if drive else _moment_of(subject.get("starts_at"))
        values["test_drive"] = {
            "booking_id": subject["booking_id"],
            "model": drive.model if drive else subject.get("model"),
            "status": drive.status if drive else subject.get("status"),
            "starts_at": isoformat(starts_at) if starts_at else None,
            "lead_hours": (starts_at - run.enrolled_at).total_seconds() / 3600
            if starts_at
            else None,
        }
    if subject.get("visit_id") is not None:
        interest = subject.get("interest") or {}
        values["visit"] = {
            "visit_id": subject["visit_id"],
            "outcome": subject.get("outcome"),
            "reason": subject.get("reason"),
            "model": interest.get("model"),
            "condition": interest.get("condition"),
            "budget": interest.get("budget"),
        }
    if subject.get("due_on") is not None:  # a date trigger: the milestone's details
        values["milestone"] = dict(subject)
    return values


def _moment_of(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def booking_link(tenant_id: str, run: Enrollment, moment: datetime) -> str:
    claims = {"t": tenant_id, "c": run.customer_id, "p": "booking", "v": run.vin}
    return tokens.link(claims, moment + BOOKING_LINK_LIFETIME)


def _carry_out(
    tenant: Tenant, run: Enrollment, action: SendAction | TaskAction, facts: Facts
) -> None:
    from trigly.messaging import service as messaging

    if isinstance(action, TaskAction):
        logger.info("journey task", extra={"journey": run.journey_id, "step": action.step.id})
        return
    step = action.step
    links = {"booking": booking_link(tenant.tenant_id, run, action.moment)} if step.links else {}
    variables = {
        k: facts.values[k]
        for k in (
            "car",
            "maintenance",
            "location",
            "appointment",
            "test_drive",
            "sale",
            "order",
            "visit",
            "milestone",
        )
        if k in facts.values
    }
    intent = SendIntent(
        customer_id=run.customer_id,
        purpose=step.purpose,
        kind=step.kind,
        template_id=step.template_id,
        variables=variables,
        channels=step.channels,
        only_listed_channels=step.only_listed_channels,
        priority=step.priority,
        idempotency_key=action.idempotency_key,
        when_held=step.when_held,
        offer=Offer(offer_id=step.offer_id) if step.offer_id else None,
        links=links,
    )
    message = messaging.send(tenant, intent)
    for transition in reversed(run.history):
        if transition.step == step.id and transition.outcome == "sent":
            transition.detail = message.message_id
            break
