"""Every channel provider over its documented HTTP shapes (respx): what it sends, and how each
answer ends — accepted, a final refusal, a retry only where the provider surely did not take the
message, or an unknown outcome that is never retried."""

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from trigly.channels import fcm, http
from trigly.channels.configuration import STANDARD_PARAMETER_BYTES, write_credentials
from trigly.channels.credentials import CREDENTIALS, Credentials, to_secret
from trigly.channels.provider import OutcomeUnknown, Provider, ProviderRejected, RetryLater
from trigly.channels.ratelimit import NoLimit
from trigly.channels.registry import build
from trigly.channels.smsru import SmsRuProvider
from trigly.events.types import Channel
from trigly.messaging.intent import MessagePurpose, MessageState
from trigly.messaging.message import StoredMessage
from trigly.platform.errors import ValidationFailed
from trigly.platform.settings import get_settings

PHONE = "+79161234567"
LINKS = [
    {"purpose": "booking", "url": "https://go.dealer.ru/l/book"},
    {"purpose": "unsubscribe", "url": "https://go.dealer.ru/l/out"},
]


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "TRIGLY_MAIN_TABLE": "main",
        "TRIGLY_IDEMPOTENCY_TABLE": "idem",
        "TRIGLY_REJECTED_EVENTS_TABLE": "rej",
        "TRIGLY_INGEST_QUEUE_URL": "https://sqs/ingest",
        "TRIGLY_ARCHIVE_BUCKET": "bucket",
        "TRIGLY_EVENT_BUS": "bus",
        "TRIGLY_OUTBOUND_QUEUE_URL": "https://sqs/outbound",
        "TRIGLY_CHANNEL_QUEUE_URLS": '{"sms": "https://sqs/sms"}',
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TRIGLY_PROVIDER_ENDPOINTS", raising=False)
    get_settings.cache_clear()
    http.forget_client()
    yield
    get_settings.cache_clear()
    http.forget_client()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff waits, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(http, "_sleep", recorded.append)
    return recorded


def message(channel: Channel, to: str = PHONE, **extra: Any) -> StoredMessage:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    return StoredMessage(
        message_id="msg_1",
        customer_id="cus_1",
        idempotency_key="k1",
        kind="one_off",
        purpose=MessagePurpose.SERVICE,
        created_at=now,
        channel=channel,
        to=to,
        body="Нина, ваш автомобиль готов.",
        state=MessageState.queued(now),
        links=LINKS,
        **extra,
    )


def provider(document: dict[str, Any]) -> Provider:
    credentials: Credentials = CREDENTIALS.validate_python(document)
    return build(credentials, limiter=NoLimit())


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


# ------------------------------------------------------------------------------ SMS.ru

SMSRU = {"provider": "smsru", "api_id": "F2D79B58-A5A2-2F9E", "sender": "AvtoMir"}
SMSRU_URL = "https://sms.ru/sms/send"


def smsru_ok(sms_id: str = "000000-10000001") -> dict[str, Any]:
    return {
        "status": "OK",
        "status_code": 100,
        "sms": {"79161234567": {"status": "OK", "status_code": 100, "sms_id": sms_id}},
        "balance": 4122.56,
    }


@respx.mock
def test_smsru_posts_the_form_with_the_tenants_sender_and_returns_the_sms_id() -> None:
    route = respx.post(SMSRU_URL).respond(200, json=smsru_ok())
    accepted = provider(SMSRU).send("ten_1", message(Channel.SMS))
    assert accepted.provider_message_id == "000000-10000001"
    sent = form(route.calls.last.request)
    assert sent == {
        "api_id": "F2D79B58-A5A2-2F9E",
        "to": "79161234567",
        "msg": "Нина, ваш автомобиль готов.",
        "json": "1",
        "from": "AvtoMir",
    }


