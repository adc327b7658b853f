"""Provider callbacks, Telegram and tracking links through the API handler (real event shapes,
moto): verified ones move message statuses and consents, forged ones change nothing; the
suppression list outlives the customer's erasure."""

import hashlib
import hmac
import json
from datetime import time, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from functions.api.app import handler as api_handler
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_feedback import EMAIL_CONSENT, history, work_email_queue
from tests.integration.test_ingest_and_api import api, ingest
from tests.integration.test_messages import customer, send, work_sms_queue
from tests.support import (
    FakeLambdaContext,
    customer_event,
    days_ahead,
    http_event,
)
from trigly.channels import configuration
from trigly.channels.sandbox import outbox
from trigly.messaging import inbound
from trigly.platform import clock

MSK = timezone(timedelta(hours=3))


def call(
    method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, **query: str
) -> tuple[int, str, dict[str, str]]:
    event = http_event(
        method,
        path,
        route_key="ANY /v1/{proxy+}",
        query=query or None,
        headers=headers or {},
        body=body or None,
    )
    response = api_handler(event, FakeLambdaContext())
    out_headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    return response["statusCode"], response.get("body") or "", out_headers


@pytest.fixture
def daytime(business_clock: clock.AdjustableClock) -> clock.AdjustableClock:
    business_clock.move_to(days_ahead(1, time(12), MSK))
    return business_clock


def sent_sms(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, ext: str
) -> tuple[str, str, str]:
    """A transactional SMS sent through the sandbox: (customer, message, provider id)."""
    customer_id = customer(dealer, drain, ext, consents=EMAIL_CONSENT)
    _, sent = send(
        dealer,
        customer_id=customer_id,
        purpose="transactional",
        text="Готово",
        channel="sms",
        idempotency_key=f"cb:{ext}",
    )
    work_sms_queue(stack)
    [entry] = [m for m in outbox(dealer.tenant.tenant_id) if m["meta"]["message_id"] == sent["id"]]
    return customer_id, sent["id"], entry["id"]


def test_sms_ru_and_smsc_reports_are_applied_only_with_the_tenant_secret(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, daytime: Any
) -> None:
    tenant_id = dealer.tenant.tenant_id
    customer_id, message_id, provider_id = sent_sms(stack, dealer, drain, "CB-1")
    secret = inbound.callback_secret(tenant_id, "smsru")
    report = urlencode({"data[0]": f"sms_status\n{provider_id}\n103\n1765180800"}).encode()
    form = {"content-type": "application/x-www-form-urlencoded"}
    # A forged callback (wrong secret, or another provider's secret) is 401 and changes nothing
    assert call("POST", f"/v1/callbacks/sms/smsru/{tenant_id}/{'0' * 32}", report, form)[0] == 401
    smsc_secret = inbound.callback_secret(tenant_id, "smsc")
    assert (
        call("POST", f"/v1/callbacks/sms/smsru/{tenant_id}/{smsc_secret}", report, form)[0] == 401
    )
    assert history(dealer, customer_id, message_id)["status"] == "sent"
    # The real one: SMS.ru wants "100" back; twice is once
    for _ in range(2):
        status, body, _ = call(
            "POST", f"/v1/callbacks/sms/smsru/{tenant_id}/{secret}", report, form
        )
        assert (status, body) == (200, "100")
    message = history(dealer, customer_id, message_id)
    assert message["status"] == "delivered"
    assert [h["status"] for h in message["history"]].count("delivered") == 1
    # SMSC.ru: status 20 (not deliverable) for another message fails it with its reason
    customer2, message2, provider2 = sent_sms(stack, dealer, drain, "CB-2")
    smsc = urlencode({"id": provider2, "phone": "79164000001", "status": "20", "err": "1"}).encode()
    status, body, _ = call("POST", f"/v1/callbacks/sms/smsc/{tenant_id}/{smsc_secret}", smsc, form)
    assert (status, body) == (200, "OK")
    failed = history(dealer, customer2, message2)
    assert (failed["status"], failed["reason"]) == ("failed", "undelivered")


