"""Journeys against moto, through the real handlers: date triggers from car events, the daily
job and the hourly tick reading only what is due, runs keyed once, exits on booking."""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_car_and_timeline_events import event, service
from tests.integration.test_customer_pages import DMS_URL, outbound, page, path_of
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.integration.test_messages import tick, work_journey_queue, work_sms_queue
from tests.integration.test_webhook import encode, post
from tests.support import customer_event
from trigly.channels.sandbox import outbox
from trigly.journeys.triggers import ScheduledStart
from trigly.messaging import customer_links
from trigly.platform import clock, tenancy, tokens
from trigly.store import journeys as journey_store
from trigly.store import keys
from trigly.store import vehicles as vehicle_store
from trigly.store.vehicles import DueKey
from trigly.vehicles.model import Vehicle

VIN = "XWEFF41BBNR000777"


def rio_serviced(
    dealer: TenantFixture, drain: IngestDrain, now: datetime, consent: bool, days_ago: int = 335
) -> str:
    consents = (
        {
            "sms": {
                "service": True,
                "at": (now - timedelta(days=400)).isoformat(),
                "source": "анкета",
            }
        }
        if consent
        else {}
    )
    serviced = (now - timedelta(days=days_ago)).isoformat()
    ingest(
        dealer,
        drain,
        customer_event(
            "c1", "K-1", first_name="Андрей", phones=["+79161234567"], consents=consents
        ),
        event(
            "r1",
            "vehicle.registered",
            (now - timedelta(days=500)).isoformat(),
            customer_external_id="K-1",
            vin=VIN,
            make="Kia",
            model="Rio",
            year=2022,
        ),
        service("s1", "K-1", VIN, serviced, 15_000),
    )
    return str(only_customer(dealer, external_id="K-1")["id"])


def test_a_serviced_car_gets_one_reminder_on_its_day_and_a_replay_changes_nothing(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    now = business_clock.now()
    customer_id = rio_serviced(dealer, drain, now, consent=True)
    # The profile shows the next maintenance: a year after the last (time comes before km)
    status, profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)
    assert status == 200
    due_on = date.fromisoformat(profile["vehicles"][0]["next_maintenance"]["due_on"])
    assert due_on == (now - timedelta(days=335)).date() + relativedelta(months=12)
    # ...and a date trigger 14 days before it sits on the due index under that day
    fire_on = due_on - timedelta(days=14)
    starts = list(journey_store.due_triggers(dealer.tenant.tenant_id, fire_on))
    assert [t.journey_id for t in starts] == ["maintenance_reminder"]
    # ...and that entry is the car record itself (it carries its next maintenance), no item apart
    assert [t.sk for t in starts] == ["CAR"]
    # Nothing is sent before that day
    tick(stack)
    work_sms_queue(stack)
    assert outbox(dealer.tenant.tenant_id) == []
    # On that day's morning (10:00 in Moscow) the daily job hands it to the journey: one SMS
    business_clock.move_to(datetime.combine(fire_on, time(7, 5), tzinfo=UTC))
    assert tick(stack)["tenant_days"] >= 1  # this tenant's morning, among others'
    work_sms_queue(stack)
    [reminder] = outbox(dealer.tenant.tenant_id)
    assert reminder["meta"]["kind"] == "maintenance_reminder"
    assert reminder["to"] == "+79161234567" and "Kia Rio" in str(reminder["body"])
    # The trigger left the index; a replayed car event and more ticks send nothing more
    assert list(journey_store.due_triggers(dealer.tenant.tenant_id, fire_on)) == []
    ingest(
        dealer, drain, service("s1", "K-1", VIN, (now - timedelta(days=335)).isoformat(), 15_000)
    )
    business_clock.advance(timedelta(days=1))
    tick(stack)
    work_sms_queue(stack)
    assert len(outbox(dealer.tenant.tenant_id)) == 1
    # The run is in the profile, waiting for a booking
    status, profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)
    [run] = profile["journeys"]
    assert run["journey_id"] == "maintenance_reminder" and run["status"] == "active"
    assert run["step"] == "wait_booking"


