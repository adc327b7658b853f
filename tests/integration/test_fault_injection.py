"""Bad input and failure (issue 5): 1,000 messages through a fault-injecting provider over real
HTTP — random 5xx before and after the provider took the message, 429 with Retry-After,
timeouts, unreadable answers, refusals, worker crashes between the claim and the call and after
the call, and every queue message redelivered at random — and still each idempotency key ends
in exactly one `delivered` or `failed` message, and the provider never took a key twice.

The channel worker's `deliver()` runs in process against moto (the template's tables), with the
queue played by a shuffled list that redelivers what failed, like SQS does (5 receives, then the
DLQ). Delivery reports come back from the provider for what it took, through the same feedback
code the callbacks use.
"""

import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from infra.deploy import DeployedStack
from tests.integration.conftest import TenantFixture
from trigly.channels.provider import Accepted, OutcomeUnknown, ProviderRejected, RetryLater
from trigly.events.types import Channel
from trigly.messaging import delivery, feedback
from trigly.messaging.intent import (
    MessagePurpose,
    MessageState,
    MessageStatus,
    Reason,
    SendIntent,
)
from trigly.messaging.message import StoredMessage
from trigly.platform import clock
from trigly.store import messages as store
from trigly.store.messages import MessageRef

MESSAGES = 1000
MAX_RECEIVES = 5  # the channel queues' redrive policy (template.yaml)
SEED = 20261125


class FaultyProvider(BaseHTTPRequestHandler):
    """An SMS API that misbehaves: decides per request from a seeded generator.

    Faults that happen *before* it takes the message: 429 (Retry-After), 503 "try later",
    400 (an invalid number: refused for good). Faults *after* it took it: 500, an unreadable
    body, an answer slower than the client's timeout."""

    taken: Counter[str]
    seen: Counter[str]
    rng: random.Random
    lock: threading.Lock

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = body["idempotency_key"]
        with self.lock:
            self.seen[key] += 1
            roll = self.rng.random()
        if roll < 0.06:
            return self._answer(429, b'{"error":"rate"}', {"Retry-After": "0"})
        if roll < 0.10:
            return self._answer(503, b'{"error":"not processed, try later"}')
        if roll < 0.13:
            return self._answer(400, b'{"error":"invalid phone"}')
        with self.lock:
            self.taken[key] += 1  # from here on the SMS goes out
        if roll < 0.17:
            return self._answer(500, b'{"error":"internal"}')
        if roll < 0.20:
            return self._answer(200, b"<html>gateway</html>")
        if roll < 0.22:
            threading.Event().wait(0.12)  # longer than the client waits
            return self._answer(200, json.dumps({"id": f"p-{key}"}).encode())
        return self._answer(200, json.dumps({"id": f"p-{key}"}).encode())

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout)


class WorkerCrash(BaseException):
    """The Lambda dies (timeout, out of memory): nothing after this point runs."""


class HttpSmsProvider:
    """The provider interface over real HTTP, sorting failures the way delivery expects."""

    def __init__(self, url: str, rng: random.Random) -> None:
        self.url = url
        self.rng = rng
        self.client = httpx.Client(timeout=httpx.Timeout(0.05, connect=1.0))

    def send(self, tenant_id: str, message: StoredMessage) -> Accepted:
        if self.rng.random() < 0.03:
            raise WorkerCrash("between the claim and the call")
        try:
            response = self.client.post(
                self.url, json={"idempotency_key": message.idempotency_key, "to": message.to}
            )
        except httpx.ConnectError as exc:
            raise RetryLater("no connection") from exc
        except httpx.TimeoutException as exc:
            raise OutcomeUnknown("timeout: it may have been taken") from exc
        if response.status_code == 429:
            raise RetryLater("rate limited", float(response.headers.get("Retry-After", "1")))
        if response.status_code == 503:
            raise RetryLater("not processed")
        if 400 <= response.status_code < 500:
            raise ProviderRejected(response.text)
        if response.status_code >= 500:
            raise OutcomeUnknown(f"{response.status_code}")
        try:
            provider_id = str(response.json()["id"])
        except (ValueError, KeyError) as exc:
            raise OutcomeUnknown("unreadable answer") from exc
        if self.rng.random() < 0.03:
            raise WorkerCrash("after the call, before the save")
        return Accepted(provider_message_id=provider_id, at=clock.now())


