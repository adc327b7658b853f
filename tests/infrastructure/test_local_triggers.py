"""The local stack's stand-ins for Lambda's SQS poller, EventBridge Scheduler and the clock API.

They run against the template deployed into an in-process moto, with a recording handler in
place of the product's, so each test states exactly what the trigger did.
"""

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.deploy import DeployedStack, deploy
from infra.local.control import (
    Control,
    ProblemError,
    after_duration,
    parse_instant,
    starting_clock,
)
from infra.local.outbox import Outbox
from infra.local.queues import QueueConsumer, drain
from infra.local.runtime import FunctionHost
from infra.local.scheduler import Firing, Scheduler
from tests.infrastructure import local_handlers
from tests.support import load_event
from trigly.platform import clock

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")

RECORDER = "tests/infrastructure/local_handlers.handler"


@pytest.fixture
def stack() -> Iterator[DeployedStack]:
    # A fresh stack per test: moto allows one PurgeQueue a minute, and failed messages hide.
    with mock_aws():
        yield deploy()


@pytest.fixture
def host(stack: DeployedStack) -> Iterator[FunctionHost]:
    # Every function of the stack, each answering with the recording handler
    functions = {
        logical_id: dataclasses.replace(function, handler=RECORDER)
        for logical_id, function in stack.functions.items()
    }
    local_handlers.reset()
    yield FunctionHost(functions)
    local_handlers.reset()


@pytest.fixture
def sqs(stack: DeployedStack) -> Any:
    return boto3.client("sqs", region_name=stack.region)


@pytest.fixture
def consumer(stack: DeployedStack, host: FunctionHost, sqs: Any) -> QueueConsumer:
    [mapping] = [m for m in stack.queue_mappings if m.function == "IngestFunction"]
    return QueueConsumer(mapping, host, sqs, stack.region)


def send(sqs: Any, url: str, count: int) -> list[str]:
    bodies = [json.dumps({"n": n}) for n in range(count)]
    for start in range(0, count, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])
            ],
        )
    return bodies