def _sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_whatsapp_status_webhooks_need_the_app_secret_signature(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, daytime: Any
) -> None:
    tenant_id = dealer.tenant.tenant_id
    name = f"trigly/dev/tenants/{tenant_id}/channels/whatsapp-webhook"
    boto3.client("secretsmanager").create_secret(
        Name=name,
        SecretString=json.dumps({"app_secret": "meta-app-secret", "verify_token": "vt-1"}),
    )
    # The subscription check echoes the challenge only with the right verify token
    path = f"/v1/callbacks/whatsapp/{tenant_id}"
    check = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    assert call("GET", path, **check, **{"hub.verify_token": "vt-1"})[:2] == (200, "1158201444")
    assert call("GET", path, **check, **{"hub.verify_token": "nope"})[0] == 401
    # Given an SMS-like message whose provider id stands in for a wamid
    customer_id, message_id, provider_id = sent_sms(stack, dealer, drain, "CB-3")
    from trigly.store import feedback as feedback_store
    from trigly.store.messages import MessageRef

    ref = feedback_store.find_by_provider_id(tenant_id, "sms", provider_id, clock.now())
    assert ref is not None
    feedback_store.remember_provider_id(
        MessageRef(ref.tenant_id, ref.customer_id, ref.sk),
        "whatsapp",
        "wamid.HBgL",
        clock.now() + timedelta(days=1),
    )
    webhook = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1029384756",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "74950000000",
                                "phone_number_id": "12345",
                            },
                            "statuses": [
                                {
                                    "id": "wamid.HBgL",
                                    "status": "read",
                                    "timestamp": str(int(clock.now().timestamp())),
                                    "recipient_id": "79164000001",
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    body = json.dumps(webhook).encode()
    # Forged: a wrong signature, or none, is 401 and changes nothing
    assert call("POST", path, body, {"X-Hub-Signature-256": _sign("guess", body)})[0] == 401
    assert call("POST", path, body)[0] == 401
    assert history(dealer, customer_id, message_id)["status"] == "sent"
    assert (
        call("POST", path, body, {"X-Hub-Signature-256": _sign("meta-app-secret", body)})[0] == 200
    )
    assert history(dealer, customer_id, message_id)["status"] == "opened"


def telegram(bot_id: str, secret: str | None, update: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    status, body, _ = call(
        "POST", f"/v1/telegram/{bot_id}/webhook", json.dumps(update).encode(), headers
    )
    return status, (json.loads(body) if body.startswith("{") else {})


def tg_message(chat_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "update_id": chat_id * 10 + len(fields),
        "message": {
            "message_id": 1,
            "date": 1765180800,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Нина"},
            **fields,
        },
    }


def test_telegram_links_a_chat_by_deep_link_or_shared_phone_and_stop_unsubscribes(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, daytime: Any
) -> None:
    tenant_id = dealer.tenant.tenant_id
    customer_id = customer(dealer, drain, "TG-1", consents=EMAIL_CONSENT)
    bot_id = f"77{abs(hash(tenant_id)) % 10**8}"
    secret = configuration.connect_bot(tenant_id, bot_id)
    token = inbound.link_token(tenant_id, customer_id, clock.now())
    start = tg_message(5550001, text=f"/start {token}")
    # Forged: no secret, a wrong one, an unknown bot — 401, nothing linked
    assert telegram(bot_id, None, start)[0] == 401
    assert telegram(bot_id, "0" * 32, start)[0] == 401
    assert telegram("123", secret, start)[0] == 401
    profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]
    assert "telegram" not in profile["consents"]
    # /start <token> links the chat; the webhook answers with a sendMessage
    status, reply = telegram(bot_id, secret, start)
    assert status == 200 and reply["method"] == "sendMessage" and reply["chat_id"] == 5550001
    profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]
    assert profile["consents"]["telegram"]["service"]["granted"] is True
    assert profile["consents"]["telegram"]["service"]["source"] == "telegram /start"
    # A service message now goes to the chat
    _, sent = send(
        dealer,
        customer_id=customer_id,
        purpose="service",
        text="Пора на ТО",
        channel="telegram",
        idempotency_key="tg:1",
    )
    assert sent["status"] == "queued"
    # A second customer links by sharing their own phone
    ingest(
        dealer,
        drain,
        customer_event("m-TG-2", "TG-2", first_name="Пётр", phones=["+7 916 400 00 77"]),
    )
    other = api("GET", "/v1/customers", dealer.api_key, query={"external_id": "TG-2"})[1]["items"][
        0
    ]["id"]
    shared = tg_message(
        5550002, contact={"phone_number": "79164000077", "first_name": "Пётр", "user_id": 5550002}
    )
    assert telegram(bot_id, secret, shared)[0] == 200
    other_profile = api("GET", f"/v1/customers/{other}", dealer.api_key)[1]
    assert other_profile["consents"]["telegram"]["service"]["source"] == "telegram contact"
    # /stop withdraws Telegram marketing and service in the ledger
    assert telegram(bot_id, secret, tg_message(5550001, text="/stop"))[0] == 200
    profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)[1]
    telegram_consent = profile["consents"]["telegram"]
    assert telegram_consent["service"]["granted"] is False
    assert telegram_consent["marketing"]["granted"] is False
    assert telegram_consent["service"]["source"] == "telegram /stop"
    _, after = send(
        dealer,
        customer_id=customer_id,
        purpose="service",
        text="Ещё напоминание",
        channel="telegram",
        idempotency_key="tg:2",
    )
    assert after["status"] == "suppressed"


