"""Built-in playbooks end to end against moto: webhook → ingest → bus → journey queue → engine →
messaging → SMS queue → sandbox outbox, with the hourly tick waking runs. Each checks the kind
and purpose of what went, and that a replay (a redelivered queue message, the same fact sent
again under a new event id) sends nothing twice."""

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import boto3
import pytest

from functions.journeys.app import handler as journey_worker
from functions.scheduler.app import handler as scheduler
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_car_and_timeline_events import event, sold
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.integration.test_messages import work_sms_queue
from tests.support import FakeLambdaContext, customer_event, sqs_event
from trigly.channels.sandbox import outbox
from trigly.journeys.engine import Enrollment
from trigly.lifecycle.milestones import customer_milestones
from trigly.platform import clock
from trigly.store import journeys as journey_store

MOSCOW_10 = time(7, 0)  # 10:00 in Moscow, the tenant's and the customers' zone
VIN = "XWEFF41BBNR000888"


class Pipeline:
    """Drives the stack like Lambda's pollers and EventBridge would, remembering every journey
    queue message so a test can deliver them all again."""

    def __init__(self, stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain) -> None:
        self.stack, self.dealer, self.drain = stack, dealer, drain
        self.delivered: list[str] = []

    def journeys(self) -> None:
        sqs = boto3.client("sqs")
        queue = self.stack.queues["JourneyQueue"]
        while received := sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            bodies = [m["Body"] for m in received]
            result = journey_worker(sqs_event(bodies, queue.arn), FakeLambdaContext())
            assert not result["batchItemFailures"]
            for message in received:
                sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
            self.delivered += bodies
        work_sms_queue(self.stack)

    def send(self, *events: dict[str, Any]) -> None:
        ingest(self.dealer, self.drain, *events)
        self.journeys()

    def tick(self) -> dict[str, Any]:
        result: dict[str, Any] = scheduler({}, FakeLambdaContext())
        self.journeys()
        return result

    def redeliver_everything(self) -> None:
        queue = self.stack.queues["JourneyQueue"]
        for body in list(self.delivered):
            result = journey_worker(sqs_event([body], queue.arn), FakeLambdaContext())
            assert not result["batchItemFailures"]
        work_sms_queue(self.stack)

    def sent(self) -> list[dict[str, Any]]:
        """The sandbox outbox, oldest first."""
        return list(reversed(outbox(self.dealer.tenant.tenant_id)))

    def kinds(self, to: str | None = None) -> list[tuple[str, str]]:
        return [
            (str(m["meta"]["kind"]), str(m["meta"]["purpose"]))
            for m in self.sent()
            if to is None or m["to"] == to
        ]


@pytest.fixture
def pipeline(stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain) -> Pipeline:
    return Pipeline(stack, dealer, drain)


@pytest.fixture
def morning(business_clock: clock.AdjustableClock) -> datetime:
    """Tomorrow, 10:00 in Moscow: inside every sending window."""
    start = datetime.combine(business_clock.now().date() + timedelta(days=1), MOSCOW_10, UTC)
    return business_clock.move_to(start)


def person(external_id: str, phone: str, at: datetime, **data: Any) -> dict[str, Any]:
    consent = {"service": True, "marketing": True, "at": at.isoformat(), "source": "анкета"}
    return customer_event(
        f"c-{external_id}",
        external_id,
        at.isoformat(),
        first_name="Андрей",
        phones=[phone],
        consents={"sms": consent},
        **data,
    )


def run_of(dealer: TenantFixture, external_id: str, journey_id: str) -> Enrollment:
    customer_id = only_customer(dealer, external_id=external_id)["id"]
    runs = journey_store.customer_runs(dealer.tenant.tenant_id, customer_id)
    [run] = [
        r for _, doc in runs if (r := Enrollment.model_validate_json(doc)).journey_id == journey_id
    ]
    return run