@respx.mock
@pytest.mark.parametrize(
    ("code", "words"),
    [(202, "phone number is invalid"), (201, "balance"), (204, "sender name"), (200, "api_id")],
)
def test_smsru_final_refusals_name_the_cause(code: int, words: str) -> None:
    body = {
        "status": "OK",
        "status_code": 100,
        "sms": {"79161234567": {"status": "ERROR", "status_code": code, "status_text": "…"}},
    }
    if code == 200:  # a request-level error has no per-number part
        body = {"status": "ERROR", "status_code": 200, "status_text": "Неправильный api_id"}
    route = respx.post(SMSRU_URL).respond(200, json=body)
    with pytest.raises(ProviderRejected, match=words):
        provider(SMSRU).send("ten_1", message(Channel.SMS))
    assert route.call_count == 1


@respx.mock
def test_smsru_service_unavailable_is_retried_with_backoff(waits: list[float]) -> None:
    busy = {"status": "ERROR", "status_code": 220, "status_text": "Сервис временно недоступен"}
    route = respx.post(SMSRU_URL)
    route.side_effect = [httpx.Response(200, json=busy), httpx.Response(200, json=smsru_ok("x"))]
    assert provider(SMSRU).send("ten_1", message(Channel.SMS)).provider_message_id == "x"
    assert route.call_count == 2 and len(waits) == 1


@respx.mock
def test_smsru_malformed_answer_and_5xx_are_unknown_outcomes_sent_once() -> None:
    route = respx.post(SMSRU_URL).respond(200, text="100\n000000-1")  # not JSON
    with pytest.raises(OutcomeUnknown):
        provider(SMSRU).send("ten_1", message(Channel.SMS))
    route.respond(502, text="Bad gateway")
    with pytest.raises(OutcomeUnknown):
        provider(SMSRU).send("ten_1", message(Channel.SMS))
    assert route.call_count == 2  # one each: never retried


def test_smsru_refuses_a_recipient_that_is_not_a_phone_without_a_request() -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(SMSRU_URL)
        with pytest.raises(ProviderRejected, match=r"E\.164"):
            provider(SMSRU).send("ten_1", message(Channel.SMS, to="nina@example.ru"))
        assert route.call_count == 0


# ------------------------------------------------------------------------------ SMSC.ru

SMSC = {"provider": "smsc", "login": "avtomir", "password": "s3cret", "sender": "AvtoMir"}
SMSC_URL = "https://smsc.ru/sys/send.php"


@respx.mock
def test_smsc_posts_fmt3_and_returns_its_id() -> None:
    route = respx.post(SMSC_URL).respond(200, json={"id": 204, "cnt": 1})
    assert provider(SMSC).send("ten_1", message(Channel.SMS)).provider_message_id == "204"
    sent = form(route.calls.last.request)
    assert sent["fmt"] == "3" and sent["phones"] == "79161234567" and sent["sender"] == "AvtoMir"
    assert sent["login"] == "avtomir" and sent["psw"] == "s3cret" and sent["charset"] == "utf-8"


@respx.mock
def test_smsc_errors_final_or_retried_by_code(waits: list[float]) -> None:
    route = respx.post(SMSC_URL).respond(200, json={"error": "invalid number", "error_code": 7})
    with pytest.raises(ProviderRejected, match="phone number is invalid"):
        provider(SMSC).send("ten_1", message(Channel.SMS))
    # 9: more than one identical request within a minute — nothing sent; wait the minute out
    route.respond(200, json={"error": "duplicate request, wait a minute", "error_code": 9})
    with pytest.raises(RetryLater) as later:
        provider(SMSC).send("ten_1", message(Channel.SMS))
    assert later.value.retry_after == 60.0 and waits == []  # beyond the in-Lambda budget


@respx.mock
def test_smsc_timeout_is_an_unknown_outcome_never_retried() -> None:
    route = respx.post(SMSC_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown):
        provider(SMSC).send("ten_1", message(Channel.SMS))
    assert route.call_count == 1


