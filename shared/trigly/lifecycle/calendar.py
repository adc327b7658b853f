"""Calendar arithmetic the lifecycle needs: months and anniversaries that survive 29 February."""

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """The same day `months` later; a day the month lacks becomes its last (31 Jan + 1 → 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def anniversary(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def next_anniversary(start: date, today: date, *, first: int = 1) -> tuple[int, date]:
    """(n, date) of the first anniversary n ≥ `first` of `start` that falls on or after `today`."""
    years = max(first, today.year - start.year)
    while anniversary(start, years) < today:
        years += 1
    return years, anniversary(start, years)


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (negative when `end` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and add_months(start, months) > end:
        months -= 1
    elif months < 0 and add_months(start, months) < end:
        months += 1
    return months
