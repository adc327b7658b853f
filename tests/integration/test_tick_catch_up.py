"""The hourly tick catches up (issue #10, item 2): it covers every hour since the last tick it
finished (a watermark), so ticks that did not run lose nothing; overlapping ticks never queue the
same hours twice; a backlog is read in bounded slices; and whatever is queued again (a tick taken
over, a redelivered queue message) sends nothing twice, because the consumers are idempotent."""

import json
from datetime import date, datetime, time, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from functions.scheduler.app import handler as scheduler
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_ingest_and_api import api
from tests.integration.test_journeys import rio_serviced
from tests.integration.test_messages import MSK, SMS_CONSENT, customer, send
from tests.integration.test_playbooks import Pipeline
from tests.support import FakeLambdaContext
from trigly.platform import clock
from trigly.platform.settings import get_settings
from trigly.scheduling.tick import LEASE, hourly_tick
from trigly.store import due
from trigly.store.messages import MessageRef, schedule_fallback


def held_marketing(dealer: TenantFixture, drain: IngestDrain, external_id: str) -> str:
    """A marketing SMS sent at night: held for the morning's sending window (09:00 Moscow)."""
    customer_id = customer(dealer, drain, external_id, consents=SMS_CONSENT, region="RU-MOW")
    _status, answer = send(
        dealer,
        customer_id=customer_id,
        purpose="marketing",
        text="Зимние шины со скидкой",
        idempotency_key=f"tyres:{external_id}",
    )
    assert answer["status"] == "held"
    return customer_id


def at_msk(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MSK)


def test_ticks_skipped_for_five_hours_lose_nothing_and_send_nothing_twice(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    pipeline = Pipeline(stack, dealer, drain)
    # Given a serviced car whose maintenance reminder starts on its day at the tenant's 10:00
    serviced = rio_serviced(dealer, drain, business_clock.now(), consent=True)
    car = api("GET", f"/v1/customers/{serviced}", dealer.api_key)[1]["vehicles"][0]
    fire_on = date.fromisoformat(car["next_maintenance"]["due_on"]) - timedelta(days=14)
    # ...and, the night before, a marketing SMS held until 09:00
    business_clock.move_to(at_msk(fire_on - timedelta(days=1), 23))
    held_marketing(dealer, drain, "CU-1")
    pipeline.tick()
    business_clock.move_to(at_msk(fire_on, 6, 30))
    pipeline.tick()
    assert pipeline.sent() == []
    # When the ticks of 07:30, 08:30, 09:30 and 10:30 do not run (an outage)...
    business_clock.move_to(at_msk(fire_on, 11, 30))
    result = pipeline.tick()
    # ...the next one covers their hours: the 09:00 release and the tenant's 10:00 morning
    assert result["caught_up"] and result["held_messages"] == 1 and result["tenant_days"] >= 1
    kinds = pipeline.kinds()
    assert sorted(p for _, p in kinds) == ["marketing", "service"]
    assert ("maintenance_reminder", "service") in kinds
    # The next tick finds nothing more, and every queue message delivered again changes nothing
    business_clock.move_to(at_msk(fire_on, 12, 30))
    assert pipeline.tick()["tenant_days"] == 0  # the morning is queued by one tick only
    pipeline.redeliver_everything()
    assert len(pipeline.sent()) == 2


def test_an_overlapping_tick_does_nothing_and_a_dead_ticks_hours_are_taken_over(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    pipeline = Pipeline(stack, dealer, drain)
    tomorrow = business_clock.now().astimezone(MSK).date() + timedelta(days=1)
    business_clock.move_to(at_msk(tomorrow, 23))
    held_marketing(dealer, drain, "CU-2")
    pipeline.tick()
    business_clock.move_to(at_msk(tomorrow + timedelta(days=1), 9, 30))
    # Two ticks that read the same watermark: only one gets the hours after it
    seen = due.read_watermark()
    now = clock.now()
    leased = due.take_lease(seen, now + LEASE)
    assert leased is not None and due.take_lease(seen, now + LEASE) is None
    # While the first holds them (and, say, dies), another tick queues nothing
    result = pipeline.tick()
    assert result["busy"] and result["held_messages"] == 0
    assert pipeline.sent() == []
    # Once the lease ran out, the next tick takes the hours over: the message goes, once
    business_clock.advance(LEASE + timedelta(minutes=1))
    assert pipeline.tick()["held_messages"] == 1
    assert not due.advance_watermark(leased, now)  # the dead tick cannot move it back
    assert pipeline.tick()["held_messages"] == 0
    pipeline.redeliver_everything()
    assert [p for _, p in pipeline.kinds()] == ["marketing"]


def test_a_failed_tick_gives_its_hours_back_to_its_retry(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline = Pipeline(stack, dealer, drain)
    tomorrow = business_clock.now().astimezone(MSK).date() + timedelta(days=1)
    business_clock.move_to(at_msk(tomorrow, 23))
    held_marketing(dealer, drain, "CU-3")
    pipeline.tick()
    business_clock.move_to(at_msk(tomorrow + timedelta(days=1), 9, 30))
    # When the tick cannot queue (the journey queue refuses), it fails as a whole...
    gone = stack.queues["JourneyQueue"].url + "-gone"
    monkeypatch.setenv("TRIGLY_JOURNEY_QUEUE_URL", gone)
    get_settings.cache_clear()
    with pytest.raises(ClientError):
        scheduler({}, FakeLambdaContext())
    monkeypatch.undo()
    get_settings.cache_clear()
    # ...and Lambda's retry a minute later covers the same hours (not `busy` on its lease)
    business_clock.advance(timedelta(minutes=1))
    result = pipeline.tick()
    assert not result["busy"] and result["held_messages"] == 1
    assert [p for _, p in pipeline.kinds()] == ["marketing"]


def test_a_backlog_is_read_in_bounded_slices_each_tick_continuing_the_last(
    stack: DeployedStack, dealer: TenantFixture, business_clock: clock.AdjustableClock
) -> None:
    sqs = boto3.client("sqs")
    queue = stack.queues["JourneyQueue"].url

    def queued() -> list[str]:
        """This tenant's fallbacks the tick queued (taken off the queue)."""
        found = []
        while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                body = json.loads(message["Body"])
                if body["kind"] == "fallback" and body["tenant_id"] == dealer.tenant.tenant_id:
                    found.append(body["sk"])
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return found

    # Far from the other tests' work: a month on, a punctual tick
    business_clock.advance(timedelta(days=30))
    assert hourly_tick(clock.now()).caught_up
    queued()
    # Three fallbacks due in three successive hours, then no tick for four hours
    base = clock.now()
    for hours in (1, 2, 3):
        schedule_fallback(
            MessageRef(dealer.tenant.tenant_id, "cus_backlog", f"MSG#{hours}"),
            base + timedelta(hours=hours),
        )
    business_clock.advance(timedelta(hours=4))
    now = clock.now()
    # With room for one item a tick, each tick reads one whole hour and stops
    slices = [hourly_tick(now, limit=1) for _ in range(3)]
    assert [s.fallbacks for s in slices] == [1, 1, 1]
    assert [s.caught_up for s in slices] == [False, False, True]
    assert slices[0].through is not None and slices[0].through < now
    assert queued() == ["MSG#1", "MSG#2", "MSG#3"]
    # Caught up: the next tick queues nothing again
    assert hourly_tick(now).fallbacks == 0 and queued() == []
