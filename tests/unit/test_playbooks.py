"""Built-in playbooks as data: each validates, names a CONTRACT §5 kind and a purpose per §3, its
templates render strictly with what its runs know (SMS of sane length), and the engine walks
each the way docs/journeys.md describes."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from trigly.events.types import Channel
from trigly.journeys.definition import EventTrigger, Journey, MilestoneTrigger, SendStep
from trigly.journeys.engine import Enrollment, Facts, RunStatus, SendAction, advance, start
from trigly.journeys.playbooks import PLAYBOOKS
from trigly.messaging.defaults import DEFAULT_TEMPLATES
from trigly.messaging.rendering import message_variables, render
from trigly.profiles.records import Purchase
from trigly.profiles.records import TestDrive as DriveRecord

MOSCOW = ZoneInfo("Europe/Moscow")
T0 = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # 10:00 in Moscow
VIN = "XWEFF41BBNR000777"
CONTRACT_KINDS = {
    "maintenance_reminder",
    "booking_confirmation",
    "booking_reminder",
    "nps_request",
    "tyre_season",
    "insurance_renewal",
    "warranty_end",
    "financing_end",
    "birthday",
    "purchase_anniversary",
    "welcome",
    "care_tips",
    "test_drive_confirmation",
    "test_drive_reminder",
    "test_drive_feedback",
    "test_drive_offer",
    "test_drive_invitation",
    "left_without_buying",
    "order_status",
}
EXTRA_KINDS = {"trade_in"}  # §5 says "at least": the optional car-age playbook's own kind
MAX_SMS_SEGMENTS = 4  # Cyrillic is UCS-2: 70 characters alone, 67 per part


def sends(journey: Journey) -> list[SendStep]:
    return [s for s in journey.steps if isinstance(s, SendStep)]


def test_every_playbook_validates_and_sends_contract_kinds_with_a_built_in_template() -> None:
    kinds = set()
    for journey_id, playbook in PLAYBOOKS.items():
        assert playbook.journey_id == journey_id and playbook.builtin and playbook.enabled
        assert Journey.model_validate_json(playbook.model_dump_json()) == playbook
        for step in sends(playbook):
            assert step.template_id in DEFAULT_TEMPLATES, (journey_id, step.id)
            kinds.add(step.kind)
    assert kinds - EXTRA_KINDS <= CONTRACT_KINDS
    assert kinds >= CONTRACT_KINDS  # every kind §5 names is sent by some built-in playbook


def test_purposes_follow_the_contract() -> None:
    purposes = {
        (s.kind, s.template_id): s.purpose.value for j in PLAYBOOKS.values() for s in sends(j)
    }
    transactional = {"test_drive_confirmation", "test_drive_reminder", "test_drive_feedback"}
    transactional |= {"welcome", "order_status", "booking_confirmation", "booking_reminder"}
    service = {"maintenance_reminder", "insurance_renewal", "warranty_end"}
    for (kind, template), purpose in purposes.items():
        if kind in transactional:
            assert purpose == "transactional", kind
        elif kind in service or template == "tyre_season":
            assert purpose == "service", kind
        elif kind != "nps_request":
            assert purpose == "marketing", kind
    # The new owner's tyre offer is marketing; the seasonal reminder about the car is service
    assert purposes[("tyre_season", "new_owner_tyres")] == "marketing"


def test_one_way_to_each_milestone_and_event() -> None:
    milestones = [
        j.trigger.milestone for j in PLAYBOOKS.values() if isinstance(j.trigger, MilestoneTrigger)
    ]
    assert len(milestones) == len(set(milestones))
    assert "purchase_anniversary" not in milestones  # the new-owner playbook sends it
    events = {
        (j.trigger.event, str(j.trigger.where))
        for j in PLAYBOOKS.values()
        if isinstance(j.trigger, EventTrigger)
    }
    assert len(events) == sum(isinstance(j.trigger, EventTrigger) for j in PLAYBOOKS.values())


# --- templates --------------------------------------------------------------------------------

CUSTOMER = {
    "first_name": "Андрей",
    "middle_name": "Петрович",
    "last_name": "Иванов",
    "name": "Андрей Петрович",
    "full_name": "Иванов Андрей Петрович",
}
LOCATION = {
    "id": "loc_1",
    "name": "Автомир Варшавка",
    "address": "Москва, Варшавское ш., 170",
    "phone": "+7 495 123-45-67",
}
CAR = {"vin": VIN, "make": "Kia", "model": "Rio", "year": 2022, "plate": "А123ВС777"}
LINKS = {"booking": "https://t.trigly.ru/l/AbCdEfGhIjKlMnOpQrStUv0123456789"}
TEST_DRIVE = {
    "booking_id": "TD-8841",
    "model": "Haval Jolion",
    "status": "booked",
    "starts_at": "2026-12-05T12:30:00+03:00",
    "lead_hours": 98.5,
}
SALE = {
    "deal_id": "D-1",
    "make": "Chery",
    "model": "Tiggo 7 Pro Max",
    "year": 2026,
    "condition": "new",
    "sold_at": "2026-11-20T15:30:00+03:00",
}
VISIT = {
    "visit_id": "V-1",
    "outcome": "left",
    "reason": "price",
    "model": "Chery Tiggo 7 Pro",
    "condition": "new",
    "budget": 2500000,
}
ORDER = {"order_id": "FO-2026-0412", "status": "shipped", "eta": "2026-12-15T12:00:00+03:00"}
MILESTONES = {
    "tyre_season": {"due_on": "2027-04-10", "season": "summer", "opens_on": "2027-04-10"},
    "insurance_renewal": {"due_on": "2027-01-10", "policy_kind": "osago", "ends_on": "2027-01-10",
                          "assumed": False},
    "warranty_end": {"due_on": "2027-03-01", "ends_on": "2027-03-01", "years": 5},
    "financing_end": {"due_on": "2027-02-01", "ends_on": "2027-02-01", "type": "loan",
                      "deal_id": "D-7"},
    "trade_in": {"due_on": "2027-01-01", "age": 4, "since": "2023-01-01"},
    "birthday": {"due_on": "2026-12-01", "age": 41, "birth_date": "1985-12-01"},
}  # fmt: skip


def variables_for(template_id: str, *, location: bool = True) -> dict[str, Any]:
    """What a run of the template's playbook passes (journeys.advancing), nothing more."""
    found: dict[str, Any] = {"location": LOCATION if location else None}
    if template_id.startswith("test_drive"):
        found["test_drive"] = TEST_DRIVE
    elif template_id in {"welcome", "care_tips", "new_owner_tyres", "purchase_anniversary"}:
        found |= {"sale": SALE, "car": CAR}
    elif template_id.startswith("left_without_buying"):
        found["visit"] = VISIT
    elif template_id == "order_status":
        found["order"] = ORDER
    elif template_id in MILESTONES:
        found["milestone"] = MILESTONES[template_id]
        if template_id != "birthday":
            found["car"] = CAR
    return message_variables(found, offer=None, include_offer=False, customer=CUSTOMER, links=LINKS)


