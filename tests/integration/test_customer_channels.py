"""A customer's own channels: the tenant's Telegram bot connected through the API (getMe,
setWebhook with the webhook's secret), the deep link in an SMS and from the API that links a
chat; push devices the dealer's app registers, used by the send path and removed again."""

import json
from datetime import time, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_feedback import EMAIL_CONSENT
from tests.integration.test_ingest_and_api import api
from tests.integration.test_messages import customer, send, work_sms_queue
from tests.support import days_ahead
from trigly.channels import configuration
from trigly.channels.sandbox import outbox
from trigly.messaging import inbound
from trigly.platform import clock

MSK = timezone(timedelta(hours=3))
BOT_ID = "7012345678"
TOKEN = f"{BOT_ID}:AAH0vF1p2Q3r4S5t6U7v8W9x0Y1z2A3b4C5"
PUBLIC = "https://go.dealer.example"
FCM_TOKEN = "dQw4w9WgXcQ:APA91bH" + "x" * 140


@pytest.fixture
def daytime(business_clock: clock.AdjustableClock) -> clock.AdjustableClock:
    business_clock.move_to(days_ahead(1, time(12), MSK))
    return business_clock


def bot_api(me: dict[str, Any] | None = None, status: int = 200) -> respx.MockRouter:
    """The Bot API's getMe and setWebhook, as documented (`{"ok": true, "result": ...}`)."""
    router = respx.mock(assert_all_called=False)
    base = f"https://api.telegram.org/bot{TOKEN}"
    if status == 200:
        result = me or {"id": int(BOT_ID), "is_bot": True, "username": "avtomir_bot"}
        router.post(f"{base}/getMe").mock(
            return_value=httpx.Response(200, json={"ok": True, "result": result})
        )
    else:
        router.post(f"{base}/getMe").mock(
            return_value=httpx.Response(
                status, json={"ok": False, "error_code": status, "description": "Unauthorized"}
            )
        )
    router.post(f"{base}/setWebhook").mock(
        return_value=httpx.Response(
            200, json={"ok": True, "result": True, "description": "Webhook was set"}
        )
    )
    return router


