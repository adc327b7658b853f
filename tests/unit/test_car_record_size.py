"""The car record as stored: it carries its next maintenance and sits on the `due` index itself,
and must stay one write unit (DynamoDB bills per started KB) with room for the car's history."""

import zlib
from datetime import timedelta

from benchmarks.meter import item_size
from trigly.platform import clock
from trigly.store import dictionaries
from trigly.store.models import VehicleItem
from trigly.vehicles.model import (
    Financing,
    InsurancePolicy,
    OdometerReading,
    Ownership,
    Sale,
    Vehicle,
)

TENANT, CUSTOMER, VIN = "ten_01m99edr42y8jwcsk9qp90078c", "cus_01m99edsqg7879s7bf198vccek", "X" * 17


def _car(visits: int) -> Vehicle:
    """Shaped like the ingest benchmark's known car: bought on a loan, OSAGO, yearly visits."""
    now = clock.now()
    bought = now - timedelta(days=365 * 3 + 250)
    readings = [OdometerReading(at=bought, km=12, source="sale")]
    readings += [
        OdometerReading(
            at=bought + timedelta(days=190 + 365 * v), km=7_500 + 15_000 * v, source="service_order"
        )
        for v in range(visits)
    ]
    due_on = (now + timedelta(days=365)).date()
    return Vehicle(
        vin=VIN,
        make="Kia",
        model="Rio",
        trim="Prestige",
        year=bought.year,
        plate="А123ВС116",
        owners=[Ownership(customer_id=CUSTOMER, since=bought, via="sale", ref="D-e100000-s1")],
        readings=readings,
        sales=[
            Sale(
                deal_id="D-e100000-s1",
                customer_id=CUSTOMER,
                sold_at=bought,
                price=1_899_900.0,
                currency="RUB",
                condition="new",
                mileage_km=12,
                financing=Financing(
                    type="loan",
                    term_months=36,
                    monthly_payment=48_750.5,
                    ends_on=(bought + timedelta(days=1096)).date(),
                ),
                location_id="kzn-pobedy",
                salesperson="Алексей Кузнецов",
            )
        ],
        insurance=[
            InsurancePolicy(
                policy_id="XXX-0000100000",
                kind="osago",
                ends_on=(now + timedelta(days=100)).date(),
                customer_id=CUSTOMER,
            )
        ],
        last_service_at=readings[-1].at,
        last_maintenance_at=readings[-1].at,
        stamps={f: "0lf9ntu800mxdx5yv6001" for f in ("make", "model", "trim", "year", "plate")},
        schedule={
            "tyre_season": "22e742402161",
            "insurance_renewal": "48c711fadce3",
            "warranty_end": "6d8daac6a6aa",
            "car_age_trade_in": "2ab578b1aa1c",
        },
        due_start={
            "journey_id": "maintenance_reminder",
            "key": f"{VIN}:maintenance:{visits + 1}",
            "customer_id": CUSTOMER,
            "vin": VIN,
            "fire_on": (due_on - timedelta(days=14)).isoformat(),
            "due_on": due_on.isoformat(),
            "details": {
                "number": visits + 1,
                "service": "ТО-4 (60 000 км)",
                "due_km": 60_000,
                "due_on": due_on.isoformat(),
                "by": "time",
                "overdue": False,
            },
        },
    )


def _stored(car: Vehicle) -> VehicleItem:
    item = VehicleItem(f"T#{TENANT}#V#{VIN}", "CAR", doc=car.model_dump_json(exclude_none=True))
    assert car.due_start is not None
    item.due_pk = f"T#{TENANT}#LIFE#{car.due_start['fire_on']}"
    item.due_sk = "maintenance_reminder"
    item.version = 12
    return item


def test_the_car_record_with_its_next_maintenance_is_one_write_unit_with_room_to_grow() -> None:
    known = item_size(_stored(_car(visits=3)).serialize())
    assert known <= 800  # one unit, with room for years of readings and another policy
    # Twelve more years of yearly visits still fit in one unit
    assert item_size(_stored(_car(visits=15)).serialize()) < 1024


def test_the_dictionary_takes_a_third_off_the_car_record() -> None:
    text = _car(visits=3).model_dump_json(exclude_none=True)
    plain = len(dictionaries.compress(text))
    assert len(dictionaries.compress(text, dictionaries.CAR_RECORD_V1)) <= plain * 2 / 3


def test_car_records_stored_before_the_dictionary_read_as_they_were() -> None:
    car = _car(visits=2)
    text = car.model_dump_json(exclude_none=True)
    before = zlib.compress(text.encode(), 6)  # how every document was written until now
    assert dictionaries.decompress(before) == text
    item = VehicleItem.from_raw_data(
        {"pk": {"S": "T#t#V#v"}, "sk": {"S": "CAR"}, "doc": {"B": before}, "kind": {"S": "vehicle"}}
    )
    assert Vehicle.model_validate_json(item.doc) == car
    # ...and what is written now names the dictionary, and reads back the same
    written = _stored(car).serialize()["doc"]["B"]
    assert dictionaries.dictionary_of(written) is dictionaries.CAR_RECORD_V1
    assert Vehicle.model_validate_json(dictionaries.decompress(written)) == car


def test_the_car_record_dictionary_never_changes() -> None:
    """Stored streams name it by its Adler-32: an edit would make every car record unreadable.
    A better dictionary is added under a new name (store.dictionaries.KNOWN), never edited."""
    assert zlib.adler32(dictionaries.CAR_RECORD_V1) == 3691461866
    assert dictionaries.KNOWN[3691461866] is dictionaries.CAR_RECORD_V1
