"""Free service slots: the location's capacity (posts, working hours, slot length, its own days
off and the production calendar's) minus what is booked. Pure; times are the location's local
times, keyed `{date}T{HH:MM}`."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from trigly.booking import calendar
from trigly.locations.model import ServiceCapacity

DAYS_SHOWN = 14
MIN_LEAD = timedelta(hours=2)  # no booking for a slot about to start


def slot_key(start: datetime, zone: ZoneInfo) -> str:
    local = start.astimezone(zone)
    return f"{local.date().isoformat()}T{local:%H:%M}"


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # aware, in the location's zone
    free: int

    @property
    def value(self) -> str:
        """What the booking form posts: ISO 8601 with the location's offset."""
        return self.starts_at.isoformat()


def _hours_weekday(capacity: ServiceCapacity, day: date) -> int | None:
    """Whose hours the day has: its own weekday's, none on a day off, or on a weekend the
    decree made a working day, the hours of the weekday it replaces."""
    if day in capacity.holidays:
        return None
    if capacity.works_public_holidays:
        return day.weekday()
    if calendar.is_day_off(day):
        return None
    replaces = calendar.working_weekend(day)
    if replaces is not None and not any(h.weekday == day.weekday() for h in capacity.hours):
        return replaces.weekday()
    return day.weekday()


def day_slots(capacity: ServiceCapacity, zone: ZoneInfo, day: date) -> list[datetime]:
    """Every slot start of a working day (none on a day off or a day without hours)."""
    weekday = _hours_weekday(capacity, day)
    if weekday is None:
        return []
    starts = []
    step = timedelta(minutes=capacity.slot_minutes)
    for hours in capacity.hours:
        if hours.weekday != weekday:
            continue
        moment = datetime.combine(day, hours.opens, tzinfo=zone)
        closes = datetime.combine(day, hours.closes, tzinfo=zone)
        while moment + step <= closes:
            starts.append(moment)
            moment += step
    return sorted(starts)


def containing_slot(capacity: ServiceCapacity, zone: ZoneInfo, moment: datetime) -> datetime | None:
    """The start of the slot a time falls in (a DMS booking at 10:15 takes the 10:00 slot)."""
    step = timedelta(minutes=capacity.slot_minutes)
    local = moment.astimezone(zone)
    for start in day_slots(capacity, zone, local.date()):
        if start <= local < start + step:
            return start
    return None


def free_slots(
    capacity: ServiceCapacity,
    zone: ZoneInfo,
    booked: dict[str, int],
    now: datetime,
    days: int = DAYS_SHOWN,
) -> list[Slot]:
    """Slots from `now + MIN_LEAD` over the next `days` days that still have a free post."""
    first = now.astimezone(zone).date()
    found = []
    for offset in range(days + 1):
        for start in day_slots(capacity, zone, first + timedelta(days=offset)):
            if start < now + MIN_LEAD:
                continue
            free = capacity.posts - booked.get(slot_key(start, zone), 0)
            if free > 0:
                found.append(Slot(start, free))
    return found


@dataclass(frozen=True)
class DayLoad:
    day: date
    places: int  # posts × slots of the day
    free: int


def days_ahead(
    capacity: ServiceCapacity, zone: ZoneInfo, booked: dict[str, int], now: datetime, days: int
) -> list[DayLoad]:
    """Places and free places of each of the next `days` days, from tomorrow: a reminder sent
    today is booked from tomorrow on, and today's places are mostly gone by then."""
    first = now.astimezone(zone).date()
    loads = []
    for offset in range(1, days + 1):
        day = first + timedelta(days=offset)
        starts = day_slots(capacity, zone, day)
        places = len(starts) * capacity.posts
        taken = sum(min(capacity.posts, booked.get(slot_key(s, zone), 0)) for s in starts)
        loads.append(DayLoad(day, places, places - taken))
    return loads


def free_share(loads: list[DayLoad]) -> float:
    """How much of these days' places is still free (0..1), free and places counted over the
    same days; no working day at all counts as full."""
    places = sum(load.places for load in loads)
    return sum(load.free for load in loads) / places if places else 0.0
