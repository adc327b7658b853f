"""Cold start of two trees of the product in the same rounds, with the first call's model builds.

`benchmarks.cold_start` measures a handler ready (import + the clients its first call creates).
With validators built on first use (ADR 0019, third round) part of what the import did moves
into the first call, which a cold start's caller waits for just the same; so beside ready this
adds "+ first call": ready, then building the pydantic models the handler's usual first call
builds (importing their modules if the import did not), as observed in the integration tests
(`FIRST_CALL`). On a tree where they were built at import it costs the import of their modules.

Each round runs, per handler, the bare boto3 script, the handler at the base tree and the handler
at this tree in fresh processes (the order rotating), with `cold_start`'s probe and Lambda
environment; round 0 warms the bytecode caches and is discarded. The base tree is a `git archive`
export: its `shared/` and root go first on PYTHONPATH.

    git archive <commit> | tar -x -C /tmp/base
    .venv/bin/python -m benchmarks.cold_start_ab /tmp/base [runs]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.cold_start import HANDLERS, PROBE, REPO, lambda_environment, template_environments

# Handler → the models its usual first call builds (webhook: one customer.upserted; ingest: a
# closed service order of a known customer; journeys: a run started and its message sent).
FIRST_CALL: dict[str, tuple[str, ...]] = {
    "functions.webhook.app": (
        "trigly.events.validation.Envelope",
        "trigly.events.customer.CustomerUpserted",
        "trigly.ingest.messages.QueuedEvent",
        "trigly.ingest.messages.IngestMessage",
    ),
    "functions.ingest.app": (
        "trigly.ingest.messages.IngestMessage",
        "trigly.ingest.messages.QueuedEvent",
        "trigly.events.validation.Envelope",
        "trigly.events.service.ServiceOrderClosed",
        "trigly.profiles.contacts.Contact",
        "trigly.profiles.model.CustomerProfile",
        "trigly.profiles.model.ConsentState",
        "trigly.vehicles.model.Vehicle",
        "trigly.vehicles.model.Ownership",
        "trigly.profiles.records.CustomerVehicle",
        "trigly.vehicles.model.OdometerReading",
        "trigly.events.service.ServiceJob",
        "trigly.profiles.records.VisitJob",
        "trigly.profiles.records.ServiceVisit",
    ),
    "functions.journeys.app": (
        "trigly.journeys.engine.Enrollment",
        "trigly.journeys.engine.Transition",
        "trigly.messaging.intent.SendIntent",
        "trigly.messaging.intent.MessageState",
        "trigly.messaging.message.StoredMessage",
        "trigly.messaging.intent.HistoryEntry",
    ),
    "functions.channels.app": (),
    "functions.scheduler.app": (),
}

FIRST_CALL_PROBE = """
if mode == "handler":
    for dotted in sys.argv[4].split():
        module, _, name = dotted.rpartition(".")
        getattr(importlib.import_module(module), name).model_rebuild()
    print(f"{time.process_time() - c0:.6f}")
"""

Samples = dict[str, list[float]]


def probe(mode: str, module: str, tree: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """One fresh process: ready wall, ready CPU, ready + first call CPU (seconds)."""
    services = HANDLERS[module][1]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE + FIRST_CALL_PROBE,
            mode,
            module,
            ",".join(services),
            " ".join(FIRST_CALL[module]),
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.split()
    if mode == "bare":
        _, ready, _, ready_cpu = (float(x) for x in lines[-4:])
        return ready, ready_cpu, ready_cpu
    _, ready, _, ready_cpu, call_cpu = (float(x) for x in lines[-5:])
    return ready, ready_cpu, call_cpu


def measure(base: Path, runs: int) -> dict[tuple[str, str], Samples]:
    environments = template_environments()
    samples: dict[tuple[str, str], Samples] = {}
    for round_ in range(runs + 1):
        for module in FIRST_CALL:
            env = lambda_environment(HANDLERS[module][0], environments[HANDLERS[module][0]], module)
            variants = [("bare", "bare"), ("handler", "base"), ("handler", "this")]
            variants = variants[round_ % 3 :] + variants[: round_ % 3]
            for mode, tree in variants:
                tree_env = dict(env)
                root = base if tree == "base" else REPO
                if tree == "base":
                    tree_env["PYTHONPATH"] = f"{base}/shared{os.pathsep}{base}"
                ready, ready_cpu, call_cpu = probe(mode, module, root, tree_env)
                if round_:
                    got = samples.setdefault((module, tree), {"ready": [], "cpu": [], "call": []})
                    got["ready"].append(ready)
                    got["cpu"].append(ready_cpu)
                    got["call"].append(call_cpu)
    return samples


def report(samples: dict[tuple[str, str], Samples], runs: int) -> str:
    def med(module: str, tree: str, what: str) -> float:
        return statistics.median(samples[(module, tree)][what]) * 1000

    lines = [
        f"Median of {runs} rounds; ratios over the bare script (its ready CPU for the CPU columns)",
        f"  {'handler':<16} {'bare CPU ms':>11}   ready x: base  this   CPU x: base  this"
        "   + first call CPU x: base  this",
    ]
    for module in FIRST_CALL:
        wall, cpu = med(module, "bare", "ready"), med(module, "bare", "cpu")
        ready = [med(module, tree, "ready") / wall for tree in ("base", "this")]
        ready_cpu = [med(module, tree, "cpu") / cpu for tree in ("base", "this")]
        call_cpu = [med(module, tree, "call") / cpu for tree in ("base", "this")]
        lines.append(
            f"  {module.removeprefix('functions.'):<16} {cpu:>11.0f}"
            f"   {ready[0]:>12.2f} {ready[1]:>5.2f}   {ready_cpu[0]:>10.2f} {ready_cpu[1]:>5.2f}"
            f"   {call_cpu[0]:>23.2f} {call_cpu[1]:>5.2f}"
        )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines.append(f"  load average at the end: {load}")
    return "\n".join(lines)


if __name__ == "__main__":
    base_tree = Path(sys.argv[1]).resolve()
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    print(report(measure(base_tree, rounds), rounds))
