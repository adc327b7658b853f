"""Calendar arithmetic: months and anniversaries, including 29 February and month ends."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trigly.lifecycle.calendar import add_months, anniversary, months_between, next_anniversary


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 15), -13, date(2024, 12, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_an_anniversary_of_29_february_is_the_28th_in_common_years() -> None:
    assert anniversary(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert anniversary(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert next_anniversary(date(2024, 2, 29), date(2025, 3, 1)) == (2, date(2026, 2, 28))


days = st.dates(date(1950, 1, 1), date(2080, 12, 31))


@given(day=days, months=st.integers(-600, 600))
def test_months_added_are_months_between(day: date, months: int) -> None:
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    if later.day == day.day:
        assert months_between(day, later) == months


@given(start=days, today=days)
def test_the_next_anniversary_is_the_first_on_or_after_today(start: date, today: date) -> None:
    years, on = next_anniversary(start, today)
    assert years >= 1 and on >= today and on == anniversary(start, years)
    assert years == 1 or anniversary(start, years - 1) < today
