"""`make bench`: every benchmark, one readable report.

    .venv/bin/python -m benchmarks                 # print the report
    .venv/bin/python -m benchmarks --update-docs   # also refresh the figures in docs/benchmarks.md
    .venv/bin/python -m benchmarks --imports 100000  # also the bulk import bench (~15 min)
    .venv/bin/python -m benchmarks --lifecycle 100000  # the lifecycle bench at its documented size
    .venv/bin/python -m benchmarks --mileage 0      # without the mileage backtest
    .venv/bin/python -m benchmarks --intake 100000   # the local stack's webhook, documented size
    .venv/bin/python -m benchmarks --segments 0      # without the segment count bench
    .venv/bin/python -m benchmarks --analytics 500000  # the analytics view at its documented size
    .venv/bin/python -m benchmarks --campaign 0      # without the campaign send bench

Single benchmarks: `python -m benchmarks.ingest_cost`, `python -m benchmarks.profile_read`,
`python -m benchmarks.cold_start [runs]`, `python -m benchmarks.channel_worker [messages] [runs]`,
`python -m benchmarks.lifecycle [--cars N] [--sample N]`,
`python -m benchmarks.mileage [--cars N] [--seeds 1 2 3] [--variants]`.
`python -m benchmarks.local_intake [--events N]`,
`python -m benchmarks.segment_count [--customers 10000 100000 1000000]`,
`python -m benchmarks.analytics_view [--customers N] [--changed N]`,
`python -m benchmarks.campaign_send [recipients] [throttle_per_minute]`.
"""

import argparse
import os
import platform
import re
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import (
    analytics_view,
    campaign_send,
    channel_worker,
    cold_start,
    import_bench,
    ingest_cost,
    lifecycle,
    local_intake,
    local_replay,
    mileage,
    profile_read,
    segment_count,
)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()},"
        f" Python {platform.python_version()}"
    )