NEW_TEMPLATES = sorted(
    {s.template_id for j in PLAYBOOKS.values() for s in sends(j)}
    - {"maintenance_reminder", "maintenance_nudge", "booking_confirmation", "booking_reminder"}
    - {"nps_request"}
)


@pytest.mark.parametrize("template_id", NEW_TEMPLATES)
@pytest.mark.parametrize("location", [True, False])
def test_every_template_renders_strictly_on_every_channel(template_id: str, location: bool) -> None:
    template = DEFAULT_TEMPLATES[template_id]
    variables = variables_for(template_id, location=location)
    for channel in (Channel.SMS, Channel.EMAIL, Channel.TELEGRAM):
        shown = render(template, channel, variables, zone=MOSCOW)
        assert "{" not in shown.text and "None" not in shown.text, shown.text
        assert "  " not in shown.text and " ." not in shown.text, shown.text
        if channel is Channel.SMS:
            assert shown.sms is not None and shown.sms.segments <= MAX_SMS_SEGMENTS, shown.text
        if channel is Channel.EMAIL:
            assert shown.subject


def test_templates_say_what_their_facts_say() -> None:
    def sms(template_id: str, **changes: Any) -> str:
        variables = variables_for(template_id) | changes
        return render(DEFAULT_TEMPLATES[template_id], Channel.SMS, variables, zone=MOSCOW).text

    assert "5 декабря в 12:30" in sms("test_drive_confirmation")
    assert "завтра в 12:30" in sms("test_drive_reminder")
    assert "Chery Tiggo 7 Pro Max" in sms("welcome") and LOCATION["phone"] in sms("welcome")
    assert "с пробегом" in sms("left_without_buying_used") and "2" in sms(
        "left_without_buying_used"
    )
    assert "отгружен" in sms("order_status") and "15 декабря" in sms("order_status")
    ready = sms("order_status", order={**ORDER, "status": "ready", "eta": None})
    assert "готов к выдаче" in ready and LOCATION["address"] in ready
    assert "летние" in sms("tyre_season") and LINKS["booking"] in sms("tyre_season")
    assert "ОСАГО" in sms("insurance_renewal") and "10 января" in sms("insurance_renewal")
    assert "4 года" in sms("trade_in") and "Kia Rio" in sms("trade_in")
    assert sms("birthday").startswith("Андрей Петрович, с днём рождения!")
    anonymous = {"customer": {**CUSTOMER, "name": None}}
    assert sms("birthday", **anonymous).startswith("С днём рождения!")