# ------------------------------------------------------------------------------ Telegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TELEGRAM = {"provider": "telegram", "bot_token": TOKEN}
TELEGRAM_URL = f"https://api.telegram.org/bot{TOKEN}/sendMessage"


@respx.mock
def test_telegram_sends_links_as_url_buttons() -> None:
    route = respx.post(TELEGRAM_URL).respond(
        200, json={"ok": True, "result": {"message_id": 42, "chat": {"id": 555}}}
    )
    accepted = provider(TELEGRAM).send("ten_1", message(Channel.TELEGRAM, to="555"))
    assert accepted.provider_message_id == "555:42"
    sent = json.loads(route.calls.last.request.content)
    assert sent["chat_id"] == "555" and sent["text"] == "Нина, ваш автомобиль готов."
    assert sent["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Записаться", "url": "https://go.dealer.ru/l/book"}],
            [{"text": "Отписаться", "url": "https://go.dealer.ru/l/out"}],
        ]
    }


@respx.mock
def test_telegram_429_waits_its_retry_after_then_sends(waits: list[float]) -> None:
    route = respx.post(TELEGRAM_URL)
    route.side_effect = [
        httpx.Response(
            429,
            json={
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 2",
                "parameters": {"retry_after": 2},
            },
        ),
        httpx.Response(200, json={"ok": True, "result": {"message_id": 7}}),
    ]
    assert provider(TELEGRAM).send("ten_1", message(Channel.TELEGRAM, to="555"))
    assert route.call_count == 2 and waits and waits[0] >= 2.0


@respx.mock
def test_telegram_429_longer_than_the_budget_goes_back_to_the_queue(waits: list[float]) -> None:
    too_many = {"ok": False, "error_code": 429, "parameters": {"retry_after": 35}}
    route = respx.post(TELEGRAM_URL).respond(429, json=too_many)
    with pytest.raises(RetryLater) as later:
        provider(TELEGRAM).send("ten_1", message(Channel.TELEGRAM, to="555"))
    assert later.value.retry_after == 35 and route.call_count == 1 and waits == []


@respx.mock
@pytest.mark.parametrize(
    ("status", "description", "words"),
    [
        (403, "Forbidden: bot was blocked by the user", "cannot write"),
        (401, "Unauthorized", "token was revoked"),
        (400, "Bad Request: chat not found", "chat not found"),
    ],
)
def test_telegram_final_refusals(status: int, description: str, words: str) -> None:
    respx.post(TELEGRAM_URL).respond(
        status, json={"ok": False, "error_code": status, "description": description}
    )
    with pytest.raises(ProviderRejected, match=words):
        provider(TELEGRAM).send("ten_1", message(Channel.TELEGRAM, to="555"))


@respx.mock
def test_telegram_5xx_and_malformed_answers_are_unknown_outcomes() -> None:
    route = respx.post(TELEGRAM_URL).respond(502, text="<html>Bad Gateway</html>")
    with pytest.raises(OutcomeUnknown):
        provider(TELEGRAM).send("ten_1", message(Channel.TELEGRAM, to="555"))
    route.respond(200, json={"ok": True})
    with pytest.raises(OutcomeUnknown):
        provider(TELEGRAM).send("ten_1", message(Channel.TELEGRAM, to="555"))
    assert route.call_count == 2


def test_telegram_needs_a_linked_chat_not_a_phone() -> None:
    with pytest.raises(ProviderRejected, match="not linked a Telegram chat"):
        provider(TELEGRAM).send("ten_1", message(Channel.TELEGRAM, to=PHONE))


@respx.mock
def test_a_refused_connection_is_retried_because_nothing_was_sent(waits: list[float]) -> None:
    route = respx.post(TELEGRAM_URL)
    route.side_effect = [
        httpx.ConnectError("refused"),
        httpx.Response(200, json={"ok": True, "result": {"message_id": 9}}),
    ]
    assert provider(TELEGRAM).send("ten_1", message(Channel.TELEGRAM, to="555"))
    assert route.call_count == 2 and len(waits) == 1


