"""Next maintenance: which service, the km and time dates, and its window."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.lifecycle.builders import car, job, reading, sale, visit
from trigly.lifecycle.calendar import add_months
from trigly.lifecycle.maintenance import (
    car_start,
    last_maintenance,
    next_maintenance,
    readings_of,
)
from trigly.lifecycle.plans import MaintenancePlan, plan_for
from trigly.profiles.records import ServiceVisit

TODAY = date(2026, 11, 25)
KIA = plan_for("Kia", "Rio")


def test_a_high_mileage_driver_is_due_by_km_before_the_year_is_out() -> None:
    # Given a taxi-like Kia: 120 km a day for two years, ТО-3 at 45,000 km four months ago
    start = date(2024, 11, 1)
    history = [reading(start + timedelta(days=d), 120 * d) for d in range(0, 360, 60)]
    last = visit(start + timedelta(days=375), 45_000)
    kia = car(readings=history, sales=[sale(start)], visits=[last])

    upcoming = next_maintenance(kia, KIA, TODAY, [last])

    # Then ТО-4 at 60,000 km, due by km ~5 months after ТО-3 (a year of history shrinks 120
    # km a day a third of the way to the 48 km prior), well before the 12 months
    assert upcoming is not None
    assert (upcoming.number, upcoming.due_km, upcoming.by) == (4, 60_000, "km")
    assert upcoming.time_due_on == add_months(last.closed_at.date(), 12)
    assert upcoming.due_on < upcoming.time_due_on
    assert 125 <= (upcoming.due_on - last.closed_at.date()).days <= 170
    assert upcoming.window.p10 < upcoming.due_on < upcoming.window.p90 <= upcoming.time_due_on


@pytest.mark.parametrize(
    ("last_km", "number", "due_km"),
    [
        (15_000, 2, 30_000),
        (12_100, 2, 30_000),  # early ТО-1
        (3_000, 2, 30_000),  # ТО-1 by time: a year and only 3,000 km
        (22_000, 2, 30_000),  # late ТО-1
        (23_000, 3, 45_000),  # nearer ТО-2
        (61_000, 5, 75_000),
    ],
)
def test_the_next_service_follows_the_one_nearest_the_last_odometer(
    last_km: int, number: int, due_km: int
) -> None:
    last = visit(date(2026, 6, 1), last_km)
    kia = car(sales=[sale(date(2022, 8, 1))], visits=[last])
    upcoming = next_maintenance(kia, KIA, TODAY, [last])
    assert upcoming is not None
    assert (upcoming.number, upcoming.due_km) == (number, due_km)
    assert upcoming.due_on > last.closed_at.date()


def test_a_new_car_never_serviced_is_due_for_to1_a_plan_interval_after_its_sale() -> None:
    kia = car(sales=[sale(date(2026, 3, 10), km=5)])
    upcoming = next_maintenance(kia, KIA, TODAY)
    assert upcoming is not None
    assert (upcoming.number, upcoming.due_km, upcoming.by) == (1, 15_000, "time")
    assert upcoming.due_on == date(2027, 3, 10)
    assert upcoming.last is None


def test_a_new_geely_gets_its_run_in_service_at_3000_km_or_3_months() -> None:
    geely = car("Geely", "Coolray", 2026, sales=[sale(date(2026, 10, 1))])
    upcoming = next_maintenance(geely, plan_for("Geely", "Coolray"), TODAY)
    assert upcoming is not None
    # ТО-1 at 3,000 km or 3 months: a new car at the prior's pace (~45 km a day, less in
    # autumn) reaches 3,000 km in mid-December, before the three months are up
    assert (upcoming.number, upcoming.due_km) == (1, 3_000)
    assert upcoming.time_due_on == date(2027, 1, 1)
    assert date(2026, 12, 1) <= upcoming.due_on <= upcoming.window.p90 == date(2027, 1, 1)


def test_after_the_run_in_service_the_next_is_due_at_the_first_year() -> None:
    run_in = visit(date(2026, 1, 5), 2_900)
    geely = car("Geely", "Coolray", 2025, sales=[sale(date(2025, 10, 5))], visits=[run_in])
    upcoming = next_maintenance(geely, plan_for("Geely", None), TODAY, [run_in])
    assert upcoming is not None
    assert (upcoming.number, upcoming.due_km) == (2, 10_000)
    assert upcoming.time_due_on == date(2026, 10, 5)  # 9 months after ТО at month 3


def test_a_used_car_without_history_is_due_for_the_step_after_its_odometer() -> None:
    # Bought used at 62,000 km, model year 2021, no maintenance seen
    used = car(
        year=2021,
        readings=[reading(date(2026, 9, 1), 62_000, "sale")],
        sales=[sale(date(2026, 9, 1), condition="used", km=62_000)],
    )
    upcoming = next_maintenance(used, KIA, TODAY)
    assert upcoming is not None
    assert (upcoming.number, upcoming.due_km) == (5, 75_000)
    assert upcoming.time_due_on == date(2026, 7, 1)  # month 60 from the model year's middle
    assert upcoming.overdue  # due before we knew the car: service it now


def test_a_repair_or_a_declined_maintenance_is_not_a_maintenance() -> None:
    repair = visit(date(2026, 5, 1), 14_000, job("замена колодок", kind="repair"))
    declined = visit(date(2026, 6, 1), 15_000, job("ТО-1", declined=True))
    kia = car(sales=[sale(date(2025, 6, 1))], visits=[repair, declined])
    assert last_maintenance(kia, [repair, declined]) is None
    upcoming = next_maintenance(kia, KIA, TODAY, [repair, declined])
    assert upcoming is not None
    assert upcoming.number == 1
    assert upcoming.overdue  # ТО-1 was due on 2026-06-01 by time


def test_without_visits_the_cars_last_service_and_its_reading_stand_in() -> None:
    kia = car(readings=[reading(date(2026, 2, 1), 29_700)])
    kia = kia.model_copy(update={"last_service_at": kia.readings[0].at})
    found = last_maintenance(kia, [])
    assert found is not None and (found.on, found.km) == (date(2026, 2, 1), 29_700)
    upcoming = next_maintenance(kia, KIA, TODAY)
    assert upcoming is not None and upcoming.number == 3


def test_a_car_with_neither_age_nor_mileage_has_no_next_maintenance() -> None:
    assert next_maintenance(car(year=None), KIA, TODAY) is None


def test_a_car_with_only_a_model_year_is_due_by_time_from_mid_year() -> None:
    assert car_start(car(year=2025)) == date(2025, 7, 1)
    upcoming = next_maintenance(car(year=2025), KIA, date(2026, 3, 1))
    assert upcoming is not None
    assert (upcoming.number, upcoming.due_on, upcoming.by) == (1, date(2026, 7, 1), "time")


def test_an_overdue_service_is_flagged_but_never_dated_before_the_last_one() -> None:
    last = visit(date(2025, 8, 1), 12_000)  # a slow driver: time decides
    kia = car(sales=[sale(date(2024, 8, 1))], visits=[last])
    upcoming = next_maintenance(kia, KIA, TODAY, [last])
    assert upcoming is not None
    assert upcoming.overdue and upcoming.due_on == date(2026, 8, 1)


def test_the_view_is_the_contract_shape() -> None:
    kia = car(sales=[sale(date(2026, 3, 10))])
    upcoming = next_maintenance(kia, KIA, TODAY)
    assert upcoming is not None
    view = upcoming.view()
    assert set(view) == {"due_on", "due_km", "window", "service", "number"}
    assert set(view["window"]) == {"p10", "p90"}
    assert date.fromisoformat(view["due_on"]) == upcoming.due_on


# Random cars: a sale, some readings, some visits of any kind, any plan.
plans = st.sampled_from(
    [plan_for(make, None) for make in ("KIA", "GEELY", "WEY", "BMW", "HAVAL", "X")]
    + [MaintenancePlan(make="Y", interval_km=7_500, interval_months=6, first_km=1_000)]
)


@st.composite
def cars_and_visits(draw: st.DrawFn) -> tuple[object, list[ServiceVisit]]:
    sold = date(2018, 1, 1) + timedelta(days=draw(st.integers(0, 3000)))
    rate = draw(st.floats(3, 150))
    days = sorted(set(draw(st.lists(st.integers(1, 2500), max_size=8))))
    kinds = draw(
        st.lists(
            st.sampled_from(["maintenance", "repair", "declined"]),
            min_size=len(days),
            max_size=len(days),
        )
    )
    visits = [
        visit(
            sold + timedelta(days=d),
            round(rate * d),
            job(
                "работа",
                kind="repair" if kind == "repair" else "maintenance",
                declined=kind == "declined",
            ),
        )
        for d, kind in zip(days, kinds, strict=True)
    ]
    new = draw(st.booleans())
    vehicle = car(
        year=draw(st.none() | st.integers(2010, 2026)),
        sales=[sale(sold, condition="new" if new else "used")],
        visits=visits,
    )
    return vehicle, visits


@settings(max_examples=150, deadline=None)
@given(given_car=cars_and_visits(), plan=plans, ahead=st.integers(0, 3000))
def test_next_maintenance_is_deterministic_ordered_and_after_the_last_one(
    given_car: tuple[object, list[ServiceVisit]], plan: MaintenancePlan, ahead: int
) -> None:
    vehicle, visits = given_car
    today = date(2018, 1, 1) + timedelta(days=ahead)
    first = next_maintenance(vehicle, plan, today, visits)  # type: ignore[arg-type]
    again = next_maintenance(vehicle, plan, today, list(reversed(visits)))  # type: ignore[arg-type]
    assert first == again
    if first is None:
        return
    assert first.window.p10 <= first.due_on <= first.window.p90
    assert first.number >= 1 and first.due_km == plan.due(first.number)[0]
    if first.time_due_on is not None:
        assert first.due_on <= first.time_due_on
    assert first.overdue == (first.due_on < today)
    if first.last is not None:
        assert first.window.p10 >= first.last.on
        if first.last.km is not None:
            assert first.due_km > first.last.km


def test_a_car_sold_new_counts_its_mileage_from_the_sale_not_from_its_model_year() -> None:
    # Sold new in March 2023 (model year 2022), no reading at the sale; 30,000 km a year later
    first = visit(date(2024, 3, 1), 30_000)
    kia = car(year=2022, sales=[sale(date(2023, 3, 1))], visits=[first])
    readings = readings_of(kia, [first])
    assert [(r.km, r.source) for r in readings] == [(0, "sale"), (30_000, "service_order")]
    upcoming = next_maintenance(kia, KIA, date(2024, 3, 2), [first])
    assert upcoming is not None and upcoming.number == 3 and upcoming.by == "km"
    assert upcoming.km_due_on is not None
    # ~71 km a day from the sale (not 49 from the model year): 15,000 km in ~7 months
    assert upcoming.km_due_on < date(2024, 11, 1)