def stored_car(tenant_id: str) -> tuple[Vehicle, int, DueKey | None]:
    """The car record as stored, its version and where it sits on the `due` index."""
    loaded = vehicle_store.load_vehicle_item(tenant_id, VIN)
    assert loaded is not None
    return loaded


def test_a_handed_over_maintenance_start_stays_off_the_index_when_the_car_changes_otherwise(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    """The car record is the trigger of its next maintenance: once the daily job took it off the
    index, a later event that changes the car but not that start does not put it back."""
    now = business_clock.now()
    rio_serviced(dealer, drain, now, consent=True)
    tenant_id = dealer.tenant.tenant_id
    car, _, placed = stored_car(tenant_id)
    assert car.due_start is not None and placed is not None
    fire_on = date.fromisoformat(car.due_start["fire_on"])
    assert placed.pk == journey_store.trigger_partition(tenant_id, fire_on)
    business_clock.move_to(datetime.combine(fire_on, time(7, 5), tzinfo=UTC))
    tick(stack)
    work_sms_queue(stack)
    assert len(outbox(tenant_id)) == 1
    assert list(journey_store.due_triggers(tenant_id, fire_on)) == []
    # A KASKO policy changes the car record, not its next maintenance
    ingest(
        dealer,
        drain,
        event(
            "p-kasko",
            "insurance.policy",
            business_clock.now().isoformat(),
            policy_id="KASKO-1",
            customer_external_id="K-1",
            vin=VIN,
            kind="kasko",
            ends_on=(fire_on + timedelta(days=365)).isoformat(),
        ),
    )
    after, _, placed = stored_car(tenant_id)
    assert [p.policy_id for p in after.insurance] == ["KASKO-1"]
    assert after.due_start == car.due_start and placed is None
    assert list(journey_store.due_triggers(tenant_id, fire_on)) == []
    business_clock.advance(timedelta(days=1))
    tick(stack)
    work_sms_queue(stack)
    assert len(outbox(tenant_id)) == 1


def test_a_maintenance_trigger_item_of_before_moves_onto_the_car_record(
    dealer: TenantFixture, drain: IngestDrain, business_clock: clock.AdjustableClock
) -> None:
    """Cars saved before the car record carried its next maintenance have a `DUE#` item for
    it: their next event takes that item off and puts the record on the index instead."""
    now = business_clock.now()
    rio_serviced(dealer, drain, now, consent=True)
    tenant_id = dealer.tenant.tenant_id
    owner_pk = keys.vehicle(tenant_id, VIN)
    # As such a car was stored: the start as a trigger item, its digest on the record
    car, version, _ = stored_car(tenant_id)
    start = ScheduledStart.model_validate(car.due_start)
    journey_store.put_trigger(
        tenant_id, owner_pk, start.journey_id, start.model_dump_json(), start.fire_on
    )
    car.schedule[start.journey_id] = start.digest()
    car.due_start = None
    vehicle_store.save_vehicle(tenant_id, car, version)
    assert [t.sk for t in journey_store.due_triggers(tenant_id, start.fire_on)] == [
        f"DUE#{start.journey_id}"
    ]
    # The next reading of the odometer
    ingest(
        dealer,
        drain,
        event(
            "o-1",
            "vehicle.odometer",
            now.isoformat(),
            vin=VIN,
            mileage_km=19_000,
            at=now.isoformat(),
            source="telematics",
        ),
    )
    assert journey_store.get_trigger(owner_pk, start.journey_id) is None
    after, _, placed = stored_car(tenant_id)
    assert after.due_start is not None and start.journey_id not in after.schedule
    moved = date.fromisoformat(after.due_start["fire_on"])
    assert placed == (journey_store.trigger_partition(tenant_id, moved), start.journey_id)
    found = list(journey_store.due_triggers(tenant_id, moved))
    assert [(t.sk, t.journey_id) for t in found] == [("CAR", start.journey_id)]


def one_post_workshop(dealer: TenantFixture) -> str:
    """A service station with one post, open every day 09:00–18:00, hour slots."""
    hours = [{"weekday": d, "opens": "09:00", "closes": "18:00"} for d in range(7)]
    body = {
        "name": "Сервис на Ленина",
        "kind": "service_station",
        "timezone": "Europe/Moscow",
        "address": "ул. Ленина, 1",
        "capacity": {"posts": 1, "slot_minutes": 60, "hours": hours},
    }
    status, created = api("POST", "/v1/locations", dealer.api_key, body=body)
    assert status == 201
    return str(created["id"])


def test_booking_from_a_link_takes_a_place_once_tells_the_dms_and_ends_the_reminder(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    lenina = one_post_workshop(dealer)
    dms = tenancy.create_connector(dealer.tenant.tenant_id, "DMS", outbound_url=DMS_URL)
    now = business_clock.now()
    ingest(
        dealer,
        drain,
        customer_event(
            "c2", "K-2", first_name="Ольга", phones=["+79161112233"], location_id=lenina
        ),
        event(
            "r2",
            "vehicle.registered",
            (now - timedelta(days=500)).isoformat(),
            customer_external_id="K-2",
            vin=VIN,
            make="Kia",
            model="Rio",
            year=2022,
        ),
    )
    customer_id = str(only_customer(dealer, external_id="K-2")["id"])
    # The DMS also knows the customer (its id goes into the outbound event)
    status, _ = post(
        dealer,
        encode(customer_event("c2-dms", "DMS-77", phones=["+79161112233"], first_name="Ольга")),
        connector_id=dms.connector_id,
        secret=dms.secret,
    )
    assert status == 202 and not drain()["batchItemFailures"]
    link = path_of(
        customer_links.url_for("booking", dealer.tenant.tenant_id, customer_id, now) + ""
    )
    # A booking link names the car: without it, no page
    assert page("GET", link)[0] == 404
    url = tokens.link(
        {"t": dealer.tenant.tenant_id, "c": customer_id, "p": "booking", "v": VIN},
        now + timedelta(days=30),
    )
    link = path_of(url)
    status, html, _ = page("GET", link)
    assert status == 200 and "Kia Rio" in html and "ул. Ленина, 1" in html
    slots = re.findall(r'name="slot" value="([^"]+)"', html)
    status, free = api("GET", f"/v1/locations/{lenina}/slots", dealer.api_key)
    assert [s["starts_at"] for s in free["items"]] == slots
    chosen = slots[5]
    # Booking answers 303 to the confirmation; the same form posted again books once
    status, _, headers = page("POST", link, {"slot": chosen})
    assert status == 303 and headers["location"] == link
    assert page("POST", link, {"slot": chosen})[0] == 303
    status, html, _ = page("GET", link)
    assert status == 200 and "Вы записаны" in html
    [appointment] = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]["appointments"]
    assert appointment["status"] == "booked" and appointment["source"] == "trigly"
    # The slot is gone for everyone (one post); another customer posting it gets 409
    status, free = api("GET", f"/v1/locations/{lenina}/slots", dealer.api_key)
    assert chosen not in [s["starts_at"] for s in free["items"]]
    ingest(dealer, drain, customer_event("c3", "K-3", phones=["+79161112244"]))
    other = str(only_customer(dealer, external_id="K-3")["id"])
    ingest(
        dealer,
        drain,
        event(
            "r3",
            "vehicle.registered",
            customer_external_id="K-3",
            vin="XWEFF41BBNR000778",
            make="Kia",
            model="Rio",
            year=2021,
        ),
    )
    other_link = path_of(
        tokens.link(
            {"t": dealer.tenant.tenant_id, "c": other, "p": "booking", "v": "XWEFF41BBNR000778"},
            now + timedelta(days=30),
        )
    )
    status, html, _ = page("POST", other_link, {"slot": chosen})
    assert status == 409 and 'name="slot"' in html and chosen not in html
    # The DMS hears of the booking, under its own customer id
    [booked] = [
        d
        for d in outbound(stack, dealer.tenant.tenant_id)
        if d["event"]["type"] == "service_appointment.booked"
    ]
    assert booked["connector_id"] == dms.connector_id
    assert booked["event"]["data"]["customer_external_id"] == "DMS-77"
    assert booked["event"]["data"]["starts_at"] == appointment["starts_at"]
    # The journey worker hears it from the bus: the booking confirmation goes (transactional)
    work_journey_queue(stack)
    work_sms_queue(stack)
    kinds = [m["meta"]["kind"] for m in outbox(dealer.tenant.tenant_id)]
    assert kinds == ["booking_confirmation"]
    # Cancelling from the confirmation page frees the place and tells the DMS
    status, _, headers = page("POST", link, {"action": "cancel"})
    assert status == 303 and headers["location"] == link
    status, html, _ = page("GET", link)
    assert status == 200 and f'value="{chosen}"' in html
    cancelled = [
        d["event"]
        for d in outbound(stack, dealer.tenant.tenant_id)
        if d["event"]["type"] == "service_appointment.cancelled"
    ]
    assert [e["data"]["appointment_id"] for e in cancelled] == [appointment["id"]]
    [appointment] = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]["appointments"]
    assert appointment["status"] == "cancelled"


