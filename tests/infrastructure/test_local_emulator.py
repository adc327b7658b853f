"""The local stack's moto SQS: sends and receives do not walk the whole queue, and the queue's
attributes still read as moto gives them."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import Message

from infra.local import emulator

DEPTH = 500


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


@pytest.fixture
def installed() -> Iterator[None]:
    emulator.install()
    yield
    emulator.uninstall()


class VisibilityReads:
    """Counts moto's per-message clock reads (`Message.visible`), the cost of a queue walk."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = Message.visible.fget  # type: ignore[attr-defined]

        def counted(message: Message) -> bool:
            self.count += 1
            return bool(original(message))

        monkeypatch.setattr(Message, "visible", property(counted))


def deep_queue(sqs: Any) -> str:
    dlq = sqs.create_queue(QueueName="deep-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]
    url: str = sqs.create_queue(
        QueueName="deep",
        Attributes={
            "RedrivePolicy": f'{{"deadLetterTargetArn": "{dlq_arn["QueueArn"]}", '
            '"maxReceiveCount": "5"}',
            "VisibilityTimeout": "360",
        },
    )["QueueUrl"]
    for start in range(0, DEPTH, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)],
        )
    return url


@pytest.mark.usefixtures("installed")
def test_sends_and_receives_do_not_walk_a_deep_queue(
    sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a queue 500 messages deep
    url = deep_queue(sqs)
    reads = VisibilityReads(monkeypatch)
    # When ten more are sent
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"more{i}"} for i in range(10)]
    )
    # Then no message's visibility was read (moto itself reads 2 per queued message per send)
    assert reads.count == 0
    # And receiving ten reads the queue once, not three times per message received
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 10
    assert reads.count <= DEPTH + 10 + len(received)


@pytest.mark.usefixtures("installed")
def test_queue_attributes_read_as_moto_gives_them(sqs: Any) -> None:
    url = deep_queue(sqs)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    with_patch = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    named = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    emulator.uninstall()
    as_moto = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    assert with_patch == as_moto
    assert named == {
        "ApproximateNumberOfMessages": str(DEPTH - 10),
        "ApproximateNumberOfMessagesNotVisible": "10",
    }
    assert "RedrivePolicy" in with_patch and with_patch["VisibilityTimeout"] == "360"


@pytest.mark.usefixtures("installed")
def test_event_rules_parse_each_input_path_once_and_deliver_the_same(
    sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jsonpath_ng.ext.parser import ExtendedJsonPathParser

    parsed: list[str] = []
    original = ExtendedJsonPathParser.parse

    def counted(self: ExtendedJsonPathParser, path: str, lexer: Any = None) -> Any:
        parsed.append(path)
        return original(self, path, lexer)

    monkeypatch.setattr(ExtendedJsonPathParser, "parse", counted)
    # Given a rule that delivers a transformed event to a queue
    events = boto3.client("events", region_name="us-east-1")
    url = sqs.create_queue(QueueName="targets")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    events.put_rule(Name="r", EventPattern='{"source": ["trigly"]}')
    events.put_targets(
        Rule="r",
        Targets=[
            {
                "Id": "q",
                "Arn": arn["QueueArn"],
                "InputTransformer": {
                    "InputPathsMap": {"kind": "$.detail-type", "who": "$.detail.customer"},
                    "InputTemplate": '{"kind": "<kind>", "who": "<who>"}',
                },
            }
        ],
    )
    # When five events go through it
    for n in range(5):
        events.put_events(
            Entries=[
                {"Source": "trigly", "DetailType": "visit", "Detail": f'{{"customer": "c{n}"}}'}
            ]
        )
    # Then each path was parsed once, and every event arrived transformed
    assert sorted(parsed) == ["$.detail-type", "$.detail.customer"]
    bodies = [
        m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    ]
    assert sorted(bodies) == [f'{{"kind": "visit", "who": "c{n}"}}' for n in range(5)]