def test_connecting_the_bot_sets_its_webhook_and_links_reach_customers(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    daytime: Any,
    public_url: str,
) -> None:
    from tests.integration.test_callbacks import telegram, tg_message

    tenant_id = dealer.tenant.tenant_id
    customer_id = customer(dealer, drain, "TL-1", consents=EMAIL_CONSENT)
    # Before a bot is connected there is no link to give
    assert api("POST", f"/v1/customers/{customer_id}/telegram-link", dealer.api_key)[0] == 409
    # A token Telegram refuses is a field error, and nothing is stored
    with bot_api(status=401):
        status, problem = api(
            "PUT",
            "/v1/channels/telegram",
            dealer.api_key,
            body={"provider": "telegram", "bot_token": TOKEN},
        )
    assert status == 422 and problem["errors"][0]["field"] == "bot_token"
    # Connected: getMe names the bot, setWebhook gets Trigly's URL and the webhook's secret
    with bot_api() as telegram_api:
        status, saved = api(
            "PUT",
            "/v1/channels/telegram",
            dealer.api_key,
            body={"provider": "telegram", "bot_token": TOKEN},
        )
        calls = [
            (c.request.url.path.rsplit("/", 1)[1], c.request.content) for c in telegram_api.calls
        ]
    assert status == 200 and saved["bot_username"] == "avtomir_bot"
    assert TOKEN not in json.dumps(saved)
    assert [method for method, _ in calls] == ["getMe", "setWebhook"]
    sent = json.loads(calls[1][1])
    assert sent["url"] == f"{PUBLIC}/v1/telegram/{BOT_ID}/webhook"
    assert sent["secret_token"] == configuration.webhook_secret(tenant_id, BOT_ID)
    listed = api("GET", "/v1/channels", dealer.api_key)[1]["items"]
    assert next(i for i in listed if i["channel"] == "telegram")["bot_username"] == "avtomir_bot"
    # An SMS whose template offers Telegram carries the customer's own deep link
    template = {
        "sms": "Напоминания удобнее в Telegram"
        "{% if links.telegram is defined %}: {{ links.telegram }}{% endif %}"
    }
    assert api("PUT", "/v1/templates/tg-invite", dealer.api_key, body=template)[0] == 200
    _, first = send(
        dealer,
        customer_id=customer_id,
        purpose="service",
        template_id="tg-invite",
        channel="sms",
        idempotency_key="tg-invite:1",
    )
    work_sms_queue(stack)
    [sms] = [m for m in outbox(tenant_id) if m["meta"]["message_id"] == first["id"]]
    [invite] = [link["url"] for link in sms["meta"]["links"] if link["purpose"] == "telegram"]
    assert invite.startswith("https://t.me/avtomir_bot?start=")
    # (links in an SMS go through tracking: the SMS shows the tracking link to the deep link)
    assert any(link["purpose"] == "tracking" for link in sms["meta"]["links"])
    # A manager can fetch a link too; pressing Start with it links the chat
    status, given = api("POST", f"/v1/customers/{customer_id}/telegram-link", dealer.api_key)
    assert status == 200 and given["linked"] is False
    url = urlsplit(given["url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "t.me", "/avtomir_bot")
    token = parse_qs(url.query)["start"][0]
    secret = configuration.webhook_secret(tenant_id, BOT_ID)
    status, reply = telegram(BOT_ID, secret, tg_message(5551001, text=f"/start {token}"))
    assert status == 200 and reply["chat_id"] == 5551001
    # The SMS token works just the same (another chat of the same customer takes over)
    sms_token = parse_qs(urlsplit(invite).query)["start"][0]
    assert telegram(BOT_ID, secret, tg_message(5551002, text=f"/start {sms_token}"))[0] == 200
    # Linked: the next invitation leaves the link out
    _, second = send(
        dealer,
        customer_id=customer_id,
        purpose="service",
        template_id="tg-invite",
        channel="sms",
        idempotency_key="tg-invite:2",
    )
    work_sms_queue(stack)
    [sms] = [m for m in outbox(tenant_id) if m["meta"]["message_id"] == second["id"]]
    assert sms["body"] == "Напоминания удобнее в Telegram"
    linked = api("POST", f"/v1/customers/{customer_id}/telegram-link", dealer.api_key)[1]
    assert linked["linked"] is True
    assert api("POST", "/v1/customers/cus_nope/telegram-link", dealer.api_key)[0] == 404


def test_a_bot_username_given_in_the_body_is_kept_and_no_webhook_without_a_public_url(
    stack: DeployedStack, dealer: TenantFixture
) -> None:
    with bot_api() as telegram_api:
        status, saved = api(
            "PUT",
            "/v1/channels/telegram",
            dealer.api_key,
            body={"provider": "telegram", "bot_token": TOKEN, "bot_username": "@Dealer_Bot"},
        )
        paths = [c.request.url.path.rsplit("/", 1)[1] for c in telegram_api.calls]
    assert status == 200 and saved["bot_username"] == "Dealer_Bot"
    assert paths == ["getMe"]  # the token is still checked; no URL to give Telegram locally
    assert inbound.authenticate_bot(
        BOT_ID, configuration.webhook_secret(dealer.tenant.tenant_id, BOT_ID)
    )


def test_a_registered_push_device_gets_push_until_it_is_removed(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, daytime: Any
) -> None:
    from functions.channels.app import handler as channel_worker
    from tests.integration.test_feedback import work_queue
    from trigly.events.types import Channel
    from trigly.messaging.intent import MessagePurpose, SendIntent
    from trigly.messaging.service import send as send_intent

    tenant_id = dealer.tenant.tenant_id
    customer_id = customer(dealer, drain, "PD-1", consents=EMAIL_CONSENT)
    path = f"/v1/customers/{customer_id}/devices/{FCM_TOKEN}"
    # Bad input: an unknown platform, a token that is no FCM token, an unknown customer
    assert api("PUT", path, dealer.api_key, body={"platform": "symbian"})[0] == 422
    bad = f"/v1/customers/{customer_id}/devices/not%20a%20token"
    assert api("PUT", bad, dealer.api_key, body={"platform": "ios"})[0] == 422
    unknown = f"/v1/customers/cus_nope/devices/{FCM_TOKEN}"
    assert api("PUT", unknown, dealer.api_key, body={"platform": "ios"})[0] == 404
    # Registered: push is the customer's channel, and the message goes to that token
    status, device = api("PUT", path, dealer.api_key, body={"platform": "android"})
    assert status == 200 and device["platform"] == "android"

    def push_then_cascade(key: str) -> str:
        return send_intent(
            dealer.tenant,
            SendIntent(
                customer_id=customer_id,
                purpose=MessagePurpose.TRANSACTIONAL,
                kind="one_off",
                text="Автомобиль готов",
                channels=[Channel.PUSH],
                idempotency_key=key,
            ),
        ).message_id

    pushed = push_then_cascade("push:1")
    work_queue(stack, "ChannelPushQueue", channel_worker)
    [entry] = [m for m in outbox(tenant_id) if m["meta"]["message_id"] == pushed]
    assert (entry["channel"], entry["to"]) == ("push", FCM_TOKEN)
    # A newer device replaces it; an old install signing out does not remove the newer one
    newer = FCM_TOKEN.replace("dQw4", "eRx5")
    newer_path = f"/v1/customers/{customer_id}/devices/{newer}"
    assert api("PUT", newer_path, dealer.api_key, body={"platform": "ios"})[0] == 200
    assert api("DELETE", path, dealer.api_key)[0] == 404
    # Removed: push is unavailable, and the cascade goes on to SMS
    assert api("DELETE", newer_path, dealer.api_key)[0] == 204
    fallen = push_then_cascade("push:2")
    work_sms_queue(stack)
    [entry] = [m for m in outbox(tenant_id) if m["meta"]["message_id"] == fallen]
    assert entry["channel"] == "sms" and entry["to"].startswith("+7")
