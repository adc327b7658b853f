"""Customer pages in a real browser at a phone's size, against the local stack."""

import uuid
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LocalStack
from tests.e2e.test_messages import sent_by_the_dms
from tests.support import customer_event

pytestmark = pytest.mark.e2e
MSK = timezone(timedelta(hours=3))


def send(local_stack: LocalStack, customer_id: str, purpose: str, text: str) -> dict[str, Any]:
    body = {
        "customer_id": customer_id,
        "purpose": purpose,
        "text": text,
        "idempotency_key": f"{purpose}:{uuid.uuid4().hex}",
    }
    answer = local_stack.client.post("/v1/messages", json=body, headers=local_stack.auth())
    assert answer.status_code == 202, answer.text
    sent: dict[str, Any] = answer.json()
    return sent


def test_a_customer_turns_off_offers_by_sms_on_their_phone_and_the_next_offer_stays_unsent(
    local_stack: LocalStack, page: Page, screenshots: Path
) -> None:
    # Given business time at midday in Moscow, and a customer with SMS consent to both topics
    noon = (local_stack.now().astimezone(MSK) + timedelta(days=1)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    assert local_stack.move_to(noon).status_code == 200
    external_id = f"P-{uuid.uuid4().hex[:8]}"
    phone = "+7917" + str(uuid.uuid4().int)[:7]
    consents = {
        "sms": {
            "marketing": True,
            "service": True,
            "at": "2026-01-10T10:00:00+03:00",
            "source": "анкета",
        }
    }
    event = customer_event(
        f"evt-{external_id}", external_id, phones=[phone], region="RU-MOW", consents=consents
    )
    customer_id = sent_by_the_dms(local_stack, event)["id"]
    # and an offer that reached their phone with its preference centre link
    first = send(local_stack, customer_id, "marketing", "Зимние шины -15%")
    local_stack.advance()
    [sms] = local_stack.outbox(to=phone)
    assert sms["meta"]["message_id"] == first["id"]
    links = {link["purpose"]: link["url"] for link in sms["meta"]["links"]}
    # When they open it on their phone
    response = page.goto(links["preferences"])
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Настройки рассылок")
    sms_box = page.locator("fieldset", has_text="SMS")
    offers = sms_box.get_by_role("checkbox", name="Акции и предложения")
    reminders = sms_box.get_by_role("checkbox", name="Напоминания о сервисе")
    expect(offers).to_be_checked()
    expect(reminders).to_be_checked()
    # the page is laid out for the phone: nothing wider than the screen, thumb-sized targets
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    save = page.get_by_role("button", name="Сохранить")
    assert (save.bounding_box() or {}).get("height", 0) >= 44
    page.screenshot(path=str(screenshots / "preferences.png"), full_page=True)
    # and untick offers by SMS with a tap, then save
    sms_box.locator("label", has_text="Акции и предложения").tap()
    expect(offers).not_to_be_checked()
    save.tap()
    # Then they see the confirmation
    expect(page.get_by_role("status")).to_have_text("Настройки сохранены.")
    expect(page.locator("ul.summary")).to_contain_text("напоминания — да; акции — нет")
    page.screenshot(path=str(screenshots / "saved.png"), full_page=True)
    # and the next offer is not sent (they said no: unsubscribed), while a service reminder goes
    offer = send(local_stack, customer_id, "marketing", "Ещё акция")
    reminder = send(local_stack, customer_id, "service", "Пора на ТО")
    local_stack.advance()
    listed = local_stack.client.get(
        "/v1/messages", params={"customer_id": customer_id}, headers=local_stack.auth()
    ).json()["items"]
    by_id = {m["id"]: m for m in listed}
    assert by_id[offer["id"]]["status"] == "suppressed"
    assert by_id[offer["id"]]["history"][-1]["reason"] == "unsubscribed"
    assert by_id[reminder["id"]]["status"] in {"sent", "delivered"}
    assert [m["body"] for m in local_stack.outbox(to=phone)] == ["Пора на ТО", sms["body"]]
    # and the consent ledger holds the change with its proof
    profile = local_stack.client.get(
        f"/v1/customers/{customer_id}", headers=local_stack.auth()
    ).json()
    [entry] = [e for e in profile["consent_ledger"] if e["source"] == "preference centre"]
    assert (entry["channel"], entry["purpose"], entry["granted"]) == ("sms", "marketing", False)
    assert "Mobile" in entry["proof"]["user_agent"]
    assert entry["proof"]["message_id"] == first["id"]
