"""EventBridge schedule expressions: rate(...), cron(...) and at(...), as firing times.

Only what the local scheduler needs: the instants a schedule fires in a window of business time.
cron follows EventBridge's six fields (minutes hours day-of-month month day-of-week year), with
`?`, `L`, `nL` and `n#k`; the `W` (nearest weekday) form is refused rather than guessed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Recurrence(Protocol):
    def firings(self, anchor: datetime, after: datetime, until: datetime) -> Iterator[datetime]:
        """Instants t with after < t <= until, in order; `anchor` is when the schedule began."""
        ...


_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_WEEKDAYS = {
    name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)
}


@dataclass(frozen=True)
class Rate:
    every: timedelta

    def firings(self, anchor: datetime, after: datetime, until: datetime) -> Iterator[datetime]:
        # Whole multiples of the period from the anchor (the stack's start), like a rate
        # schedule counts from its creation.
        steps = max(0, (after - anchor) // self.every + 1)
        moment = anchor + steps * self.every
        while moment <= until:
            if moment > after:
                yield moment
            moment += self.every


@dataclass(frozen=True)
class At:
    moment: datetime

    def firings(self, anchor: datetime, after: datetime, until: datetime) -> Iterator[datetime]:
        if after < self.moment <= until:
            yield self.moment


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None  # None: `?`
    last_day_of_month: bool
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # 1=SUN … 7=SAT; None: `?`
    nth_weekday: tuple[int, int] | None  # (weekday, n) for `d#n`
    last_weekday: int | None  # weekday for `dL`
    years: frozenset[int] | None  # None: any year
    zone: ZoneInfo

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        if self.days_of_month is not None or self.last_day_of_month:
            last = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            return (self.days_of_month is not None and day.day in self.days_of_month) or (
                self.last_day_of_month and day == last
            )
        weekday = (day.weekday() + 1) % 7 + 1
        if self.nth_weekday is not None:
            wanted, n = self.nth_weekday
            return weekday == wanted and (day.day - 1) // 7 + 1 == n
        if self.last_weekday is not None:
            return weekday == self.last_weekday and (day + timedelta(days=7)).month != day.month
        return self.days_of_week is None or weekday in self.days_of_week

    def firings(self, anchor: datetime, after: datetime, until: datetime) -> Iterator[datetime]:
        day = after.astimezone(self.zone).date()
        last_day = until.astimezone(self.zone).date()
        while day <= last_day:
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        local = datetime(
                            day.year, day.month, day.day, hour, minute, tzinfo=self.zone
                        )
                        moment = local.astimezone(UTC)
                        if after < moment <= until:
                            yield moment
            day += timedelta(days=1)


def _values(field: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    def number(token: str) -> int:
        token = token.upper()
        value = names[token] if names and token in names else int(token)
        if not low <= value <= high:
            raise ValueError(f"{token} is outside {low}-{high}")
        return value

    result: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = number(first), number(last)
        else:
            start = number(base)
            end = high if step_text else start
        result.update(range(start, end + 1, step))
    return frozenset(result)


def _cron(fields: list[str], zone: ZoneInfo) -> Cron:
    if len(fields) != 6:
        raise ValueError("cron() takes six fields: minutes hours day-of-month month weekday year")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
    if "W" in dom.upper():
        raise ValueError("the W (nearest weekday) form is not supported locally")
    nth: tuple[int, int] | None = None
    last_weekday: int | None = None
    weekdays: frozenset[int] | None = None
    if dow != "?":
        if "#" in dow:
            weekday, n = dow.split("#", 1)
            nth = (next(iter(_values(weekday, 1, 7, _WEEKDAYS))), int(n))
        elif dow.upper().endswith("L"):
            last_weekday = next(iter(_values(dow[:-1] or "7", 1, 7, _WEEKDAYS)))
        else:
            weekdays = _values(dow, 1, 7, _WEEKDAYS)
    last_day = dom.upper() == "L"
    return Cron(
        minutes=_values(minutes, 0, 59),
        hours=_values(hours, 0, 23),
        days_of_month=None if dom == "?" or last_day else _values(dom, 1, 31),
        last_day_of_month=last_day,
        months=_values(month, 1, 12, _MONTHS),
        days_of_week=weekdays,
        nth_weekday=nth,
        last_weekday=last_weekday,
        years=None if year == "*" else _values(year, 1970, 2199),
        zone=zone,
    )


def parse(expression: str, timezone: str | None = None) -> Recurrence:
    """A schedule expression as EventBridge Scheduler reads it (timezone applies to cron/at)."""
    zone = ZoneInfo(timezone or "UTC")
    text = expression.strip()
    if match := _RATE.match(text):
        value, unit = int(match[1]), match[2].rstrip("s")
        if value < 1:
            raise ValueError("a rate must be positive")
        return Rate(value * _UNITS[unit])
    if match := _CRON.match(text):
        return _cron(match[1].split(), zone)
    if match := _AT.match(text):
        return At(datetime.fromisoformat(match[1]).replace(tzinfo=zone).astimezone(UTC))
    raise ValueError(f"not a schedule expression: {expression!r}")


def shortest_interval(recurrence: Recurrence, *, over: timedelta = timedelta(days=8)) -> timedelta:
    """The shortest gap between two firings (a week and a day of firings are inspected)."""
    if isinstance(recurrence, Rate):
        return recurrence.every
    start = datetime(2030, 1, 1, tzinfo=UTC)
    moments = list(recurrence.firings(start, start, start + over))
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    return min(gaps, default=over)
