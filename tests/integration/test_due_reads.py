"""The scheduled paths read only what is due, never Scan (issue 6), checked mechanically: the
lifecycle benchmark's pipeline on a tiny tenant (1,000 cars, 10 due today), every AWS request
seen by the request meter with its operation name.

The hourly tick, the daily job and the journey worker (starting runs from date triggers and
advancing runs whose wait ended) issue no `Scan`; the tick at a tenant's 10:00 queues its day
reading keys (the watermark, the buckets' markers, the tenant directory); the daily job reads the
due items and nothing else (<= 1.2 items per due item); the tick a week later reads the due runs
(in their customers' shards) with one BatchGetItem of markers."""

import pytest

from benchmarks import lifecycle


@pytest.fixture(scope="module")
def measured() -> lifecycle.Lifecycle:
    return lifecycle.run(cars=1_000, sample=3)


def _index_items(phase: lifecycle.Phase, partition: str) -> int:
    return sum(
        charge.items
        for call, kind in zip(phase.meter.calls, phase.meter.kinds, strict=True)
        if call.operation == "Query" and kind == f"due index {partition}"
        for charge in call.charges
    )


def test_no_scan_on_the_scheduled_paths(measured: lifecycle.Lifecycle) -> None:
    phases = [
        measured.morning,
        measured.job,
        measured.start,
        measured.tick,
        measured.advance,
    ]
    for phase in phases:
        assert phase.meter.calls, phase.name  # the meter saw the phase's requests
        operations = {call.operation for call in phase.meter.calls}
        assert "Scan" not in operations, phase.name
    assert measured.problems == []


def test_the_daily_job_reads_the_due_items_and_queues_one_message_each(
    measured: lifecycle.Lifecycle,
) -> None:
    morning, job = measured.morning, measured.job
    # The tick at the tenant's 10:00 queues the tenant's day: one message
    assert morning.units == 1 and morning.queued == 1
    assert set(morning.ops()) <= {
        "dynamodb.GetItem",  # the watermark, the tenant
        "dynamodb.PutItem",  # the watermark's lease, then its move (conditional)
        "dynamodb.BatchGetItem",  # the hour buckets' markers
        "dynamodb.Query",  # the tenant directory
        "sqs.SendMessageBatch",
    }
    # The worker reads the day's due items and queues one message each
    assert measured.due == 10 and job.units == 10
    assert _index_items(job, "T#{tenant}#LIFE#{time}") == 10  # today's 10, yesterday's none
    assert job.items_read <= lifecycle.READ_GOAL * job.units
    assert job.queued == 10
    assert set(job.ops()) == {"dynamodb.Query", "sqs.SendMessageBatch"}


def test_the_tick_reads_the_runs_due_and_the_worker_advances_them(
    measured: lifecycle.Lifecycle,
) -> None:
    tick = measured.tick
    assert tick.units == 10  # the sample's 3 runs and the 7 cloned ones
    assert _index_items(tick, "DUE#{time}") == 10  # in their customers' shards of the hour
    assert "dynamodb.Scan" not in tick.ops() and tick.ops()["dynamodb.BatchGetItem"] == 1
    assert measured.start.extra["runs"] == 3
    assert measured.advance.units == 3 and measured.advance.steps >= 3