# --- the engine walks each playbook -----------------------------------------------------------


def run_of(journey_id: str, at: datetime = T0, **subject: Any) -> Enrollment:
    return start(PLAYBOOKS[journey_id], key="k", customer_id="c", vin=VIN, subject=subject, at=at)


def walk(run: Enrollment, facts: Facts, now: datetime) -> tuple[Enrollment, list[str]]:
    after, actions = advance(PLAYBOOKS[run.journey_id], run, facts, now)
    return after, [a.step.kind for a in actions if isinstance(a, SendAction)]


def drive_facts(status: str, starts_at: datetime, now: datetime, **more: Any) -> Facts:
    drive = DriveRecord(booking_id="TD-1", model="Haval Jolion", status=status, starts_at=starts_at)
    values = {
        "run": {"age_hours": (now - T0).total_seconds() / 3600},
        "test_drive": {
            "starts_at": starts_at.isoformat(),
            "lead_hours": (starts_at - T0).total_seconds() / 3600,
        },
    }
    return Facts(zone=MOSCOW, values=values, test_drives=[drive], **more)


def test_test_drive_confirms_reminds_the_day_before_then_follows_up_after_the_drive() -> None:
    drive_at = T0 + timedelta(days=4, hours=5)  # 5 December, 15:00 Moscow
    run = run_of("test_drive", booking_id="TD-1")
    run, kinds = walk(run, drive_facts("booked", drive_at, T0), T0)
    assert kinds == ["test_drive_confirmation"]
    assert run.due_at == datetime(2026, 12, 4, 10, 0, tzinfo=MOSCOW)  # the day before at 10:00
    run, kinds = walk(run, drive_facts("booked", drive_at, run.due_at), run.due_at)
    assert kinds == ["test_drive_reminder"] and run.step == "after_drive"
    # The DMS reports the drive taken: feedback two hours later
    done_at = drive_at + timedelta(hours=1)
    run, kinds = walk(run, drive_facts("completed", drive_at, done_at), done_at)
    assert kinds == [] and run.step == "settle"
    later = done_at + timedelta(hours=2)
    run, kinds = walk(run, drive_facts("completed", drive_at, later), later)
    assert kinds == ["test_drive_feedback"]
    assert run.due_at == datetime(2026, 12, 8, 11, 0, tzinfo=MOSCOW)  # 3 days on, at 11:00
    run, kinds = walk(run, drive_facts("completed", drive_at, run.due_at), run.due_at)
    assert kinds == ["test_drive_offer"]
    assert run.due_at == datetime(2026, 12, 12, 11, 0, tzinfo=MOSCOW)  # a week after the drive
    run, kinds = walk(run, drive_facts("completed", drive_at, run.due_at), run.due_at)
    assert kinds == ["test_drive_invitation"] and run.status is RunStatus.EXITED


