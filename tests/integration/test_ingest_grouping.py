"""Several events to an ingest message: fewer SQS messages, and each event still succeeds, fails,
retries and dead-letters on its own."""

import json
from typing import Any

import boto3

from functions.ingest.app import handler as ingest_handler
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_ingest_and_api import only_customer
from tests.integration.test_webhook import encode, post
from tests.support import FakeLambdaContext, customer_event, sqs_event
from trigly.ingest.queue import EVENTS_PER_MESSAGE

STAMP = "2026-11-20T07:15:00.000000Z|2026-11-25T00:00:00.000000Z|{:04d}"


def take_ingest_queue(stack: DeployedStack) -> list[str]:
    """Receive and delete everything waiting in the ingest queue; returns the bodies."""
    sqs = boto3.client("sqs")
    url = stack.queues["IngestQueue"].url
    bodies: list[str] = []
    while received := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in received:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def message(dealer: TenantFixture, *events: dict[str, Any]) -> str:
    return json.dumps(
        {
            "tenant_id": dealer.tenant.tenant_id,
            "connector_id": dealer.connector_id,
            "received_at": "2026-11-25T00:00:00Z",
            "events": [
                {"event_id": e["id"], "stamp": STAMP.format(i), "event": e}
                for i, e in enumerate(events)
            ],
        }
    )


def test_a_webhook_batch_is_queued_ten_events_to_a_message_in_order(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    # Given a DMS batch of 95 customers
    events = [customer_event(f"grp-{i}", f"GRP-{i}") for i in range(95)]
    # When it is posted
    status, body = post(dealer, encode({"events": events}))
    assert (status, body["accepted"]) == (202, 95)
    # Then 10 messages carry them, at most ten each, every event once, in the batch's order
    bodies = [json.loads(b) for b in take_ingest_queue(stack)]
    assert len(bodies) == 10
    assert all(len(b["events"]) <= EVENTS_PER_MESSAGE for b in bodies)
    queued = sorted((e["stamp"], e["event_id"]) for b in bodies for e in b["events"])
    assert [event_id for _, event_id in queued] == [f"grp-{i}" for i in range(95)]
    # And applying them gives every customer
    result = ingest_handler(
        sqs_event([json.dumps(b) for b in bodies], stack.queues["IngestQueue"].arn),
        FakeLambdaContext(),
    )
    assert result == {"batchItemFailures": []}
    assert only_customer(dealer, external_id="GRP-0") and only_customer(
        dealer, external_id="GRP-94"
    )


def test_a_failing_event_is_queued_again_alone_and_the_others_are_done(
    stack: DeployedStack, dealer: TenantFixture
) -> None:
    # Given a message of three events whose middle one no longer validates (a schema change
    # between deploys, say)
    broken = customer_event("mix-2", "MIX-2", region="Moscow")
    body = message(
        dealer, customer_event("mix-1", "MIX-1"), broken, customer_event("mix-3", "MIX-3")
    )
    # When the ingest worker gets it
    event = sqs_event([body], stack.queues["IngestQueue"].arn)
    result = ingest_handler(event, FakeLambdaContext())
    # Then the message is done: the good events are applied, not retried with the bad one
    assert result == {"batchItemFailures": []}
    assert only_customer(dealer, external_id="MIX-1")
    assert only_customer(dealer, external_id="MIX-3")
    # And the failing event waits in the queue alone, with its own receive count
    [requeued] = take_ingest_queue(stack)
    assert [e["event_id"] for e in json.loads(requeued)["events"]] == ["mix-2"]
    # And alone it fails its record, so SQS retries it and finally dead-letters just it
    alone = sqs_event([requeued], stack.queues["IngestQueue"].arn)
    again = ingest_handler(alone, FakeLambdaContext())
    assert again == {"batchItemFailures": [{"itemIdentifier": alone["Records"][0]["messageId"]}]}
    assert take_ingest_queue(stack) == []


def test_a_message_applied_twice_changes_nothing(
    stack: DeployedStack, dealer: TenantFixture
) -> None:
    body = message(
        dealer,
        customer_event("twice-1", "TWICE-1", phones=["8 912 000 11 22"]),
        customer_event("twice-2", "TWICE-2"),
    )
    event = sqs_event([body, body], stack.queues["IngestQueue"].arn)

    assert ingest_handler(event, FakeLambdaContext()) == {"batchItemFailures": []}

    assert only_customer(dealer, external_id="TWICE-1")["id"]
    assert (
        only_customer(dealer, phone="+79120001122")["id"]
        == only_customer(dealer, external_id="TWICE-1")["id"]
    )
    assert take_ingest_queue(stack) == []


def test_an_id_twice_in_one_batch_is_claimed_once_by_its_first_event(
    stack: DeployedStack, dealer: TenantFixture
) -> None:
    first = customer_event("same-1", "SAME-1", first_name="Первый")
    again = customer_event("same-1", "SAME-1", first_name="Второй")

    status, body = post(dealer, encode({"events": [first, again]}))

    assert (status, body["accepted"], body["duplicates"]) == (202, 1, 1)
    [queued] = [json.loads(b) for b in take_ingest_queue(stack)]
    assert [e["event"]["data"]["first_name"] for e in queued["events"]] == ["Первый"]
