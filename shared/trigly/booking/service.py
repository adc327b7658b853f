"""Booking a service visit from a customer link (CONTRACT §4).

The page shows the car, the work due, its price and the free slots of the location that services
the car. Booking takes a place in the slot with one conditional update (never more cars than
posts), records the appointment in the customer's profile, tells the DMS
(`service_appointment.booked`, CONTRACT §2b) and puts a `service_appointment.changed` domain
event on the bus — the journeys react to it: the booking confirmation and the day-before
reminder start, the maintenance reminder's nudges stop. A resubmitted form books once.

One link books one visit of its car: another slot posted to it moves the booking. The new place
is taken first (a full slot leaves the old booking as it was), the new booking's record claims
its id (the car's next booking: two slots posted at once from one link cannot both win), then
the old booking is cancelled (its place freed, the DMS hears `service_appointment.cancelled`,
its journey run ends before its day-before reminder) and the new one announced (`.booked`,
`moved_from` naming the old one): the customer gets one confirmation, of the new time, worded
as a move.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from trigly.booking.slots import DAYS_SHOWN, Slot, containing_slot, free_slots, slot_key
from trigly.journeys.advancing import service_location
from trigly.locations.model import Location
from trigly.locations.service import get_location
from trigly.outbound import bus
from trigly.outbound.queue import send_to_connectors
from trigly.platform import clock
from trigly.platform.clock import isoformat
from trigly.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from trigly.platform.tenancy import Tenant
from trigly.profiles.model import known_external_ids
from trigly.profiles.records import Appointment, CustomerHistory, CustomerVehicle
from trigly.profiles.service import load_customer
from trigly.store import slots as slot_store
from trigly.store import vehicles as record_store
from trigly.store.messages import MessageRef

SOURCE = "trigly"


class SlotTaken(Conflict):
    """The slot filled up between showing the page and posting the form (`409`)."""


class BookingChanged(Conflict):
    """Another post from the same link booked a different time first (the page shows it)."""


@dataclass(frozen=True)
class BookingOffer:
    car: CustomerVehicle
    service: str | None
    price: float | None
    location: Location
    zone: ZoneInfo
    slots: list[Slot]
    booked: Appointment | None  # an upcoming booking of this car made through Trigly
    moved_away: list[Appointment]  # bookings moved from but not yet cancelled (a move cut short)
    earlier_bookings: int  # this car's bookings made through Trigly so far (any status)
    external_ids: list[tuple[str, str]]  # (connector, the DMS's customer id)


def _zone(location: Location) -> ZoneInfo:
    return ZoneInfo(location.timezone)


def _price(tenant: Tenant, car: CustomerVehicle) -> float | None:
    from trigly.lifecycle.prices import price_key
    from trigly.store.prices import quote

    upcoming = car.next_maintenance or {}
    number = upcoming.get("number")
    if not isinstance(number, int):
        return None
    return quote(tenant.tenant_id, price_key(car.make, car.model, number))


def _car(history: CustomerHistory, vin: str | None, any_car: bool) -> CustomerVehicle | None:
    """The link's car; a link that names none (a campaign message's) books the customer's car
    whose maintenance is due first (the first of their cars when none is due)."""
    cars = [c for c in history.cars if c.until is None]
    if vin is not None or not any_car:
        return next((c for c in cars if c.vin == vin), None)

    def due(car: CustomerVehicle) -> str:
        upcoming = car.next_maintenance or {}
        return str(upcoming.get("due_on") or "9999")

    return min(cars, key=due, default=None)


def booking_offer(
    tenant: Tenant, customer_id: str, vin: str | None, *, any_car: bool = False
) -> BookingOffer:
    loaded = load_customer(tenant.tenant_id, customer_id)
    if loaded is None:
        raise NotFound("No such link.")
    profile, history = loaded
    car = _car(history, vin, any_car)
    if car is None:
        raise NotFound("No such car.")  # sold on since the link went out
    vin = car.vin
    location = service_location(tenant, profile, history, vin)
    if location is None or location.capacity is None:
        raise NotFound("No location takes bookings.")
    zone, now = _zone(location), clock.now()
    ours = [a for a in history.appointments if a.vin == vin and a.source == SOURCE]
    upcoming_bookings = [a for a in ours if a.status == "booked" and a.starts_at > now]
    # The booking a move led to; one it moved from still booked is a move cut short (a crash
    # between writing the new booking and cancelling the old): the next post finishes it.
    moved_away = {a.moved_from for a in upcoming_bookings}
    booked = next((a for a in upcoming_bookings if a.appointment_id not in moved_away), None)
    unfinished = [a for a in upcoming_bookings if a.appointment_id in moved_away]
    upcoming = car.next_maintenance or {}
    return BookingOffer(
        car=car,
        service=upcoming.get("service"),
        price=_price(tenant, car),
        location=location,
        zone=zone,
        slots=_free(tenant, location, now),
        booked=booked,
        moved_away=unfinished,
        earlier_bookings=len(ours),
        external_ids=known_external_ids(profile),
    )


def _free(tenant: Tenant, location: Location, now: datetime) -> list[Slot]:
    """Capacity minus bookings over the days shown: one Query of the location's slots."""
    if location.capacity is None:
        return []
    zone = _zone(location)
    today = now.astimezone(zone).date()
    taken = slot_store.booked_slots(
        tenant.tenant_id, location.location_id, today, today + timedelta(days=DAYS_SHOWN + 1)
    )
    return free_slots(location.capacity, zone, taken, now)