def wake(pipeline: Pipeline, business_clock: clock.AdjustableClock, run: Enrollment) -> None:
    """Move to just after the run's wait ends and let the hourly tick find it."""
    assert run.due_at is not None
    business_clock.move_to(run.due_at + timedelta(minutes=1))
    pipeline.tick()


def drive_event(booking: str, customer: str, starts_at: datetime, status: str) -> dict[str, Any]:
    return event(
        f"td-{booking}-{status}",
        "test_drive.changed",
        clock.now().isoformat(),
        booking_id=booking,
        customer_external_id=customer,
        model="Haval Jolion",
        status=status,
        starts_at=starts_at.isoformat(),
    )


def test_a_test_drive_is_confirmed_reminded_followed_up_and_each_goes_once(
    pipeline: Pipeline, business_clock: clock.AdjustableClock, morning: datetime
) -> None:
    phone = "+79161110001"
    drive_at = morning + timedelta(days=3, hours=5)  # in three days, 15:00 Moscow
    pipeline.send(person("TD-1", phone, morning), drive_event("B-1", "TD-1", drive_at, "booked"))
    # At once: the confirmation by SMS (transactional)
    [confirmation] = pipeline.sent()
    assert confirmation["channel"] == "sms" and confirmation["to"] == phone
    assert "Haval Jolion" in str(confirmation["body"])
    assert pipeline.kinds() == [("test_drive_confirmation", "transactional")]
    # The day before at 10:00: the reminder (no Telegram chat known, so SMS)
    run = run_of(pipeline.dealer, "TD-1", "test_drive")
    assert run.due_at == datetime.combine(drive_at.date() - timedelta(days=1), MOSCOW_10, UTC)
    wake(pipeline, business_clock, run)
    assert pipeline.kinds()[-1] == ("test_drive_reminder", "transactional")
    assert "завтра в 15:00" in str(pipeline.sent()[-1]["body"])
    # The DMS reports the drive taken: feedback two hours later
    business_clock.move_to(drive_at + timedelta(hours=1))
    pipeline.send(drive_event("B-1", "TD-1", drive_at, "completed"))
    wake(pipeline, business_clock, run_of(pipeline.dealer, "TD-1", "test_drive"))
    assert pipeline.kinds()[-1] == ("test_drive_feedback", "transactional")
    # Three days on, the offer; a week after the drive, the invitation (marketing)
    wake(pipeline, business_clock, run_of(pipeline.dealer, "TD-1", "test_drive"))
    assert pipeline.kinds()[-1] == ("test_drive_offer", "marketing")
    wake(pipeline, business_clock, run_of(pipeline.dealer, "TD-1", "test_drive"))
    assert pipeline.kinds() == [
        ("test_drive_confirmation", "transactional"),
        ("test_drive_reminder", "transactional"),
        ("test_drive_feedback", "transactional"),
        ("test_drive_offer", "marketing"),
        ("test_drive_invitation", "marketing"),
    ]
    assert run_of(pipeline.dealer, "TD-1", "test_drive").status == "exited"
    # Replays: every journey message delivered again, the booking sent again under a new id
    before = pipeline.sent()
    pipeline.redeliver_everything()
    again = drive_event("B-1", "TD-1", drive_at, "booked") | {"id": "td-B-1-booked-again"}
    pipeline.send(again)
    business_clock.advance(timedelta(days=2))
    pipeline.tick()
    assert pipeline.sent() == before


def test_a_test_drive_stops_when_the_customer_buys(
    pipeline: Pipeline, business_clock: clock.AdjustableClock, morning: datetime
) -> None:
    phone = "+79161110002"
    drive_at = morning + timedelta(days=1, hours=4)
    pipeline.send(person("TD-2", phone, morning), drive_event("B-2", "TD-2", drive_at, "booked"))
    business_clock.move_to(drive_at + timedelta(hours=1))
    pipeline.send(
        drive_event("B-2", "TD-2", drive_at, "completed"),
        sold("TD-2-sale", "TD-2", VIN, clock.now().isoformat()),
    )
    business_clock.advance(timedelta(days=8))
    pipeline.tick()
    kinds = [kind for kind, _ in pipeline.kinds(to=phone)]
    assert "test_drive_offer" not in kinds and "test_drive_invitation" not in kinds
    assert run_of(pipeline.dealer, "TD-2", "test_drive").exit_reason == "car_bought"


