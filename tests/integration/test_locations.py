"""Locations of a dealer group: created, listed, replaced; validated; private to the tenant."""

from tests.integration.conftest import TenantFixture
from tests.integration.test_ingest_and_api import api

SERVICE_STATION = {
    "name": "Автомир Север — сервис",
    "kind": "service_station",
    "brands": ["Kia", "Hyundai"],
    "timezone": "Europe/Moscow",
    "region": "RU-MOW",
    "capacity": {
        "posts": 6,
        "slot_minutes": 60,
        "hours": [{"weekday": d, "opens": "09:00", "closes": "20:00"} for d in range(6)],
        "holidays": ["2027-01-01"],
    },
}


def test_a_location_is_created_listed_and_replaced(
    dealer: TenantFixture, other_dealer: TenantFixture
) -> None:
    status, created = api("POST", "/v1/locations", dealer.api_key, body=SERVICE_STATION)
    assert status == 201 and created["id"].startswith("loc_")
    assert created["capacity"]["posts"] == 6
    listing = api("GET", "/v1/locations", dealer.api_key)[1]["items"]
    assert [item["id"] for item in listing] == [created["id"]]
    status, replaced = api(
        "PUT",
        f"/v1/locations/{created['id']}",
        dealer.api_key,
        body={**SERVICE_STATION, "brands": ["Kia"]},
    )
    assert status == 200 and replaced["brands"] == ["Kia"]
    assert api("GET", f"/v1/locations/{created['id']}", other_dealer.api_key)[0] == 404


def test_bad_locations_name_the_field(dealer: TenantFixture) -> None:
    bad_hours = {**SERVICE_STATION, "capacity": {**SERVICE_STATION["capacity"], "posts": 0}}
    status, problem = api("POST", "/v1/locations", dealer.api_key, body=bad_hours)
    assert status == 422 and problem["errors"][0]["field"] == "capacity.posts"
    status, problem = api(
        "POST", "/v1/locations", dealer.api_key, body={**SERVICE_STATION, "timezone": "Moscow"}
    )
    assert status == 422 and problem["errors"][0]["field"] == "timezone"
