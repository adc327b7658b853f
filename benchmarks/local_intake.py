"""Webhook throughput of the local stack (`make run`) under a dealer's history.

The stack is started as `make run` starts it (`python -m infra.local`, its own process, its
own moto), and a DMS's history export is pushed through its webhook in signed batches of 500
while the stack's consumers apply what was queued, as they do for anyone using `make run`.
The mix is a dealer's: about 70 % web activity, the rest service visits, odometer readings,
sales, customer records and consent changes, ~100 events per customer, customers in order.

Reported: the webhook's answer time per batch and the events per second it sustained, per slice
of the run; the ingest queue's depth after each slice; the stack's CPU time (events per
CPU-second: what one free core would sustain, whatever else the shared machine was doing); how
much of the backlog the stack applied in the minute after intake. Goal (issue #10): ≥ 200
events/s sustained up to 100,000 events.

    .venv/bin/python -m benchmarks.local_intake [--events 100000] [--batch 500]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks.ingest_cost import Event, Person, event, sold, upserted
from trigly.ingest.queue import EVENTS_PER_MESSAGE

REPO_ROOT = Path(__file__).resolve().parent.parent
EVENTS = 100_000
BATCH = 500  # the webhook's most (CONTRACT §2)
GOAL_PER_SECOND = 200.0
SLICES = 10  # report lines over the run
START_TIMEOUT_S = 180.0
APPLY_WINDOW_S = 60.0
MSK = timezone(timedelta(hours=3))

# One customer's history: 100 events, ~70 % web activity.
WEB, VISITS, ODOMETER, SALES, CONSENTS, RECORDS = 70, 11, 12, 2, 3, 2


def customer_history(p: Person, now: datetime) -> list[Event]:
    """Three years of one customer, oldest first, as a DMS export sends them."""
    start = now - timedelta(days=3 * 365)

    def at(day: float) -> str:
        return (start + timedelta(days=day)).astimezone(MSK).isoformat(timespec="seconds")

    events: list[Event] = [upserted(p, "r0", at(0), anonymous_id=p.anonymous_id)]
    events += [
        sold(p, f"s{k}", p.vin if k == 0 else p.new_vin(k), at(1 + 500 * k)) for k in range(SALES)
    ]
    for k in range(VISITS):
        day = 60 + 95 * k
        events.append(
            event(
                p.id(f"v{k}"),
                "service_order.closed",
                at(day),
                order_id=f"RO-{p.id(f'v{k}')}",
                customer_external_id=p.external_id,
                vin=p.vin,
                closed_at=at(day),
                mileage_km=5_000 + 4_000 * k,
                jobs=[{"name": "ТО (регламентное)", "kind": "maintenance", "amount": 9_500}],
                total_amount=9_500,
            )
        )
    for k in range(ODOMETER):
        day = 40 + 90 * k
        events.append(
            event(
                p.id(f"o{k}"),
                "vehicle.odometer",
                at(day),
                vin=p.vin,
                mileage_km=3_000 + 3_900 * k,
                at=at(day),
                source="telematics",
            )
        )
    for k in range(CONSENTS):
        day = 300 + 250 * k
        events.append(
            event(
                p.id(f"c{k}"),
                "customer.consent_changed",
                at(day),
                customer_external_id=p.external_id,
                channel="email" if k % 2 else "sms",
                purpose="marketing",
                granted=k % 2 == 0,
                at=at(day),
                source="call_center",
            )
        )
    events += [
        upserted(p, f"r{k}", at(400 * k), anonymous_id=p.anonymous_id, city="Москва")
        for k in range(1, RECORDS)
    ]
    for k in range(WEB):
        day = 15 * k + (p.n % 7)
        moment = at(day)
        events.append(
            event(
                p.id(f"w{k}"),
                "web.activity",
                moment,
                anonymous_id=p.anonymous_id,
                at=moment,
                page=("model", "configurator", "price", "service")[k % 4],
                model="Kia Sportage",
                url=f"https://kia-sever.example/sportage?p={k}",
            )
        )
    events.sort(key=lambda e: e["occurred_at"])
    return events


def dealer_history(total: int, now: datetime) -> Iterator[Event]:
    """`total` events: customers one after another (numbered from 700000, away from other
    benchmarks' people)."""
    sent = 0
    n = 700_000
    while sent < total:
        for item in customer_history(Person(n), now)[: total - sent]:
            yield item
            sent += 1
        n += 1


# ---------------------------------------------------------------------------- the stack


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    local: dict[str, Any]
    log: Path

    def stop(self) -> float:
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return time.monotonic() - started


def start_stack(workdir: Path) -> Stack:
    port = free_port()
    log = workdir / "make-run.out"
    env = {**os.environ, "PORT": str(port), "TRIGLY_LOCAL_DIR": str(workdir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    local_json = workdir / "local.json"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not local_json.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the local stack did not start; see {log}")
        time.sleep(0.2)
    return Stack(process, json.loads(local_json.read_text()), log)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ingest_backlog(local: dict[str, Any]) -> int:
    import boto3

    sqs = boto3.client(
        "sqs",
        endpoint_url=local["aws_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # the emulator's dummy credentials
    )
    url = next(u for u in sqs.list_queues()["QueueUrls"] if "Ingest" in u and "DLQ" not in u)
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


# ---------------------------------------------------------------------------- the run


@dataclass
class Slice:
    first: int  # the slice's events, numbered from 1
    events: int  # sent by the end of the slice
    seconds: float  # wall time of the slice
    batch_seconds: list[float]
    backlog: int  # queued ingest messages at its end

    @property
    def per_second(self) -> float:
        return _rate(self.events - self.first + 1, self.seconds)


@dataclass
class IntakeRun:
    events: int
    batch: int
    slices: list[Slice] = field(default_factory=list)
    accepted: int = 0
    rejected: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the stack process's CPU time during intake
    load: tuple[float, float] = (0.0, 0.0)  # load average at start and end of intake
    backlog_after: int = 0  # ingest messages queued when intake ended
    applied_after: int = 0  # ingest messages the stack applied in APPLY_WINDOW_S after intake
    stop_seconds: float = 0.0
    stopped_early: str = ""

    @property
    def per_cpu_second(self) -> float:
        """Accepted events per CPU-second of the stack: its rate on one free core, whatever
        else the machine was doing."""
        return _rate(self.accepted, self.cpu_seconds)

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    @property
    def slowest(self) -> float:
        """Events per second of the slowest slice."""
        return min((s.per_second for s in self.slices), default=0.0)


def _rate(events: int, seconds: float) -> float:
    return events / seconds if seconds else 0.0


def run(events: int = EVENTS, batch: int = BATCH, give_up_after: float = 120.0) -> IntakeRun:
    """Push `events` through a fresh local stack; stops early if one batch takes longer than
    `give_up_after` seconds (the old stack's quadratic slope makes 100,000 take hours)."""
    import httpx

    from infra.local.demo import signed_headers

    result = IntakeRun(events, batch)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="trigly-intake-") as tmp:
        stack = start_stack(Path(tmp))
        local = stack.local
        url = f"{local['api_url']}/v1/webhooks/{local['connector_id']}"
        per_slice = max(1, -(-events // batch // SLICES))
        try:
            with httpx.Client(timeout=600) as client:
                history = dealer_history(events, now)
                cpu_before = cpu_seconds(stack.process.pid)
                load_before = os.getloadavg()[0]
                started = slice_started = time.monotonic()
                timings: list[float] = []
                sent = 0
                while sent < events:
                    chunk = [e for _, e in zip(range(batch), history, strict=False)]
                    body = json.dumps({"events": chunk}, ensure_ascii=False)
                    t0 = time.monotonic()
                    answer = client.post(
                        url,
                        content=body.encode(),
                        headers={
                            "content-type": "application/json",
                            **signed_headers(local["webhook_secret"], body),
                        },
                    )
                    took = time.monotonic() - t0
                    if answer.status_code != 202:
                        raise RuntimeError(f"webhook answered {answer.status_code}: {answer.text}")
                    receipt = answer.json()
                    result.accepted += receipt["accepted"]
                    result.rejected += len(receipt["rejected"])
                    sent += len(chunk)
                    timings.append(took)
                    last = sent >= events
                    if len(timings) == per_slice or last or took > give_up_after:
                        elapsed = time.monotonic() - slice_started
                        backlog = ingest_backlog(local)
                        first = result.slices[-1].events + 1 if result.slices else 1
                        result.slices.append(Slice(first, sent, elapsed, timings, backlog))
                        print(slice_line(result.slices[-1]), flush=True)
                        timings, slice_started = [], time.monotonic()
                    if took > give_up_after:
                        result.stopped_early = (
                            f"stopped after {sent} events: one batch took {took:.0f} s"
                        )
                        break
                result.seconds = time.monotonic() - started
                result.cpu_seconds = cpu_seconds(stack.process.pid) - cpu_before
                result.load = (load_before, os.getloadavg()[0])
                # How fast the stack applies the backlog once intake pauses (its consumers give
                # way to requests): the queue's depth over a fixed window.
                result.backlog_after = ingest_backlog(local)
                time.sleep(APPLY_WINDOW_S)
                result.applied_after = result.backlog_after - ingest_backlog(local)
        finally:
            result.stop_seconds = stack.stop()
    return result


def slice_line(s: Slice) -> str:
    return (
        f"  events {s.first:>7,}-{s.events:<7,} {s.per_second:6.0f} events/s, batch answer "
        f"median {statistics.median(s.batch_seconds):5.2f} s, max {max(s.batch_seconds):6.2f} s,"
        f" ingest queue after: {s.backlog:,} messages"
    )


def report(result: IntakeRun) -> str:
    met = result.slowest >= GOAL_PER_SECOND and not result.stopped_early
    lines = [
        f"local_intake: {result.events:,} events of a dealer's history through the local "
        f"stack's webhook, batches of {result.batch}",
        *(slice_line(s) for s in result.slices),
        f"  accepted {result.accepted:,}, rejected {result.rejected:,} in {result.seconds:.0f} s:"
        f" {result.per_second:.0f} events/s overall, slowest slice {result.slowest:.0f} events/s",
        f"  the stack's CPU time for it: {result.cpu_seconds:.0f} s, i.e."
        f" {result.per_cpu_second:.0f} events per CPU-second (its rate on one free core);"
        f" load average {result.load[0]:.1f} at start, {result.load[1]:.1f} at end"
        f" ({os.cpu_count()} cores)",
        f"  ingest queue when intake ended: {result.backlog_after:,} messages (up to"
        f" {EVENTS_PER_MESSAGE} events each); applied in the next {APPLY_WINDOW_S:.0f} s:"
        f" {result.applied_after:,} messages;"
        f" the stack stopped in {result.stop_seconds:.1f} s",
        f"  goal >= {GOAL_PER_SECOND:.0f} events/s sustained: {'met' if met else 'MISSED'}"
        + (f" ({result.stopped_early})" if result.stopped_early else ""),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.local_intake", description=__doc__)
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--give-up-after", type=float, default=120.0, metavar="SECONDS")
    args = parser.parse_args()
    print(report(run(args.events, args.batch, args.give_up_after)))


if __name__ == "__main__":
    main()
