"""What reaches X-Ray: a handler's timings and annotations, never its response or error.

A handler runs in a child process that looks like Lambda (task root, trace header) and sends its
segments to a UDP socket standing in for the X-Ray daemon, so the test reads exactly what the
X-Ray SDK would ship.
"""

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra import template as sam

ROOT = Path(__file__).resolve().parents[2]
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
# An API response (a 401 problem: small enough for one datagram) and a handler that fails with
# a secret in its message.
HANDLERS = """
from functions.api.app import handler
from tests.support import FakeLambdaContext, http_event
from trigly.platform.observability import traced_handler

response = handler(http_event("GET", "/v1/customers"), FakeLambdaContext())
assert response["statusCode"] == 401, response

@traced_handler
def failing(event, context):
    raise RuntimeError("whsec_do-not-trace")

try:
    failing({}, FakeLambdaContext())
except RuntimeError:
    pass
"""


@pytest.fixture
def daemon() -> Iterator[socket.socket]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(2)
    yield listener
    listener.close()


def traced_subsegments(daemon: socket.socket, code: str) -> list[dict[str, Any]]:
    port = daemon.getsockname()[1]
    environment = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'shared'}{os.pathsep}{ROOT}",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "trigly-api",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{port}",
        "_X_AMZN_TRACE_ID": TRACE_HEADER,
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "api",
        "POWERTOOLS_METRICS_NAMESPACE": "Trigly",
    }
    # Without the template's variables: the code alone must keep payloads out.
    for variable in (
        "POWERTOOLS_TRACE_DISABLED",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE",
        "POWERTOOLS_TRACER_CAPTURE_ERROR",
    ):
        environment.pop(variable, None)
    run = subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    documents: list[dict[str, Any]] = []
    try:
        while True:
            datagram = daemon.recv(65535).decode()
            documents += [json.loads(line) for line in datagram.splitlines()[1:]]
    except TimeoutError:
        pass
    return documents


def test_handler_subsegments_carry_no_response_and_no_error(daemon: socket.socket) -> None:
    subsegments = traced_subsegments(daemon, HANDLERS)

    handlers = {s["name"]: s for s in subsegments if s["name"].startswith("## ")}
    assert set(handlers) == {"## handler", "## failing"}
    assert handlers["## handler"]["annotations"]["ColdStart"] is True  # traced, just not the body
    for subsegment in handlers.values():
        assert "metadata" not in subsegment, subsegment["name"]
    assert "unauthorized" not in json.dumps(subsegments)


def test_every_function_turns_response_and_error_capture_off(
    cfn_template: dict[str, Any],
) -> None:
    functions = sam.resources_of_type(cfn_template, "AWS::Lambda::Function")
    assert functions

    for logical_id, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false", logical_id
        assert variables["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false", logical_id
