"""Cold start of every Lambda handler against bare boto3, like for like, in fresh processes.

For each of the eleven handlers, ≥ 10 fresh Python processes (interleaved with the baseline,
alternating which goes first) measure:

- handler ready (the headline): `importlib.import_module("functions.<name>.app")` (imports and
  module-level setup, what Lambda's init phase runs), then creating the AWS clients its first
  invocation creates, the way the product creates them (PynamoDB's client for DynamoDB's models,
  `trigly.platform.aws` for the others);
- handler init: the import alone (a part of ready);
- baseline: a bare script that imports boto3 and creates the same clients.

Each is timed twice: in-process from the first line of the script (interpreter start-up
excluded), and from outside the process (`subprocess` wall time and the child's CPU time from
`getrusage`: interpreter start-up and exit included). CPU-time ratios are given beside the
wall-clock ones: on a shared machine they move less with other engineers' load.

Every process gets the environment Lambda would give that function: the template's variables
(resolved by deploying template.yaml into moto), Lambda's own variables (function name, memory,
`AWS_EXECUTION_ENV`, X-Ray daemon address, so Powertools behaves as on Lambda, tracer included)
and dummy credentials. Bytecode caches are warmed by one discarded round first.

Goal: ready ≤ 1.5 × baseline. For every handler, `python -X importtime` then shows which imports
it adds over the baseline, and which first-party module pulls each one in.

    .venv/bin/python -m benchmarks.cold_start [runs]
"""

from __future__ import annotations

import json
import os
import resource
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

# Handler module → (template logical id, the AWS clients its usual first call creates).
# "dynamodb" is PynamoDB's client (the models); the baseline creates boto3's for it.
HANDLERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "functions.webhook.app": ("WebhookFunction", ("dynamodb", "sqs", "s3")),
    "functions.ingest.app": ("IngestFunction", ("dynamodb", "events")),
    "functions.api.app": ("ApiFunction", ("dynamodb", "sqs", "s3")),
    "functions.scheduler.app": ("SchedulerFunction", ("dynamodb", "sqs")),
    "functions.outbound.app": ("OutboundFunction", ("dynamodb", "events")),
    "functions.imports.app": ("ImportFunction", ("dynamodb", "s3", "sqs")),
    "functions.channels.app": ("ChannelWorkerFunction", ("dynamodb", "ssm")),
    "functions.feedback.app": ("FeedbackFunction", ("dynamodb",)),
    "functions.journeys.app": ("JourneyFunction", ("dynamodb", "sqs")),
    "functions.analytics.app": ("AnalyticsFunction", ("dynamodb", "s3", "sqs")),
    "functions.compaction.app": ("AnalyticsCompactionFunction", ("s3", "sqs")),
    # Not a handler: the API's customers area alone, what a per-area split would load.
    "benchmarks.api_area": ("ApiFunction", ("dynamodb", "sqs", "s3")),
    # Not handlers: the floor every function stands on (Powertools, settings, PynamoDB), and
    # that floor plus pydantic and one model (the least for a handler whose call reads one).
    "benchmarks.cold_floor": ("JourneyFunction", ("dynamodb", "sqs")),
    "benchmarks.cold_floor_pydantic": ("JourneyFunction", ("dynamodb", "sqs")),
}

PROBE = r"""
import sys, time
t0, c0 = time.perf_counter(), time.process_time()
mode, target, services = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
if mode == "handler":
    import importlib
    importlib.import_module(target)
    t1, c1 = time.perf_counter(), time.process_time()
    from pynamodb.connection import Connection
    import trigly.store.models  # what any model use imports first (a lazy handler's too)
    from trigly.platform import aws
    for service in services:
        if service == "dynamodb":
            Connection().client
        else:
            getattr(aws, service)()
else:
    import boto3
    for service in services:
        boto3.client(service)
    t1, c1 = time.perf_counter(), time.process_time()
t2, c2 = time.perf_counter(), time.process_time()
print(f"{t1 - t0:.6f} {t2 - t0:.6f} {c1 - c0:.6f} {c2 - c0:.6f}")
"""


# ------------------------------------------------------------------------ the Lambda environment


def template_environments() -> dict[str, dict[str, str]]:
    """Each function's environment as the deployed template resolves it (logical id → env)."""
    from benchmarks.ingest_cost import emulated_stack

    with emulated_stack() as stack:
        return {
            logical: dict(function.environment) for logical, function in stack.functions.items()
        }


def lambda_environment(
    logical_id: str, template_env: dict[str, str], module: str
) -> dict[str, str]:
    """What the Python 3.12 runtime sets, plus the template's variables and dummy credentials."""
    name = f"trigly-bench-{logical_id}"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(REPO),
        "_HANDLER": module.replace(".", "/") + ".handler",
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


