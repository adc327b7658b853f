"""The channel worker against a provider that answers in 100 ms, and its cold init.

Throughput: a local HTTP/1.1 server (keep-alive, threaded) answers every request after 100 ms
with Viber's `send_message` success. The tenant's Viber credentials are set through the product
(Parameter Store in moto), and `TRIGLY_PROVIDER_ENDPOINTS` points the provider at the server.
N messages are stored as the send path stores them and handed to `functions.channels.app.handler`
in SQS batches of 10, one batch after another (one worker, as Lambda feeds it): each message is
loaded, claimed, sent and saved as sent, all on the emulated DynamoDB. The baseline, in the same
run against the same server: a bare `httpx.Client` posting the same N requests from the same
number of threads, free-running (no batches, no DynamoDB). Goal: worker ≥ 0.5 × baseline.
Viber is the provider measured because it has no per-second limit of ours; a provider with one
(Telegram, SMS) adds one conditional UpdateItem per limit and, by design, its limit.

Cold init: `functions.channels.app` imported (and its clients created) in fresh processes with
the Lambda environment, against a bare script importing boto3 and creating the same clients
(DynamoDB, SSM), with `benchmarks.cold_start`'s probe. Goal ≤ 1.5×.

    .venv/bin/python -m benchmarks.channel_worker [messages] [cold-start runs]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LATENCY = 0.1
MESSAGES = 300
BATCH = 10
GOAL = 0.5
COLD_GOAL = 1.5
SERVICES = ("dynamodb", "ssm")  # channel credentials live in Parameter Store
VIBER = {"provider": "viber", "auth_token": "bench-token-0123456789", "sender_name": "Bench"}


@dataclass
class Server:
    url: str
    requests: int = 0
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def provider_server(latency: float = LATENCY) -> Iterator[Server]:
    """Viber's send_message, answering after `latency` seconds, HTTP/1.1 keep-alive."""
    state = Server(url="")
    answer = json.dumps({"status": 0, "status_message": "ok", "message_token": 1}).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            with state.lock:
                state.connections += 1

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            time.sleep(latency)
            with state.lock:
                state.requests += 1
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------------ throughput


@dataclass
class Throughput:
    messages: int
    concurrency: int
    worker_seconds: list[float]
    bare_seconds: list[float]
    worker_connections: int
    bare_connections: int

    @property
    def worker_rate(self) -> float:
        return self.messages / statistics.median(self.worker_seconds)

    @property
    def bare_rate(self) -> float:
        return self.messages / statistics.median(self.bare_seconds)

    @property
    def ratio(self) -> float:
        return self.worker_rate / self.bare_rate


def _stored_messages(tenant_id: str, count: int, tag: str) -> list[str]:
    """Queued Viber messages as the send path stores them; their queue bodies."""
    from trigly.events.types import Channel
    from trigly.messaging.intent import MessagePurpose, MessageState
    from trigly.messaging.message import StoredMessage
    from trigly.store import messages as store

    now = datetime.now(UTC)
    bodies = []
    for n in range(count):
        message = StoredMessage(
            message_id=f"msg_{tag}_{n}",
            customer_id=f"cus_{tag}_{n % 50}",
            idempotency_key=f"bench:{tag}:{n}",
            kind="one_off",
            purpose=MessagePurpose.TRANSACTIONAL,
            created_at=now,
            channel=Channel.VIBER,
            to=f"viber-user-{n:05d}=",
            body="Ваш автомобиль готов, его можно забрать до 20:00.",
            state=MessageState.queued(now),
        )
        ref = store.MessageRef(tenant_id, message.customer_id, store.message_sk(tag, f"{n:05d}"))
        store.save(ref, message.model_dump_json(), None)
        bodies.append(
            json.dumps({"tenant_id": tenant_id, "customer_id": ref.customer_id, "sk": ref.sk})
        )
    return bodies


def _run_worker(bodies: list[str], queue_arn: str) -> float:
    from functions.channels.app import handler
    from tests.support import FakeLambdaContext, sqs_event

    started = time.perf_counter()
    for i in range(0, len(bodies), BATCH):
        result = handler(sqs_event(bodies[i : i + BATCH], queue_arn), FakeLambdaContext())
        if result["batchItemFailures"]:
            raise RuntimeError(f"worker failed records: {result['batchItemFailures']}")
    return time.perf_counter() - started


def _run_bare(url: str, payloads: list[dict[str, object]], concurrency: int) -> float:
    import httpx

    from trigly.channels.http import LIMITS, TIMEOUT

    headers = {"X-Viber-Auth-Token": VIBER["auth_token"]}
    with httpx.Client(timeout=TIMEOUT, limits=LIMITS) as client:
        client.post(url, json=payloads[0], headers=headers)  # warm, like the worker's warm-up

        def post(payload: dict[str, object]) -> None:
            client.post(url, json=payload, headers=headers).raise_for_status()

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(post, payloads))
        return time.perf_counter() - started


