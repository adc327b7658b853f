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


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="claims",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def claim(pk: str) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": "claims",
            "Item": {"pk": {"S": pk}, "status": {"S": "accepted"}},
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": "pk"},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def transact(dynamodb: Any, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The cancellation as the client sees it ({} when the transaction went through)."""
    try:
        dynamodb.transact_write_items(TransactItems=items)
    except dynamodb.exceptions.TransactionCanceledException as exc:
        return {"reasons": exc.response["CancellationReasons"]}
    return {}


def stored(dynamodb: Any) -> list[str]:
    return sorted(item["pk"]["S"] for item in dynamodb.scan(TableName="claims")["Items"])


def test_transactions_cancel_and_write_as_moto_does(dynamodb: Any) -> None:
    # Given 300 claims in the table, and the same transactions with and without the patch
    for start in range(0, 300, 100):
        assert transact(dynamodb, [claim(f"old-{n}") for n in range(start, start + 100)]) == {}
    outcomes = []
    for patched in (True, False):
        if patched:
            emulator.install()
        # When one transaction meets a taken id and another holds only new ones
        cancelled = transact(dynamodb, [claim("new-1"), claim("old-7"), claim("new-2")])
        after_cancel = stored(dynamodb)
        went = transact(dynamodb, [claim(f"{patched}-a"), claim(f"{patched}-b")])
        outcomes.append((cancelled, after_cancel, went))
        emulator.uninstall()
    # Then both cancel the first with the same reasons (the taken item returned) and write
    # nothing of it, and write the whole second
    with_patch, as_moto = outcomes
    assert with_patch[0] == as_moto[0]
    assert [r["Code"] for r in with_patch[0]["reasons"]] == [
        "None",
        "ConditionalCheckFailed",
        "None",
    ]
    assert with_patch[0]["reasons"][1]["Item"]["pk"] == {"S": "old-7"}
    assert "new-1" not in with_patch[1] and len(with_patch[1]) == 300
    assert with_patch[2] == as_moto[2] == {}
    assert {"True-a", "True-b", "False-a", "False-b"} <= set(stored(dynamodb))


@pytest.mark.usefixtures("installed")
def test_a_transaction_copies_no_table_and_parses_a_condition_once(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copy

    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.table import Table

    copied: list[object] = []
    original_copy = copy.deepcopy

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Table):
            copied.append(value)
        return original_copy(value, memo)

    monkeypatch.setattr(copy, "deepcopy", deepcopy)
    parses: list[str] = []
    original_parse = ConditionExpressionParser.parse

    def parse(self: ConditionExpressionParser) -> Any:
        parses.append(self.condition_expression)
        return original_parse(self)

    monkeypatch.setattr(ConditionExpressionParser, "parse", parse)
    # When three transactions of 100 claims each go through, and one is cancelled
    for start in range(0, 300, 100):
        assert transact(dynamodb, [claim(f"c-{n}") for n in range(start, start + 100)]) == {}
    assert transact(dynamodb, [claim("c-1"), claim("c-new")])["reasons"][0]["Item"]
    # Then no table was copied, and the condition was parsed once, not once per claim
    assert copied == []
    assert parses.count("attribute_not_exists(#pk)") == 1
    assert len(stored(dynamodb)) == 300


def conditional_writes(dynamodb: Any, prefix: str) -> list[str]:
    """Outcomes of conditional writes that moto validates against the expression's names and
    values (an error code, or "ok")."""
    outcomes = []
    calls: list[dict[str, Any]] = [
        {"UpdateExpression": "SET n = :n", "ConditionExpression": "attribute_not_exists(pk)"},
        {"UpdateExpression": "SET n = :n", "ConditionExpression": "attribute_not_exists(pk)"},
        {"UpdateExpression": "SET n = :n", "ConditionExpression": "n < :n"},
        {"UpdateExpression": "SET n = :n", "ConditionExpression": "n > :n"},
        {"UpdateExpression": "SET n = :n", "ConditionExpression": "#n < :m"},
    ]
    for n, call in enumerate(calls):
        values = {":n": {"N": str(n)}, **({":m": {"N": "9"}} if ":m" in str(call) else {})}
        names = {"#n": "n"} if "#n" in str(call) else {}
        try:
            dynamodb.update_item(
                TableName="claims",
                Key={"pk": {"S": f"{prefix}-x"}},
                ExpressionAttributeValues=values,
                **({"ExpressionAttributeNames": names} if names else {}),
                **call,
            )
            outcomes.append("ok")
        except dynamodb.exceptions.ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
    return outcomes


def test_conditional_writes_answer_as_moto_does_with_expressions_parsed_once(
    dynamodb: Any,
) -> None:
    as_moto = conditional_writes(dynamodb, "plain")
    emulator.install()
    try:
        with_patch = [conditional_writes(dynamodb, f"patched{k}") for k in range(2)]
    finally:
        emulator.uninstall()
    assert as_moto == [
        "ok",
        "ConditionalCheckFailedException",
        "ok",
        "ConditionalCheckFailedException",
        "ok",
    ]
    assert with_patch == [as_moto, as_moto]