def location_slots(tenant: Tenant, location_id: str) -> list[Slot]:
    """The free slots of a location for the next two weeks (the API's view of capacity)."""
    return _free(tenant, get_location(tenant.tenant_id, location_id), clock.now())


def appointment_id_for(tenant_id: str, customer_id: str, vin: str | None, earlier: int) -> str:
    """The car's next booking made here: `earlier` counts those before it. Posts made from the
    same page state (a double submit, two slots tapped at once) share the id and its record is
    written once; a booking made again after a cancel or a move gets its own id, so the DMS and
    the journeys never take it for the old one."""
    digest = hashlib.sha256(f"{tenant_id}|{customer_id}|{vin}|{earlier}".encode()).hexdigest()
    return f"trg-{digest[:16]}"


def parse_slot_time(text: str) -> datetime:
    """The form's `slot` value: an ISO 8601 time with its offset."""
    try:
        wanted = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise ValidationFailed(
            errors=[FieldError("slot", "not a time this page offered")]
        ) from error
    if wanted.tzinfo is None:
        raise ValidationFailed(errors=[FieldError("slot", "a time needs its offset")])
    return wanted


def book(
    tenant: Tenant,
    customer_id: str,
    vin: str | None,
    slot_text: str,
    *,
    message: MessageRef | None = None,
) -> Appointment:
    """Book the slot, or move the car's booking there (one link books one visit). `message`:
    the link was that message's own (a campaign's): it is marked booked, once."""
    appointment = _book(tenant, customer_id, vin, slot_text, any_car=message is not None)
    if message is not None:
        # After the booking is kept: a crash between the two loses the mark until the
        # customer posts the form again (which returns the booking and marks it then).
        from trigly.messaging.feedback import mark_booked

        mark_booked(message, appointment.appointment_id, clock.now())
    return appointment


def _book(
    tenant: Tenant, customer_id: str, vin: str | None, slot_text: str, *, any_car: bool
) -> Appointment:
    wanted = parse_slot_time(slot_text)
    offer = booking_offer(tenant, customer_id, vin, any_car=any_car)
    vin = offer.car.vin
    if offer.booked is not None and offer.booked.starts_at == wanted:
        for old in offer.moved_away:  # posted again after a move was cut short: finish it
            _cancel(tenant, customer_id, offer, old)
        return offer.booked  # the same form posted twice
    slot = next((s for s in offer.slots if s.starts_at == wanted), None)
    if slot is None:
        raise SlotTaken("This time is no longer free.")
    location = offer.location
    if location.capacity is None:  # booking_offer found one; a concurrent edit removed it
        raise NotFound("No location takes bookings.")
    key = slot_key(slot.starts_at, offer.zone)
    appointment_id = appointment_id_for(tenant.tenant_id, customer_id, vin, offer.earlier_bookings)
    if not slot_store.take_slot(
        tenant.tenant_id, location.location_id, key, location.capacity.posts, appointment_id
    ):
        raise SlotTaken("This time is no longer free.")
    moved = offer.booked
    appointment = Appointment(
        appointment_id=appointment_id,
        vin=vin,
        status="booked",
        starts_at=slot.starts_at,
        location_id=location.location_id,
        source=SOURCE,
        moved_from=moved.appointment_id if moved is not None else None,
    )
    sk = Appointment.sk(appointment_id)
    if not record_store.put_customer_record_if_absent(
        tenant.tenant_id, customer_id, sk, appointment
    ):
        doc = record_store.get_customer_record(tenant.tenant_id, customer_id, sk)
        first = Appointment.model_validate_json(doc) if doc else None
        if first is not None and first.starts_at == slot.starts_at:
            return first  # the same slot posted twice at once: one booking, one place
        # Another slot posted from the same page won: give back the place taken for this one
        # (its slot item only; the winner's place is in another).
        slot_store.release_slot(tenant.tenant_id, location.location_id, key, appointment_id)
        raise BookingChanged("This link booked another time meanwhile.")
    for old in [*offer.moved_away, *([moved] if moved else [])]:
        _cancel(tenant, customer_id, offer, old)  # the DMS hears the cancel before the booking
    _announce(tenant, customer_id, appointment, offer.external_ids)
    return appointment


