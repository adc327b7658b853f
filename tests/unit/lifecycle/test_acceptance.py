"""The issue's acceptance case, in the domain: a 2022 Kia Rio last serviced 11 months ago."""

from datetime import date

from tests.unit.lifecycle.builders import car, reading, sale, visit
from trigly.lifecycle.calendar import add_months
from trigly.lifecycle.maintenance import next_maintenance
from trigly.lifecycle.plans import plan_for
from trigly.vehicles.model import OdometerReading

TODAY = date(2026, 11, 25)


def test_a_kia_rio_serviced_eleven_months_ago_at_15000_km_is_due_for_to2_by_time() -> None:
    # Given a 2022 Kia Rio sold new, serviced (a maintenance job) 11 months ago at 15,000 km
    serviced_on = add_months(TODAY, -11)
    last = visit(serviced_on, 15_000)
    kia = car("Kia", "Rio", 2022, sales=[sale(date(2022, 8, 1))], visits=[last])

    # When the next maintenance is computed
    upcoming = next_maintenance(kia, plan_for("Kia", "Rio"), TODAY, [last])

    # Then it is ТО-2 at 30,000 km, due 12 months after the last service (time wins)
    assert upcoming is not None
    assert (upcoming.number, upcoming.due_km, upcoming.by) == (2, 30_000, "time")
    assert upcoming.due_on == add_months(serviced_on, 12)
    assert upcoming.window.p10 <= upcoming.due_on <= upcoming.window.p90
    assert upcoming.view() == {
        "due_on": add_months(serviced_on, 12).isoformat(),
        "due_km": 30_000,
        "window": {
            "p10": upcoming.window.p10.isoformat(),
            "p90": upcoming.window.p90.isoformat(),
        },
        "service": "ТО-2 (30 000 км)",
        "number": 2,
    }


def test_the_same_car_known_only_by_its_last_service_and_reading_gives_the_same_answer() -> None:
    # Given only the car record: model year, the reading and last_service_at (no visits)
    serviced_on = add_months(TODAY, -11)
    kia = car("KIA", "RIO", 2022, readings=[reading(serviced_on, 15_000)])
    kia = kia.model_copy(update={"last_service_at": kia.readings[-1].at})
    assert isinstance(kia.readings[-1], OdometerReading)

    upcoming = next_maintenance(kia, plan_for("KIA", "RIO"), TODAY)

    assert upcoming is not None
    assert (upcoming.number, upcoming.due_km, upcoming.by) == (2, 30_000, "time")
    assert upcoming.due_on == add_months(serviced_on, 12)