# ------------------------------------------------------------------------------ MAX

MAX = {"provider": "max", "token": "max-token-0123456789"}
MAX_URL = "https://platform-api.max.ru/messages"


@respx.mock
def test_max_sends_with_the_header_token_and_an_inline_keyboard() -> None:
    route = respx.post(MAX_URL).respond(
        200, json={"message": {"recipient": {"user_id": 777}, "body": {"mid": "mid.abc"}}}
    )
    assert provider(MAX).send("ten_1", message(Channel.MAX, to="777")).provider_message_id == (
        "mid.abc"
    )
    request = route.calls.last.request
    assert request.url.params["user_id"] == "777"
    assert request.headers["authorization"] == "max-token-0123456789"
    assert "access_token" not in str(request.url)
    sent = json.loads(request.content)
    [keyboard] = sent["attachments"]
    assert keyboard["type"] == "inline_keyboard"
    assert keyboard["payload"]["buttons"][0] == [
        {"type": "link", "text": "Записаться", "url": "https://go.dealer.ru/l/book"}
    ]


@respx.mock
def test_max_errors(waits: list[float]) -> None:
    route = respx.post(MAX_URL).respond(
        403, json={"code": "chat.denied", "message": "user blocked the bot"}
    )
    with pytest.raises(ProviderRejected, match=r"chat\.denied"):
        provider(MAX).send("ten_1", message(Channel.MAX, to="777"))
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "1"}, json={"code": "too.many.requests"}),
        httpx.Response(200, json={"message": {"body": {"mid": "mid.2"}}}),
    ]
    assert provider(MAX).send("ten_1", message(Channel.MAX, to="777"))
    assert waits and waits[0] >= 1.0
    route.side_effect = None
    route.respond(503, json={"code": "service.unavailable"})
    with pytest.raises(OutcomeUnknown):
        provider(MAX).send("ten_1", message(Channel.MAX, to="777"))
    with pytest.raises(ProviderRejected, match="not linked a MAX user id"):
        provider(MAX).send("ten_1", message(Channel.MAX, to=PHONE))


# ------------------------------------------------------------------------------ WhatsApp

WHATSAPP = {
    "provider": "whatsapp",
    "phone_number_id": "106540352242922",
    "access_token": "EAAJB-0123456789",
    "template_name": "service_notice",
}
WHATSAPP_URL = "https://graph.facebook.com/v21.0/106540352242922/messages"


@respx.mock
def test_whatsapp_sends_the_tenants_template_with_the_text_as_its_parameter() -> None:
    route = respx.post(WHATSAPP_URL).respond(
        200,
        json={
            "messaging_product": "whatsapp",
            "contacts": [{"input": "79161234567", "wa_id": "79161234567"}],
            "messages": [{"id": "wamid.HBgLMTY0"}],
        },
    )
    accepted = provider(WHATSAPP).send("ten_1", message(Channel.WHATSAPP))
    assert accepted.provider_message_id == "wamid.HBgLMTY0"
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer EAAJB-0123456789"
    sent = json.loads(request.content)
    assert sent["to"] == "79161234567" and sent["type"] == "template"
    assert sent["template"]["name"] == "service_notice"
    assert sent["template"]["language"] == {"code": "ru"}
    assert sent["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "Нина, ваш автомобиль готов."}
    ]


def graph_error(code: int, message_text: str = "error") -> dict[str, Any]:
    return {"error": {"message": message_text, "type": "OAuthException", "code": code}}


