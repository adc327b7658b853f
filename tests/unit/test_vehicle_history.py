from datetime import UTC, date, datetime, timedelta
from itertools import permutations

from trigly.vehicles import history
from trigly.vehicles.model import DEALER, OdometerReading, Ownership, Vehicle

T0 = datetime(2021, 5, 1, tzinfo=UTC)


def test_ownership_converges_in_any_order_and_the_latest_period_owns() -> None:
    periods = [
        Ownership(customer_id="cus_a", since=T0, via="sale", ref="D1"),
        Ownership(customer_id=DEALER, since=T0 + timedelta(days=900), via="trade_in", ref="D2"),
        Ownership(customer_id="cus_b", since=T0 + timedelta(days=950), via="sale", ref="D3"),
    ]
    results = []
    for order in permutations(periods):
        car = Vehicle(vin="XWEPC811DC0001234")
        for period in [*order, order[0]]:  # and one duplicate
            history.add_ownership(car, period)
        results.append(car)
    assert all(r == results[0] for r in results)
    car = results[0]
    assert car.owner_id == "cus_b"
    assert car.ownership_of("cus_a") == (T0, T0 + timedelta(days=900))


def test_an_older_lower_reading_never_lowers_the_mileage() -> None:
    car = Vehicle(vin="XWEPC811DC0001234")
    history.add_reading(
        car, OdometerReading(at=T0 + timedelta(days=300), km=15_000, source="service_order")
    )
    history.add_reading(car, OdometerReading(at=T0, km=5_000, source="sale"))
    history.add_reading(car, OdometerReading(at=T0, km=5_000, source="sale"))
    assert car.mileage_km == 15_000
    assert [r.km for r in car.readings] == [5_000, 15_000]


def test_details_keep_the_newest_value_per_field() -> None:
    car = Vehicle(vin="XWEPC811DC0001234")
    history.set_details(car, "2026-02", model="Rio", plate="А123ВС77")
    history.set_details(car, "2026-01", model="Rio X", year=2022)
    assert (car.model, car.year, car.plate) == ("Rio", 2022, "А123ВС77")


def test_a_visit_seen_before_the_sale_does_not_move_the_start_of_ownership() -> None:
    sale = Ownership(customer_id="cus_a", since=T0, via="sale", ref="D1")
    in_order = Vehicle(vin="XWEPC811DC0001234")
    history.add_ownership(in_order, sale)
    history.claim_if_unowned(in_order, "cus_a", T0 + timedelta(days=400), "service", "RO-1")
    late_sale = Vehicle(vin="XWEPC811DC0001234")
    history.claim_if_unowned(late_sale, "cus_a", T0 + timedelta(days=400), "service", "RO-1")
    history.add_ownership(late_sale, sale)
    assert in_order.ownership_of("cus_a") == late_sale.ownership_of("cus_a") == (T0, None)


def test_a_repair_after_maintenance_does_not_restart_the_maintenance_schedule() -> None:
    from trigly.lifecycle.maintenance import next_maintenance
    from trigly.lifecycle.plans import plan_for

    serviced = datetime(2026, 1, 10, 10, tzinfo=UTC)
    car = Vehicle(vin="XWEFF41BBNR000777", make="Kia", model="Rio", year=2022)
    history.add_reading(car, OdometerReading(at=serviced, km=15_000, source="service_order"))
    history.note_service(car, serviced, maintenance=True)
    due = next_maintenance(car.as_maintained(), plan_for("Kia", "Rio"), date(2026, 6, 1))
    repaired = serviced + timedelta(days=100)
    history.add_reading(car, OdometerReading(at=repaired, km=18_000, source="service_order"))
    history.note_service(car, repaired, maintenance=False)
    assert car.last_service_at == repaired and car.last_maintenance_at == serviced
    again = next_maintenance(car.as_maintained(), plan_for("Kia", "Rio"), date(2026, 6, 1))
    assert due is not None and again is not None
    assert (again.number, again.due_km) == (due.number, due.due_km) == (2, 30_000)
    assert again.due_on <= date(2027, 1, 10)