def booking_path(dealer: TenantFixture, drain: IngestDrain, now: datetime, location_id: str) -> str:
    """A customer of the location with a Kia Rio, and their car's booking link."""
    ingest(
        dealer,
        drain,
        customer_event(
            "c5", "K-5", first_name="Ольга", phones=["+79161115566"], location_id=location_id
        ),
        event(
            "r5",
            "vehicle.registered",
            (now - timedelta(days=500)).isoformat(),
            customer_external_id="K-5",
            vin=VIN,
            make="Kia",
            model="Rio",
            year=2022,
        ),
    )
    customer_id = str(only_customer(dealer, external_id="K-5")["id"])
    claims = {"t": dealer.tenant.tenant_id, "c": customer_id, "p": "booking", "v": VIN}
    return path_of(tokens.link(claims, now + timedelta(days=30)))


def test_a_second_slot_on_the_same_link_moves_the_booking_and_it_is_confirmed_once(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    lenina = one_post_workshop(dealer)
    dms = tenancy.create_connector(dealer.tenant.tenant_id, "DMS", outbound_url=DMS_URL)
    link = booking_path(dealer, drain, business_clock.now(), lenina)
    known = customer_event("c5-dms", "DMS-55", phones=["+79161115566"], first_name="Ольга")
    status, _ = post(dealer, encode(known), connector_id=dms.connector_id, secret=dms.secret)
    assert status == 202 and not drain()["batchItemFailures"]
    slots = re.findall(r'name="slot" value="([^"]+)"', page("GET", link)[1])
    first, second = slots[-1], slots[-2]  # the same day, two weeks out
    assert page("POST", link, {"slot": first})[0] == 303
    work_journey_queue(stack)
    work_sms_queue(stack)
    # The confirmation page offers other times: the customer takes one
    status, html, _ = page("GET", link)
    assert "Вы записаны" in html and f'value="{second}"' in html
    status, _, headers = page("POST", link, {"slot": second})
    assert status == 303 and headers["location"] == link
    customer_id = str(only_customer(dealer, external_id="K-5")["id"])
    appointments = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]["appointments"]
    by_status = {a["status"]: a for a in appointments}
    assert len(appointments) == 2 and set(by_status) == {"booked", "cancelled"}
    moved, old = by_status["booked"], by_status["cancelled"]
    assert moved["moved_from"] == old["id"]
    assert datetime.fromisoformat(moved["starts_at"]) == datetime.fromisoformat(second)
    # The old place is free again, the new one taken
    free = [
        s["starts_at"]
        for s in api("GET", f"/v1/locations/{lenina}/slots", dealer.api_key)[1]["items"]
    ]
    assert first in free and second not in free
    # The DMS hears the old booking cancelled, then the new one booked
    told = [
        (d["event"]["type"], d["event"]["data"]["appointment_id"])
        for d in outbound(stack, dealer.tenant.tenant_id)
    ]
    assert told == [
        ("service_appointment.booked", old["id"]),
        ("service_appointment.cancelled", old["id"]),
        ("service_appointment.booked", moved["id"]),
    ]
    # The customer hears of the move once; the day before, one reminder of the new time
    work_journey_queue(stack)
    work_sms_queue(stack)
    confirmations = [m["body"] for m in outbox(dealer.tenant.tenant_id)]
    assert len(confirmations) == 2 and "перенесена" in str(confirmations[0])
    starts = datetime.fromisoformat(second)
    business_clock.move_to(
        datetime.combine(starts.date() - timedelta(days=1), time(10, 5), tzinfo=starts.tzinfo)
    )
    tick(stack)
    work_sms_queue(stack)
    reminders = [
        m for m in outbox(dealer.tenant.tenant_id) if m["meta"]["kind"] == "booking_reminder"
    ]
    assert len(reminders) == 1 and starts.strftime("%H:%M") in str(reminders[0]["body"])
    # Posting the moved-to slot again changes nothing (a resubmitted form)
    assert page("POST", link, {"slot": second})[0] == 303
    assert len(api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]["appointments"]) == 2