@respx.mock
def test_whatsapp_error_codes(waits: list[float]) -> None:
    route = respx.post(WHATSAPP_URL).respond(401, json=graph_error(190, "token expired"))
    with pytest.raises(ProviderRejected, match="access token"):
        provider(WHATSAPP).send("ten_1", message(Channel.WHATSAPP))
    route.respond(400, json=graph_error(131026, "Message undeliverable"))
    with pytest.raises(ProviderRejected, match="131026"):
        provider(WHATSAPP).send("ten_1", message(Channel.WHATSAPP))
    # throughput exceeded: not processed, so retried
    route.side_effect = [
        httpx.Response(400, json=graph_error(130429, "Rate limit hit")),
        httpx.Response(200, json={"messages": [{"id": "wamid.2"}]}),
    ]
    assert provider(WHATSAPP).send("ten_1", message(Channel.WHATSAPP))
    assert len(waits) == 1
    route.side_effect = None
    route.respond(500, json=graph_error(131000, "Something went wrong"))
    with pytest.raises(OutcomeUnknown):
        provider(WHATSAPP).send("ten_1", message(Channel.WHATSAPP))


# ------------------------------------------------------------------------------ Viber

VIBER = {
    "provider": "viber",
    "auth_token": "445da6az1s345z78-dazcczb2542zv51a",
    "sender_name": "Автомир",
}
VIBER_URL = "https://chatapi.viber.com/pa/send_message"
VIBER_USER = "01234567890A="


@respx.mock
def test_viber_sends_text_with_an_open_url_keyboard() -> None:
    route = respx.post(VIBER_URL).respond(
        200, json={"status": 0, "status_message": "ok", "message_token": 5741311803571721087}
    )
    accepted = provider(VIBER).send("ten_1", message(Channel.VIBER, to=VIBER_USER))
    assert accepted.provider_message_id == "5741311803571721087"
    request = route.calls.last.request
    assert request.headers["x-viber-auth-token"] == "445da6az1s345z78-dazcczb2542zv51a"
    sent = json.loads(request.content)
    assert sent["receiver"] == VIBER_USER and sent["type"] == "text"
    assert sent["sender"] == {"name": "Автомир"} and sent["tracking_data"] == "msg_1"
    assert sent["keyboard"]["Buttons"][0]["ActionType"] == "open-url"


@respx.mock
def test_viber_statuses(waits: list[float]) -> None:
    route = respx.post(VIBER_URL).respond(
        200, json={"status": 6, "status_message": "notSubscribed"}
    )
    with pytest.raises(ProviderRejected, match="not subscribed"):
        provider(VIBER).send("ten_1", message(Channel.VIBER, to=VIBER_USER))
    route.side_effect = [
        httpx.Response(200, json={"status": 12, "status_message": "tooManyRequests"}),
        httpx.Response(200, json={"status": 0, "message_token": 1}),
    ]
    assert provider(VIBER).send("ten_1", message(Channel.VIBER, to=VIBER_USER))
    assert len(waits) == 1
    route.side_effect = None
    route.respond(200, text="oops")
    with pytest.raises(OutcomeUnknown):
        provider(VIBER).send("ten_1", message(Channel.VIBER, to=VIBER_USER))


# ------------------------------------------------------------------------------ FCM


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def fcm_credentials(rsa_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    fcm._tokens.clear()
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "provider": "fcm",
        "service_account": {
            "type": "service_account",
            "project_id": "avtomir-app",
            "client_email": "push@avtomir-app.iam.gserviceaccount.com",
            "private_key": pem,
            "token_uri": "https://oauth2.googleapis.com/token",
        },
    }


@pytest.mark.parametrize("key_size", [2048, 4096])
def test_the_largest_credentials_fit_a_standard_parameter(
    fcm_credentials: dict[str, Any], key_size: int
) -> None:
    # An FCM service account is the largest credentials a tenant gives (a PEM key); stored the
    # way the API stores it, it must fit the free tier even with a 4096-bit key.
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    body = {**fcm_credentials}
    body["service_account"] = {**body["service_account"], "private_key": pem}
    stored = json.dumps(to_secret(CREDENTIALS.validate_python(body)), ensure_ascii=False)
    assert len(stored.encode()) < STANDARD_PARAMETER_BYTES


