"""The scheduled paths read only what is due, never Scan (issue 6), checked mechanically: the
lifecycle benchmark's pipeline on a tiny tenant (1,000 cars, 10 due today), every AWS request
seen by the request meter with its operation name.

The daily job, the journey tick and the journey worker (starting runs from date triggers and
advancing runs whose wait ended) issue no `Scan`; the daily job reads the due items and nothing
else but the tenant directory and the tenant (<= 1.2 items per due item); the tick reads the due
runs."""

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
        measured.release,
        measured.tick_job,
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
    job = measured.job
    assert measured.due == 10 and job.units == 10
    assert _index_items(job, "T#{tenant}#LIFE#{time}") == 10  # today's 10, yesterday's none
    assert job.items_read <= lifecycle.READ_GOAL * job.units  # + directory and tenant: 12
    assert job.queued == 1 + 10  # the tenant's day, then one message per due trigger
    operations = set(job.ops())
    assert {"dynamodb.Query", "sqs.SendMessageBatch"} <= operations
    assert operations <= {"dynamodb.Query", "dynamodb.GetItem", "sqs.SendMessageBatch"}


def test_the_tick_reads_the_runs_due_and_the_worker_advances_them(
    measured: lifecycle.Lifecycle,
) -> None:
    assert measured.tick.units == 10  # the sample's 3 runs and the 7 cloned ones
    assert _index_items(measured.tick, "DUE#{time}") == 10
    assert measured.start.extra["runs"] == 3
    assert measured.advance.units == 3 and measured.advance.steps >= 3