def visit(
    visit_id: str, customer: str, reason: str | None, outcome: str = "left"
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "visit_id": visit_id,
        "customer_external_id": customer,
        "at": clock.now().isoformat(),
        "interest": {"model": "Chery Tiggo 7 Pro", "condition": "new", "budget": 2_500_000},
        "outcome": outcome,
    }
    if reason:
        data["reason"] = reason
    return event(f"sv-{visit_id}", "showroom.visited", clock.now().isoformat(), **data)


def test_left_without_buying_gets_an_offer_and_a_used_alternative_when_price_was_why(
    pipeline: Pipeline, business_clock: clock.AdjustableClock, morning: datetime
) -> None:
    pipeline.send(
        person("LV-1", "+79161110011", morning),
        person("LV-2", "+79161110012", morning),
        person("LV-3", "+79161110013", morning),
        visit("V-1", "LV-1", "price"),
        visit("V-2", "LV-2", "credit"),
        visit("V-3", "LV-3", None, outcome="thinking"),
    )
    assert pipeline.sent() == []  # nothing at once
    run = run_of(pipeline.dealer, "LV-1", "left_without_buying")
    assert run.due_at == datetime.combine(morning.date() + timedelta(days=2), time(8, 0), UTC)
    wake(pipeline, business_clock, run)
    [used] = [m for m in pipeline.sent() if m["to"] == "+79161110011"]
    [offer] = [m for m in pipeline.sent() if m["to"] == "+79161110012"]
    assert used["meta"]["kind"] == offer["meta"]["kind"] == "left_without_buying"
    assert used["meta"]["purpose"] == offer["meta"]["purpose"] == "marketing"
    assert "с пробегом" in str(used["body"]) and "с пробегом" not in str(offer["body"])
    assert "Chery Tiggo 7 Pro" in str(offer["body"])
    assert pipeline.kinds(to="+79161110013") == []  # still thinking: no run
    # Replays
    before = pipeline.sent()
    pipeline.redeliver_everything()
    pipeline.send(visit("V-1", "LV-1", "price") | {"id": "sv-V-1-again"})
    business_clock.advance(timedelta(days=7))
    pipeline.tick()
    assert pipeline.sent() == before


def test_birthday_greeting_on_the_day_at_ten_and_next_years_is_set(
    pipeline: Pipeline, business_clock: clock.AdjustableClock, morning: datetime
) -> None:
    tenant_id = pipeline.dealer.tenant.tenant_id
    tomorrow = morning.date() + timedelta(days=1)
    born = date(1984, tomorrow.month, tomorrow.day)  # a leap year: any day of the year
    # The customer's birth date puts a trigger on their own collection, on tomorrow's index
    pipeline.send(person("BD-1", "+79161110021", morning, birth_date=born.isoformat()))
    customer_id = only_customer(pipeline.dealer, external_id="BD-1")["id"]
    assert [t.journey_id for t in journey_store.due_triggers(tenant_id, tomorrow)] == ["birthday"]
    pipeline.tick()
    assert pipeline.sent() == []
    # Tomorrow at 10:00: the greeting (marketing), once
    business_clock.move_to(datetime.combine(tomorrow, time(7, 5), UTC))
    assert pipeline.tick()["tenant_days"] >= 1  # this tenant's morning, among others'
    [greeting] = pipeline.sent()
    assert (greeting["meta"]["kind"], greeting["meta"]["purpose"]) == ("birthday", "marketing")
    assert "с днём рождения" in str(greeting["body"])
    # The trigger moved on to next year's birthday; the profile shows the run
    assert list(journey_store.due_triggers(tenant_id, tomorrow)) == []
    [following] = customer_milestones(born, tomorrow + timedelta(days=1))
    next_year = following.due_on
    assert next_year.year == tomorrow.year + 1
    assert [t.journey_id for t in journey_store.due_triggers(tenant_id, next_year)] == ["birthday"]
    status, profile = api("GET", f"/v1/customers/{customer_id}", pipeline.dealer.api_key)
    assert status == 200
    assert [r["journey_id"] for r in profile["journeys"]] == ["birthday"]
    # Replays: the tick again, every queue message again, the same customer event again
    before = pipeline.sent()
    pipeline.tick()
    pipeline.redeliver_everything()
    pipeline.send(
        person("BD-1", "+79161110021", morning, birth_date=born.isoformat())
        | {"id": "c-BD-1-again"}
    )
    assert pipeline.sent() == before
    # A corrected birth date moves the trigger
    moved = born + timedelta(days=40)
    pipeline.send(
        person("BD-1", "+79161110021", morning, birth_date=moved.isoformat())
        | {"id": "c-BD-1-moved"}
    )
    assert list(journey_store.due_triggers(tenant_id, next_year)) == []
    due = customer_milestones(moved, clock.now().date())[0].due_on
    assert [t.journey_id for t in journey_store.due_triggers(tenant_id, due)] == ["birthday"]