def test_two_slots_posted_at_once_from_one_link_book_one_visit(
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trigly.booking import service as booking

    lenina = one_post_workshop(dealer)
    booking_path(dealer, drain, business_clock.now(), lenina)
    customer_id = str(only_customer(dealer, external_id="K-5")["id"])
    tenant = dealer.tenant
    # Two taps from the same page: both requests read the page's state before either wrote
    seen = booking.booking_offer(tenant, customer_id, VIN)
    first, second = seen.slots[-1].value, seen.slots[-2].value
    won = booking.book(tenant, customer_id, VIN, first)
    monkeypatch.setattr(booking, "booking_offer", lambda *_, **__: seen)
    with pytest.raises(booking.BookingChanged):
        booking.book(tenant, customer_id, VIN, second)
    # ...while the same slot posted twice at once is the one booking
    assert booking.book(tenant, customer_id, VIN, first) == won
    monkeypatch.undo()
    [appointment] = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]["appointments"]
    assert appointment["id"] == won.appointment_id and appointment["status"] == "booked"
    # The loser's place was given back; the winner's holds
    free = api("GET", f"/v1/locations/{lenina}/slots", dealer.api_key)[1]["items"]
    assert second in [s["starts_at"] for s in free] and first not in [s["starts_at"] for s in free]


