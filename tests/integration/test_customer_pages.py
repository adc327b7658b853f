"""Customer pages through the API handler: the preference centre and the unsubscribe page, their
consent ledger proof, the outbound `customer.consent_changed`, and links nobody may open."""

import base64
import json
from datetime import time, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import boto3

from functions.api.app import handler as api_handler
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_ingest_and_api import api, only_customer
from tests.integration.test_messages import send, work_sms_queue
from tests.integration.test_webhook import encode, post
from tests.support import FakeLambdaContext, customer_event, days_ahead, http_event
from trigly.channels.sandbox import outbox
from trigly.messaging import customer_links
from trigly.platform import clock, tenancy

MSK = timezone(timedelta(hours=3))
PHONE_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36"
CONSENTS = {
    "sms": {
        "service": True,
        "marketing": True,
        "at": "2026-01-10T10:00:00+03:00",
        "source": "анкета",
    },
    "email": {"service": True, "at": "2026-01-10T10:00:00+03:00", "source": "анкета"},
}
DMS_URL = "https://dms.example.ru/trigly/events"


def page(method: str, path: str, form: dict[str, Any] | None = None) -> tuple[int, str, dict]:
    """A customer's browser: a form-urlencoded POST, a phone's user agent."""
    body = urlencode(form or {}, doseq=True) if method == "POST" else None
    event = http_event(
        method,
        path,
        route_key=f"{method} /l/{{token}}",
        path_parameters={"token": path.removeprefix("/l/")},
        headers={"content-type": "application/x-www-form-urlencoded", "user-agent": PHONE_UA},
        body=body,
    )
    response = api_handler(event, FakeLambdaContext())
    text = response.get("body") or ""
    if response.get("isBase64Encoded"):
        text = base64.b64decode(text).decode()
    headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
    return response["statusCode"], text, headers


def path_of(url: str) -> str:
    return "/l/" + url.split("/l/", 1)[1]


def known_customer(
    dealer: TenantFixture, drain: IngestDrain, external_id: str
) -> tuple[str, tenancy.Connector]:
    """A customer with a phone and an email, sent by a DMS that has an outbound URL."""
    dms = tenancy.create_connector(dealer.tenant.tenant_id, "1C:Альфа-Авто", outbound_url=DMS_URL)
    event = customer_event(
        f"p-{external_id}",
        external_id,
        first_name="Инна",
        phones=["8 916 555 12 34"],
        emails=["Inna@Example.ru"],
        consents=CONSENTS,
    )
    assert post(dealer, encode(event), connector_id=dms.connector_id, secret=dms.secret)[0] == 202
    assert not drain()["batchItemFailures"]
    return only_customer(dealer, external_id=external_id)["id"], dms