def test_test_drive_ends_on_a_purchase_a_cancellation_or_no_drive() -> None:
    drive_at = T0 + timedelta(days=4)
    run, _ = walk(run_of("test_drive", booking_id="TD-1"), drive_facts("booked", drive_at, T0), T0)
    bought = Purchase(
        deal_id="D", vin=VIN, make="Haval", model="Jolion", year=2026, price=1, currency="RUB",
        condition="new", sold_at=T0 + timedelta(days=1),
    )  # fmt: skip
    now = T0 + timedelta(days=1, hours=1)
    after, kinds = walk(run, drive_facts("booked", drive_at, now, purchases=[bought]), now)
    assert kinds == [] and after.exit_reason == "car_bought"
    after, kinds = walk(run, drive_facts("cancelled", drive_at, now), now)
    assert kinds == [] and after.exit_reason == "test_drive_cancelled"
    # Never reported as taken: nothing after the reminder
    run, kinds = walk(run, drive_facts("booked", drive_at, run.due_at), run.due_at)  # type: ignore[arg-type]
    late = drive_at + timedelta(days=4)
    run, kinds = walk(run, drive_facts("booked", drive_at, late), late)
    assert kinds == [] and run.status is RunStatus.EXITED


def test_a_drive_booked_for_tomorrow_gets_no_day_before_reminder() -> None:
    drive_at = T0 + timedelta(hours=20)
    run, kinds = walk(
        run_of("test_drive", booking_id="TD-1"), drive_facts("booked", drive_at, T0), T0
    )
    assert kinds == ["test_drive_confirmation"] and run.step == "after_drive"


@pytest.mark.parametrize("journey_id", ["test_drive", "new_owner", "left_without_buying"])
def test_an_imported_event_from_last_year_starts_nothing(journey_id: str) -> None:
    sold_at = T0 - timedelta(days=330)
    run = run_of(journey_id, at=sold_at, booking_id="TD-1", sold_at=sold_at.isoformat())
    now = T0
    facts = drive_facts("completed", sold_at + timedelta(days=2), now)
    facts.values["sale"] = {"sold_at": sold_at.isoformat()}
    facts.values["run"] = {"age_hours": (now - sold_at).total_seconds() / 3600}
    run, kinds = walk(run, facts, now)
    assert kinds == [] and run.status is RunStatus.EXITED and run.exit_reason == "exit_step"
    assert [t.outcome for t in run.history] == ["branch", "exit"]


def test_new_owner_welcomes_at_once_then_month_30_six_months_and_a_year() -> None:
    sold_at = T0 - timedelta(hours=2)
    run = run_of("new_owner", at=sold_at, deal_id="D-1")

    def facts(now: datetime) -> Facts:
        values = {
            "run": {"age_hours": (now - sold_at).total_seconds() / 3600},
            "sale": {"sold_at": sold_at.isoformat()},
        }
        return Facts(zone=MOSCOW, values=values)

    run, kinds = walk(run, facts(T0), T0)
    assert kinds == ["welcome"]
    seen = []
    while run.active and run.due_at is not None:
        now = run.due_at
        run, kinds = walk(run, facts(now), now)
        seen.append((now.astimezone(MOSCOW).date().isoformat(), kinds))
    assert seen == [
        ("2026-12-31", ["care_tips"]),
        ("2027-06-01", ["tyre_season"]),
        ("2027-12-01", ["purchase_anniversary"]),
    ]


@pytest.mark.parametrize(("reason", "template"), [
    ("price", "left_without_buying_used"), ("credit", "left_without_buying"),
    (None, "left_without_buying"),
])  # fmt: skip
def test_left_without_buying_offers_in_two_days_a_used_car_when_price_was_the_reason(
    reason: str | None, template: str
) -> None:
    run = run_of("left_without_buying", visit_id="V-1", outcome="left", reason=reason)
    facts = Facts(zone=MOSCOW, values={"run": {"age_hours": 0}, "event": run.subject})
    run, kinds = walk(run, facts, T0)
    assert kinds == [] and run.due_at == datetime(2026, 12, 3, 11, 0, tzinfo=MOSCOW)
    after, actions = advance(PLAYBOOKS["left_without_buying"], run, facts, run.due_at)
    [action] = actions
    assert isinstance(action, SendAction) and action.step.template_id == template
    assert action.step.kind == "left_without_buying" and after.status is RunStatus.EXITED