def test_credentials_over_a_standard_parameter_are_a_field_error_not_a_500() -> None:
    # Refused before any AWS call: Parameter Store would refuse it with an error the API maps to
    # a 500.
    with pytest.raises(ValidationFailed):
        write_credentials("/trigly/test/tenants/t/channels/push", {"private_key": "k" * 5000})


FCM_URL = "https://fcm.googleapis.com/v1/projects/avtomir-app/messages:send"
TOKEN_URL = "https://oauth2.googleapis.com/token"


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@respx.mock
def test_fcm_signs_a_jwt_for_its_token_caches_it_and_sends(
    fcm_credentials: dict[str, Any], rsa_key: rsa.RSAPrivateKey
) -> None:
    token_route = respx.post(TOKEN_URL).respond(
        200, json={"access_token": "ya29.token", "expires_in": 3599, "token_type": "Bearer"}
    )
    send_route = respx.post(FCM_URL).respond(
        200, json={"name": "projects/avtomir-app/messages/0:1500415314455276%31bd1c9631bd1c96"}
    )
    push = provider(fcm_credentials)
    for _ in range(2):
        accepted = push.send("ten_1", message(Channel.PUSH, to="device-token-1", subject="ТО"))
    assert accepted.provider_message_id.startswith("projects/avtomir-app/messages/")
    assert token_route.call_count == 1  # cached for the second message
    # the assertion is a valid RS256 JWT of the service account, for the FCM scope
    assertion = form(token_route.calls.last.request)["assertion"]
    header, claims, signature = assertion.split(".")
    rsa_key.public_key().verify(
        _unb64(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    decoded = json.loads(_unb64(claims))
    assert decoded["iss"] == "push@avtomir-app.iam.gserviceaccount.com"
    assert decoded["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
    assert decoded["aud"] == TOKEN_URL and decoded["exp"] - decoded["iat"] == 3600
    request = send_route.calls.last.request
    assert request.headers["authorization"] == "Bearer ya29.token"
    sent = json.loads(request.content)["message"]
    assert sent["token"] == "device-token-1"
    assert sent["notification"] == {"body": "Нина, ваш автомобиль готов.", "title": "ТО"}
    assert sent["data"]["link_booking"] == "https://go.dealer.ru/l/book"


def fcm_error(status: int, code: str) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": code,
            "status": "NOT_FOUND" if status == 404 else "INVALID_ARGUMENT",
            "details": [
                {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
            ],
        }
    }


@respx.mock
def test_fcm_errors(fcm_credentials: dict[str, Any], waits: list[float]) -> None:
    respx.post(TOKEN_URL).respond(200, json={"access_token": "t1", "expires_in": 3599})
    route = respx.post(FCM_URL).respond(404, json=fcm_error(404, "UNREGISTERED"))
    with pytest.raises(ProviderRejected, match="no longer registered"):
        provider(fcm_credentials).send("ten_1", message(Channel.PUSH, to="dev"))
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "1"}, json=fcm_error(429, "QUOTA_EXCEEDED")),
        httpx.Response(200, json={"name": "projects/avtomir-app/messages/2"}),
    ]
    assert provider(fcm_credentials).send("ten_1", message(Channel.PUSH, to="dev"))
    assert waits and waits[0] >= 1.0
    route.side_effect = None
    route.respond(503, json=fcm_error(503, "UNAVAILABLE"))
    with pytest.raises(OutcomeUnknown):
        provider(fcm_credentials).send("ten_1", message(Channel.PUSH, to="dev"))