def outbound(stack: DeployedStack, tenant_id: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    url = stack.queues["OutboundQueue"].url
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            delivery = json.loads(message["Body"])
            if delivery["tenant_id"] == tenant_id:
                found.append(delivery)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def preferences_path(dealer: TenantFixture, customer_id: str, message_id: str = "msg_1") -> str:
    url = customer_links.url_for(
        "preferences", dealer.tenant.tenant_id, customer_id, clock.now(), message_id=message_id
    )
    return path_of(url)


def test_the_preference_centre_shows_the_customers_channels_and_topics_as_they_stand(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    customer_id, _ = known_customer(dealer, drain, "PC-1")
    status, html, headers = page("GET", preferences_path(dealer, customer_id))
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer"
    assert '<html lang="ru">' in html and 'name="viewport"' in html
    # SMS and email, each with both topics, ticked as the ledger stands
    assert 'name="sms.service" value="yes" checked' in html
    assert 'name="sms.marketing" value="yes" checked' in html
    assert 'name="email.service" value="yes" checked' in html
    assert 'name="email.marketing" value="yes">' in html
    assert "Напоминания о сервисе" in html and "Акции и предложения" in html
    # the contacts are recognisable, not readable off a forwarded link
    assert "+7 ··· ···-12-34" in html and "i···@example.ru" in html
    assert "9165551234" not in html and "inna@" not in html


def test_saving_records_each_change_with_proof_and_tells_the_dms_that_knows_the_customer(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    customer_id, dms = known_customer(dealer, drain, "PC-2")
    tenancy.create_connector(dealer.tenant.tenant_id, "CRM", outbound_url=DMS_URL + "/crm")
    outbound(stack, dealer.tenant.tenant_id)  # only what the save queues
    path = preferences_path(dealer, customer_id, message_id="msg_offer")
    shown = ["sms.service", "sms.marketing", "email.service", "email.marketing"]
    # When the customer unticks offers by SMS and ticks offers by email
    form = {"shown": shown, "sms.service": "yes", "email.service": "yes", "email.marketing": "yes"}
    status, html, _ = page("POST", path, form)
    assert status == 200 and "Настройки сохранены" in html
    assert "SMS</strong>:" in html and "акции — нет" in html
    # Then the profile says so at once, and the ledger holds each change with its proof
    profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]
    assert profile["consents"]["sms"]["marketing"]["granted"] is False
    assert profile["consents"]["email"]["marketing"]["granted"] is True
    assert profile["consents"]["sms"]["service"]["source"] == "анкета"  # unchanged, unrecorded
    captured = [e for e in profile["consent_ledger"] if e["source"] == "preference centre"]
    assert {(e["channel"], e["purpose"], e["granted"]) for e in captured} == {
        ("sms", "marketing", False),
        ("email", "marketing", True),
    }
    for entry in captured:
        assert entry["text_version"].startswith("preferences@")
        assert entry["proof"]["user_agent"] == PHONE_UA
        assert entry["proof"]["message_id"] == "msg_offer"
        assert entry["proof"]["method"] == "page" and len(entry["proof"]["token_id"]) == 16
    # and the DMS that knows the customer is told, with its own id; the CRM that does not, not
    sent = outbound(stack, dealer.tenant.tenant_id)
    assert {d["connector_id"] for d in sent} == {dms.connector_id}
    events = {(d["event"]["data"]["channel"], d["event"]["data"]["granted"]): d for d in sent}
    assert set(events) == {("sms", False), ("email", True)}
    event = events["sms", False]["event"]
    assert event["type"] == "customer.consent_changed"
    assert event["id"].startswith(f"consent:{customer_id}:sms:marketing:")
    data = event["data"]
    assert data["customer_external_id"] == "PC-2" and data["purpose"] == "marketing"
    assert data["source"] == "preference centre" and data["at"].endswith("Z")
    assert data["text_version"].startswith("preferences@")
    # The same form again changes nothing, records nothing, sends nothing
    status, html, _ = page("POST", path, form)
    assert status == 200 and "Ничего не изменилось" in html
    again = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]
    assert len(again["consent_ledger"]) == len(profile["consent_ledger"])
    assert outbound(stack, dealer.tenant.tenant_id) == []


def test_a_box_the_page_did_not_show_is_never_read_as_unticked(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    customer_id, _ = known_customer(dealer, drain, "PC-3")
    # A form that shows only SMS offers (say, opened before the email was known), all unticked
    status, _, _ = page("POST", preferences_path(dealer, customer_id), {"shown": "sms.marketing"})
    assert status == 200
    consents = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]["consents"]
    assert consents["sms"]["marketing"]["granted"] is False
    assert consents["sms"]["service"]["granted"] is True
    assert consents["email"]["service"]["granted"] is True


def test_forged_tampered_foreign_and_expired_links_show_no_customer_data(
    dealer: TenantFixture,
    other_dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    customer_id, _ = known_customer(dealer, drain, "PC-4")
    path = preferences_path(dealer, customer_id)
    # a made-up token, and a real one with its claims swapped for another customer's
    key_id, body, signature = path.removeprefix("/l/").split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    swapped = base64.urlsafe_b64encode(
        json.dumps({**claims, "c": "cus_someone_else"}).encode()
    ).decode()
    swapped_link = f"/l/{key_id}.{swapped.rstrip('=')}.{signature}"
    for forged in ("/l/nonsense", swapped_link, path[:-2] + "xx"):
        status, html, headers = page("GET", forged)
        assert status == 404 and "Ссылка не найдена" in html
        assert headers["content-type"].startswith("text/html") and "+7" not in html
        assert page("POST", forged, {"shown": "sms.marketing"})[0] == 404
    # a purpose no page serves
    odd = customer_links.url_for("nonsense", dealer.tenant.tenant_id, customer_id, clock.now())
    assert page("GET", path_of(odd))[0] == 404
    # the customer's own link does not open in another tenant's name
    foreign = customer_links.url_for(
        "preferences", other_dealer.tenant.tenant_id, customer_id, clock.now()
    )
    assert page("GET", path_of(foreign))[0] == 404
    # a year later the link has expired, and saying so is all it shows
    business_clock.advance(timedelta(days=366))
    status, html, _ = page("GET", path)
    assert status == 410 and "Ссылка устарела" in html and "+7" not in html
    assert page("POST", path, {"shown": "sms.marketing"})[0] == 410
    consents = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]["consents"]
    assert consents["sms"]["marketing"]["granted"] is True


def test_marketing_and_service_messages_lead_to_the_preference_centre(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    business_clock.move_to(days_ahead(1, time(12), MSK))
    customer_id, dms = known_customer(dealer, drain, "PC-5")
    outbound(stack, dealer.tenant.tenant_id)
    ids = {}
    for purpose in ("marketing", "service", "transactional"):
        status, sent = send(
            dealer,
            customer_id=customer_id,
            purpose=purpose,
            channel="sms",
            text=f"Сообщение {purpose}",
            idempotency_key=f"pc5:{purpose}",
        )
        assert (status, sent["status"]) == (202, "queued")
        ids[purpose] = sent["id"]
    work_sms_queue(stack)
    by_id = {m["meta"]["message_id"]: m for m in outbox(dealer.tenant.tenant_id)}
    purposes = {p: [link["purpose"] for link in by_id[i]["meta"]["links"]] for p, i in ids.items()}
    assert purposes == {
        "marketing": ["unsubscribe", "preferences"],
        "service": ["preferences"],
        "transactional": [],
    }
    links = {link["purpose"]: link["url"] for link in by_id[ids["marketing"]]["meta"]["links"]}
    # The unsubscribe page leads on to the preference centre
    status, html, _ = page("GET", path_of(links["unsubscribe"]))
    assert status == 200 and "/l/" in html.split("Выбрать, какие сообщения получать")[0]
    # One click (as a mail client posts it) opts out, with its proof, and tells the DMS
    status, html, _ = page("POST", path_of(links["unsubscribe"]), {"List-Unsubscribe": "One-Click"})
    assert status == 200 and "Вы отписаны" in html and "Настроить рассылки" in html
    profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]
    [entry] = [e for e in profile["consent_ledger"] if e["source"] == "unsubscribe link"]
    assert entry["proof"]["method"] == "one-click"
    assert entry["proof"]["message_id"] == ids["marketing"]
    [delivery] = outbound(stack, dealer.tenant.tenant_id)
    assert delivery["connector_id"] == dms.connector_id
    assert delivery["event"]["data"]["source"] == "unsubscribe link"
    assert delivery["event"]["data"]["granted"] is False
    # and the preference centre shows it at once
    status, html, _ = page("GET", path_of(links["preferences"]))
    assert 'name="sms.marketing" value="yes">' in html
    # pressing again changes nothing and sends nothing more
    page("POST", path_of(links["unsubscribe"]), {"confirm": "yes"})
    assert outbound(stack, dealer.tenant.tenant_id) == []


def test_an_email_footer_leads_to_the_preference_centre(
    dealer: TenantFixture, drain: IngestDrain, business_clock: clock.AdjustableClock
) -> None:
    from trigly.events.types import Channel
    from trigly.messaging.intent import MessagePurpose, SendIntent
    from trigly.messaging.service import send as send_intent

    business_clock.move_to(days_ahead(2, time(12), MSK))
    customer_id, _ = known_customer(dealer, drain, "PC-6")
    message = send_intent(
        dealer.tenant,
        SendIntent(
            customer_id=customer_id,
            purpose=MessagePurpose.SERVICE,
            kind="one_off",
            text="Пора на ТО",
            channels=[Channel.EMAIL],
            idempotency_key="pc6:service",
        ),
    )
    [link] = message.links
    assert link["purpose"] == "preferences"
    assert message.body is not None and message.body.endswith(f"Настроить рассылки: {link['url']}")
    assert page("GET", path_of(link["url"]))[0] == 200
