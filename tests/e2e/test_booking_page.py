"""The booking page in a real browser at a phone's size: the reminder's link, a tapped slot, the
booking in the profile (CONTRACT §4)."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LocalStack
from tests.e2e.test_maintenance_journey import car_history, customer_id

pytestmark = pytest.mark.e2e


def test_a_customer_books_a_service_slot_from_the_reminder_on_their_phone(
    local_stack: LocalStack, page: Page, screenshots: Path
) -> None:
    # Given a car serviced a year ago less two weeks and a half: its reminder goes in a day or two
    phone = f"+7915{uuid.uuid4().int % 10_000_000:07d}"
    events, _ = car_history("BP", phone, consent=True, now=local_stack.now(), serviced_days_ago=350)
    assert local_stack.sign_and_post(events).status_code == 202
    local_stack.advance("P3D")
    [reminder] = [
        m for m in local_stack.outbox(to=phone) if m["meta"]["kind"] == "maintenance_reminder"
    ]
    booking = next(
        link["url"] for link in reminder["meta"]["links"] if link["purpose"] == "booking"
    )
    # When they open the link on their phone
    response = page.goto(booking)
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Запись в сервис")
    expect(page.locator(".card").first).to_contain_text("Kia Ceed")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    slot = page.locator('button[name="slot"]').nth(3)
    assert (slot.bounding_box() or {}).get("height", 0) >= 44
    chosen = slot.get_attribute("value")
    page.screenshot(path=str(screenshots / "booking.png"), full_page=True)
    # and tap a slot
    slot.tap()
    # Then the confirmation shows, and the booking landed in the profile at that time
    expect(page.locator(".status")).to_have_text("Вы записаны")
    page.screenshot(path=str(screenshots / "booked.png"), full_page=True)
    profile = local_stack.client.get(
        f"/v1/customers/{customer_id(local_stack, phone)}", headers=local_stack.auth()
    ).json()
    [appointment] = profile["appointments"]
    assert appointment["status"] == "booked" and appointment["source"] == "trigly"
    assert appointment["starts_at"] == local_stack_time(chosen)
    # When they pick another time on the confirmation page, the booking moves there
    page.get_by_text("Перенести на другое время").click()
    other = page.locator('details button[name="slot"]').nth(2)
    moved_to = other.get_attribute("value")
    assert moved_to != chosen
    other.tap()
    expect(page.locator(".status")).to_have_text("Вы записаны")
    profile = local_stack.client.get(
        f"/v1/customers/{customer_id(local_stack, phone)}", headers=local_stack.auth()
    ).json()
    by_status = {a["status"]: a for a in profile["appointments"]}
    assert len(profile["appointments"]) == 2
    assert by_status["booked"]["starts_at"] == local_stack_time(moved_to)
    assert by_status["cancelled"]["starts_at"] == local_stack_time(chosen)
    # A tampered form answers the page with an error, not JSON
    page.get_by_text("Перенести на другое время").click()
    tampered = page.locator('details button[name="slot"]').first
    tampered.evaluate("button => { button.value = 'soon' }")
    tampered.tap()
    expect(page.locator('[role="alert"]')).to_contain_text("Не удалось прочитать")
    expect(page.get_by_role("heading", level=1)).to_have_text("Запись в сервис")


def local_stack_time(value: str | None) -> str:
    """A slot's value (local time with offset) as the API writes times: UTC with Z."""
    assert value is not None
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
