"""Real channel providers end to end: credentials set through the API (Parameter Store in moto),
the channel worker sending through a real local HTTP server that speaks the provider's API, the
claim released only when the provider surely did not take the message, and the shared rate
limiter on the template's main table."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import boto3
import httpx
import pytest

from functions.channels.app import handler as channel_worker
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_ingest_and_api import api
from tests.integration.test_messages import SMS_CONSENT, customer, send
from tests.support import FakeLambdaContext, sqs_event
from trigly.channels import credentials, http
from trigly.channels.provider import RetryLater
from trigly.channels.ratelimit import Limit, RateLimiter
from trigly.channels.sandbox import outbox
from trigly.platform.settings import get_settings
from trigly.store import messages as message_store

SMSRU = {"provider": "smsru", "api_id": "F2D79B58-A5A2-2F9E", "sender": "AvtoMir"}


# ------------------------------------------------------------------ a local SMS.ru on a socket


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | str
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeProvider:
    """A threaded HTTP/1.1 server (keep-alive) answering with queued replies, default `ok`."""

    ok: Reply
    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    chooser: Callable[[], Reply] | None = None  # instead of the queue: a reply per request

    def next_reply(self, form: dict[str, str]) -> Reply:
        with self.lock:
            if self.chooser is not None:
                reply = self.chooser()
            else:
                reply = self.replies.pop(0) if self.replies else self.ok
            self.requests.append({**form, "replied": str(reply.status), "late": str(reply.delay)})
            return reply


def smsru_ok(number: str, sms_id: str) -> dict[str, Any]:
    return {
        "status": "OK",
        "status_code": 100,
        "sms": {number: {"status": "OK", "status_code": 100, "sms_id": sms_id}},
    }


@pytest.fixture
def fake_smsru(monkeypatch: pytest.MonkeyPatch, stack: DeployedStack) -> Iterator[FakeProvider]:
    fake = FakeProvider(ok=Reply(200, smsru_ok("79164000001", "000000-1")))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def setup(self) -> None:
            super().setup()
            with fake.lock:
                fake.connections += 1

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            reply = fake.next_reply({"path": self.path, **form})
            time.sleep(reply.delay)
            raw = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            data = raw.encode()
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoints = {"smsru": f"http://127.0.0.1:{server.server_address[1]}"}
    monkeypatch.setenv("TRIGLY_PROVIDER_ENDPOINTS", json.dumps(endpoints))
    get_settings.cache_clear()
    http.forget_client()
    credentials.forget_all()
    yield fake
    server.shutdown()
    server.server_close()
    http.forget_client()
    credentials.forget_all()
    monkeypatch.delenv("TRIGLY_PROVIDER_ENDPOINTS")
    get_settings.cache_clear()


def sms_records(stack: DeployedStack) -> list[str]:
    sqs = boto3.client("sqs")
    queue = stack.queues["ChannelSmsQueue"]
    bodies = []
    while received := sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in received:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def work(stack: DeployedStack, bodies: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = channel_worker(
        sqs_event(bodies, stack.queues["ChannelSmsQueue"].arn), FakeLambdaContext()
    )
    return result


def messages_of(dealer: TenantFixture, customer_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api(
        "GET", "/v1/messages", dealer.api_key, query={"customer_id": customer_id}
    )[1]["items"]
    return items


def configure_smsru(dealer: TenantFixture) -> None:
    status, body = api("PUT", "/v1/channels/sms", dealer.api_key, body=SMSRU)
    assert status == 200, body


def one_off(dealer: TenantFixture, customer_id: str, key: str) -> str:
    status, answer = send(
        dealer,
        customer_id=customer_id,
        purpose="transactional",
        text="Ваш автомобиль готов.",
        channel="sms",
        idempotency_key=key,
    )
    assert (status, answer["status"]) == (202, "queued"), answer
    message_id: str = answer["id"]
    return message_id


# ------------------------------------------------------------------------ credentials API


def test_credentials_are_write_only_validated_per_provider_and_per_tenant(
    stack: DeployedStack, dealer: TenantFixture, other_dealer: TenantFixture
) -> None:
    # Bad credentials and a provider of another channel are field errors
    status, problem = api(
        "PUT",
        "/v1/channels/telegram",
        dealer.api_key,
        body={"provider": "telegram", "bot_token": "x"},
    )
    assert status == 422 and problem["errors"][0]["field"] == "bot_token"
    status, problem = api(
        "PUT", "/v1/channels/sms", dealer.api_key, body={"provider": "max", "token": "t" * 20}
    )
    assert status == 422 and problem["errors"][0]["field"] == "provider"
    assert api("PUT", "/v1/channels/pigeon", dealer.api_key, body=SMSRU)[0] == 404
    assert api("PUT", "/v1/channels/email", dealer.api_key, body=SMSRU)[0] == 422

    # Set: the answer names the provider, never the secret
    status, saved = api("PUT", "/v1/channels/sms", dealer.api_key, body=SMSRU)
    assert status == 200 and saved["provider"] == "smsru" and saved["mode"] == "live"
    assert "F2D79B58" not in json.dumps(saved)
    listed = api("GET", "/v1/channels", dealer.api_key)[1]["items"]
    modes = {item["channel"]: (item["mode"], item["provider"]) for item in listed}
    assert modes["sms"] == ("live", "smsru") and modes["telegram"] == ("sandbox", None)
    assert "F2D79B58" not in json.dumps(listed)
    # stored whole as an encrypted SecureString parameter under the tenant's name, standard
    # tier (free), and never as a Secrets Manager secret ($0.40 a month each)
    name = f"/trigly/{get_settings().stage}/tenants/{dealer.tenant.tenant_id}/channels/sms"
    ssm = boto3.client("ssm")
    described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])[
        "Parameters"
    ]
    assert [(p["Type"], p["Tier"]) for p in described] == [("SecureString", "Standard")]
    stored = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    assert json.loads(stored) == {**SMSRU, "test": False, "per_second": 20}
    assert (
        boto3.client("secretsmanager").list_secrets(
            Filters=[{"Key": "name", "Values": [f"trigly/{get_settings().stage}/tenants/"]}]
        )["SecretList"]
        == []
    )
    # another tenant sees nothing of it
    others = api("GET", "/v1/channels", other_dealer.api_key)[1]["items"]
    assert all(item["mode"] != "live" for item in others)
    assert api("DELETE", "/v1/channels/sms", other_dealer.api_key)[0] == 404

    # Replaced, then removed: back to sandbox, the secret gone
    assert (
        api("PUT", "/v1/channels/sms", dealer.api_key, body={**SMSRU, "sender": "Avto"})[0] == 200
    )
    assert (
        json.loads(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])[
            "sender"
        ]
        == "Avto"
    )
    assert api("DELETE", "/v1/channels/sms", dealer.api_key)[0] == 204
    assert api("DELETE", "/v1/channels/sms", dealer.api_key)[0] == 404
    listed = api("GET", "/v1/channels", dealer.api_key)[1]["items"]
    assert {i["channel"]: i["mode"] for i in listed}["sms"] == "sandbox"
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=name)


def test_credentials_api_is_in_the_openapi_document(stack: DeployedStack) -> None:
    document = api("GET", "/openapi.json", None)[1]
    assert {"put", "delete"} <= set(document["paths"]["/v1/channels/{channel}"])


# ------------------------------------------------------------------------ sending for real


def test_a_configured_channel_sends_through_the_provider_once_over_one_connection(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, fake_smsru: FakeProvider
) -> None:
    customer_id = customer(dealer, drain, "CH-1", consents=SMS_CONSENT)
    configure_smsru(dealer)
    ids = [one_off(dealer, customer_id, f"ready:{n}") for n in range(8)]
    bodies = sms_records(stack)
    # every record of the first batch delivered twice (SQS is at-least-once): still one request
    # per message; then a second invocation with the rest
    assert work(stack, bodies[:4]) == {"batchItemFailures": []}
    assert work(stack, bodies[:4]) == {"batchItemFailures": []}
    assert work(stack, bodies[4:]) == {"batchItemFailures": []}
    assert len(fake_smsru.requests) == 8
    first = fake_smsru.requests[0]
    assert first["path"] == "/sms/send" and first["to"] == "79164000001"
    assert first["from"] == "AvtoMir" and first["json"] == "1"
    assert first["msg"].startswith("Ваш автомобиль готов.")
    # keep-alive: the second invocation reused the first one's connections (a batch runs
    # concurrently, so up to one per record in flight — never one per request)
    assert fake_smsru.connections <= 4
    listed = {m["id"]: m for m in messages_of(dealer, customer_id)}
    assert all(listed[i]["status"] == "sent" for i in ids)
    assert outbox(dealer.tenant.tenant_id) == []  # nothing went to the sandbox


def test_a_busy_provider_releases_the_claim_and_the_redelivery_sends_once(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, fake_smsru: FakeProvider
) -> None:
    customer_id = customer(dealer, drain, "CH-2", consents=SMS_CONSENT)
    configure_smsru(dealer)
    message_id = one_off(dealer, customer_id, "busy:1")
    [body] = sms_records(stack)
    # Given SMS.ru answers 429 with a wait longer than the worker may spend
    fake_smsru.replies = [Reply(429, {"status": "ERROR"}, headers={"Retry-After": "30"})]
    result = work(stack, [body])
    # Then the record goes back to the queue, the message is still queued and unclaimed
    assert len(result["batchItemFailures"]) == 1
    [message] = messages_of(dealer, customer_id)
    assert message["status"] == "queued"
    ref = json.loads(body)
    loaded = message_store.load(
        message_store.MessageRef(ref["tenant_id"], ref["customer_id"], ref["sk"])
    )
    assert loaded is not None and loaded[2] is None  # claimed_at released
    # When the queue redelivers it, it goes — once
    assert work(stack, [body]) == {"batchItemFailures": []}
    assert work(stack, [body]) == {"batchItemFailures": []}
    assert len(fake_smsru.requests) == 2  # the refused one and the one that went
    [message] = messages_of(dealer, customer_id)
    assert message["id"] == message_id and message["status"] == "sent"


def test_a_timeout_is_an_unknown_outcome_never_sent_again(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    fake_smsru: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http, "TIMEOUT", httpx.Timeout(2.0, read=0.3))
    http.forget_client()
    customer_id = customer(dealer, drain, "CH-3", consents=SMS_CONSENT)
    configure_smsru(dealer)
    one_off(dealer, customer_id, "slow:1")
    [body] = sms_records(stack)
    # Given SMS.ru takes the request and answers too late
    fake_smsru.replies = [Reply(200, smsru_ok("79164000001", "late"), delay=1.0)]
    assert work(stack, [body]) == {"batchItemFailures": []}
    [message] = messages_of(dealer, customer_id)
    assert (message["status"], message["reason"]) == ("failed", "unknown_outcome")
    # a redelivery never asks the provider again
    assert work(stack, [body]) == {"batchItemFailures": []}
    assert len(fake_smsru.requests) == 1


def test_a_refusal_fails_the_message_with_provider_rejected(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, fake_smsru: FakeProvider
) -> None:
    customer_id = customer(dealer, drain, "CH-4", consents=SMS_CONSENT)
    configure_smsru(dealer)
    one_off(dealer, customer_id, "refused:1")
    fake_smsru.replies = [
        Reply(
            200,
            {
                "status": "OK",
                "status_code": 100,
                "sms": {"79164000001": {"status": "ERROR", "status_code": 207}},
            },
        )
    ]
    assert work(stack, sms_records(stack)) == {"batchItemFailures": []}
    [message] = messages_of(dealer, customer_id)
    assert (message["status"], message["reason"]) == ("failed", "provider_rejected")


# ------------------------------------------------------------------------ the rate limiter


@dataclass
class FakeTime:
    now: float

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_rate_limit_is_shared_across_workers_per_tenant(
    stack: DeployedStack, dealer: TenantFixture, other_dealer: TenantFixture
) -> None:
    moment = FakeTime(1_900_000_000.25)
    one = RateLimiter(max_wait=0.0, now=lambda: moment.now, sleep=moment.sleep)
    two = RateLimiter(max_wait=0.0, now=lambda: moment.now, sleep=moment.sleep)
    limit = [Limit("telegram:bot1", 3)]
    tenant = dealer.tenant.tenant_id
    # two workers share one window of 3
    one.acquire(tenant, limit)
    two.acquire(tenant, limit)
    one.acquire(tenant, limit)
    with pytest.raises(RetryLater) as later:
        two.acquire(tenant, limit)
    assert later.value.retry_after == pytest.approx(0.75)
    # another tenant's bot has its own counter
    two.acquire(other_dealer.tenant.tenant_id, limit)
    # a worker allowed to wait gets the next window
    patient = RateLimiter(max_wait=1.0, now=lambda: moment.now, sleep=moment.sleep)
    patient.acquire(tenant, limit)
    assert moment.now == pytest.approx(1_900_000_001.0)
    # the per-chat limit holds even while the bot has room
    chat = [Limit("telegram:bot1", 30), Limit("telegram:bot1:chat9", 1)]
    one.acquire(tenant, chat)
    with pytest.raises(RetryLater):
        one.acquire(tenant, chat)
    # counters are items that expire a minute after their window (TTL)
    table = boto3.resource("dynamodb").Table(get_settings().main_table)
    item = table.get_item(Key={"pk": f"T#{tenant}#RATE#telegram:bot1#1900000000", "sk": "RATE"})[
        "Item"
    ]
    assert item["n"] == 3 and item["expires_at"] == 1_900_000_060


class AlmostOutOfTime(FakeLambdaContext):
    def get_remaining_time_in_millis(self) -> int:
        return 5_000


def test_a_worker_near_its_timeout_starts_no_send_and_leaves_the_records_unclaimed(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, fake_smsru: FakeProvider
) -> None:
    customer_id = customer(dealer, drain, "CH-5", consents=SMS_CONSENT)
    configure_smsru(dealer)
    one_off(dealer, customer_id, "late:1")
    bodies = sms_records(stack)
    event = sqs_event(bodies, stack.queues["ChannelSmsQueue"].arn)
    result = channel_worker(event, AlmostOutOfTime())
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [
        r["messageId"] for r in event["Records"]
    ]
    assert fake_smsru.requests == []
    ref = json.loads(bodies[0])
    loaded = message_store.load(
        message_store.MessageRef(ref["tenant_id"], ref["customer_id"], ref["sk"])
    )
    assert loaded is not None and loaded[2] is None  # not claimed: the redelivery sends it
    assert work(stack, bodies) == {"batchItemFailures": []}
    assert len(fake_smsru.requests) == 1


def test_the_client_keeps_its_connection_alive_between_requests(fake_smsru: FakeProvider) -> None:
    url = f"{get_settings().provider_endpoints['smsru']}/sms/send"
    for n in range(5):
        response = http.request("POST", url, data={"n": str(n)})
        assert response.status_code == 200
    assert fake_smsru.connections == 1 and len(fake_smsru.requests) == 5


def test_random_provider_faults_never_make_a_second_message(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    fake_smsru: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """40 messages against an SMS.ru that answers at random: OK, 429, 502, too late, or a final
    refusal. Each message ends sent or failed, and the provider never got a second request for a
    message after a request it may have accepted."""
    import random

    monkeypatch.setattr(http, "TIMEOUT", httpx.Timeout(2.0, read=0.3))
    http.forget_client()
    rng = random.Random(5)
    ok = smsru_ok("79164000001", "id")
    refused = {"status": "OK", "sms": {"79164000001": {"status": "ERROR", "status_code": 207}}}
    faults = [
        (0.5, Reply(200, ok)),
        (0.2, Reply(429, {"status": "ERROR"}, headers={"Retry-After": "30"})),
        (0.1, Reply(502, "<html>Bad Gateway</html>")),
        (0.1, Reply(200, ok, delay=0.6)),
        (0.1, Reply(200, refused)),
    ]
    fake_smsru.chooser = lambda: rng.choices([r for _, r in faults], [w for w, _ in faults])[0]
    customer_id = customer(dealer, drain, "CH-6", consents=SMS_CONSENT)
    configure_smsru(dealer)
    for n in range(40):
        status, _ = send(
            dealer,
            customer_id=customer_id,
            purpose="transactional",
            text=f"Заказ {n:02d} готов.",
            channel="sms",
            idempotency_key=f"fault:{n}",
        )
        assert status == 202
    pending = sms_records(stack)
    for _ in range(30):  # the queue redelivering what was handed back
        if not pending:
            break
        event = sqs_event(pending, stack.queues["ChannelSmsQueue"].arn)
        bodies = {r["messageId"]: r["body"] for r in event["Records"]}
        result = channel_worker(event, FakeLambdaContext())
        pending = [bodies[f["itemIdentifier"]] for f in result["batchItemFailures"]]
    assert pending == []
    by_text: dict[str, list[dict[str, str]]] = {}
    for request in fake_smsru.requests:
        by_text.setdefault(request["msg"][:14], []).append(request)
    assert len(by_text) == 40
    for requests in by_text.values():
        # only 429s (surely not taken) come before the last request for a message
        assert all(r["replied"] == "429" for r in requests[:-1]), requests
    outcomes = {(m["status"], m["reason"]) for m in messages_of(dealer, customer_id)}
    assert outcomes <= {
        ("sent", None),
        ("failed", "unknown_outcome"),
        ("failed", "provider_rejected"),
    }
    listed = messages_of(dealer, customer_id)
    assert len(listed) == 40 and all(m["status"] != "queued" for m in listed)
    assert {"sent", "failed"} <= {m["status"] for m in listed}
