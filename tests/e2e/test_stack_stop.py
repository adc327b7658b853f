"""Stopping `make run`: any number of SIGTERMs and SIGINTs end it cleanly, within seconds.

`make` forwards the SIGTERM it gets, a terminal sends Ctrl-C's SIGINT to the whole process
group, and people press Ctrl-C twice: the stack sees several signals close together, possibly
while it is still handling the first. Each test starts its own stack, as `make run` does.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 180.0
STOP_WITHIN_S = 10.0
STORM_S = 1.0  # how long the burst of further signals lasts


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class StackProcess:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.local_json = workdir / "local.json"
        self.output = workdir / "make-run.out"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.local"],
            cwd=REPO_ROOT,
            env={**os.environ, "PORT": str(self.port), "TRIGLY_LOCAL_DIR": str(workdir)},
            stdout=self.output.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_for(self, ready: bool) -> None:
        """Until local.json exists (ready) or the deployment has begun (not ready)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (self.local_json.exists() if ready else "deploying" in self.text()):
            assert self.process.poll() is None, f"the stack exited:\n{self.text()[-3000:]}"
            assert time.monotonic() < deadline, f"the stack did not start:\n{self.text()[-3000:]}"
            time.sleep(0.1)

    def signal_storm(self, first: signal.Signals, second: signal.Signals) -> None:
        """Two signals back to back, then more of both for STORM_S, as fast as they come."""
        self.process.send_signal(first)
        self.process.send_signal(second)
        until = time.monotonic() + STORM_S
        while time.monotonic() < until and self.process.poll() is None:
            self.process.send_signal(first)
            self.process.send_signal(second)
            time.sleep(0.0005)

    def exit_code_within(self, seconds: float) -> int | None:
        try:
            return self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[StackProcess]:
    started = StackProcess(tmp_path)
    yield started
    started.kill()


def port_is_free(port: int) -> bool:
    """Nothing listens on it (connections of the run may linger in TIME_WAIT, as `make run`
    itself allows when it checks its port)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.parametrize(
    ("first", "second"),
    [(signal.SIGTERM, signal.SIGTERM), (signal.SIGINT, signal.SIGINT)],
    ids=["SIGTERM twice (make forwards it)", "Ctrl-C twice"],
)
def test_repeated_signals_stop_the_running_stack_cleanly(
    stack: StackProcess, first: signal.Signals, second: signal.Signals
) -> None:
    # Given a stack that is up
    stack.wait_for(ready=True)
    # When it gets the signal twice, then a burst of more
    started = time.monotonic()
    stack.signal_storm(first, second)
    # Then it stops cleanly within seconds, once
    code = stack.exit_code_within(STOP_WITHIN_S - (time.monotonic() - started))
    assert code == 0, f"exit code {code} (None: still running)\n{stack.text()[-3000:]}"
    assert stack.text().count("==> stopping") == 1
    assert "Traceback" not in stack.text()
    # And it leaves nothing behind: no local.json naming tenants that are gone, the port free
    assert not stack.local_json.exists()
    assert port_is_free(stack.port)


def test_signals_while_starting_abandon_the_start(stack: StackProcess) -> None:
    # Given a stack that is still deploying
    stack.wait_for(ready=False)
    # When Ctrl-C and make's SIGTERM arrive together, and more
    started = time.monotonic()
    stack.signal_storm(signal.SIGINT, signal.SIGTERM)
    # Then it gives up the start at once
    code = stack.exit_code_within(STOP_WITHIN_S - (time.monotonic() - started))
    assert code == 130, f"exit code {code} (None: still running)\n{stack.text()[-3000:]}"
    assert "interrupted while starting" in stack.text()
    assert not stack.local_json.exists()
