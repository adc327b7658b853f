"""What Trigly sends out: domain events on the bus, signed outbound events to a DMS, and the
webhook's behaviour when the ingest queue refuses events."""

import json
import os
from typing import Any

import boto3
import httpx
import pytest
import respx
from standardwebhooks import Webhook

from functions.outbound.app import handler as outbound_handler
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.integration.test_webhook import encode, post
from tests.support import (
    FakeLambdaContext,
    customer_event,
    reset_process_caches,
    sqs_event,
)
from trigly.outbound.delivery import retry_delay
from trigly.outbound.queue import send_to_connectors
from trigly.platform import tenancy

DMS_URL = "https://dms.example.ru/trigly/events"


@pytest.fixture
def bus_listener(stack: DeployedStack) -> str:
    """An SQS queue subscribed to every Trigly event on the bus (as a journey engine would be)."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="bus-listener")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = stack.outputs["EventBusName"]
    events.put_rule(
        Name="all-trigly", EventBusName=bus, EventPattern=json.dumps({"source": ["trigly"]})
    )
    events.put_targets(
        Rule="all-trigly", EventBusName=bus, Targets=[{"Id": "listener", "Arn": arn}]
    )
    sqs.purge_queue(QueueUrl=url)
    return url


def received(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    out = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            out.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return out


def test_every_applied_event_is_published_without_personal_data(
    dealer: TenantFixture, drain: IngestDrain, bus_listener: str
) -> None:
    ingest(dealer, drain, customer_event("bus-1", "B-1", first_name="Вера", phones=["89161230000"]))
    published = [
        m for m in received(bus_listener) if m["detail"]["tenant_id"] == dealer.tenant.tenant_id
    ]
    [event] = published
    assert event["detail-type"] == "customer.upserted"
    assert event["detail"]["id"] == f"{dealer.connector_id}:bus-1"
    assert event["detail"]["customer_id"] == only_customer(dealer, external_id="B-1")["id"]
    text = json.dumps(event, ensure_ascii=False)
    assert "Вера" not in text and "9161230000" not in text


def test_erasure_is_sent_to_the_dms_signed_with_its_own_customer_id(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    # Given a connector with an outbound URL, and a customer that DMS knows as "E-1"
    connector = tenancy.create_connector(
        dealer.tenant.tenant_id, "1C:Альфа-Авто", outbound_url=DMS_URL
    )
    event = {
        "id": "out-2",
        "type": "customer.upserted",
        "occurred_at": "2026-11-20T10:00:00+03:00",
        "data": {"external_id": "E-1"},
    }

    body = encode(event)
    assert (
        post(dealer, body, connector_id=connector.connector_id, secret=connector.secret)[0] == 202
    )
    assert not drain()["batchItemFailures"]
    customer = only_customer(dealer, external_id="E-1")
    # When the customer is erased
    assert api("DELETE", f"/v1/customers/{customer['id']}", dealer.api_key)[0] == 204
    # Then the outbound worker posts customer.erased to the DMS, signed with the connector's secret
    sqs = boto3.client("sqs")
    queue = stack.queues["OutboundQueue"]
    [message] = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10)["Messages"]
    with respx.mock(assert_all_called=True) as dms:
        route = dms.post(DMS_URL).mock(return_value=httpx.Response(204))
        result = outbound_handler(sqs_event([message["Body"]], queue.arn), FakeLambdaContext())
    assert result == {"batchItemFailures": []}
    sent = route.calls.last.request
    payload = Webhook(connector.secret).verify(sent.content, dict(sent.headers))
    assert payload["type"] == "customer.erased" and payload["id"] == f"erase:{customer['id']}"
    assert payload["data"] == {"customer_external_id": "E-1", "customer_id": customer["id"]}


def test_a_failed_delivery_is_retried_later_not_dropped(
    stack: DeployedStack, dealer: TenantFixture
) -> None:
    connector = tenancy.create_connector(dealer.tenant.tenant_id, "CRM", outbound_url=DMS_URL)
    assert (
        send_to_connectors(
            dealer.tenant.tenant_id, "evt-x", "customer.consent_changed", data={"granted": False}
        )
        == 1
    )
    sqs = boto3.client("sqs")
    queue = stack.queues["OutboundQueue"]
    [message] = sqs.receive_message(QueueUrl=queue.url)["Messages"]
    event = sqs_event([message["Body"]], queue.arn)
    event["Records"][0]["receiptHandle"] = message["ReceiptHandle"]
    with respx.mock as dms:
        dms.post(DMS_URL).mock(return_value=httpx.Response(503))
        result = outbound_handler(event, FakeLambdaContext())
    assert result["batchItemFailures"] == [{"itemIdentifier": event["Records"][0]["messageId"]}]
    assert connector.connector_id in message["Body"]
    # The backoff grows and is capped at an hour
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert retry_delay(30).total_seconds() == 3600


def test_when_the_queue_refuses_events_the_request_fails_and_the_retry_is_accepted(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    event = customer_event("q-1", "Q-1")
    real_queue = os.environ["TRIGLY_INGEST_QUEUE_URL"]
    os.environ["TRIGLY_INGEST_QUEUE_URL"] = real_queue + "-gone"
    reset_process_caches()
    try:
        status, problem = post(dealer, encode(event))
        assert status == 503 and problem["status"] == 503
    finally:
        os.environ["TRIGLY_INGEST_QUEUE_URL"] = real_queue
        reset_process_caches()
    # The DMS retries: the event is accepted, not counted as a duplicate
    assert post(dealer, encode(event))[1] == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert not drain()["batchItemFailures"]
