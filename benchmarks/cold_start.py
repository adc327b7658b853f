"""Cold init of each Lambda handler module against a bare boto3 script, in fresh processes.

For each handler, ≥ 10 fresh Python processes (interleaved with the baseline, alternating which
goes first) measure in-process, from the first line of the script (interpreter start-up is
excluded for both):

- handler init: `importlib.import_module("functions.<name>.app")`: imports and module-level
  setup, what Lambda's init phase runs;
- handler ready: init, then creating the AWS clients its first invocation creates, the way the
  product creates them (PynamoDB's botocore client for DynamoDB, boto3 for SQS and S3);
- baseline: a bare script that imports boto3 and creates the same clients.

Every process gets the environment Lambda would give that function: the template's variables
(resolved by deploying template.yaml into moto), Lambda's own variables (function name, memory,
`AWS_EXECUTION_ENV`, X-Ray daemon address, so Powertools behaves as on Lambda, tracer included)
and dummy credentials. Bytecode caches are warmed by one discarded round first.

Goal: init ≤ 1.5 × baseline. For every handler, `python -X importtime` then shows which imports
it adds over the baseline, and which first-party module pulls each one in.

    .venv/bin/python -m benchmarks.cold_start [runs]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 10
GOAL = 1.5

# Handler module → (template logical id, the AWS services its code calls).
HANDLERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "functions.webhook.app": ("WebhookFunction", ("dynamodb", "sqs", "s3")),
    "functions.ingest.app": ("IngestFunction", ("dynamodb",)),
    "functions.api.app": ("ApiFunction", ("dynamodb", "sqs", "s3")),
    "functions.scheduler.app": ("SchedulerFunction", ("dynamodb",)),
}

PROBE = r"""
import sys, time
t0, c0 = time.perf_counter(), time.process_time()
mode, target, services = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
if mode == "handler":
    import importlib
    importlib.import_module(target)
    t1, c1 = time.perf_counter(), time.process_time()
    import boto3
    from pynamodb.connection import Connection
    for service in services:
        if service == "dynamodb":
            Connection().client
        else:
            boto3.client(service)
else:
    import boto3
    for service in services:
        boto3.client(service)
    t1, c1 = time.perf_counter(), time.process_time()
t2 = time.perf_counter()
print(f"{t1 - t0:.6f} {t2 - t0:.6f} {c1 - c0:.6f}")
"""


# ------------------------------------------------------------------------ the Lambda environment


def template_environments() -> dict[str, dict[str, str]]:
    """Each function's environment as the deployed template resolves it (logical id → env)."""
    from benchmarks.ingest_cost import emulated_stack

    with emulated_stack() as stack:
        return {
            logical: dict(function.environment) for logical, function in stack.functions.items()
        }


def lambda_environment(logical_id: str, template_env: dict[str, str]) -> dict[str, str]:
    """What the Python 3.12 runtime sets, plus the template's variables and dummy credentials."""
    name = f"trigly-bench-{logical_id}"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(REPO),
        "_HANDLER": f"functions/{logical_id.removesuffix('Function').lower()}/app.handler",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129",
        "_AWS_XRAY_DAEMON_PORT": "2000",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "ASIABENCHMARKDUMMY00",
        "AWS_SECRET_ACCESS_KEY": "dummy-secret-for-the-cold-start-benchmark",
        "AWS_SESSION_TOKEN": "dummy-token",
        # Lambda sets PYTHONPATH too; passing the caller's lets a checkout be measured in place.
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}),
        **template_env,
    }


# ------------------------------------------------------------------------------ measurement


