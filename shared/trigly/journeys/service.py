"""Journeys at work: starting runs (from domain events and date triggers), advancing them when a
step falls due, and carrying out their actions through the messaging core.

Everything arrives through the journey queue, so no job runs long and every piece is retried on
its own: the daily job and the hourly tick only read what is due and queue it; the bus sends
every domain event there too (an EventBridge rule). Runs are keyed, sends are keyed, and the
engine is deterministic, so a redelivered queue message or a replayed event changes nothing.
"""

import json
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from trigly.journeys import catalog, triggers
from trigly.journeys.definition import EventTrigger, Journey, SendStep
from trigly.journeys.engine import (
    Enrollment,
    Facts,
    RunStatus,
    SendAction,
    TaskAction,
    advance,
    start,
)
from trigly.lifecycle.prices import price_key
from trigly.locations.model import Location
from trigly.locations.service import locations_cached
from trigly.messaging.intent import Offer, SendIntent
from trigly.messaging.rendering import customer_variables
from trigly.messaging.timezones import resolve_zone
from trigly.platform import aws, clock, tokens
from trigly.platform.clock import isoformat
from trigly.platform.observability import logger
from trigly.platform.settings import get_settings
from trigly.platform.tenancy import Tenant, get_tenant_cached, list_tenant_ids_cached
from trigly.profiles.model import CustomerProfile
from trigly.profiles.records import CustomerHistory
from trigly.profiles.service import load_customer
from trigly.store import journeys as store
from trigly.store.journeys import RunRef
from trigly.store.prices import quote

BOOKING_LINK_LIFETIME = timedelta(days=45)  # CONTRACT §4: at least 30 days
MORNING_HOUR = 10  # the daily job hands a tenant's due triggers over at 10:00 local time
MAX_SAVE_ATTEMPTS = 5


# --- the queue --------------------------------------------------------------------------------


def enqueue(bodies: list[dict[str, Any]]) -> None:
    aws.send_all(
        get_settings().journey_queue_url, [json.dumps(b) for b in bodies], "journey messages"
    )


def handle(body: str) -> None:
    """One journey-queue message: a bus event, a tenant's day, a fired date trigger, or what the
    hourly tick found due (a run whose wait ended, a held message, a fallback to look at)."""
    message = json.loads(body)
    if "detail-type" in message:  # an EventBridge envelope
        on_domain_event(message["detail"])
    elif message["kind"] == "tenant_day":
        days = [date.fromisoformat(day) for day in message["days"]]
        queue_due_triggers(message["tenant_id"], days)
    elif message["kind"] == "trigger":
        start_from_trigger(
            message["tenant_id"], message["owner_pk"], message["journey_id"], message["partition"]
        )
    elif message["kind"] == "run":
        advance_run(RunRef(message["tenant_id"], message["customer_id"], message["sk"]))
    elif message["kind"] in ("held_message", "fallback"):  # the tick's, for the messaging core
        from trigly.messaging import service as messaging
        from trigly.store.messages import MessageRef

        ref = MessageRef(message["tenant_id"], message["customer_id"], message["sk"])
        if message["kind"] == "held_message":
            messaging.release_held(ref)
        else:
            messaging.follow_up(ref)


# --- scheduled reads: only what is due --------------------------------------------------------


def mornings(after: datetime, through: datetime) -> list[dict[str, Any]]:
    """One day's job (a journey message) per tenant whose local 10:00 came in
    (`after`, `through`]: the hours the tick covered, so a missed tick's mornings are caught up
    by the next and each morning is queued by one tick only. The job names the days of those
    mornings and the day before the first (a trigger written after that day's job ran); the
    journey worker reads the tenant's due partitions, so the tick stays short however many
    tenants share the hour."""
    bodies = []
    for tenant_id in list_tenant_ids_cached():
        zone = ZoneInfo(get_tenant_cached(tenant_id).timezone)
        day = after.astimezone(zone).date()
        days = []
        while day <= through.astimezone(zone).date():
            if after < datetime.combine(day, time(MORNING_HOUR), zone) <= through:
                days.append(day)
            day += timedelta(days=1)
        if days:
            days.insert(0, days[0] - timedelta(days=1))
            named = [d.isoformat() for d in days]
            bodies.append({"kind": "tenant_day", "tenant_id": tenant_id, "days": named})
    return bodies


def queue_due_triggers(tenant_id: str, days: list[date]) -> int:
    """A tenant's day: every date trigger due on these days, one journey message each (each is
    retried on its own). Reads only the days' partitions of the `due` index."""
    bodies = []
    for day in days:
        partition = store.trigger_partition(tenant_id, day)
        for owner_pk, journey_id in store.due_triggers(tenant_id, day):
            bodies.append(
                {
                    "kind": "trigger",
                    "tenant_id": tenant_id,
                    "owner_pk": owner_pk,
                    "journey_id": journey_id,
                    "partition": partition,
                }
            )
    enqueue(bodies)
    return len(bodies)


