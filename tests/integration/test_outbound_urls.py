"""URLs a tenant supplies never reach into our network (blind SSRF): refused with 422 when a
connector is configured, and checked again at every connection, which only ever opens to an
address it has just checked — so a DNS answer that changes after configuration (rebinding)
cannot turn a delivery toward a private address."""

import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import httpx
import pytest
from standardwebhooks import Webhook

from functions.outbound.app import handler as outbound_handler
from infra.deploy import DeployedStack
from tests.integration.conftest import TenantFixture
from tests.integration.test_ingest_and_api import api
from tests.support import FakeLambdaContext, reset_process_caches, sqs_event
from trigly.outbound.queue import send_to_connectors
from trigly.platform import egress, tenancy

PUBLIC_ADDRESS = "93.184.216.34"


class Answers:
    """A name server for made-up names: what each name resolves to right now."""

    def __init__(self) -> None:
        self.table: dict[str, list[str]] = {}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host in self.table:
            return self.table[host]
        return egress.system_resolver(host, port)


@pytest.fixture
def answers() -> Iterator[Answers]:
    resolver = Answers()
    egress.use_resolver(resolver)
    yield resolver
    egress.use_resolver(egress.system_resolver)


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP port on 127.0.0.1 that records the first bytes of every connection it gets."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    received: list[bytes] = []
    running = [True]

    def accept() -> None:
        while running[0]:
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    received.append(connection.recv(4096))
                except TimeoutError:
                    received.append(b"")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    running[0] = False
    thread.join()
    server.close()


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A DMS endpoint on 127.0.0.1 (plain http) that answers 204 and records each request."""
    requests: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    thread.join()


@pytest.fixture
def local_stack_setting() -> Iterator[None]:
    """What infra/local sets: http and loopback allowed (receivers run on 127.0.0.1 there)."""
    os.environ["TRIGLY_OUTBOUND_ALLOW_PRIVATE"] = "true"
    reset_process_caches()
    egress.client.cache_clear()
    yield
    del os.environ["TRIGLY_OUTBOUND_ALLOW_PRIVATE"]
    reset_process_caches()
    egress.client.cache_clear()


def deliver(stack: DeployedStack, dealer: TenantFixture, event_id: str) -> dict[str, Any]:
    """Queue one event for the tenant's connectors and run the outbound worker on it."""
    sent = {"granted": False}
    assert send_to_connectors(
        dealer.tenant.tenant_id, event_id, "customer.consent_changed", data=sent
    )
    queue = stack.queues["OutboundQueue"]
    sqs = boto3.client("sqs")
    while True:
        [message] = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=1)["Messages"]
        if event_id in message["Body"]:
            break
    event = sqs_event([message["Body"]], queue.arn)
    event["Records"][0]["receiptHandle"] = message["ReceiptHandle"]
    result: dict[str, Any] = outbound_handler(event, FakeLambdaContext())
    if not result["batchItemFailures"]:
        sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
    return result


@pytest.mark.parametrize(
    "url",
    [
        "http://dms.example.ru/events",  # not https
        "https://127.0.0.1/events",
        "https://localhost:8443/events",  # a name that resolves to loopback
        "https://10.0.0.5/events",
        "https://172.20.1.1/events",
        "https://192.168.1.10/events",
        "https://169.254.169.254/latest/meta-data/",  # the instance metadata service
        "https://100.64.0.1/events",  # carrier-grade NAT
        "https://0.0.0.0/events",
        "https://[::1]/events",
        "https://[fd00::1]/events",
        "https://[fe80::1]/events",
        "https://[::ffff:10.0.0.5]/events",  # IPv4-mapped private
    ],
)
def test_a_connector_url_into_our_network_is_422_with_its_field(
    dealer: TenantFixture, url: str
) -> None:
    status, problem = api(
        "POST", "/v1/connectors", dealer.api_key, body={"name": "DMS", "outbound_url": url}
    )

    assert status == 422, problem
    assert [e["field"] for e in problem["errors"]] == ["outbound_url"]
    assert len(tenancy.list_connectors(dealer.tenant.tenant_id)) == 1  # only the fixture's


def test_a_public_https_url_is_accepted(dealer: TenantFixture, answers: Answers) -> None:
    answers.table["dms.dealer.test"] = [PUBLIC_ADDRESS]
    for url in (f"https://{PUBLIC_ADDRESS}/events", "https://dms.dealer.test/trigly"):
        status, created = api(
            "POST", "/v1/connectors", dealer.api_key, body={"name": "DMS", "outbound_url": url}
        )
        assert status == 201, created
    status, _ = api(
        "POST",
        "/v1/connectors",
        dealer.api_key,
        body={"name": "DMS", "outbound_url": "https://also-private.dealer.test/x"},
    )
    assert status == 201  # a name that does not resolve yet: every connection checks again
    answers.table["inside.dealer.test"] = [PUBLIC_ADDRESS, "10.0.0.7"]
    status, _ = api(
        "POST",
        "/v1/connectors",
        dealer.api_key,
        body={"name": "DMS", "outbound_url": "https://inside.dealer.test/x"},
    )
    assert status == 422  # one private address among the answers is enough to refuse


def test_a_rebound_name_is_refused_at_delivery_and_nothing_connects(
    stack: DeployedStack,
    dealer: TenantFixture,
    answers: Answers,
    listener: tuple[int, list[bytes]],
) -> None:
    port, connections = listener
    # Configured while the name pointed at a public address …
    answers.table["dms.rebind.test"] = [PUBLIC_ADDRESS]
    url = f"https://dms.rebind.test:{port}/events"
    tenancy.create_connector(dealer.tenant.tenant_id, "DMS", outbound_url=url)
    # … then the name is rebound to loopback, where something of ours listens on that port.
    answers.table["dms.rebind.test"] = ["127.0.0.1"]

    result = deliver(stack, dealer, "rebind-1")

    assert len(result["batchItemFailures"]) == 1  # kept for a retry, not dropped
    assert connections == []  # not even a TCP handshake reached our side
    assert answers.lookups.count("dms.rebind.test") == 2  # configuration, then the connection


def test_an_http_url_stored_before_the_checks_is_not_called(dealer: TenantFixture) -> None:
    with pytest.raises(httpx.ConnectError, match="https"):
        egress.client().post(f"http://{PUBLIC_ADDRESS}/events", timeout=1.0)


def test_on_the_local_stack_a_loopback_receiver_gets_the_signed_event(
    stack: DeployedStack,
    dealer: TenantFixture,
    answers: Answers,
    receiver: tuple[str, list[dict[str, Any]]],
    local_stack_setting: None,
) -> None:
    address, requests = receiver
    port = address.rsplit(":", 1)[1]
    answers.table["dms.local.test"] = ["127.0.0.1"]
    connector = tenancy.create_connector(
        dealer.tenant.tenant_id, "DMS", outbound_url=f"http://dms.local.test:{port}/events"
    )

    assert deliver(stack, dealer, "local-1") == {"batchItemFailures": []}

    [request] = requests
    # The connection went to the address the check resolved; the Host is still the URL's.
    assert request["headers"]["Host"] == f"dms.local.test:{port}"
    payload = Webhook(connector.secret).verify(request["body"], request["headers"])
    assert payload["id"] == "local-1"
