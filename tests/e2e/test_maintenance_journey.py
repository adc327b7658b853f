"""Acceptance (issue 6) on the local stack, through HTTP only: a maintenance reminder goes once,
with the car, the price and a booking link; booking a slot stops the nudge and brings the
day-before reminder; replaying every webhook changes nothing; no consent, no message."""

import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e


def _at(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def car_history(
    prefix: str, phone: str, *, consent: bool, now: datetime, serviced_days_ago: int = 335
) -> tuple[list[dict[str, Any]], str]:
    """The DMS's events of a customer with a 2022 Kia Ceed serviced 11 months ago at 15,000 km.

    A model the demo tenant has no orders for, so the price a reminder quotes can only be this
    customer's own (the demo's Kia Rio was serviced 335 days before the stack started too)."""
    external_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
    vin = f"XWEG{uuid.uuid4().hex[:13].upper()}".replace("I", "J").replace("O", "0")
    vin = vin.replace("Q", "K")
    customer: dict[str, Any] = {
        "external_id": external_id,
        "first_name": "Андрей",
        "phones": [phone],
    }
    if consent:
        customer["consents"] = {
            "sms": {"service": True, "marketing": False, "at": _at(now - timedelta(days=400)),
                    "source": "анкета в сервисе"}
        }  # fmt: skip
    serviced = now - timedelta(days=serviced_days_ago)
    events = [
        {
            "id": f"{external_id}-c",
            "type": "customer.upserted",
            "occurred_at": _at(now - timedelta(days=500)),
            "data": customer,
        },
        {
            "id": f"{external_id}-r",
            "type": "vehicle.registered",
            "occurred_at": _at(now - timedelta(days=500)),
            "data": {
                "customer_external_id": external_id,
                "vin": vin,
                "make": "Kia",
                "model": "Ceed",
                "year": 2022,
                "purchased_on": (now - timedelta(days=700)).date().isoformat(),
            },
        },
        {
            "id": f"{external_id}-so",
            "type": "service_order.closed",
            "occurred_at": _at(serviced),
            "data": {
                "order_id": f"RO-{external_id}",
                "customer_external_id": external_id,
                "vin": vin,
                "closed_at": _at(serviced),
                "mileage_km": 15000,
                "jobs": [{"name": "ТО-1", "kind": "maintenance", "amount": 12500}],
                "total_amount": 12500,
                "location_id": "loc_demo_centre",
            },
        },
    ]
    return events, vin


def customer_id(local_stack: LocalStack, phone: str) -> str:
    found = local_stack.client.get(
        "/v1/customers", params={"phone": phone}, headers=local_stack.auth()
    ).json()["items"]
    assert len(found) == 1
    return str(found[0]["id"])


def messages_of(local_stack: LocalStack, customer: str) -> list[dict[str, Any]]:
    response = local_stack.client.get(
        "/v1/messages", params={"customer_id": customer}, headers=local_stack.auth()
    )
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_maintenance_reminder_books_a_slot_and_replays_change_nothing(
    local_stack: LocalStack,
) -> None:
    now = local_stack.now()
    with_consent = f"+7916{uuid.uuid4().int % 10_000_000:07d}"
    without_consent = f"+7926{uuid.uuid4().int % 10_000_000:07d}"
    events, _ = car_history("KR", with_consent, consent=True, now=now)
    silent_events, _ = car_history("KS", without_consent, consent=False, now=now)
    every_event = events + silent_events
    assert local_stack.sign_and_post(every_event).json()["accepted"] == len(every_event)
    local_stack.advance()
    owner = customer_id(local_stack, with_consent)
    silent = customer_id(local_stack, without_consent)

    # The profile shows when the car is due: 12 months after the last service (time wins)
    profile = local_stack.client.get(f"/v1/customers/{owner}", headers=local_stack.auth()).json()
    [car] = profile["vehicles"]
    due = car["next_maintenance"]
    assert due["due_km"] == 30000
    assert due["window"]["p10"] <= due["due_on"] <= due["window"]["p90"]

    # When twenty days pass
    local_stack.advance("P20D")

    # Then exactly one maintenance reminder went, to the E.164 phone, with car, price and link
    # (other playbooks may have something to say about the car in the same days: tyres, age)
    [reminder] = [
        m
        for m in local_stack.outbox(to=with_consent)
        if m["meta"]["kind"] == "maintenance_reminder"
    ]
    assert reminder["channel"] == "sms" and reminder["meta"]["kind"] == "maintenance_reminder"
    assert "Kia Ceed" in reminder["body"]
    assert re.search(r"12\s500", reminder["body"]), reminder["body"]
    [booking] = [link for link in reminder["meta"]["links"] if link["purpose"] == "booking"]
    assert booking["url"] in reminder["body"]

    # And the customer without consent got nothing, with the reason visible
    assert local_stack.outbox(to=without_consent) == []
    [refused] = [m for m in messages_of(local_stack, silent) if m["kind"] == "maintenance_reminder"]
    assert refused["kind"] == "maintenance_reminder"
    assert refused["status"] == "suppressed" and refused["reason"] == "no_consent"

    # When the customer opens the link: the car, the work, the price and free slots
    path = urlparse(booking["url"]).path
    page = local_stack.client.get(path)
    assert page.status_code == 200 and "Kia Ceed" in page.text and "ТО-2" in page.text
    slots = re.findall(r'name="slot" value="([^"]+)"', page.text)
    assert slots
    # ...and books one at least two days ahead
    chosen = next(
        s for s in slots if datetime.fromisoformat(s) > local_stack.now() + timedelta(days=2)
    )
    booked = local_stack.client.post(
        path,
        content=f"slot={chosen.replace('+', '%2B')}",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert booked.status_code == 303
    confirmation = local_stack.client.get(booked.headers["location"])
    assert confirmation.status_code == 200 and "Вы записаны" in confirmation.text
    local_stack.advance()
    profile = local_stack.client.get(f"/v1/customers/{owner}", headers=local_stack.auth()).json()
    assert [a["starts_at"] for a in profile["appointments"] if a["status"] == "booked"]
    [confirmed] = [
        m
        for m in local_stack.outbox(to=with_consent)
        if m["meta"]["kind"] == "booking_confirmation"
    ]
    assert confirmed["channel"] == "sms" and "Kia Ceed" in confirmed["body"]

    # When the time of the nudge and the visit pass
    local_stack.move_to(datetime.fromisoformat(chosen) + timedelta(hours=1))
    local_stack.advance()
    kinds = [m["meta"]["kind"] for m in local_stack.outbox(to=with_consent)]
    # Then no second maintenance reminder (the booking stopped it) and one day-before reminder
    assert kinds.count("maintenance_reminder") == 1
    assert kinds.count("booking_confirmation") == 1
    assert kinds.count("booking_reminder") == 1

    # When the DMS replays every webhook, nothing changes
    before = local_stack.outbox(to=with_consent)
    replay = local_stack.sign_and_post(every_event).json()
    assert replay["duplicates"] == len(every_event)
    local_stack.advance("P1D")
    assert local_stack.outbox(to=with_consent) == before
    assert local_stack.outbox(to=without_consent) == []