def test_a_move_cut_short_is_finished_by_the_next_post(
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    from trigly.booking import service as booking
    from trigly.profiles.records import Appointment
    from trigly.store import slots as slot_store
    from trigly.store import vehicles as record_store

    lenina = one_post_workshop(dealer)
    link = booking_path(dealer, drain, business_clock.now(), lenina)
    customer_id = str(only_customer(dealer, external_id="K-5")["id"])
    tenant_id = dealer.tenant.tenant_id
    offer = booking.booking_offer(dealer.tenant, customer_id, VIN)
    first, second = offer.slots[-1], offer.slots[-2]
    old = booking.book(dealer.tenant, customer_id, VIN, first.value)
    # A move to the second slot that stopped (a crash) after writing the new booking
    moved = Appointment(
        appointment_id=booking.appointment_id_for(tenant_id, customer_id, VIN, 1),
        vin=VIN,
        status="booked",
        starts_at=second.starts_at,
        location_id=lenina,
        source=booking.SOURCE,
        moved_from=old.appointment_id,
    )
    key = booking.slot_key(second.starts_at, offer.zone)
    assert slot_store.take_slot(tenant_id, lenina, key, 1, moved.appointment_id)
    assert record_store.put_customer_record_if_absent(
        tenant_id, customer_id, Appointment.sk(moved.appointment_id), moved
    )
    # The page shows where the booking went; posting that time again finishes the move
    assert f'value="{first.value}"' not in page("GET", link)[1]
    assert page("POST", link, {"slot": second.value})[0] == 303
    appointments = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]["appointments"]
    assert {a["id"]: a["status"] for a in appointments} == {
        old.appointment_id: "cancelled",
        moved.appointment_id: "booked",
    }
    free = [
        s["starts_at"]
        for s in api("GET", f"/v1/locations/{lenina}/slots", dealer.api_key)[1]["items"]
    ]
    assert first.value in free