def throughput(messages: int = MESSAGES, rounds: int = 3) -> Throughput:
    from benchmarks.ingest_cost import emulated_stack
    from trigly.channels import configuration, credentials, http
    from trigly.channels.credentials import ViberCredentials
    from trigly.channels.viber import ViberProvider
    from trigly.messaging.message import StoredMessage
    from trigly.messaging.worker import CONCURRENCY
    from trigly.platform import tenancy
    from trigly.platform.settings import get_settings

    with emulated_stack() as stack, provider_server() as server:
        os.environ["TRIGLY_PROVIDER_ENDPOINTS"] = json.dumps({"viber": server.url})
        get_settings.cache_clear()
        http.forget_client()
        credentials.forget_all()
        tenant = tenancy.create_tenant("Bench dealer")
        configuration.configure(tenant.tenant_id, "viber", dict(VIBER))
        arn = stack.queues["ChannelViberQueue"].arn
        _run_worker(_stored_messages(tenant.tenant_id, BATCH, "warm"), arn)  # warm caches

        # the same requests for the bare loop: what the provider builds from the same messages
        viber = configuration.parse("viber", dict(VIBER))
        assert isinstance(viber, ViberCredentials)
        provider = ViberProvider(viber, server.url)
        worker_times, bare_times = [], []
        worker_connections = bare_connections = 0
        for round_ in range(rounds):
            bodies = _stored_messages(tenant.tenant_id, messages, f"r{round_}")
            payloads = []
            for n in range(messages):
                message = StoredMessage.model_validate_json(
                    json.dumps(
                        {
                            "message_id": f"msg_r{round_}_{n}",
                            "customer_id": "c",
                            "idempotency_key": "k",
                            "kind": "one_off",
                            "purpose": "transactional",
                            "created_at": "2026-01-01T00:00:00Z",
                            "channel": "viber",
                            "to": f"viber-user-{n:05d}=",
                            "body": "Ваш автомобиль готов, его можно забрать до 20:00.",
                            "state": {"status": "queued"},
                        }
                    )
                )
                payloads.append(provider.payload(message))
            before = server.connections
            requests_before = server.requests
            worker_times.append(_run_worker(bodies, arn))
            if server.requests - requests_before != messages:
                raise RuntimeError("the provider did not see each message exactly once")
            worker_connections = server.connections - before
            before = server.connections
            bare_times.append(_run_bare(f"{server.url}/pa/send_message", payloads, CONCURRENCY))
            bare_connections = server.connections - before
        http.forget_client()
        return Throughput(
            messages, CONCURRENCY, worker_times, bare_times, worker_connections, bare_connections
        )


# ------------------------------------------------------------------------------- cold init


def cold_init(runs: int) -> object:
    from benchmarks import cold_start

    module = "functions.channels.app"
    timings, envs = cold_start.measure(runs, {module: ("ChannelWorkerFunction", SERVICES)})
    timing, env = timings[0], envs[module]
    if timing.error:
        raise cold_start.ProbeFailed(timing.error)
    cold_start.analyse(timing, env)
    return timing


# ---------------------------------------------------------------------------------- report


def report(result: Throughput | None, timing: object | None, runs: int) -> str:
    from benchmarks import cold_start

    lines = []
    if result is not None:
        verdict = "met" if result.ratio >= GOAL else "MISS"
        lines += [
            f"Channel worker throughput, provider answering in {LATENCY * 1000:.0f} ms, "
            f"{result.messages} messages, {result.concurrency} concurrent, median of "
            f"{len(result.worker_seconds)} rounds; goal ≥ {GOAL}x the bare loop",
            f"  worker (handler, SQS batches of {BATCH}, claim + send + save on moto): "
            f"{result.worker_rate:7.1f} msg/s  ({result.worker_connections} connections opened)",
            f"  bare httpx loop, same requests and concurrency, free-running:       "
            f"{result.bare_rate:7.1f} msg/s  ({result.bare_connections} connections opened)",
            f"  ratio {result.ratio:.2f}x  {verdict}",
        ]
    if isinstance(timing, cold_start.HandlerTiming):
        text = cold_start.report([timing], runs).replace(
            f"goal: ready ≤ {cold_start.GOAL}x", f"goal: ready ≤ {COLD_GOAL}x (channel worker)"
        )
        lines += ["", text]
    return "\n".join(lines)


def run(messages: int = MESSAGES, runs: int = 10) -> str:
    try:
        result: Throughput | None = throughput(messages)
    except Exception as error:  # one broken part should not hide the other
        result = None
        print(f"channel worker throughput FAILED: {error!r}", flush=True)
    try:
        timing = cold_init(runs)
    except Exception as error:
        timing = None
        print(f"channel worker cold init FAILED: {error!r}", flush=True)
    return report(result, timing, runs)


if __name__ == "__main__":
    started = time.perf_counter()
    print(
        run(
            int(sys.argv[1]) if len(sys.argv) > 1 else MESSAGES,
            int(sys.argv[2]) if len(sys.argv) > 2 else 10,
        )
    )
    print(f"\n(channel_worker ran in {time.perf_counter() - started:.1f} s)")
