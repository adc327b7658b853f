"""The Russian production calendar: which days are off by law and by the government's yearly
decree moving days off (public holidays, the New Year break, a holiday that falls on a weekend
moved to a weekday), and which weekends became working days in exchange.

Shipped as data (`ru_production_calendar.json`) so the booking page pays nothing at cold start;
the data is generated from the maintained `holidays` package (`make calendar`; a development
dependency), and a unit test fails as soon as the package and the shipped data disagree: a new
decree arrives with a package upgrade, then `make calendar` and a commit. Years beyond the data
fall back to the fixed public holidays of the Labour Code (art. 112), without the yearly moves.
"""

import json
import re
import sys
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("ru_production_calendar.json")
YEARS = range(2024, 2029)
# Labour Code art. 112: 1–6 and 8 January (the New Year break), 7 January (Christmas),
# 23 February, 8 March, 1 May, 9 May, 12 June, 4 November.
STATUTORY = frozenset(
    [(1, d) for d in range(1, 9)] + [(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)]
)
_MOVED_FROM = re.compile(r"\(перенесено с (\d\d\.\d\d\.\d{4})\)")


@cache
def _shipped() -> tuple[frozenset[int], frozenset[date], dict[date, date]]:
    doc = json.loads(DATA.read_text(encoding="utf-8"))
    return (
        frozenset(doc["years"]),
        frozenset(date.fromisoformat(d) for d in doc["days_off"]),
        {
            date.fromisoformat(weekend): date.fromisoformat(weekday)
            for weekend, weekday in doc["working_weekends"].items()
        },
    )


def is_day_off(day: date) -> bool:
    """A public holiday or a day off moved there by decree (weekends are not listed: a
    location's own hours say whether it works on Saturdays and Sundays)."""
    years, days_off, _ = _shipped()
    if day.year in years:
        return day in days_off
    return (day.month, day.day) in STATUTORY


def working_weekend(day: date) -> date | None:
    """For a weekend made a working day by decree, the weekday whose work it took over (a
    workshop closed at weekends works that day with that weekday's hours); else None."""
    return _shipped()[2].get(day)


def generate(years: range = YEARS) -> dict[str, Any]:
    """The shipped data, computed from the `holidays` package (development only)."""
    from holidays.countries.russia import Russia

    calendar = Russia(years=list(years), language="ru")  # type: ignore[no-untyped-call]
    working: dict[str, str] = {}
    for day, name in calendar.items():
        found = _MOVED_FROM.search(name)
        if found is None:
            continue
        source = datetime.strptime(found.group(1), "%d.%m.%Y").date()
        if source in calendar.weekend_workdays:
            working[source.isoformat()] = day.isoformat()
    assert len(working) == len(calendar.weekend_workdays), "a working weekend without its day"
    return {
        "years": list(years),
        "days_off": {day.isoformat(): name for day, name in sorted(calendar.items())},
        "working_weekends": dict(sorted(working.items())),
    }


if __name__ == "__main__":  # `make calendar`
    DATA.write_text(json.dumps(generate(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {DATA}\n")