def test_a_slot_that_is_not_a_time_answers_the_page_not_json(
    dealer: TenantFixture, drain: IngestDrain, business_clock: clock.AdjustableClock
) -> None:
    lenina = one_post_workshop(dealer)
    link = booking_path(dealer, drain, business_clock.now(), lenina)
    for bad in ("tomorrow", "2030-01-01T10:00:00", ""):
        status, html, headers = page("POST", link, {"slot": bad})
        assert status == 422 and headers["content-type"].startswith("text/html")
        assert 'role="alert"' in html and 'name="slot"' in html
    assert page("GET", link)[1].count("Вы записаны") == 0


def test_the_new_year_break_offers_no_slots_unless_the_location_works_then(
    dealer: TenantFixture, business_clock: clock.AdjustableClock
) -> None:
    # Given it is the morning of 28 December (this year's, or next year's when past)
    today = business_clock.now().date()
    before = date(today.year, 12, 28)
    before = before if before > today else date(today.year + 1, 12, 28)
    business_clock.move_to(datetime.combine(before, time(7, 0), tzinfo=UTC))
    christmas = date(before.year + 1, 1, 7)
    lenina = one_post_workshop(dealer)  # open every day of the week

    def days_offered() -> set[date]:
        _, free = api("GET", f"/v1/locations/{lenina}/slots", dealer.api_key)
        return {datetime.fromisoformat(s["starts_at"]).date() for s in free["items"]}

    offered = days_offered()
    assert offered and max(offered) > christmas  # the fortnight reaches past the break
    assert not offered & {date(before.year + 1, 1, d) for d in range(1, 9)}
    # A location that works on public holidays says so
    _, location = api("GET", f"/v1/locations/{lenina}", dealer.api_key)
    body = {k: v for k, v in location.items() if k != "id"}
    body["capacity"] = {**body["capacity"], "works_public_holidays": True}
    status, saved = api("PUT", f"/v1/locations/{lenina}", dealer.api_key, body=body)
    assert status == 200 and saved["capacity"]["works_public_holidays"] is True
    assert christmas in days_offered()


def test_journeys_are_listed_edited_and_validated_through_the_api(dealer: TenantFixture) -> None:
    status, listed = api("GET", "/v1/journeys", dealer.api_key)
    assert status == 200
    assert {"maintenance_reminder", "service_booking"} <= {j["journey_id"] for j in listed["items"]}
    status, builtin = api("GET", "/v1/journeys/maintenance_reminder", dealer.api_key)
    assert status == 200 and builtin["builtin"] and builtin["version"] == 1
    # Turning a playbook off is a new version of it
    edited = {k: v for k, v in builtin.items() if k not in {"journey_id", "version", "builtin"}}
    status, saved = api(
        "PUT",
        "/v1/journeys/maintenance_reminder",
        dealer.api_key,
        body={**edited, "enabled": False},
    )
    assert status == 200 and saved["version"] == 2 and saved["enabled"] is False
    assert api("GET", "/v1/journeys/maintenance_reminder", dealer.api_key)[1]["enabled"] is False
    # A broken journey is refused field by field
    broken = {**edited, "steps": [{"id": "a", "type": "wait", "duration": "a week"}]}
    status, problem = api("PUT", "/v1/journeys/mine", dealer.api_key, body=broken)
    assert status == 422 and problem["errors"][0]["field"].startswith("steps.0")
    assert api("GET", "/v1/journeys/nope", dealer.api_key)[0] == 404