def waiting(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_batches_fill_up_to_the_mappings_batch_size(consumer: QueueConsumer, sqs: Any) -> None:
    # Given 30 messages and a mapping of BatchSize 25 (ReceiveMessage returns at most 10)
    send(sqs, consumer.mapping.queue_url, 30)
    # When the queue is drained
    handled = drain([consumer])
    # Then the function saw a batch of 25, then one of 5, and nothing is left
    assert [len(event["Records"]) for event, _ in local_handlers.calls] == [25, 5]
    assert handled == 30
    assert waiting(sqs, consumer.mapping.queue_url) == 0


def test_records_look_like_lambdas_sqs_records(consumer: QueueConsumer, sqs: Any) -> None:
    send(sqs, consumer.mapping.queue_url, 1)
    sqs.send_message(
        QueueUrl=consumer.mapping.queue_url,
        MessageBody="{}",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "demo"}},
    )

    drain([consumer])

    recorded = load_event("sqs_batch.json")["Records"][0]
    records = local_handlers.calls[0][0]["Records"]
    for record in records:
        assert set(record) == set(recorded)
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == consumer.mapping.queue_arn
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert {"SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert records[1]["messageAttributes"]["kind"]["stringValue"] == "demo"
    assert records[1]["messageAttributes"]["kind"]["dataType"] == "String"


def test_reported_failures_are_retried_then_end_in_the_dlq(
    consumer: QueueConsumer, sqs: Any
) -> None:
    # Given a handler that always reports the message with body {"n": 1} as failed
    def fail_one(event: dict[str, Any]) -> dict[str, Any]:
        failed = [r["messageId"] for r in event["Records"] if json.loads(r["body"])["n"] == 1]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    local_handlers.reset(fail_one)
    send(sqs, consumer.mapping.queue_url, 3)
    # When the queue is drained
    handled = drain([consumer])
    # Then the two good ones were handled once, the poison one maxReceiveCount times
    assert handled == 2
    bodies = [r["body"] for event, _ in local_handlers.calls for r in event["Records"]]
    assert bodies.count('{"n": 1}') == consumer.mapping.max_receive_count
    assert bodies.count('{"n": 0}') == 1
    # And it now waits in the DLQ, nothing in the queue
    assert waiting(sqs, consumer.mapping.queue_url) == 0
    assert consumer.mapping.dead_letter_url is not None
    [dead] = sqs.receive_message(QueueUrl=consumer.mapping.dead_letter_url)["Messages"]
    assert dead["Body"] == '{"n": 1}'


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(RuntimeError("boom"), id="raised"),
        pytest.param({"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}, id="unknown-id"),
        pytest.param({"batchItemFailures": [{"itemIdentifier": ""}]}, id="empty-id"),
        pytest.param("ok", id="not-an-object"),
    ],
)
def test_a_failed_or_unreadable_answer_fails_the_whole_batch(
    consumer: QueueConsumer, sqs: Any, answer: Any
) -> None:
    def respond(event: Any) -> Any:
        if isinstance(answer, Exception):
            raise answer
        return answer

    local_handlers.reset(respond)
    send(sqs, consumer.mapping.queue_url, 2)

    outcome = consumer.poll_once()

    assert (outcome.received, outcome.succeeded, outcome.failed) == (2, 0, 2)
    # Both are visible again at once, for the next attempt
    again = sqs.receive_message(QueueUrl=consumer.mapping.queue_url, MaxNumberOfMessages=10)
    assert len(again["Messages"]) == 2


@pytest.mark.parametrize("answer", [None, {}, {"batchItemFailures": []}])
def test_an_empty_answer_is_a_complete_success(
    consumer: QueueConsumer, sqs: Any, answer: Any
) -> None:
    local_handlers.reset(lambda event: answer)
    send(sqs, consumer.mapping.queue_url, 2)

    assert consumer.poll_once().succeeded == 2
    assert waiting(sqs, consumer.mapping.queue_url) == 0


# Tomorrow at an odd minute: the business clock is set to it, and it only moves forward.
START = datetime.combine(starting_clock().now().date() + timedelta(days=1), time(15, 47, 12), UTC)


def make_scheduler(stack: DeployedStack, host: FunctionHost, sqs: Any) -> Scheduler:
    return Scheduler(
        stack.schedules,
        host,
        anchor=START,
        account_id=stack.account_id,
        region=stack.region,
        sqs=sqs,
    )


def test_scheduler_sends_an_eventbridge_scheduler_event(
    stack: DeployedStack, host: FunctionHost, sqs: Any
) -> None:
    scheduler = make_scheduler(stack, host, sqs)
    [firing] = list(scheduler.due(START + timedelta(hours=1)))

    assert scheduler.fire(firing)

    event = local_handlers.calls[0][0]
    recorded = load_event("scheduler.json")
    assert set(event) == set(recorded)
    assert event["source"] == "aws.scheduler"
    assert event["detail-type"] == "Scheduled Event"
    assert event["time"] == clock.isoformat(START + timedelta(hours=1))
    assert event["resources"] == [firing.schedule.arn]


def test_scheduler_input_gets_context_attributes(
    stack: DeployedStack, host: FunctionHost, sqs: Any
) -> None:
    schedule = dataclasses.replace(
        stack.schedules[0],
        input='{"at": "<aws.scheduler.scheduled-time>", "arn": "<aws.scheduler.schedule-arn>"}',
    )
    scheduler = make_scheduler(stack, host, sqs)

    scheduler.fire(Firing(START, schedule))

    assert local_handlers.calls[0][0] == {"at": clock.isoformat(START), "arn": schedule.arn}


def test_a_failing_tick_is_retried_like_an_async_invocation(
    stack: DeployedStack, host: FunctionHost, sqs: Any
) -> None:
    def explode(event: Any) -> Any:
        raise RuntimeError("tick failed")

    local_handlers.reset(explode)
    scheduler = make_scheduler(stack, host, sqs)

    assert not scheduler.fire(Firing(START, stack.schedules[0]))
    assert len(local_handlers.calls) == 3  # Lambda's default: two retries


def test_clock_move_fires_in_order_at_each_firing_time(
    stack: DeployedStack, host: FunctionHost, sqs: Any, consumer: QueueConsumer
) -> None:
    # Given a business clock at START and a handler that notes the time it sees
    business = clock.AdjustableClock(START)
    clock.use(business)
    seen: list[datetime] = []
    local_handlers.reset(lambda event: seen.append(clock.now()))
    scheduler = make_scheduler(stack, host, sqs)
    control = Control(business, scheduler, [consumer], Outbox(), lambda: None)
    try:
        # When the clock moves five hours
        moved = control.move({"advance": "PT5H"})
    finally:
        clock.use(starting_clock())
    # Then five ticks fired in order, and each handler ran at its own firing time
    assert [f["at"] for f in moved.fired] == [
        clock.isoformat(START + timedelta(hours=h)) for h in range(1, 6)
    ]
    assert all(
        timedelta(0) <= seen_at - (START + timedelta(hours=h)) < timedelta(seconds=5)
        for h, seen_at in enumerate(seen, 1)
    )
    assert moved.now >= START + timedelta(hours=5)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        ("PT0S", datetime(2026, 1, 31, 12, tzinfo=UTC)),
        ("P14D", datetime(2026, 2, 14, 12, tzinfo=UTC)),
        ("P1M", datetime(2026, 2, 28, 12, tzinfo=UTC)),  # clamped to the month's end
        ("P1Y2M3DT4H5M6.5S", datetime(2027, 4, 3, 16, 5, 6, 500000, tzinfo=UTC)),
        ("P2W", datetime(2026, 2, 14, 12, tzinfo=UTC)),
    ],
)
def test_iso_8601_durations(duration: str, expected: datetime) -> None:
    assert after_duration(datetime(2026, 1, 31, 12, tzinfo=UTC), duration) == expected


@pytest.mark.parametrize("duration", ["P", "PT", "14D", "P-1D", "P1DT"])
def test_malformed_durations_are_field_errors(duration: str) -> None:
    with pytest.raises(ProblemError) as refused:
        after_duration(START, duration)

    assert (refused.value.status, refused.value.field) == (422, "advance")


def test_a_time_without_an_offset_is_a_field_error() -> None:
    with pytest.raises(ProblemError) as refused:
        parse_instant("2026-12-01T09:00:00")

    assert (refused.value.status, refused.value.field) == (422, "to")
    assert parse_instant("2026-12-01T09:00:00+03:00") == datetime(2026, 12, 1, 6, tzinfo=UTC)
