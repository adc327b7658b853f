"""The queue workers' partial batch answer: only the records that raised are delivered again."""

from typing import Any

from trigly.platform.batches import SQSRecord, process_partial_batch, receive_count


def record(message_id: str, body: str, received: int = 1) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(received)},
    }


def test_only_failed_records_are_reported_and_every_record_is_handled() -> None:
    handled: list[str] = []

    def handle(r: SQSRecord) -> None:
        handled.append(r["body"])
        if r["body"] == "bad":
            raise ValueError("a customer's phone could be here")

    event = {"Records": [record("1", "good"), record("2", "bad"), record("3", "good too")]}

    assert process_partial_batch(event, handle) == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert handled == ["good", "bad", "good too"]


def test_a_batch_that_fails_whole_is_a_partial_answer_not_an_exception() -> None:
    def handle(r: SQSRecord) -> None:
        raise RuntimeError("down")

    event = {"Records": [record("a", "x"), record("b", "y")]}

    assert process_partial_batch(event, handle) == {
        "batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "b"}]
    }


def test_receive_count_reads_the_queue_attribute() -> None:
    assert receive_count(record("1", "x", received=3)) == 3
