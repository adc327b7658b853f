"""A one-off message on the local stack: API, guardrails, channel queue, sandbox, outbox."""

import uuid
from datetime import timedelta, timezone
from typing import Any

import pytest

from tests.e2e.conftest import LocalStack
from tests.support import customer_event

pytestmark = pytest.mark.e2e


def sent_by_the_dms(local_stack: LocalStack, event: dict[str, Any]) -> dict[str, Any]:
    """The customer a signed `customer.upserted` creates, once the stack has applied it."""
    assert local_stack.sign_and_post(event).status_code == 202
    local_stack.advance()
    params = {"external_id": event["data"]["external_id"]}
    [found] = local_stack.client.get(
        "/v1/customers", params=params, headers=local_stack.auth()
    ).json()["items"]
    return found


def test_a_transactional_sms_reaches_the_outbox_once(local_stack: LocalStack) -> None:
    # Given a customer the DMS sent, with a phone in a human format and SMS service consent
    external_id = f"M-{uuid.uuid4().hex[:8]}"
    consents = {"sms": {"service": True, "at": "2026-01-10T10:00:00+03:00", "source": "анкета"}}
    event = customer_event(
        f"evt-{external_id}",
        external_id,
        first_name="Олег",
        phones=["8 (917) 555-44-33"],
        consents=consents,
    )
    found = sent_by_the_dms(local_stack, event)
    # When an integration sends "your car is ready" twice with one idempotency key
    body = {
        "customer_id": found["id"],
        "purpose": "transactional",
        "text": "{{ customer.first_name }}, автомобиль готов.",
        "idempotency_key": f"ready:{external_id}",
    }
    first = local_stack.client.post("/v1/messages", json=body, headers=local_stack.auth())
    again = local_stack.client.post("/v1/messages", json=body, headers=local_stack.auth())
    assert first.status_code == 202 and again.json()["id"] == first.json()["id"]
    local_stack.advance()
    # Then the outbox holds one SMS to the E.164 number, with the contract's meta
    sent = local_stack.outbox(to="+79175554433")
    assert len(sent) == 1
    assert sent[0]["channel"] == "sms" and sent[0]["body"] == "Олег, автомобиль готов."
    assert sent[0]["meta"]["message_id"] == first.json()["id"]
    assert sent[0]["meta"]["kind"] == "one_off" and sent[0]["meta"]["purpose"] == "transactional"
    listed = local_stack.client.get(
        "/v1/messages", params={"customer_id": found["id"]}, headers=local_stack.auth()
    ).json()
    # and the sandbox's delivery report, drained by the same clock move, made it `delivered`
    assert [h["status"] for h in listed["items"][0]["history"]] == ["queued", "sent", "delivered"]


def test_an_email_goes_through_ses_and_appears_in_the_outbox(local_stack: LocalStack) -> None:
    # Given a customer with an email and email service consent
    external_id = f"E-{uuid.uuid4().hex[:8]}"
    address = f"{external_id.lower()}@example.ru"
    consents = {"email": {"service": True, "at": "2026-01-10T10:00:00+03:00", "source": "сайт"}}
    event = customer_event(
        f"evt-{external_id}",
        external_id,
        first_name="Вера",
        emails=[address.upper()],
        consents=consents,
    )
    found = sent_by_the_dms(local_stack, event)
    # When an email is sent to them
    body = {
        "customer_id": found["id"],
        "purpose": "transactional",
        "channel": "email",
        "subject": "Запись подтверждена",
        "text": "{{ customer.first_name }}, ждём вас завтра в 10:00.",
        "idempotency_key": f"booking:{external_id}",
    }
    sent = local_stack.client.post("/v1/messages", json=body, headers=local_stack.auth())
    assert sent.status_code == 202
    local_stack.advance()
    # Then moto's SES received it, and the outbox shows it with our ids
    [mail] = local_stack.outbox(to=address, channel="email")
    assert mail["subject"] == "Запись подтверждена"
    assert mail["body"].strip() == "Вера, ждём вас завтра в 10:00."
    assert mail["customer_id"] == found["id"]
    assert mail["meta"]["provider"] == "ses" and mail["meta"]["message_id"] == sent.json()["id"]
    # and SES's Delivery event (published locally, applied by the feedback worker) arrived
    listed = local_stack.client.get(
        "/v1/messages", params={"customer_id": found["id"]}, headers=local_stack.auth()
    ).json()
    assert listed["items"][0]["status"] == "delivered"


def test_the_unsubscribe_link_of_a_marketing_sms_works_over_http(local_stack: LocalStack) -> None:
    # Given business time at midday in Moscow (quiet hours would hold marketing at night)

    msk = timezone(timedelta(hours=3))
    now = local_stack.now().astimezone(msk)
    noon = (now + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    assert local_stack.move_to(noon).status_code == 200
    external_id = f"U-{uuid.uuid4().hex[:8]}"
    consents = {
        "sms": {
            "marketing": True,
            "service": True,
            "at": "2026-01-10T10:00:00+03:00",
            "source": "анкета",
        }
    }
    event = customer_event(
        f"evt-{external_id}",
        external_id,
        phones=["8 (917) 111-22-99"],
        region="RU-MOW",
        consents=consents,
    )
    found = sent_by_the_dms(local_stack, event)
    body = {
        "customer_id": found["id"],
        "purpose": "marketing",
        "text": "Зимние шины -15%",
        "idempotency_key": f"promo:{external_id}",
    }
    assert (
        local_stack.client.post("/v1/messages", json=body, headers=local_stack.auth()).json()[
            "status"
        ]
        == "queued"
    )
    local_stack.advance()
    [sms] = local_stack.outbox(to="+79171112299")
    [link] = [link for link in sms["meta"]["links"] if link["purpose"] == "unsubscribe"]
    # When the customer opens the link and presses the button
    page = local_stack.client.get(link["url"])
    assert page.status_code == 200 and "Отписаться" in page.text
    assert local_stack.client.post(link["url"]).status_code == 200
    # Then the opt-out is in the profile at once, with its proof
    profile = local_stack.client.get(
        f"/v1/customers/{found['id']}", headers=local_stack.auth()
    ).json()
    assert profile["consents"]["sms"]["marketing"]["granted"] is False
    assert profile["consent_ledger"][0]["source"] == "unsubscribe link"


def test_erasure_empties_the_local_outbox_of_the_person(local_stack: LocalStack) -> None:
    # Given a customer who got an SMS through the sandbox
    external_id = f"E-{uuid.uuid4().hex[:8]}"
    consents = {"sms": {"service": True, "at": "2026-01-10T10:00:00+03:00", "source": "анкета"}}
    event = customer_event(
        f"evt-{external_id}",
        external_id,
        first_name="Ира",
        phones=["8 917 555-66-01"],
        consents=consents,
    )
    found = sent_by_the_dms(local_stack, event)
    body = {
        "customer_id": found["id"],
        "purpose": "transactional",
        "text": "Автомобиль готов.",
        "idempotency_key": f"erase:{external_id}",
    }
    assert local_stack.client.post("/v1/messages", json=body, headers=local_stack.auth()).is_success
    local_stack.advance()
    assert len(local_stack.outbox(to="+79175556601")) == 1
    # When the dealer erases them
    erased = local_stack.client.delete(f"/v1/customers/{found['id']}", headers=local_stack.auth())
    assert erased.status_code == 204
    # Then the local outbox no longer shows their phone
    assert local_stack.outbox(to="+79175556601") == []
    assert local_stack.outbox(customer_id=found["id"]) == []
