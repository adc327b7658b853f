"""The local stack, started once per session as `make run` starts it, driven over HTTP.

    def test_something(local_stack):
        answer = local_stack.sign_and_post([customer_event(...)])   # a signed DMS webhook
        assert answer.status_code == 202
        local_stack.advance()                                        # PT0S: drain every queue
        found = local_stack.client.get(
            "/v1/customers", params={"phone": "8 912 345-67-89"}, headers=local_stack.auth()
        )

`local_stack` carries local.json's fields (`api_url`, `tenant_id`, `api_key`, `connector_id`,
`webhook_secret`, `other_tenant`, and `aws_endpoint_url`: the stack's moto) and an httpx
client on the API's base URL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

# Browser fixtures for customer pages (a phone-sized Chromium): `page`, `phone`, `screenshots`.
from tests.e2e.browser import chromium, page, phone, playwright_driver, screenshots  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0
LOG_TAIL_CHARS = 6000


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    api_key: str
    connector_id: str
    webhook_secret: str


@dataclass
class LocalStack:
    api_url: str
    tenant_id: str
    api_key: str
    connector_id: str
    webhook_secret: str
    other_tenant: Tenant
    aws_endpoint_url: str  # the stack's moto, for tests that look behind the API
    local_json: Path
    logs: dict[str, Path]
    client: httpx.Client = field(repr=False)

    @property
    def demo(self) -> Tenant:
        return Tenant(self.tenant_id, self.api_key, self.connector_id, self.webhook_secret)

    def tenant(self, which: str) -> Tenant:
        if which == "demo":
            return self.demo
        if which == "other":
            return self.other_tenant
        raise ValueError(f"tenant is 'demo' or 'other', not {which!r}")

    def url(self, path: str) -> str:
        return f"{self.api_url}/{path.lstrip('/')}"

    def auth(self, tenant: str = "demo") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tenant(tenant).api_key}"}

    def advance(self, duration: str = "PT0S") -> dict[str, Any]:
        """Move business time (firing schedules on the way) and drain every queue."""
        # A clock move runs every tick and drains every queue on the way: minutes on a loaded
        # machine, so no short client timeout (speed is benchmarks/local_replay.py's).
        response = self.client.post("/_local/clock", json={"advance": duration}, timeout=900)
        assert response.status_code == 200, response.text
        moved: dict[str, Any] = response.json()
        return moved

    def move_to(self, moment: datetime | str) -> httpx.Response:
        when = moment.isoformat() if isinstance(moment, datetime) else moment
        return self.client.post("/_local/clock", json={"to": when}, timeout=900)

    def now(self) -> datetime:
        return datetime.fromisoformat(self.client.get("/_local/clock").json()["now"])

    def outbox(self, **filters: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.client.get("/_local/outbox", params=filters).json()[
            "messages"
        ]
        return messages

    def sign_and_post(
        self,
        events_or_body: list[dict[str, Any]] | dict[str, Any] | str | bytes,
        tenant: str = "demo",
        timestamp: datetime | int | None = None,
        secret: str | None = None,
        connector_id: str | None = None,
    ) -> httpx.Response:
        """POST a Standard Webhooks-signed body to the tenant's connector.

        A list is sent as `{"events": [...]}`, a dict as it is (one event, or a batch), str or
        bytes verbatim (to test malformed bodies). `timestamp` defaults to the wall clock, as
        a DMS signs; `secret` overrides the connector's (to test bad signatures).
        """
        target = self.tenant(tenant)
        if isinstance(events_or_body, list):
            body = json.dumps({"events": events_or_body}, ensure_ascii=False).encode()
        elif isinstance(events_or_body, dict):
            body = json.dumps(events_or_body, ensure_ascii=False).encode()
        elif isinstance(events_or_body, str):
            body = events_or_body.encode()
        else:
            body = events_or_body
        if isinstance(timestamp, int):
            moment = datetime.fromtimestamp(timestamp, UTC)
        else:
            moment = timestamp or datetime.now(UTC)
        message_id = f"msg_{uuid.uuid4().hex}"
        signature = Webhook(secret or target.webhook_secret).sign(
            message_id, moment, body.decode("utf-8", errors="surrogateescape")
        )
        return self.client.post(
            f"/v1/webhooks/{connector_id or target.connector_id}",
            content=body,
            headers={
                "content-type": "application/json",
                "webhook-id": message_id,
                "webhook-timestamp": str(int(moment.timestamp())),
                "webhook-signature": signature,
            },
        )

    def log_tail(self) -> str:
        parts = []
        for name, path in self.logs.items():
            text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
            parts.append(f"--- {name} (last {LOG_TAIL_CHARS} chars) ---\n{text[-LOG_TAIL_CHARS:]}")
        return "\n".join(parts)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _read_tail(paths: dict[str, Path]) -> str:
    return "\n".join(
        f"--- {name} ---\n{path.read_text(encoding='utf-8', errors='replace')[-LOG_TAIL_CHARS:]}"
        for name, path in paths.items()
        if path.exists()
    )


def _wait_until_ready(
    process: subprocess.Popen[bytes], local_json: Path, port: int, logs: dict[str, Path]
) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the local stack exited with {process.returncode} while starting\n"
                + _read_tail(logs),
                pytrace=False,
            )
        if local_json.exists():
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_local/clock", timeout=2).status_code == 200:
                    content: dict[str, Any] = json.loads(local_json.read_text(encoding="utf-8"))
                    return content
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    process.kill()
    pytest.fail(
        f"the local stack was not ready after {START_TIMEOUT_S:.0f} s\n" + _read_tail(logs),
        pytrace=False,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """`python -m infra.local` in a subprocess on free ports, ready once local.json is written."""
    workdir = tmp_path_factory.mktemp("local-stack")
    port = free_port()
    logs = {
        "stdout": workdir / "stdout.log",
        "stderr": workdir / "stderr.log",
        # The handlers' log lines and tracebacks (the terminal gets one line per batch).
        "stack.log": workdir / "stack.log",
    }
    env = {**os.environ, "PORT": str(port), "TRIGLY_LOCAL_DIR": str(workdir)}
    # Files, not pipes: a pipe nobody reads fills up and blocks the stack.
    with logs["stdout"].open("wb") as stdout, logs["stderr"].open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local"],
            cwd=REPO_ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        content = _wait_until_ready(process, workdir / "local.json", port, logs)
        with httpx.Client(base_url=content["api_url"], timeout=60) as client:
            yield LocalStack(
                api_url=content["api_url"],
                tenant_id=content["tenant_id"],
                api_key=content["api_key"],
                connector_id=content["connector_id"],
                webhook_secret=content["webhook_secret"],
                other_tenant=Tenant(**content["other_tenant"]),
                aws_endpoint_url=content["aws_endpoint_url"],
                local_json=workdir / "local.json",
                logs=logs,
                client=client,
            )
    finally:
        _stop(process)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing e2e test shows the tail of the stack's own logs (handler tracebacks)."""
    report = yield
    stack = getattr(item, "funcargs", {}).get("local_stack")
    if report.failed and isinstance(stack, LocalStack):
        report.sections.append(("local stack logs", stack.log_tail()))
    return report