@pytest.fixture
def faulty_provider() -> Iterator[tuple[str, type[FaultyProvider]]]:
    handler = type(
        "Handler",
        (FaultyProvider,),
        {
            "taken": Counter(),
            "seen": Counter(),
            "rng": random.Random(SEED),
            "lock": threading.Lock(),
        },
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms/send", handler
    server.shutdown()


def _queued(dealer: TenantFixture, n: int) -> tuple[MessageRef, str]:
    """A queued SMS as `send()` leaves it (written directly: this test is about the worker)."""
    now = clock.now()
    customer_id = f"cus_fault{n % 50:03d}"
    message_id = f"msg_fault{n:05d}"
    key = f"fault:{n}"
    intent = SendIntent(
        customer_id=customer_id,
        purpose=MessagePurpose.TRANSACTIONAL,
        kind="one_off",
        text="Автомобиль готов",
        idempotency_key=key,
    )
    message = StoredMessage(
        message_id=message_id,
        customer_id=customer_id,
        idempotency_key=key,
        kind="one_off",
        purpose=MessagePurpose.TRANSACTIONAL,
        created_at=now,
        channel=Channel.SMS,
        to=f"+7916{n:07d}",
        body="Автомобиль готов",
        state=MessageState.queued(now),
        intent=intent.model_dump(mode="json"),
    )
    ref = MessageRef(dealer.tenant.tenant_id, customer_id, store.message_sk(f"{n:08d}", message_id))
    store.save(ref, message.model_dump_json(), None)
    body = json.dumps({"tenant_id": ref.tenant_id, "customer_id": ref.customer_id, "sk": ref.sk})
    return ref, body


def test_a_thousand_messages_through_faults_end_once_each_and_are_never_taken_twice(
    stack: DeployedStack,
    dealer: TenantFixture,
    faulty_provider: tuple[str, type[FaultyProvider]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, server = faulty_provider
    rng = random.Random(SEED + 1)
    provider = HttpSmsProvider(url, random.Random(SEED + 2))
    monkeypatch.setattr(delivery, "provider_for", lambda tenant_id, message: provider)
    refs = {}
    queue: list[tuple[str, int]] = []  # (body, receives so far)
    for n in range(MESSAGES):
        ref, body = _queued(dealer, n)
        refs[f"fault:{n}"] = ref
        queue.append((body, 0))
    dead_letters: list[str] = []
    outcomes: Counter[str] = Counter()
    # The queue: shuffled, redelivering what failed (and now and then what did not)
    while queue:
        index = rng.randrange(len(queue))
        body, receives = queue.pop(index)
        receives += 1
        try:
            delivery.deliver(body)
            outcomes["ok"] += 1
            if rng.random() < 0.1:
                queue.append((body, 0))  # SQS delivers at least once: a duplicate
        except (RetryLater, WorkerCrash) as failure:
            outcomes[type(failure).__name__] += 1
            if receives >= MAX_RECEIVES:
                dead_letters.append(body)
            else:
                queue.append((body, receives))
    # The provider reports delivery of what it took (some twice, in any order)
    reports = [
        feedback.ProviderEvent(
            dealer.tenant.tenant_id,
            Channel.SMS,
            f"p-{key}",
            MessageStatus.DELIVERED,
            datetime.now(UTC),
        )
        for key in server.taken
    ]
    reports += rng.sample(reports, len(reports) // 10)  # some twice
    for report in rng.sample(reports, len(reports)):
        feedback.apply(report)

    final: dict[str, StoredMessage] = {}
    for key, ref in refs.items():
        loaded = store.load(ref)
        assert loaded is not None
        final[key] = StoredMessage.model_validate_json(loaded[0])
    statuses = Counter(
        (m.state.status.value, m.state.reason.value if m.state.reason else None)
        for m in final.values()
    )
    print(f"\nqueue outcomes {dict(outcomes)}; final {dict(statuses)}; dlq {len(dead_letters)}")
    # No provider ever took a key twice
    assert server.taken and max(server.taken.values()) == 1
    # Every key ended in exactly one message that is delivered or failed (none lost, none
    # left waiting, nothing in the DLQ)
    assert dead_letters == []
    assert set(final) == set(refs)
    assert {m.state.status for m in final.values()} <= {
        MessageStatus.DELIVERED,
        MessageStatus.FAILED,
    }
    _each_outcome_matches_what_the_provider_did(final, server.taken)
    # Each fault really happened
    assert outcomes["RetryLater"] > 0 and outcomes["WorkerCrash"] > 0
    assert statuses[("failed", "provider_rejected")] > 0
    assert statuses[("failed", "unknown_outcome")] > 0
    assert statuses[("delivered", None)] > MESSAGES // 2


def _each_outcome_matches_what_the_provider_did(
    final: dict[str, StoredMessage], taken: Counter[str]
) -> None:
    for key, message in final.items():
        if message.state.status is MessageStatus.DELIVERED:
            # delivered only what the provider took, exactly once
            assert taken[key] == 1
            assert [h.status for h in message.state.history].count(MessageStatus.SENT) == 1
        elif taken[key]:
            # taken but the answer or the worker was lost: never retried, never a guess
            assert message.state.reason is Reason.UNKNOWN_OUTCOME
        else:
            # never taken: refused for good, or lost before an answer
            assert message.state.reason in {Reason.PROVIDER_REJECTED, Reason.UNKNOWN_OUTCOME}
