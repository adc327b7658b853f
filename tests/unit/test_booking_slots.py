"""Free service slots: capacity minus bookings, working hours, holidays (the location's and the
production calendar's), lead time."""

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from trigly.booking import calendar
from trigly.booking.slots import (
    MIN_LEAD,
    day_slots,
    days_ahead,
    free_share,
    free_slots,
    slot_key,
)
from trigly.locations.model import OpeningHours, ServiceCapacity

MOSCOW = ZoneInfo("Europe/Moscow")
WEEKDAYS = [OpeningHours(weekday=d, opens=time(9), closes=time(18)) for d in range(5)]
CAPACITY = ServiceCapacity(posts=2, slot_minutes=90, hours=WEEKDAYS, holidays=[date(2026, 12, 31)])
MONDAY_MORNING = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 09:00 in Moscow


def test_a_working_day_is_cut_into_whole_slots() -> None:
    starts = day_slots(CAPACITY, MOSCOW, date(2026, 11, 30))
    assert [s.time() for s in starts] == [
        time(9),
        time(10, 30),
        time(12),
        time(13, 30),
        time(15),
        time(16, 30),
    ]
    assert day_slots(CAPACITY, MOSCOW, date(2026, 12, 5)) == []  # Saturday
    assert day_slots(CAPACITY, MOSCOW, date(2026, 12, 31)) == []  # holiday


def test_booked_places_are_taken_off_and_a_full_slot_disappears() -> None:
    noon = datetime(2026, 11, 30, 12, 0, tzinfo=MOSCOW)
    half = datetime(2026, 11, 30, 13, 30, tzinfo=MOSCOW)
    booked = {slot_key(noon, MOSCOW): 2, slot_key(half, MOSCOW): 1}
    slots = {
        s.starts_at: s.free for s in free_slots(CAPACITY, MOSCOW, booked, MONDAY_MORNING, days=0)
    }
    assert noon not in slots and slots[half] == 1
    # Nothing starts sooner than the lead time
    assert min(slots) >= MONDAY_MORNING + MIN_LEAD


@given(st.integers(min_value=0, max_value=2), st.integers(min_value=0, max_value=14))
def test_never_more_free_places_than_posts(taken: int, days: int) -> None:
    booked = {slot_key(s, MOSCOW): taken for s in day_slots(CAPACITY, MOSCOW, date(2026, 12, 1))}
    for slot in free_slots(CAPACITY, MOSCOW, booked, MONDAY_MORNING, days=days):
        assert 1 <= slot.free <= CAPACITY.posts
        assert slot.starts_at.tzinfo is not None
        assert datetime.fromisoformat(slot.value) == slot.starts_at
        assert slot.starts_at < MONDAY_MORNING + timedelta(days=days + 1)


# --- the production calendar ---------------------------------------------------------------

EVERY_DAY = [OpeningHours(weekday=d, opens=time(9), closes=time(18)) for d in range(7)]


def test_public_holidays_and_moved_days_off_offer_no_slots() -> None:
    workshop = ServiceCapacity(posts=1, hours=EVERY_DAY)
    assert day_slots(workshop, MOSCOW, date(2027, 1, 7)) == []  # Christmas, a Thursday
    assert all(day_slots(workshop, MOSCOW, date(2027, 1, d)) == [] for d in range(1, 9))
    assert day_slots(workshop, MOSCOW, date(2026, 1, 9)) == []  # a Friday made a day off
    assert day_slots(workshop, MOSCOW, date(2027, 2, 22)) == []  # Monday, off for 20 February
    assert day_slots(workshop, MOSCOW, date(2027, 1, 11)) != []  # back to work
    # Beyond the decrees the data holds, the fixed holidays of the Labour Code still close
    assert day_slots(workshop, MOSCOW, date(2031, 1, 7)) == []
    assert day_slots(workshop, MOSCOW, date(2031, 3, 10)) != []


def test_a_location_that_works_on_holidays_says_so() -> None:
    workshop = ServiceCapacity(posts=1, hours=EVERY_DAY, works_public_holidays=True)
    assert len(day_slots(workshop, MOSCOW, date(2027, 1, 7))) == 9
    # ...its own days off still close it
    closed = workshop.model_copy(update={"holidays": [date(2027, 1, 7)]})
    assert day_slots(closed, MOSCOW, date(2027, 1, 7)) == []


def test_a_weekend_made_a_working_day_opens_with_the_hours_of_the_day_it_replaces() -> None:
    monday_short = [OpeningHours(weekday=0, opens=time(10), closes=time(14)), *WEEKDAYS[1:]]
    workshop = ServiceCapacity(posts=1, hours=monday_short)
    # Saturday 20 February 2027 works for Monday the 22nd (Monday's hours, 10–14)
    starts = day_slots(workshop, MOSCOW, date(2027, 2, 20))
    assert [s.time() for s in starts] == [time(10), time(11), time(12), time(13)]
    assert day_slots(workshop, MOSCOW, date(2027, 2, 21)) == []  # Sunday stays off


def test_the_shipped_calendar_is_what_the_holidays_package_says() -> None:
    """Fails when an upgraded `holidays` knows a decree the data lacks: run `make calendar`."""
    shipped = json.loads(calendar.DATA.read_text(encoding="utf-8"))
    assert shipped == calendar.generate()


# --- how full the coming week is (capacity pacing) ---------------------------------------------


def test_the_free_share_counts_free_and_places_over_the_same_days() -> None:
    workshop = ServiceCapacity(posts=2, hours=EVERY_DAY, works_public_holidays=True)
    today = MONDAY_MORNING.astimezone(MOSCOW).date()
    week = [today + timedelta(days=d) for d in range(1, 8)]
    full_week = {slot_key(s, MOSCOW): 2 for day in week for s in day_slots(workshop, MOSCOW, day)}
    # Today is empty but a reminder read today books from tomorrow: a full week is full
    loads = days_ahead(workshop, MOSCOW, full_week, MONDAY_MORNING, days=7)
    assert [load.day for load in loads] == week
    assert free_share(loads) == 0.0 and [load.free for load in loads] == [0] * 7
    # Half of every day booked: half free
    half = {slot_key(s, MOSCOW): 1 for day in week for s in day_slots(workshop, MOSCOW, day)}
    loads = days_ahead(workshop, MOSCOW, half, MONDAY_MORNING, days=7)
    assert free_share(loads) == 0.5 and [load.free for load in loads] == [9] * 7
    # A DMS booking beyond the posts does not make a day more than full
    over = {**full_week, slot_key(day_slots(workshop, MOSCOW, week[0])[0], MOSCOW): 5}
    assert free_share(days_ahead(workshop, MOSCOW, over, MONDAY_MORNING, days=7)) == 0.0