# --- starting runs ----------------------------------------------------------------------------


def start_from_trigger(tenant_id: str, owner_pk: str, journey_id: str, partition: str) -> None:
    loaded = store.get_trigger(owner_pk, journey_id)
    if loaded is None or loaded[1] != partition:
        return  # moved to another day or removed since the job read it
    scheduled = json.loads(loaded[0])
    tenant = get_tenant_cached(tenant_id)
    journey = catalog.journeys_cached(tenant_id).get(journey_id)
    if journey is not None and journey.enabled:
        subject = {
            "due_on": scheduled["due_on"],
            "vin": scheduled.get("vin"),
            **scheduled.get("details", {}),
        }
        enroll(
            tenant,
            journey,
            key=scheduled["key"],
            customer_id=scheduled["customer_id"],
            vin=scheduled.get("vin"),
            subject=subject,
        )
    following = triggers.next_customer_start(tenant_id, triggers.ScheduledStart(**scheduled))
    if following is None:
        store.take_trigger(owner_pk, journey_id, partition)
    else:  # moves it off today's partition to next year's
        store.put_trigger(
            tenant_id, owner_pk, journey_id, following.model_dump_json(), following.fire_on
        )


def _matches(trigger: EventTrigger, data: dict[str, Any]) -> bool:
    return all(data.get(name) == value for name, value in trigger.where.items())


def on_domain_event(detail: dict[str, Any]) -> None:
    """Start the journeys this event triggers, then let the customer's runs that wait for (or
    exit on) such an event look again at once."""
    tenant_id, customer_id = detail["tenant_id"], detail.get("customer_id")
    if not customer_id:
        return
    event_type, data = detail["type"], detail.get("data", {})
    tenant = get_tenant_cached(tenant_id)
    started: set[str] = set()
    for journey, trigger in catalog.event_journeys(tenant_id, event_type):
        if not _matches(trigger, data) or any(data.get(k) is None for k in trigger.key):
            continue
        key = ":".join(str(data[k]) for k in trigger.key)
        ref = enroll(
            tenant,
            journey,
            key=key,
            customer_id=customer_id,
            vin=data.get("vin"),
            subject={**data, "event_id": detail.get("id")},
            at=datetime.fromisoformat(detail["occurred_at"]),
        )
        started.add(ref.sk)
    interested = {
        j.journey_id
        for j in catalog.journeys_cached(tenant_id).values()
        if any(event_type in g.events for g in _goals(j))
    }
    if not interested:
        return
    for ref, doc in store.customer_runs(tenant_id, customer_id):
        run = Enrollment.model_validate_json(doc)
        if run.active and run.journey_id in interested and ref.sk not in started:
            advance_run(ref)


def _goals(journey: Journey) -> set[Any]:
    goals = set(journey.exit_when)
    goals |= {s.goal for s in journey.steps if s.type == "wait_for"}
    return goals


def enroll(
    tenant: Tenant,
    journey: Journey,
    *,
    key: str,
    customer_id: str,
    vin: str | None,
    subject: dict[str, Any],
    at: datetime | None = None,
) -> RunRef:
    """Start a run once per key (a replayed trigger finds it and does nothing more); with
    `reentry: after_exit` a key whose last run ended starts a new run."""
    now = clock.now()
    ref = RunRef.of(tenant.tenant_id, customer_id, journey.journey_id, key)
    run = start(journey, key=key, customer_id=customer_id, vin=vin, subject=subject, at=at or now)
    doc = run.model_dump_json()
    version = store.create_run(ref, doc, run.due_at)
    if version is not None:
        logger.info("journey started", extra={"journey": journey.journey_id})
        advance_run(ref, created=(doc, version))
        return ref
    if journey.reentry == "after_exit":
        loaded = store.load_run(ref)
        if loaded is not None:
            previous = Enrollment.model_validate_json(loaded[0])
            fresh_trigger = subject.get("event_id") != previous.subject.get("event_id")
            if not previous.active and fresh_trigger:
                again = start(
                    journey,
                    key=key,
                    customer_id=customer_id,
                    vin=vin,
                    subject=subject,
                    at=at or now,
                    run=previous.run + 1,
                )
                again.history = previous.history + again.history
                try:
                    store.save_run(ref, again.model_dump_json(), loaded[1], again.due_at)
                except store.StaleEnrollment:
                    return ref
                advance_run(ref)
    return ref


# --- advancing runs ---------------------------------------------------------------------------


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
