"""The journey engine, pure: steps, waits, goals, branches, splits, staleness, determinism."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from trigly.journeys.definition import Journey, parse_duration
from trigly.journeys.engine import Enrollment, Facts, RunStatus, SendAction, advance, start
from trigly.journeys.playbooks import PLAYBOOKS
from trigly.profiles.records import Appointment, ServiceVisit

MOSCOW = ZoneInfo("Europe/Moscow")
T0 = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
VIN = "XWEFF41BBNR000777"


def journey(steps: list[dict[str, Any]], **extra: Any) -> Journey:
    return Journey.model_validate(
        {
            "journey_id": "test",
            "version": 1,
            "name": "test",
            "trigger": {"type": "manual"},
            "steps": steps,
            **extra,
        }
    )


def send(step_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "send",
        "kind": "maintenance_reminder",
        "purpose": "service",
        "template_id": "maintenance_reminder",
        **extra,
    }


def run_of(j: Journey, at: datetime = T0, **subject: Any) -> Enrollment:
    return start(j, key="k", customer_id="c", vin=VIN, subject=subject, at=at)


def sent(actions: list[Any]) -> list[str]:
    return [a.step.id for a in actions if isinstance(a, SendAction)]


FACTS = Facts(zone=MOSCOW)


def test_sends_then_waits_then_sends_and_completes() -> None:
    j = journey([send("first"), {"id": "pause", "type": "wait", "duration": "P7D"}, send("second")])
    run, actions = advance(j, run_of(j), FACTS, T0)
    assert sent(actions) == ["first"]
    assert run.step == "pause" and run.due_at == T0 + timedelta(days=7)
    # Not yet: nothing happens, nothing changes
    early, none = advance(j, run, FACTS, T0 + timedelta(days=6))
    assert none == [] and early == run
    done, actions = advance(j, run, FACTS, T0 + timedelta(days=7, hours=1))
    assert sent(actions) == ["second"] and done.status is RunStatus.COMPLETED


def test_advance_is_deterministic_so_a_retry_repeats_the_same_keys() -> None:
    j = journey([send("first")])
    state = run_of(j)
    once = advance(j, state, FACTS, T0)
    again = advance(j, state, FACTS, T0)
    assert once == again
    assert [a.idempotency_key for a in once[1] if isinstance(a, SendAction)] == ["jrn:test:k:first"]


def test_a_send_whose_moment_passed_more_than_a_day_ago_is_skipped() -> None:
    j = journey([send("late")])
    run, actions = advance(j, run_of(j), FACTS, T0 + timedelta(days=1, minutes=1))
    assert actions == [] and run.history[0].outcome == "skipped_stale"
    run, actions = advance(j, run_of(j), FACTS, T0 + timedelta(hours=23))
    assert sent(actions) == ["late"]


def test_wait_until_a_fact_minus_a_day_at_local_time() -> None:
    j = journey(
        [
            {
                "id": "day_before",
                "type": "wait",
                "until": "appointment.starts_at",
                "offset": "-P1D",
                "at_local_time": "10:00:00",
            },
            send("remind"),
        ]
    )
    facts = Facts(zone=MOSCOW, values={"appointment": {"starts_at": "2026-12-10T09:00:00+03:00"}})
    run, actions = advance(j, run_of(j), facts, T0)
    assert actions == []
    assert run.due_at == datetime(2026, 12, 9, 10, 0, tzinfo=MOSCOW)


def test_an_unknown_moment_skips_the_wait() -> None:
    j = journey([{"id": "w", "type": "wait", "until": "appointment.starts_at"}, send("next")])
    _, actions = advance(j, run_of(j), FACTS, T0)
    assert sent(actions) == ["next"]


def booked(at: datetime, status: str = "booked", appointment_id: str = "a1") -> Appointment:
    return Appointment(appointment_id=appointment_id, vin=VIN, status=status, starts_at=at)


def test_wait_for_takes_the_goal_branch_or_the_timeout_branch() -> None:
    j = journey(
        [
            {
                "id": "wait",
                "type": "wait_for",
                "goal": "car_booked",
                "timeout": "P7D",
                "on_goal": "thanks",
            },
            send("nudge"),
            {"id": "stop", "type": "exit"},
            send("thanks"),
        ]
    )
    waiting, _ = advance(j, run_of(j), FACTS, T0)
    assert waiting.due_at == T0 + timedelta(days=7)
    timed_out, actions = advance(j, waiting, FACTS, T0 + timedelta(days=7))
    assert sent(actions) == ["nudge"] and timed_out.exit_reason == "exit_step"
    facts = Facts(zone=MOSCOW, appointments=[booked(T0 + timedelta(days=3))])
    _, actions = advance(j, waiting, facts, T0 + timedelta(days=2))
    assert sent(actions) == ["thanks"]


def test_an_exit_goal_ends_the_run_before_the_next_step() -> None:
    j = PLAYBOOKS["maintenance_reminder"]
    first, actions = advance(j, run_of(j), FACTS, T0)
    assert sent(actions) == ["reminder"] and first.step == "wait_booking"
    # The car is serviced (without a booking through us) before the nudge
    visit = ServiceVisit(
        order_id="RO-1",
        vin=VIN,
        closed_at=T0 + timedelta(days=3),
        mileage_km=30_100,
        total_amount=9_000,
        currency="RUB",
    )
    facts = Facts(zone=MOSCOW, visits=[visit])
    after, actions = advance(j, first, facts, T0 + timedelta(days=8))
    assert actions == [] and after.status is RunStatus.EXITED
    assert after.exit_reason == "car_serviced"


def test_a_booking_made_before_the_run_began_does_not_count() -> None:
    j = PLAYBOOKS["maintenance_reminder"]
    facts = Facts(zone=MOSCOW, appointments=[booked(T0 - timedelta(days=30))])
    _, actions = advance(j, run_of(j), facts, T0)
    assert sent(actions) == ["reminder"]


def test_branch_on_facts() -> None:
    j = journey(
        [
            {
                "id": "why",
                "type": "branch",
                "cases": [
                    {
                        "all": [{"field": "event.reason", "op": "eq", "value": "price"}],
                        "goto": "used",
                    }
                ],
                "otherwise": "offer",
            },
            send("offer"),
            {"id": "end", "type": "exit"},
            send("used"),
        ]
    )
    price = Facts(zone=MOSCOW, values={"event": {"reason": "price"}})
    assert sent(advance(j, run_of(j), price, T0)[1]) == ["used"]
    assert sent(advance(j, run_of(j), FACTS, T0)[1]) == ["offer"]


@given(st.text(min_size=1, max_size=20))
def test_a_split_is_stable_per_run_and_respects_the_holdout(key: str) -> None:
    j = journey(
        [
            {
                "id": "ab",
                "type": "split",
                "variants": [{"name": "a", "percent": 50, "goto": "a"}],
            },
            send("a"),
        ]
    )
    state = start(j, key=key, customer_id="c", vin=None, subject={}, at=T0)
    first = advance(j, state, FACTS, T0)
    assert first == advance(j, state, FACTS, T0)
    run, actions = first
    assert (sent(actions) == ["a"]) != (run.exit_reason == "holdout")


def test_conditions_compare_safely() -> None:
    j = journey(
        [
            {
                "id": "b",
                "type": "branch",
                "cases": [
                    {"all": [{"field": "car.year", "op": "gte", "value": 2020}], "goto": "new"}
                ],
            },
            send("old"),
            {"id": "end", "type": "exit"},
            send("new"),
        ]
    )
    text = Facts(zone=MOSCOW, values={"car": {"year": "unknown"}})
    assert sent(advance(j, run_of(j), text, T0)[1]) == ["old"]  # no TypeError, no match
    recent = Facts(zone=MOSCOW, values={"car": {"year": 2022}})
    assert sent(advance(j, run_of(j), recent, T0)[1]) == ["new"]


def test_a_loop_without_waits_stops() -> None:
    j = journey(
        [
            {"id": "a", "type": "task", "title": "call", "next": "b"},
            {"id": "b", "type": "task", "title": "call again", "next": "a"},
        ]
    )
    run, actions = advance(j, run_of(j), FACTS, T0)
    assert run.status is RunStatus.ACTIVE and len(actions) == 100


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([send("a"), send("a")], "unique"),
        ([send("a", next="nowhere")], "unknown step"),
        ([{"id": "w", "type": "wait"}], "exactly one"),
        ([{"id": "w", "type": "wait", "duration": "7 days"}], "ISO 8601"),
        (
            [
                {
                    "id": "s",
                    "type": "split",
                    "variants": [
                        {"name": "a", "percent": 70, "goto": "s"},
                        {"name": "b", "percent": 40, "goto": "s"},
                    ],
                }
            ],
            "100 percent",
        ),
    ],
)
def test_invalid_journeys_are_refused_with_a_reason(
    steps: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        journey(steps)


def test_durations() -> None:
    assert parse_duration("P14D") == timedelta(days=14)
    assert parse_duration("-P1D") == timedelta(days=-1)
    assert parse_duration("PT4H30M") == timedelta(hours=4, minutes=30)
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_duration("P")


def test_every_builtin_playbook_is_valid_and_starts_with_a_step() -> None:
    for journey_id, playbook in PLAYBOOKS.items():
        assert playbook.journey_id == journey_id and playbook.steps
        assert Journey.model_validate_json(playbook.model_dump_json()) == playbook


def test_a_paced_reminder_waits_while_the_workshop_is_full_but_not_forever() -> None:
    j = PLAYBOOKS["maintenance_reminder"]
    full = Facts(zone=MOSCOW, values={"workshop": {"free_share": 0.05}})
    run, actions = advance(j, run_of(j), full, T0)
    assert actions == [] and run.due_at == T0 + timedelta(days=1)
    assert run.history[-1].detail == "workshop_full"
    # Room again: it goes
    room = Facts(zone=MOSCOW, values={"workshop": {"free_share": 0.5}})
    _, actions = advance(j, run, room, T0 + timedelta(days=1))
    assert sent(actions) == ["reminder"]
    # Still full after a week: it goes anyway (the car still needs its service)
    later = run.model_copy(update={"due_at": T0 + timedelta(days=7)})
    _, actions = advance(j, later, full, T0 + timedelta(days=7))
    assert sent(actions) == ["reminder"]


def test_a_nearly_full_week_spreads_the_days_reminders_in_proportion_to_free_places() -> None:
    j = PLAYBOOKS["maintenance_reminder"]
    # Tomorrow and the day after are full; the week has 10 + 30 + 60 free places of 1,000
    free_by_day = [0, 0, 10, 30, 0, 0, 60]
    full = Facts(zone=MOSCOW, values={"workshop": {"free_share": 0.1, "free_by_day": free_by_day}})
    goes_on: dict[int, int] = {}
    for n in range(1000):
        run = start(j, key=f"car-{n}", customer_id=f"c{n}", vin=VIN, subject={}, at=T0)
        after, actions = advance(j, run, full, T0)
        assert actions == [] and after.history[-1].detail == "workshop_paced"
        assert after.due_at is not None
        day = (after.due_at - T0).days
        goes_on[day] = goes_on.get(day, 0) + 1
        # On its day it goes, whatever the workshop looks like then
        _, actions = advance(j, after, full, after.due_at)
        assert sent(actions) == ["reminder"]
    # Sent on day k, booked from day k+1: nobody today or tomorrow, most on the sixth day
    assert set(goes_on) == {2, 3, 6}
    assert 60 <= goes_on[2] <= 140 and 240 <= goes_on[3] <= 360 and 520 <= goes_on[6] <= 680
    # Room in the workshop: everyone goes at once
    room = Facts(zone=MOSCOW, values={"workshop": {"free_share": 0.4, "free_by_day": free_by_day}})
    _, actions = advance(j, run_of(j), room, T0)
    assert sent(actions) == ["reminder"]


def test_a_week_without_a_free_place_holds_a_day_at_a_time() -> None:
    j = PLAYBOOKS["maintenance_reminder"]
    values = {"workshop": {"free_share": 0.0, "free_by_day": [0] * 7}}
    run, actions = advance(j, run_of(j), Facts(zone=MOSCOW, values=values), T0)
    assert actions == [] and run.due_at == T0 + timedelta(days=1)
    assert run.history[-1].detail == "workshop_full"