def cancel(
    tenant: Tenant, customer_id: str, vin: str | None, *, any_car: bool = False
) -> Appointment | None:
    """Cancel the car's upcoming booking made through Trigly: the place is freed, the DMS hears
    `service_appointment.cancelled`, the journeys `service_appointment.changed`."""
    offer = booking_offer(tenant, customer_id, vin, any_car=any_car)
    if offer.booked is None:
        return None  # nothing booked (or cancelled already: a resubmitted form)
    for old in offer.moved_away:
        _cancel(tenant, customer_id, offer, old)
    return _cancel(tenant, customer_id, offer, offer.booked)


def _cancel(
    tenant: Tenant, customer_id: str, offer: BookingOffer, booked: Appointment
) -> Appointment:
    cancelled = booked.model_copy(update={"status": "cancelled"})
    slot_store.release_slot(
        tenant.tenant_id,
        offer.location.location_id,
        slot_key(cancelled.starts_at, offer.zone),
        cancelled.appointment_id,
    )
    record_store.put_customer_records(
        tenant.tenant_id, customer_id, [(Appointment.sk(cancelled.appointment_id), cancelled)]
    )
    _announce(tenant, customer_id, cancelled, offer.external_ids)
    return cancelled


def _announce(
    tenant: Tenant,
    customer_id: str,
    appointment: Appointment,
    external_ids: list[tuple[str, str]],
) -> None:
    """The DMS's calendar (outbound) and Trigly's own journeys (the bus) learn of the booking."""
    data = {
        "appointment_id": appointment.appointment_id,
        "vin": appointment.vin,
        "status": appointment.status,
        "starts_at": isoformat(appointment.starts_at),
        "location_id": appointment.location_id,
        "source": SOURCE,
    }
    if appointment.moved_from is not None:
        data["moved_from"] = appointment.moved_from
    event_id = f"{SOURCE}:{appointment.appointment_id}:{appointment.status}"
    bus.publish(
        [
            bus.DomainEvent(
                id=event_id,
                tenant_id=tenant.tenant_id,
                type="service_appointment.changed",
                occurred_at=clock.now(),
                customer_id=customer_id,
                data=data,
            )
        ]
    )
    data_for = {
        connector_id: {**data, "customer_external_id": external_id}
        for connector_id, external_id in external_ids
    }
    outbound_type = (
        "service_appointment.booked"
        if appointment.status == "booked"
        else "service_appointment.cancelled"
    )
    send_to_connectors(tenant.tenant_id, event_id, outbound_type, data_for=data_for)


def reflect_dms_appointment(tenant: Tenant, appointment: Appointment) -> None:
    """Bookings the DMS made (or changed) hold or free their place here too, so the page never
    offers a post that is taken: the DMS is the calendar of record, so its booking takes the
    place even beyond the posts (an over-booked slot simply shows no free place)."""
    if appointment.location_id is None:
        return
    try:
        location = get_location(tenant.tenant_id, appointment.location_id)
    except NotFound:
        return
    if location.capacity is None:
        return
    zone = _zone(location)
    start = containing_slot(location.capacity, zone, appointment.starts_at)
    if start is None:
        return  # outside working hours: not a slot of ours
    key = slot_key(start, zone)
    if appointment.status == "booked":
        slot_store.take_slot(
            tenant.tenant_id, location.location_id, key, UNLIMITED, appointment.appointment_id
        )
    else:  # cancelled, completed, no_show: the place is no longer held for the future
        slot_store.release_slot(
            tenant.tenant_id, location.location_id, key, appointment.appointment_id
        )


UNLIMITED = 1_000_000