@respx.mock
def test_fcm_a_refused_access_token_is_renewed_once(
    fcm_credentials: dict[str, Any], waits: list[float]
) -> None:
    tokens = respx.post(TOKEN_URL)
    tokens.side_effect = [
        httpx.Response(200, json={"access_token": "old", "expires_in": 3599}),
        httpx.Response(200, json={"access_token": "new", "expires_in": 3599}),
    ]
    route = respx.post(FCM_URL)
    route.side_effect = [
        httpx.Response(401, json={"error": {"code": 401, "status": "UNAUTHENTICATED"}}),
        httpx.Response(200, json={"name": "projects/avtomir-app/messages/3"}),
    ]
    assert provider(fcm_credentials).send("ten_1", message(Channel.PUSH, to="dev"))
    assert route.calls[1].request.headers["authorization"] == "Bearer new"


@pytest.mark.parametrize(
    "token_uri",
    ["http://169.254.169.254/latest/meta-data/", "https://10.0.0.5/token", "https://evil.ru/t"],
)
def test_fcm_a_service_account_naming_another_token_host_is_refused(
    fcm_credentials: dict[str, Any], token_uri: str
) -> None:
    # Trigly posts a signed assertion to the key's token_uri: only Google's endpoint is called.
    fcm_credentials["service_account"]["token_uri"] = token_uri
    with pytest.raises(ValueError, match="token_uri"):
        CREDENTIALS.validate_python(fcm_credentials)


@respx.mock
def test_fcm_a_revoked_service_account_is_final(fcm_credentials: dict[str, Any]) -> None:
    respx.post(TOKEN_URL).respond(400, json={"error": "invalid_grant"})
    with pytest.raises(ProviderRejected, match="invalid_grant"):
        provider(fcm_credentials).send("ten_1", message(Channel.PUSH, to="dev"))


# ------------------------------------------------------------------------------ shared rules


def test_retry_after_header_forms() -> None:
    assert http.retry_after_header(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0
    date = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert http.retry_after_header(date) == 0.0  # a date in the past: no wait
    assert http.retry_after_header(httpx.Response(429)) is None


def test_retries_stop_at_the_budget_and_hand_back_the_wait() -> None:
    calls: list[int] = []

    def busy() -> None:
        calls.append(1)
        raise RetryLater("busy", retry_after=1.5)

    waited: list[float] = []
    policy = http.RetryPolicy(attempts=5, base=0.1, cap=0.2, budget=3.5)
    with pytest.raises(RetryLater) as later:
        http.with_retries(busy, policy, sleep=waited.append)
    assert waited == [1.5, 1.5] and len(calls) == 3  # a third wait would pass 3.5 s
    assert later.value.retry_after == 1.5


def test_credentials_are_validated_per_provider_and_never_printed() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        CREDENTIALS.validate_python({"provider": "telegram", "bot_token": "nope"})
    with pytest.raises(ValidationError):
        CREDENTIALS.validate_python({**SMSRU, "sender": "A very long sender"})
    with pytest.raises(ValidationError):
        CREDENTIALS.validate_python({"provider": "pigeon"})
    parsed = CREDENTIALS.validate_python(SMSRU)
    assert "F2D79B58" not in repr(parsed) and "F2D79B58" not in str(parsed)


def test_a_deployment_may_point_a_provider_at_another_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIGLY_PROVIDER_ENDPOINTS", '{"smsru": "http://127.0.0.1:9/fake"}')
    get_settings.cache_clear()
    built = provider(SMSRU)
    assert isinstance(built, SmsRuProvider) and built.url == "http://127.0.0.1:9/fake/sms/send"


def test_a_provider_down_hands_back_without_a_wait_of_its_own(waits: list[float]) -> None:
    # No wait named: the queue's visibility timeout spaces redeliveries, not a 1-second backoff
    def down() -> None:
        raise RetryLater("connection failed")

    with pytest.raises(RetryLater) as later:
        http.with_retries(down)
    assert later.value.retry_after is None and len(waits) == http.DEFAULT_POLICY.attempts - 1


@respx.mock
def test_fcm_a_token_endpoint_timeout_is_retried_nothing_was_sent(
    fcm_credentials: dict[str, Any], waits: list[float]
) -> None:
    tokens = respx.post(TOKEN_URL)
    tokens.side_effect = [
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"access_token": "t", "expires_in": 3599}),
    ]
    send = respx.post(FCM_URL).respond(200, json={"name": "projects/avtomir-app/messages/4"})
    assert provider(fcm_credentials).send("ten_1", message(Channel.PUSH, to="dev"))
    assert tokens.call_count == 2 and send.call_count == 1 and len(waits) == 1


