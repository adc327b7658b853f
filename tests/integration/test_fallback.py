"""Fallback to the next channel: no click on Telegram within 4 hours → the same content by SMS,
once; a message that got its reaction, or a repeated tick, sends nothing more."""

from datetime import datetime, time, timedelta, timezone
from typing import Any

import boto3

from functions.channels.app import handler as channel_worker
from functions.scheduler.app import handler as scheduler
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_ingest_and_api import api
from tests.integration.test_messages import customer, send, work_journey_queue
from tests.support import FakeLambdaContext, sqs_event
from trigly.channels.sandbox import outbox
from trigly.events.types import Channel
from trigly.platform import clock
from trigly.store import customers as customer_store

MSK = timezone(timedelta(hours=3))
CONSENTS = {
    channel: {
        "service": True,
        "marketing": True,
        "at": "2026-01-10T10:00:00+03:00",
        "source": "анкета",
    }
    for channel in ("telegram", "sms")
}


def work_channel_queues(stack: DeployedStack) -> None:
    """Hand what waits in the Telegram and SMS queues to the channel worker."""
    sqs = boto3.client("sqs")
    for name in ("ChannelTelegramQueue", "ChannelSmsQueue"):
        queue = stack.queues[name]
        while messages := sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            channel_worker(sqs_event([m["Body"] for m in messages], queue.arn), FakeLambdaContext())
            for message in messages:
                sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])


def telegram_customer(dealer: TenantFixture, drain: IngestDrain, external_id: str) -> str:
    """A customer who linked a Telegram chat and also has a phone, consenting to both."""
    customer_id = customer(dealer, drain, external_id, consents=CONSENTS, region="RU-MOW")
    profile, version = customer_store.load_profile(dealer.tenant.tenant_id, customer_id) or (
        None,
        0,
    )
    assert profile is not None
    linked = profile.model_copy(update={"linked": {Channel.TELEGRAM: "555001"}})
    customer_store.save_profile(dealer.tenant.tenant_id, linked, version)
    return customer_id


def sent(dealer: TenantFixture) -> list[dict[str, Any]]:
    return sorted(outbox(dealer.tenant.tenant_id), key=lambda m: str(m["sent_at"]))


def test_no_click_on_telegram_within_4_hours_falls_back_to_sms_once(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    tomorrow = business_clock.now().astimezone(MSK).date() + timedelta(days=1)
    business_clock.move_to(datetime.combine(tomorrow, time(11), tzinfo=MSK))
    customer_id = telegram_customer(dealer, drain, "FB-1")
    status, message = send(
        dealer,
        customer_id=customer_id,
        purpose="service",
        text="Ваш автомобиль готов к выдаче после ТО.",
        idempotency_key="ready:FB-1",
    )
    assert status == 202 and message["status"] == "queued"
    work_channel_queues(stack)
    assert [m["channel"] for m in sent(dealer)] == ["telegram"]
    # Within the 4 hours nothing more goes
    business_clock.advance(timedelta(hours=3))
    scheduler({}, FakeLambdaContext())
    work_journey_queue(stack)
    work_channel_queues(stack)
    assert len(sent(dealer)) == 1
    # After them, the same content goes by SMS, once however often the tick runs
    business_clock.advance(timedelta(hours=2))
    for _ in range(2):
        scheduler({}, FakeLambdaContext())
        work_journey_queue(stack)
        work_channel_queues(stack)
    first, second = sent(dealer)
    assert (first["channel"], second["channel"]) == ("telegram", "sms")
    assert second["body"] == first["body"] and second["to"].startswith("+7")
    status, listed = api("GET", "/v1/messages", dealer.api_key, query={"customer_id": customer_id})
    follow_up, original = listed["items"]
    assert follow_up["channel"] == "sms" and follow_up["fallback_of"] == original["id"]
    business_clock.advance(timedelta(hours=5))
    scheduler({}, FakeLambdaContext())
    work_journey_queue(stack)
    work_channel_queues(stack)
    assert len(sent(dealer)) == 2  # the SMS was delivered: nothing further


def test_a_send_to_one_named_channel_schedules_no_fallback(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    """`"channel": "telegram"` allows no other channel: the worker writes no fallback look (it
    used to: 1 WRU + 1 index WRU for a look that could send nothing)."""
    tomorrow = business_clock.now().astimezone(MSK).date() + timedelta(days=1)
    business_clock.move_to(datetime.combine(tomorrow, time(11), tzinfo=MSK))
    customer_id = telegram_customer(dealer, drain, "FB-ONLY")
    status, message = send(
        dealer,
        customer_id=customer_id,
        purpose="service",
        channel="telegram",
        text="Ваш автомобиль готов к выдаче после ТО.",
        idempotency_key="ready:FB-ONLY",
    )
    assert status == 202 and message["status"] == "queued"
    work_channel_queues(stack)
    assert [m["channel"] for m in sent(dealer)] == ["telegram"]
    looks = (
        boto3.resource("dynamodb")
        .Table(stack.physical_ids["MainTable"])
        .query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={
                ":pk": f"T#{dealer.tenant.tenant_id}#FALLBACK#{customer_id}"
            },
        )["Items"]
    )
    assert looks == []
    business_clock.advance(timedelta(hours=5))  # past Telegram's 4 hours without a click
    scheduler({}, FakeLambdaContext())
    work_journey_queue(stack)
    work_channel_queues(stack)
    assert len(sent(dealer)) == 1
    _, listed = api("GET", "/v1/messages", dealer.api_key, query={"customer_id": customer_id})
    assert [m["id"] for m in listed["items"]] == [message["id"]]
