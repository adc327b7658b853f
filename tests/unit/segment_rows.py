"""Synthetic analytics-view rows for the segment tests, and an in-memory DuckDB holding them.

`view_from_rows` is the analytics view's own (`trigly.analytics.view`: the reader's SQL over
the rows); `population` draws customers, cars and model views whose values
collide often (shared cities, equal spends, dates on the boundaries) so ties and edges occur.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import duckdb

from trigly.analytics import view
from trigly.analytics.schema import CONSENT_COLUMNS

Row = dict[str, Any]


def view_from_rows(rows: dict[str, list[Row]]) -> duckdb.DuckDBPyConnection:
    """The analytics view's own views over these rows (trigly.analytics.view): live rows only,
    newest version per customer, erased customers hidden, as `open_view` shows a tenant."""
    return view.view_from_rows(rows)


def _maybe(rng: random.Random, value: Any, none_share: float = 0.2) -> Any:
    return None if rng.random() < none_share else value


def _date(rng: random.Random, today: date, lo: int, hi: int) -> date:
    """A day between `lo` and `hi` days after today (negative: before), often on a boundary."""
    edges = [lo, hi, 0, -365, -366, -730, -731, -90, -91, 30, -30]
    days = rng.choice([e for e in edges if lo <= e <= hi]) if rng.random() < 0.3 else None
    return today + timedelta(days=days if days is not None else rng.randint(lo, hi))


def customer_row(rng: random.Random, index: int, today: date) -> Row:
    row: Row = {
        "customer_id": f"cus_{index:05d}",
        "version": "01",
        "erased": rng.choice([False, False, False, False, None, True]),
        "region": _maybe(rng, rng.choice(["Tatarstan", "Moscow Oblast", "TATARSTAN"])),
        "city": _maybe(rng, rng.choice(["Москва", "москва", "Kazan", "O'Fallon"])),
        "location_id": _maybe(rng, rng.choice(["loc_a", "loc_b"])),
        "preferred_channel": _maybe(rng, rng.choice(["sms", "email", "telegram"])),
        "timezone": "Europe/Moscow",
        "birth_date": _maybe(rng, _birth_date(rng, today)),
        "visits_count": _maybe(rng, rng.randint(0, 4)),
        "last_visit_on": _maybe(rng, _date(rng, today, -1200, 0), 0.3),
        "visits_total_amount": _maybe(rng, rng.choice([0.0, 1500.5, 20000.0, 73000.25])),
        "purchases_count": _maybe(rng, rng.randint(0, 2)),
        "last_purchase_on": _maybe(rng, _date(rng, today, -1500, 0), 0.5),
        "spend_total": _maybe(rng, rng.choice([0.0, 1500.5, 20000.0, 2_500_000.0])),
        "last_clicked_on": _maybe(rng, _date(rng, today, -400, 0), 0.4),
        "web_last_visit_on": _maybe(rng, _date(rng, today, -400, 0), 0.4),
        "readiness_score": _maybe(rng, rng.choice([0.1, 0.5, 0.93]), 0.4),
        "loyalty_balance": _maybe(rng, rng.choice([0, 150, 9000]), 0.4),
        "loyalty_tier": _maybe(rng, rng.choice(["gold", "silver"]), 0.4),
    }
    for column in CONSENT_COLUMNS:
        row[column] = rng.choice([True, False, None])
    return row


def _birth_date(rng: random.Random, today: date) -> date:
    if rng.random() < 0.15:  # a leap-day birthday
        year = rng.choice([1980, 1984, 1996, 2000])
        return date(year, 2, 29)
    if rng.random() < 0.2:  # a birthday today, yesterday or tomorrow, some years ago
        years = rng.randint(18, 70)
        day = today + timedelta(days=rng.choice([-1, 0, 1]))
        return day.replace(year=day.year - years) if (day.month, day.day) != (2, 29) else day
    return today - timedelta(days=rng.randint(18 * 365, 80 * 365))


def car_row(rng: random.Random, customer_id: str, today: date) -> Row:
    return {
        "customer_id": customer_id,
        "version": "01",
        "vin": f"VIN{rng.randint(0, 10**9):09d}",
        "current": rng.choice([True, True, True, False, None]),
        "make": _maybe(rng, rng.choice(["Kia", "KIA", "Hyundai", "Škoda"])),
        "model": _maybe(rng, rng.choice(["Rio", "Sportage", "Solaris", "Octavia"])),
        "year": _maybe(rng, rng.randint(2008, today.year)),
        "condition": _maybe(rng, rng.choice(["new", "used", "Used"])),
        "first_registered_on": _maybe(rng, _date(rng, today, -15 * 365, 0)),
        "mileage_km": _maybe(rng, rng.choice([0.0, 12000.0, 45000.0, 99999.0])),
        "mileage_on": _maybe(rng, _date(rng, today, -800, 5)),
        "km_per_day": _maybe(rng, rng.choice([0.0, 20.5, 37.25, 55.0])),
        "maintenance_due_on": _maybe(rng, _date(rng, today, -200, 400)),
        "financing_ends_on": _maybe(rng, _date(rng, today, -100, 900), 0.5),
        "insurance_ends_on": _maybe(rng, _date(rng, today, -100, 365), 0.4),
        "warranty_ends_on": _maybe(rng, _date(rng, today, -300, 1000), 0.4),
    }


def model_view_row(rng: random.Random, customer_id: str, today: date) -> Row:
    return {
        "customer_id": customer_id,
        "version": "01",
        "make": _maybe(rng, rng.choice(["Kia", "Hyundai"]), 0.1),
        "model": _maybe(rng, rng.choice(["Rio", "Sportage", "Solaris", "K5"]), 0.1),
        "last_viewed_on": _date(rng, today, -150, 0),
    }


def population(seed: int, customers: int, today: date) -> dict[str, list[Row]]:
    rng = random.Random(seed)
    rows: dict[str, list[Row]] = {"customers": [], "cars": [], "model_views": []}
    for index in range(customers):
        customer = customer_row(rng, index, today)
        rows["customers"].append(customer)
        for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
            rows["cars"].append(car_row(rng, customer["customer_id"], today))
        for _ in range(rng.choice([0, 0, 1, 2])):
            rows["model_views"].append(model_view_row(rng, customer["customer_id"], today))
    return rows