def test_a_tenant_price_is_what_reminders_quote(dealer: TenantFixture) -> None:
    body = {"make": "KIA", "model": "rio", "number": 2, "amount": 14900}
    assert api("PUT", "/v1/maintenance-prices", dealer.api_key, body=body)[0] == 200
    status, quoted = api(
        "GET",
        "/v1/maintenance-prices/quote",
        dealer.api_key,
        query={"make": "Kia", "model": "Rio", "number": "2"},
    )
    assert status == 200 and quoted["amount"] == 14900


def test_bookings_the_dms_makes_and_cancels_hold_and_free_their_place(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    lenina = one_post_workshop(dealer)
    slot = api("GET", f"/v1/locations/{lenina}/slots", dealer.api_key)[1]["items"][4]["starts_at"]
    taken_at = datetime.fromisoformat(slot) + timedelta(minutes=15)  # inside the slot
    ingest(dealer, drain, customer_event("c9", "K-9", phones=["+79161119999"]))

    def appointment(event_id: str, status: str, occurred_at: str) -> dict[str, Any]:
        return event(
            event_id,
            "service_appointment.changed",
            occurred_at,
            appointment_id="DMS-A1",
            customer_external_id="K-9",
            status=status,
            starts_at=taken_at.isoformat(),
            location_id=lenina,
        )

    ingest(dealer, drain, appointment("a1", "booked", "2026-11-20T10:00:00+03:00"))
    _, free = api("GET", f"/v1/locations/{lenina}/slots", dealer.api_key)
    assert slot not in [s["starts_at"] for s in free["items"]]
    ingest(dealer, drain, appointment("a2", "cancelled", "2026-11-20T11:00:00+03:00"))
    # ...and a late copy of the older "booked" does not take it again
    ingest(dealer, drain, {**appointment("a1-late", "booked", "2026-11-20T10:00:00+03:00")})
    _, free = api("GET", f"/v1/locations/{lenina}/slots", dealer.api_key)
    assert slot in [s["starts_at"] for s in free["items"]]


def test_a_tenant_plan_moves_the_next_maintenance_of_its_cars(
    dealer: TenantFixture, drain: IngestDrain, business_clock: clock.AdjustableClock
) -> None:
    # Given the dealer services its Rios every 10,000 km or 6 months
    plan = {"make": "Kia", "model": "Rio", "interval_km": 10_000, "interval_months": 6}
    status, saved = api("PUT", "/v1/maintenance-plans", dealer.api_key, body=plan)
    assert status == 200 and saved["source"] == "tenant"
    status, effective = api(
        "GET",
        "/v1/maintenance-plans/effective",
        dealer.api_key,
        query={"make": "KIA", "model": "rio"},
    )
    assert status == 200 and effective["interval_km"] == 10_000
    assert [s["due_km"] for s in effective["steps"][:2]] == [10_000, 20_000]
    # When a Rio serviced at 15,000 km two months ago comes in
    customer_id = rio_serviced(dealer, drain, business_clock.now(), consent=True, days_ago=60)
    # Then its next service is ТО-3 within 6 months of the last, not a year
    status, profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)
    due = profile["vehicles"][0]["next_maintenance"]
    assert (
        due["due_km"] == 30_000
    )  # 15,000 km counts as ТО-2 done (the nearer step, later on a tie)
    last = (business_clock.now() - timedelta(days=60)).date()
    assert date.fromisoformat(due["due_on"]) <= last + relativedelta(months=6)
    # And removing the plan brings back the catalogue's
    assert (
        api(
            "DELETE", "/v1/maintenance-plans", dealer.api_key, query={"make": "kia", "model": "Rio"}
        )[0]
        == 204
    )
    status, effective = api(
        "GET",
        "/v1/maintenance-plans/effective",
        dealer.api_key,
        query={"make": "Kia", "model": "Rio"},
    )
    assert effective["interval_km"] == 15_000
    bad = {**plan, "interval_km": 0}
    status, problem = api("PUT", "/v1/maintenance-plans", dealer.api_key, body=bad)
    assert status == 422 and problem["errors"][0]["field"] == "interval_km"
