"""Late, out-of-order and repeated events converge to the same profile as in-order ones
(property-based: hypothesis shuffles and duplicates a realistic stream through the real path)."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, new_tenant
from tests.integration.test_car_and_timeline_events import event, service, sold
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.support import customer_event

VIN = "Z94C241BBNR066666"
STREAM = [
    customer_event(
        "s-1",
        "P-1",
        "2022-01-10T10:00:00+03:00",
        first_name="Анна",
        phones=["89160001111"],
        city="Тула",
    ),
    customer_event(
        "s-2", "P-1", "2024-05-10T10:00:00+03:00", city="Москва", phones=["89160002222"]
    ),
    sold("s-3", "P-1", VIN, "2022-02-01T10:00:00+03:00", mileage_km=10),
    service("s-4", "P-1", VIN, "2023-02-01T10:00:00+03:00", 14_000),
    service("s-5", "P-1", VIN, "2024-02-01T10:00:00+03:00", 29_000),
    event(
        "s-6",
        "vehicle.odometer",
        "2023-08-01T10:00:00+03:00",
        vin=VIN,
        mileage_km=20_000,
        at="2023-08-01T10:00:00+03:00",
        source="telematics",
    ),
    event(
        "s-7",
        "service_appointment.changed",
        "2024-06-01T10:00:00+03:00",
        appointment_id="A-1",
        customer_external_id="P-1",
        status="booked",
        starts_at="2024-06-10T10:00:00+03:00",
    ),
    event(
        "s-8",
        "service_appointment.changed",
        "2024-06-02T10:00:00+03:00",
        appointment_id="A-1",
        customer_external_id="P-1",
        status="cancelled",
        starts_at="2024-06-10T10:00:00+03:00",
    ),
    event(
        "s-9",
        "test_drive.changed",
        "2024-07-01T10:00:00+03:00",
        booking_id="T-1",
        customer_external_id="P-1",
        model="Sportage",
        status="booked",
        starts_at="2024-07-05T10:00:00+03:00",
    ),
    event(
        "s-10",
        "test_drive.changed",
        "2024-07-05T12:00:00+03:00",
        booking_id="T-1",
        customer_external_id="P-1",
        model="Sportage",
        status="completed",
        starts_at="2024-07-05T10:00:00+03:00",
    ),
]


def comparable(profile: dict[str, Any]) -> dict[str, Any]:
    for volatile in ("id", "created_at", "updated_at", "history_cursor"):
        profile.pop(volatile)
    profile["external_ids"] = sorted(profile["external_ids"].values())  # connectors differ
    return profile


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_order_with_repeats_gives_the_in_order_profile(
    stack: DeployedStack, drain: IngestDrain, data: st.DataObject
) -> None:
    # Given the stream applied in order for one dealer
    in_order = new_tenant("В порядке")
    for item in STREAM:
        ingest(in_order, drain, item)
    # And shuffled, in batches, with some events resent under new delivery, for another
    shuffled = new_tenant("Вперемешку")
    order = data.draw(st.permutations(STREAM))
    repeats = data.draw(st.lists(st.sampled_from(STREAM), max_size=4))
    cut = data.draw(st.integers(1, len(order)))
    ingest(shuffled, drain, *order[:cut])
    if order[cut:]:
        ingest(shuffled, drain, *order[cut:])
    if repeats:
        ingest(shuffled, drain, *[{**r, "id": r["id"] + "-again"} for r in repeats])
    # Then both dealers hold the same profile
    profiles = []
    for tenant in (in_order, shuffled):
        customer = only_customer(tenant, external_id="P-1")
        status, profile = api("GET", f"/v1/customers/{customer['id']}", tenant.api_key)
        assert status == 200
        profiles.append(comparable(profile))
    assert profiles[0] == profiles[1]
    assert profiles[0]["city"] == "Москва" and profiles[0]["vehicles"][0]["mileage_km"] == 29_000
    assert profiles[0]["appointments"][0]["status"] == "cancelled"
    assert profiles[0]["test_drives"][0]["status"] == "completed"