def probe(
    mode: str, target: str, services: tuple[str, ...], env: dict[str, str]
) -> tuple[float, float, float]:
    """(init, ready, init CPU) seconds of one fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode, target, ",".join(services)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ProbeFailed(f"{mode} {target}: {last}")
    out = done.stdout.split()
    return float(out[-3]), float(out[-2]), float(out[-1])


class ProbeFailed(RuntimeError):
    """A measured process failed (e.g. the handler does not import)."""


@dataclass
class HandlerTiming:
    module: str
    services: tuple[str, ...]
    init: list[float] = field(default_factory=list)
    ready: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    init_cpu: list[float] = field(default_factory=list)
    bare_cpu: list[float] = field(default_factory=list)
    heavy: list[tuple[str, float]] = field(default_factory=list)  # extra imports, ms
    importers: list[tuple[str, str, float]] = field(default_factory=list)
    error: str | None = None

    @property
    def init_ms(self) -> float:
        return statistics.median(self.init) * 1000

    @property
    def ready_ms(self) -> float:
        return statistics.median(self.ready) * 1000

    @property
    def bare_ms(self) -> float:
        return statistics.median(self.bare) * 1000

    @property
    def ratio(self) -> float:
        return self.init_ms / self.bare_ms

    @property
    def ready_ratio(self) -> float:
        return self.ready_ms / self.bare_ms

    @property
    def cpu_ratio(self) -> float:
        """The same ratio in CPU time: less moved by other load on the machine."""
        return statistics.median(self.init_cpu) / statistics.median(self.bare_cpu)


def measure(runs: int = RUNS) -> tuple[list[HandlerTiming], dict[str, dict[str, str]]]:
    environments = template_environments()
    envs = {m: lambda_environment(lid, environments[lid]) for m, (lid, _) in HANDLERS.items()}
    timings = [HandlerTiming(m, services) for m, (_, services) in HANDLERS.items()]
    for round_ in range(runs + 1):  # round 0 warms the bytecode caches and is discarded
        for t in timings:
            if t.error:
                continue
            env = envs[t.module]
            order = ("handler", "bare") if round_ % 2 else ("bare", "handler")
            for mode in order:
                try:
                    init, ready, cpu = probe(mode, t.module, t.services, env)
                except ProbeFailed as failed:
                    t.error = str(failed)
                    break
                if round_ == 0:
                    continue
                if mode == "handler":
                    t.init.append(init)
                    t.ready.append(ready)
                    t.init_cpu.append(cpu)
                else:
                    t.bare.append(init)
                    t.bare_cpu.append(cpu)
    return timings, envs


# ---------------------------------------------------------------------- import-time analysis


@dataclass(frozen=True)
class ImportLine:
    module: str
    level: int
    self_us: int
    cumulative_us: int


def import_times(code: str, env: dict[str, str]) -> list[ImportLine]:
    """`python -X importtime -c code`, parsed (lines come in completion order)."""
    stderr = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    lines = []
    for raw in stderr.splitlines():
        if not raw.startswith("import time:") or "|" not in raw:
            continue
        self_part, cumulative_part, name = raw.removeprefix("import time:").split("|", 2)
        if not self_part.strip().isdigit():
            continue  # the header line
        stripped = name.lstrip()
        level = (len(name) - len(stripped) - 1) // 2
        lines.append(ImportLine(stripped, level, int(self_part), int(cumulative_part)))
    return lines


def _root(module: str) -> str:
    return module.split(".", 1)[0]


FIRST_PARTY = ("functions", "trigly")


def extra_imports(
    handler_lines: list[ImportLine], bare_lines: list[ImportLine]
) -> tuple[list[tuple[str, float]], list[tuple[str, str, float]]]:
    """What a handler imports that the bare script does not: self time per top-level package
    (ms, largest first), and which first-party module imports each third-party package first
    (importer, package, cumulative ms of that import)."""
    baseline = {line.module for line in bare_lines}
    by_package: dict[str, float] = defaultdict(float)
    for line in handler_lines:
        if line.module not in baseline:
            by_package[_root(line.module)] += line.self_us / 1000
    importers: list[tuple[str, str, float]] = []
    seen: set[str] = set()
    # A line's parent is the next line (in completion order) one level up.
    for i, line in enumerate(handler_lines):
        root = _root(line.module)
        if root in FIRST_PARTY or root in seen or line.module in baseline:
            continue
        parent = next((p for p in handler_lines[i + 1 :] if p.level < line.level), None)
        if parent is not None and _root(parent.module) in FIRST_PARTY:
            importers.append((parent.module, line.module, line.cumulative_us / 1000))
            seen.add(root)
    ranked = sorted(by_package.items(), key=lambda kv: -kv[1])
    return ranked, sorted(importers, key=lambda r: -r[2])


def analyse(timing: HandlerTiming, env: dict[str, str]) -> None:
    services = ", ".join(repr(s) for s in timing.services)
    bare = import_times(f"import boto3\nfor s in ({services},): boto3.client(s)", env)
    handler = import_times(f"import {timing.module}", env)
    timing.heavy, timing.importers = extra_imports(handler, bare)


# ---------------------------------------------------------------------------------- report


def report(timings: list[HandlerTiming], runs: int) -> str:
    lines = [
        f"Cold init, median of {runs} fresh processes each (interpreter start excluded), "
        f"interleaved with a bare boto3 script creating the same clients; goal ≤ {GOAL}x",
        f"  {'handler':<26} {'clients':<16} {'init ms':>8} {'bare ms':>8} {'ratio':>6}"
        f" {'goal':>5}  {'CPU ratio':>9}  {'+clients ms':>11} {'ratio':>6}",
    ]
    for t in timings:
        if t.error:
            lines.append(f"  {t.module:<26} NOT MEASURED: {t.error}")
            continue
        verdict = "met" if t.ratio <= GOAL else "MISS"
        lines.append(
            f"  {t.module:<26} {','.join(t.services):<16} {t.init_ms:>8.0f} {t.bare_ms:>8.0f}"
            f" {t.ratio:>5.2f}x {verdict:>5}  {t.cpu_ratio:>8.2f}x  {t.ready_ms:>11.0f}"
            f" {t.ready_ratio:>5.2f}x"
        )
    lines.append(
        "  (init: import + module-level setup, wall clock; CPU ratio: the same in process CPU"
        " time;\n   +clients: init, then the clients its first call creates, as the baseline"
        " creates them)"
    )
    for t in timings:
        if not t.heavy:
            continue
        over = "over the goal" if t.ratio > GOAL else "within the goal"
        lines.append(
            f"\n  {t.module} ({over}): imports beyond the bare script (self time, one run)"
        )
        for package, ms in t.heavy[:10]:
            lines.append(f"    {package:<34} {ms:>7.1f} ms")
        lines.append("  pulled in by (first-party importer → package: cumulative ms there)")
        for importer, package, ms in t.importers[:12]:
            lines.append(f"    {importer:<40} → {package:<40} {ms:>7.1f}")
    return "\n".join(lines)


def run(runs: int = RUNS) -> list[HandlerTiming]:
    timings, envs = measure(runs)
    for t in timings:
        if not t.error:  # every handler: a ratio near the goal moves with the machine's load
            analyse(t, envs[t.module])
    return timings


def as_json(timings: list[HandlerTiming]) -> str:
    return json.dumps(
        {
            t.module: {
                "init_ms": round(t.init_ms, 1),
                "ready_ms": round(t.ready_ms, 1),
                "bare_ms": round(t.bare_ms, 1),
                "ratio": round(t.ratio, 2),
                "cpu_ratio": round(t.cpu_ratio, 2),
                "ready_ratio": round(t.ready_ratio, 2),
            }
            for t in timings
            if not t.error
        },
        indent=2,
    )


def main(runs: int = RUNS) -> list[HandlerTiming]:
    started = time.perf_counter()
    timings = run(runs)
    print(report(timings, runs))
    print(f"\n(cold_start ran in {time.perf_counter() - started:.1f} s)")
    return timings


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else RUNS)