def test_birthday_goes_at_ten_in_the_customers_own_zone() -> None:
    vladivostok = ZoneInfo("Asia/Vladivostok")
    run, kinds = walk(run_of("birthday", due_on="2026-12-01"), Facts(zone=vladivostok), T0)
    assert kinds == ["birthday"]  # 17:00 there: its 10:00 passed today, it goes now
    kaliningrad = ZoneInfo("Europe/Kaliningrad")
    run, kinds = walk(run_of("birthday", due_on="2026-12-01"), Facts(zone=kaliningrad), T0)
    assert kinds == [] and run.due_at == datetime(2026, 12, 1, 10, 0, tzinfo=kaliningrad)


def test_insurance_reminds_only_of_a_known_policy() -> None:
    def kinds_for(assumed: bool) -> list[str]:
        subject = {"due_on": "2027-01-10", "assumed": assumed, "policy_kind": "osago"}
        facts = Facts(zone=MOSCOW, values={"milestone": subject})
        return walk(run_of("insurance_renewal", **subject), facts, T0)[1]

    assert kinds_for(assumed=False) == ["insurance_renewal"]
    assert kinds_for(assumed=True) == []


def test_milestone_offsets() -> None:
    offsets = {
        j.journey_id: j.trigger.offset_days
        for j in PLAYBOOKS.values()
        if isinstance(j.trigger, MilestoneTrigger)
    }
    assert offsets == {
        "maintenance_reminder": -14,
        "tyre_season": -10,
        "insurance_renewal": -30,
        "warranty_end": -30,
        "financing_end": -45,
        "car_age_trade_in": 0,
        "birthday": 0,
    }


# --- the customer's own date triggers ---------------------------------------------------------


def test_birthdays_are_scheduled_for_the_next_occurrence_whose_start_has_not_passed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trigly.journeys import catalog, triggers

    early = PLAYBOOKS["birthday"].model_copy(
        update={
            "journey_id": "birthday_early",
            "trigger": MilestoneTrigger(milestone="birthday", offset_days=-10),  # type: ignore[arg-type]
        }
    )
    journeys = [(j, j.trigger) for j in (PLAYBOOKS["birthday"], early)]
    monkeypatch.setattr(catalog, "milestone_journeys", lambda tenant_id: journeys)
    today = date(2026, 12, 1)
    starts = triggers.customer_schedule("t", "c", date(1985, 12, 3), today)
    assert starts["birthday"].fire_on == date(2026, 12, 3)
    assert starts["birthday"].key == "birthday:2026" and starts["birthday"].vin is None
    # Ten days before the 3rd passed: next year's
    assert starts["birthday_early"].fire_on == date(2027, 11, 23)
    assert starts["birthday_early"].key == "birthday:2027"
    assert triggers.customer_schedule("t", "c", None, today) == {}
    # After one fires, the next is next year's
    following = triggers.next_customer_start("t", starts["birthday"])
    assert following is not None and following.fire_on == date(2027, 12, 3)


def test_a_reminder_by_telegram_books_with_a_button_instead_of_a_long_link() -> None:
    from zoneinfo import ZoneInfo

    from trigly.events.types import Channel
    from trigly.messaging.defaults import DEFAULT_TEMPLATES
    from trigly.messaging.rendering import message_variables, render

    variables = message_variables(
        {
            "car": {"make": "Kia", "model": "Rio", "plate": None},
            "maintenance": {"service": "ТО-2", "due_km": 30000, "price": 12500.0},
        },
        offer=None,
        include_offer=False,
        customer={"name": "Андрей"},
        links={"booking": "https://go.dealer.ru/l/abc"},
    )
    template = DEFAULT_TEMPLATES["maintenance_reminder"]
    zone = ZoneInfo("Europe/Moscow")
    telegram = render(template, Channel.TELEGRAM, variables, zone=zone, currency="RUB")
    assert "https://" not in telegram.text and "по кнопке ниже" in telegram.text
    assert [b.url for b in telegram.buttons] == ["https://go.dealer.ru/l/abc"]
    sms = render(template, Channel.SMS, variables, zone=zone, currency="RUB")
    assert sms.text.endswith("https://go.dealer.ru/l/abc") and not sms.buttons
