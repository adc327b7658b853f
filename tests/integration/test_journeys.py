"""Journeys against moto, through the real handlers: date triggers from car events, the daily
job and the hourly tick reading only what is due, runs keyed once, exits on booking."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import boto3
from dateutil.relativedelta import relativedelta

from functions.journeys.app import handler as journey_worker
from functions.scheduler.app import handler as scheduler
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_car_and_timeline_events import event, service
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.integration.test_messages import work_sms_queue
from tests.support import FakeLambdaContext, customer_event, sqs_event
from trigly.channels.sandbox import outbox
from trigly.platform import clock
from trigly.store import journeys as journey_store

VIN = "XWEFF41BBNR000777"


def work_journey_queue(stack: DeployedStack) -> int:
    """Hand what waits in the journey queue to the journey worker, as Lambda's poller would."""
    sqs = boto3.client("sqs")
    queue = stack.queues["JourneyQueue"]
    handled = 0
    while True:
        received = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not received:
            return handled
        result = journey_worker(
            sqs_event([m["Body"] for m in received], queue.arn), FakeLambdaContext()
        )
        assert not result["batchItemFailures"]
        for message in received:
            sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
        handled += len(received)


def tick(stack: DeployedStack) -> dict[str, Any]:
    result: dict[str, Any] = scheduler({}, FakeLambdaContext())
    work_journey_queue(stack)
    return result


def rio_serviced(dealer: TenantFixture, drain: IngestDrain, now: datetime, consent: bool) -> str:
    consents = (
        {
            "sms": {
                "service": True,
                "at": (now - timedelta(days=400)).isoformat(),
                "source": "анкета",
            }
        }
        if consent
        else {}
    )
    serviced = (now - timedelta(days=335)).isoformat()
    ingest(
        dealer,
        drain,
        customer_event(
            "c1", "K-1", first_name="Андрей", phones=["+79161234567"], consents=consents
        ),
        event(
            "r1",
            "vehicle.registered",
            (now - timedelta(days=500)).isoformat(),
            customer_external_id="K-1",
            vin=VIN,
            make="Kia",
            model="Rio",
            year=2022,
        ),
        service("s1", "K-1", VIN, serviced, 15_000),
    )
    return str(only_customer(dealer, external_id="K-1")["id"])


def test_a_serviced_car_gets_one_reminder_on_its_day_and_a_replay_changes_nothing(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    now = business_clock.now()
    customer_id = rio_serviced(dealer, drain, now, consent=True)
    # The profile shows the next maintenance: a year after the last (time comes before km)
    status, profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)
    assert status == 200
    due_on = date.fromisoformat(profile["vehicles"][0]["next_maintenance"]["due_on"])
    assert due_on == (now - timedelta(days=335)).date() + relativedelta(months=12)
    # ...and a date trigger 14 days before it sits on the due index under that day
    fire_on = due_on - timedelta(days=14)
    starts = list(journey_store.due_triggers(dealer.tenant.tenant_id, fire_on))
    assert [journey for _, journey in starts] == ["maintenance_reminder"]
    # Nothing is sent before that day
    assert tick(stack)["triggers_due"] == 0
    # On that day's morning (10:00 in Moscow) the daily job hands it to the journey: one SMS
    business_clock.move_to(datetime.combine(fire_on, time(7, 5), tzinfo=UTC))
    assert tick(stack)["triggers_due"] == 1
    work_sms_queue(stack)
    [reminder] = outbox(dealer.tenant.tenant_id)
    assert reminder["meta"]["kind"] == "maintenance_reminder"
    assert reminder["to"] == "+79161234567" and "Kia Rio" in str(reminder["body"])
    # The trigger left the index; a replayed car event and more ticks send nothing more
    assert list(journey_store.due_triggers(dealer.tenant.tenant_id, fire_on)) == []
    ingest(
        dealer, drain, service("s1", "K-1", VIN, (now - timedelta(days=335)).isoformat(), 15_000)
    )
    business_clock.advance(timedelta(days=1))
    tick(stack)
    work_sms_queue(stack)
    assert len(outbox(dealer.tenant.tenant_id)) == 1
    # The run is in the profile, waiting for a booking
    status, profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)
    [run] = profile["journeys"]
    assert run["journey_id"] == "maintenance_reminder" and run["status"] == "active"
    assert run["step"] == "wait_booking"