# ---------------------------------------------------- what the template defines, as sent


def rendered_message(template: dict[str, Any], channel: Channel, to: str) -> StoredMessage:
    """The template rendered for the channel and stored as the messaging core stores it."""
    from zoneinfo import ZoneInfo

    from trigly.messaging.rendering import render
    from trigly.messaging.templates import MessageTemplate

    variables = {
        "customer": {"first_name": "Нина", "name": "Нина Петровна"},
        "car": {"make": "Kia", "model": "Rio"},
        "links": {"booking": "https://go.dealer.ru/l/book"},
    }
    done = render(
        MessageTemplate.model_validate({"template_id": "ready", **template}),
        channel,
        variables,
        zone=ZoneInfo("Europe/Moscow"),
    )
    return message(channel, to=to, **done.provider_parts()).model_copy(update={"body": done.text})


@respx.mock
def test_telegram_sends_the_templates_buttons_then_the_links_not_already_shown() -> None:
    route = respx.post(TELEGRAM_URL).respond(
        200, json={"ok": True, "result": {"message_id": 43, "chat": {"id": 555}}}
    )
    template = {
        "telegram": {
            "text": "{{ customer.name }}, {{ car.make }} {{ car.model }} готов.",
            "buttons": [
                {"text": "Выбрать время", "url": "{{ links.booking }}"},
                {"text": "Маршрут", "url": "https://yandex.ru/maps/?text=Автомир"},
            ],
        }
    }
    provider(TELEGRAM).send("ten_1", rendered_message(template, Channel.TELEGRAM, "555"))
    sent = json.loads(route.calls.last.request.content)
    assert sent["text"] == "Нина Петровна, Kia Rio готов."
    assert sent["reply_markup"]["inline_keyboard"] == [
        [{"text": "Выбрать время", "url": "https://go.dealer.ru/l/book"}],
        [{"text": "Маршрут", "url": "https://yandex.ru/maps/?text=Автомир"}],
        [{"text": "Отписаться", "url": "https://go.dealer.ru/l/out"}],  # a link, not repeated
    ]


@respx.mock
def test_whatsapp_sends_the_templates_named_parameters_and_url_buttons() -> None:
    route = respx.post(WHATSAPP_URL).respond(200, json={"messages": [{"id": "wamid.X"}]})
    template = {
        "text": "{{ customer.name }}, ваш автомобиль готов.",
        "whatsapp": {
            "name": "car_ready",
            "text": "{{ customer.first_name }}, ваш {{ car.make }} {{ car.model }} готов.",
            "parameters": {
                "first_name": "{{ customer.first_name }}",
                "car": "{{ car.make }}\n{{ car.model }}",
            },
            "buttons": ["{{ car.model }}"],
        },
    }
    stored = rendered_message(template, Channel.WHATSAPP, PHONE)
    assert stored.body == "Нина, ваш Kia Rio готов."  # what the history and outbox show
    provider(WHATSAPP).send("ten_1", stored)
    sent = json.loads(route.calls.last.request.content)["template"]
    assert sent["name"] == "car_ready" and sent["language"] == {"code": "ru"}
    assert sent["components"] == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "parameter_name": "first_name", "text": "Нина"},
                {"type": "text", "parameter_name": "car", "text": "Kia Rio"},  # one line
            ],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "Rio"}],
        },
    ]