def order(order_id: str, customer: str, status: str, **extra: Any) -> dict[str, Any]:
    return event(
        f"os-{order_id}-{status}",
        "order.status_changed",
        clock.now().isoformat(),
        order_id=order_id,
        customer_external_id=customer,
        status=status,
        **extra,
    )


def test_each_order_status_is_one_transactional_message(
    pipeline: Pipeline, business_clock: clock.AdjustableClock, morning: datetime
) -> None:
    eta = (morning + timedelta(days=20)).isoformat()
    pipeline.send(person("OS-1", "+79161110031", morning), order("FO-1", "OS-1", "ordered"))
    business_clock.advance(timedelta(days=3))
    pipeline.send(order("FO-1", "OS-1", "shipped", eta=eta))
    assert pipeline.kinds() == [("order_status", "transactional")] * 2
    first, second = pipeline.sent()
    assert "заказан" in str(first["body"]) and "FO-1" in str(first["body"])
    assert "отгружен" in str(second["body"])
    # Replays: queue messages again, the same status again under a new event id
    before = pipeline.sent()
    pipeline.redeliver_everything()
    pipeline.send(order("FO-1", "OS-1", "shipped", eta=eta) | {"id": "os-FO-1-again"})
    assert pipeline.sent() == before


def test_a_new_owner_is_welcomed_but_a_sale_imported_from_last_year_starts_nothing(
    pipeline: Pipeline, business_clock: clock.AdjustableClock, morning: datetime
) -> None:
    last_year = (morning - timedelta(days=330)).isoformat()
    pipeline.send(
        person("NO-1", "+79161110041", morning),
        person("NO-2", "+79161110042", morning),
        sold("NO-1-sale", "NO-1", VIN, morning.isoformat()),
        sold("NO-2-sale", "NO-2", "XWEFF41BBNR000999", last_year),
    )
    assert pipeline.kinds(to="+79161110041") == [("welcome", "transactional")]
    assert "Kia Rio" in str(pipeline.sent()[0]["body"])
    old = run_of(pipeline.dealer, "NO-2", "new_owner")
    assert old.status == "exited" and [t.outcome for t in old.history] == ["branch", "exit"]
    # A month on: care tips (marketing); the imported sale still nothing
    wake(pipeline, business_clock, run_of(pipeline.dealer, "NO-1", "new_owner"))
    assert pipeline.kinds(to="+79161110041")[-1] == ("care_tips", "marketing")
    assert pipeline.kinds(to="+79161110042") == []
    before = pipeline.sent()
    pipeline.redeliver_everything()
    assert pipeline.sent() == before
    assert json.dumps(before, ensure_ascii=False).count("Поздравляем") == 1
