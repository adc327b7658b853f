"""Free service slots: capacity minus bookings, working hours, holidays, lead time."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from trigly.booking.slots import MIN_LEAD, day_slots, free_slots, slot_key
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