@dataclass(frozen=True)
class Sample:
    """One fresh process, seconds. In-process: init (bare: boto3 + clients), ready (bare: the
    same), their CPU times; from outside: the whole process, interpreter start and exit included."""

    init: float
    ready: float
    init_cpu: float
    ready_cpu: float
    process: float
    process_cpu: float


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def probe(mode: str, target: str, services: tuple[str, ...], env: dict[str, str]) -> Sample:
    """One fresh process."""
    cpu_before, started = _children_cpu(), time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode, target, ",".join(services)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    process, process_cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ProbeFailed(f"{mode} {target}: {last}")
    init, ready, init_cpu, ready_cpu = (float(x) for x in done.stdout.split()[-4:])
    return Sample(init, ready, init_cpu, ready_cpu, process, process_cpu)


class ProbeFailed(RuntimeError):
    """A measured process failed (e.g. the handler does not import)."""


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


@dataclass
class HandlerTiming:
    module: str
    services: tuple[str, ...]
    handler: list[Sample] = field(default_factory=list)
    bare: list[Sample] = field(default_factory=list)
    heavy: list[tuple[str, float]] = field(default_factory=list)  # extra imports, ms
    importers: list[tuple[str, str, float]] = field(default_factory=list)
    error: str | None = None

    def add(self, mode: str, sample: Sample) -> None:
        (self.handler if mode == "handler" else self.bare).append(sample)

    def ms(self, which: str, what: str) -> float:
        """Median of one figure ("init", "ready_cpu", "process", ...) of handler or bare runs."""
        samples = self.handler if which == "handler" else self.bare
        return _median_ms([getattr(sample, what) for sample in samples])

    def ratio(self, what: str) -> float:
        """Handler over bare; bare's "ready" is its only in-process figure (boto3 + clients)."""
        bare_what = {"init": "ready", "init_cpu": "ready_cpu"}.get(what, what)
        return self.ms("handler", what) / self.ms("bare", bare_what)

    @property
    def spread(self) -> float:
        """How noisy the headline is: the ready ratio's relative interquartile range (%)."""
        ready = sorted(s.ready for s in self.handler)
        q = statistics.quantiles(ready, n=4) if len(ready) > 1 else [ready[0]] * 3
        return (q[2] - q[0]) / q[1] * 100


def measure(
    runs: int = RUNS, handlers: dict[str, tuple[str, tuple[str, ...]]] = HANDLERS
) -> tuple[list[HandlerTiming], dict[str, dict[str, str]]]:
    environments = template_environments()
    envs = {m: lambda_environment(lid, environments[lid], m) for m, (lid, _) in handlers.items()}
    timings = [HandlerTiming(m, services) for m, (_, services) in handlers.items()]
    for round_ in range(runs + 1):  # round 0 warms the bytecode caches and is discarded
        for t in timings:
            if t.error:
                continue
            env = envs[t.module]
            order = ("handler", "bare") if round_ % 2 else ("bare", "handler")
            for mode in order:
                try:
                    sample = probe(mode, t.module, t.services, env)
                except ProbeFailed as failed:
                    t.error = str(failed)
                    break
                if round_:
                    t.add(mode, sample)
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


FIRST_PARTY = ("functions", "trigly", "benchmarks")


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
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"Cold start, median of {runs} fresh processes each, interleaved with a bare boto3 script"
        f" creating the same clients; goal: ready ≤ {GOAL}x (load average at the end: {load})",
        f"  {'handler':<30} {'clients':<22} {'ready ms':>8} {'bare ms':>7} {'ratio':>6}"
        f" {'goal':>4} {'CPU':>6} {'IQR':>4}  {'init':>6} {'CPU':>6}  {'process':>7} {'CPU':>6}",
    ]
    for t in timings:
        if t.error:
            lines.append(f"  {t.module:<30} NOT MEASURED: {t.error}")
            continue
        verdict = "met" if t.ratio("ready") <= GOAL else "MISS"
        lines.append(
            f"  {t.module.removeprefix('functions.'):<30} {','.join(t.services):<22}"
            f" {t.ms('handler', 'ready'):>8.0f} {t.ms('bare', 'ready'):>7.0f}"
            f" {t.ratio('ready'):>5.2f}x {verdict:>4} {t.ratio('ready_cpu'):>5.2f}x"
            f" {t.spread:>3.0f}%  {t.ratio('init'):>5.2f}x {t.ratio('init_cpu'):>5.2f}x"
            f"  {t.ratio('process'):>6.2f}x {t.ratio('process_cpu'):>5.2f}x"
        )
    lines.append(
        "  ready: import + module-level setup + the clients its first call creates, in-process"
        " wall clock (interpreter\n  start excluded); ratio: over bare boto3 + the same clients;"
        " CPU: the same ratio in process CPU time;\n  IQR: interquartile range of the handler's"
        " ready times, % of the median (noise); init: the import alone\n  over bare; process:"
        " the whole process timed from outside (interpreter start and exit included), wall, CPU"
    )
    for t in timings:
        if not t.heavy:
            continue
        over = "over the goal" if t.ratio("ready") > GOAL else "within the goal"
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
    figures = ("ready", "ready_cpu", "init", "init_cpu", "process", "process_cpu")
    return json.dumps(
        {
            t.module: {
                "ready_ms": round(t.ms("handler", "ready"), 1),
                "bare_ms": round(t.ms("bare", "ready"), 1),
                **{f"{what}_ratio": round(t.ratio(what), 2) for what in figures},
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
