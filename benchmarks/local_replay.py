"""How long the local stack takes to replay a month of business time (CONTRACT §5: "advancing
30 days on a stack holding a few thousand customers should take seconds, not minutes").

Starts the stack as `make run` does (`benchmarks.local_intake.start_stack`: its own process and
moto, the demo tenant), then moves its clock by `P30D` in one `POST /_local/clock` and reports the
wall time and the stack's CPU time, with the ticks fired and the messages processed. A speed goal
lives here, not in a timed test (the machine's load moves wall time).

    .venv/bin/python -m benchmarks.local_replay [--days 30]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.local_intake import cpu_seconds, start_stack

GOAL_S = 60.0  # "seconds, not minutes"


@dataclass(frozen=True)
class Replay:
    days: int
    seconds: float
    cpu_seconds: float
    fired: int
    processed: int
    load: tuple[float, float, float]


def run(days: int = 30) -> Replay:
    with tempfile.TemporaryDirectory(prefix="trigly-replay-") as workdir:
        stack = start_stack(Path(workdir))
        try:
            with httpx.Client(base_url=stack.local["api_url"], timeout=3600) as client:
                client.post("/_local/clock", json={"advance": "PT0S"}).raise_for_status()
                cpu_before, started = cpu_seconds(stack.process.pid), time.monotonic()
                moved = client.post("/_local/clock", json={"advance": f"P{days}D"})
                moved.raise_for_status()
                took = time.monotonic() - started
                cpu = cpu_seconds(stack.process.pid) - cpu_before
        finally:
            stack.stop()
    answer = moved.json()
    return Replay(days, took, cpu, len(answer["fired"]), answer["processed"], os.getloadavg())


def report(result: Replay) -> str:
    verdict = "met" if result.seconds <= GOAL_S else "MISSED"
    return (
        f"local_replay: {result.days} days of business time on the demo stack in one clock move\n"
        f"  {result.seconds:.1f} s wall, {result.cpu_seconds:.1f} s of the stack's CPU;"
        f" {result.fired} ticks fired, {result.processed} queue messages processed\n"
        f"  load average after: {', '.join(f'{x:.1f}' for x in result.load)} (2 cores)\n"
        f"  goal ≤ {GOAL_S:.0f} s for 30 days: {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    print(report(run(parser.parse_args().days)))


if __name__ == "__main__":
    main()