def test_links_are_tracked_and_email_opens_skip_machines(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, daytime: Any, public_url: str
) -> None:
    tenant_id = dealer.tenant.tenant_id
    customer_id = customer(dealer, drain, "TR-1", consents=EMAIL_CONSENT, emails=["tr@example.com"])
    _, sent = send(
        dealer,
        customer_id=customer_id,
        purpose="marketing",
        text="Зимние шины: https://dealer.example/tyres?utm=1. Ждём!",
        channel="email",
        idempotency_key="tr:1",
    )
    work_email_queue(stack)
    [mail] = [m for m in outbox(tenant_id) if m["meta"]["message_id"] == sent["id"]]
    links = mail["meta"]["links"]
    [tracked] = [link["url"] for link in links if link["purpose"] == "tracking"]
    assert tracked.startswith(f"{public_url}/l/c/") and tracked in mail["body"]
    assert "https://dealer.example/tyres" not in mail["body"]
    assert {link["purpose"] for link in links} >= {"unsubscribe", "tracking"}
    # The pixel fetched by Apple's privacy proxy at once is no human open
    from trigly.messaging.message import StoredMessage
    from trigly.store import messages as store
    from trigly.store.feedback import find_by_provider_id

    ref = find_by_provider_id(tenant_id, "email", mail["id"], clock.now())
    assert ref is not None
    loaded = store.load(ref)
    assert loaded is not None
    pixel = StoredMessage.model_validate_json(loaded[0]).open_pixel
    assert pixel is not None and pixel.endswith(".gif")
    pixel_path = pixel.removeprefix(public_url)
    status, _, headers = call("GET", pixel_path, headers={"User-Agent": "Mozilla/5.0"})
    assert status == 200 and headers["content-type"] == "image/gif"
    message = history(dealer, customer_id, sent["id"])
    assert message["status"] != "opened" and "machine_opened_at" in message
    # A person opens it an hour later on an iPhone: opened
    daytime.advance(timedelta(hours=1))
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"
    call("GET", pixel_path, headers={"User-Agent": iphone})
    assert history(dealer, customer_id, sent["id"])["status"] == "opened"
    # The click redirects to the target and records `clicked`
    status, _, headers = call(
        "GET", tracked.removeprefix(public_url), headers={"User-Agent": iphone}
    )
    assert status == 303 and headers["location"] == "https://dealer.example/tyres?utm=1"
    assert history(dealer, customer_id, sent["id"])["status"] == "clicked"
    # A tampered token redirects nowhere
    assert call("GET", tracked.removeprefix(public_url)[:-3] + "AAA")[0] == 404


def test_the_suppression_list_outlives_erasure_and_refuses_a_reimport(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, daytime: Any
) -> None:
    opted_out = {
        "sms": {
            "service": True,
            "marketing": False,
            "at": "2026-11-01T10:00:00+03:00",
            "source": "звонок",
        },
        "email": {
            "service": True,
            "marketing": True,
            "at": "2026-01-10T10:00:00+03:00",
            "source": "анкета",
        },
    }
    customer_id = customer(dealer, drain, "SU-1", consents=opted_out, emails=["su@example.com"])
    from trigly.messaging.feedback import mark_contact
    from trigly.profiles.contacts import ContactStatus

    mark_contact(dealer.tenant.tenant_id, customer_id, "su@example.com", ContactStatus.COMPLAINED)
    assert api("DELETE", f"/v1/customers/{customer_id}", dealer.api_key)[0] in (200, 202, 204)
    # The DMS re-imports the person with an old "yes" to everything
    stale_yes = {
        "sms": {
            "service": True,
            "marketing": True,
            "at": "2026-01-10T10:00:00+03:00",
            "source": "DMS",
        },
        "email": {
            "service": True,
            "marketing": True,
            "at": "2026-01-10T10:00:00+03:00",
            "source": "DMS",
        },
    }
    ingest(
        dealer,
        drain,
        customer_event(
            "su-again",
            "SU-1-NEW",
            first_name="Нина",
            phones=["8 916 400 00 01"],
            emails=["su@example.com"],
            consents=stale_yes,
        ),
    )
    again = api("GET", "/v1/customers", dealer.api_key, query={"external_id": "SU-1-NEW"})[1][
        "items"
    ][0]["id"]
    marketing_sms = send(
        dealer,
        customer_id=again,
        purpose="marketing",
        text="Акция",
        channel="sms",
        idempotency_key="su:1",
    )[1]
    assert marketing_sms["status"] == "suppressed"
    email = send(
        dealer,
        customer_id=again,
        purpose="service",
        text="ТО",
        channel="email",
        idempotency_key="su:2",
    )[1]
    assert email["status"] == "suppressed"
    reasons = {
        m["id"]: m["reason"]
        for m in api("GET", "/v1/messages", dealer.api_key, query={"customer_id": again})[1][
            "items"
        ]
    }
    assert reasons == {marketing_sms["id"]: "unsubscribed", email["id"]: "suppressed_contact"}
    # A service SMS (no opt-out for service) still goes
    ok = send(
        dealer,
        customer_id=again,
        purpose="service",
        text="ТО",
        channel="sms",
        idempotency_key="su:3",
    )[1]
    assert ok["status"] == "queued"