def revision() -> str:
    """The commit measured, and whether the product code differs from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "shared", "functions", "template.yaml"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        return "unknown"
    if not head:  # e.g. a `git archive` export; its maker may say which commit it is
        return os.environ.get("BENCH_REVISION", "unknown (not a git checkout)")
    return (
        f"{head}{' + uncommitted changes in shared/, functions/ or template.yaml' if dirty else ''}"
    )


def update_docs(text: str) -> None:
    """Replace the generated block of docs/benchmarks.md (between its markers) with `text`."""
    doc = DOCS.read_text()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{DOCS} has no {BEGIN} ... {END} block to update")
    block = f"{BEGIN}\n```text\n{text}\n```\n{END}"
    DOCS.write_text(
        re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, doc, flags=re.S)
    )


def optional(name: str, flag: str, size: int, measure: Callable[[int], str]) -> str:
    """One benchmark of a size the command line sets (0: skipped), printed; a failure is
    reported in its place, so one broken benchmark does not hide the others."""
    if not size:
        return f"{name}: skipped (--{flag} 0)"
    try:
        text = measure(size)
    except Exception as error:
        text = f"{name} FAILED: {error!r}"
    print(text, end="\n\n", flush=True)
    return text


def mileage_backtest(cars: int) -> str:
    """The mileage estimate against the naive one (benchmarks/mileage.py)."""
    return mileage.report(mileage.Population(cars=cars), [1], False)[0]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--runs", type=int, default=cold_start.RUNS, help="cold-start processes")
    parser.add_argument("--update-docs", action="store_true", help=f"rewrite the figures in {DOCS}")
    parser.add_argument(
        "--imports",
        type=int,
        default=0,
        metavar="ROWS",
        help="also run the bulk import bench on this many generated rows (100000: ~15 min)",
    )
    parser.add_argument(
        "--lifecycle",
        type=int,
        default=10_000,
        metavar="CARS",
        help="cars of the lifecycle and journey tick bench (0 skips; documented run: 100000)",
    )
    parser.add_argument(
        "--mileage",
        type=int,
        default=mileage.Population.cars,
        metavar="CARS",
        help="synthetic cars of the mileage backtest (0 skips)",
    )
    parser.add_argument(
        "--intake",
        type=int,
        default=10_000,
        metavar="EVENTS",
        help="events pushed through the local stack's webhook (0 skips; documented run: 100000)",
    )
    parser.add_argument(
        "--replay",
        type=int,
        default=30,
        metavar="DAYS",
        help="days of business time the local stack replays in one clock move (0 skips)",
    )
    parser.add_argument(
        "--segments",
        type=int,
        default=1_000_000,
        metavar="CUSTOMERS",
        help="largest tenant of the segment count bench (10k, 100k, … up to it; 0 skips)",
    )
    parser.add_argument(
        "--analytics",
        type=int,
        default=50_000,
        metavar="CUSTOMERS",
        help="customers of the analytics view bench: compaction, open_view, a count "
        "(0 skips; documented run: 500000)",
    )
    parser.add_argument(
        "--campaign",
        type=int,
        default=300,
        metavar="RECIPIENTS",
        help="recipients of the campaign send bench (0 skips)",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    header = (
        f"Trigly benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
        f"machine: {machine()}\n"
        f"code: {revision()}\n"
        f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(header, end="\n\n", flush=True)

    try:
        cost: ingest_cost.IngestCost | None = ingest_cost.run()
    except Exception as error:  # one broken benchmark should not hide the others
        cost = None
        print(f"ingest_cost FAILED: {error!r}", end="\n\n", flush=True)
    cost_text = ingest_cost.summary(cost) if cost else "ingest_cost: FAILED"
    if cost:
        print(cost_text, end="\n\n", flush=True)

    try:
        read: profile_read.ProfileRead | None = profile_read.run()
    except Exception as error:  # one broken benchmark should not hide the others
        read = None
        print(f"profile_read FAILED: {error!r}", end="\n\n", flush=True)
    read_text = profile_read.report(read) if read else "profile_read: FAILED"
    if read:
        print(read_text, end="\n\n", flush=True)

    timings = cold_start.run(args.runs)
    cold_text = cold_start.report(timings, args.runs)
    print(cold_text, end="\n\n")

    channels_text = channel_worker.run(runs=args.runs)  # throughput at 100 ms, cold init
    print(channels_text, end="\n\n", flush=True)

    lifecycle_text = "lifecycle: skipped (--lifecycle 0)"
    if args.lifecycle:
        try:
            sample = min(50, round(args.lifecycle * lifecycle.DUE_SHARE))  # moto: ~0.5 s/Query
            cycle = lifecycle.run(args.lifecycle, sample)
            lifecycle_text = lifecycle.report(cycle)
        except Exception as error:  # one broken benchmark should not hide the others
            lifecycle_text = f"lifecycle FAILED: {error!r}"
        print(lifecycle_text, end="\n\n", flush=True)

    mileage_text = optional("mileage", "mileage", args.mileage, mileage_backtest)
    intake_text = optional(
        "local_intake", "intake", args.intake, lambda n: local_intake.report(local_intake.run(n))
    )
    replay_text = optional(
        "local_replay", "replay", args.replay, lambda n: local_replay.report(local_replay.run(n))
    )

    segments_text = optional(
        "segment_count",
        "segments",
        args.segments,
        lambda n: segment_count.run([size for size in segment_count.SIZES if size <= n] or [n]),
    )

    analytics_text = optional(
        "analytics_view",
        "analytics",
        args.analytics,
        lambda n: f"analytics view, {n} customers: {analytics_view.run(n, max(1, n // 8))}",
    )
    campaign_text = optional("campaign_send", "campaign", args.campaign, campaign_send.run)

    if args.imports:  # minutes, not seconds: only when asked (figures in docs/benchmarks.md)
        imported = import_bench.run(args.imports, min(import_bench.SAMPLE, args.imports))
        print(import_bench.summary(imported), end="\n\n", flush=True)

    if cost:
        print("Per-operation detail of the ingest cases\n")
        print(ingest_cost.details(cost))
    footer = f"(all benchmarks ran in {time.perf_counter() - started:.0f} s)"
    print(f"\n{footer}")
    if args.update_docs and cost:
        update_docs(
            f"{header}\n\n{cost_text}\n\n{read_text}\n\n{cold_text}\n\n{channels_text}\n\n"
            f"{lifecycle_text}\n\n{mileage_text}\n\n{intake_text}\n\n{replay_text}\n\n"
            f"{segments_text}\n\n{analytics_text}\n\n{campaign_text}\n\n{footer}"
        )
        print(f"figures written to {DOCS}")


if __name__ == "__main__":
    main()
