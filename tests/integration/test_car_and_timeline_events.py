"""Car and timeline events into the 360° profile: ownership, visits, mileage, bookings, leads."""

from typing import Any

import pytest

from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.support import customer_event
from trigly.profiles import service as profile_service

RIO = "Z94C241BBNR012345"
SOLARIS = "Z94CB41AAGR323020"


def event(
    event_id: str, type_: str, occurred_at: str = "2026-11-20T10:00:00+03:00", **data: Any
) -> dict[str, Any]:
    return {"id": event_id, "type": type_, "occurred_at": occurred_at, "data": data}


def sold(event_id: str, customer: str, vin: str, sold_at: str, **extra: Any) -> dict[str, Any]:
    data = {
        "deal_id": f"D-{event_id}",
        "customer_external_id": customer,
        "vin": vin,
        "make": "Kia",
        "model": "Rio",
        "year": 2022,
        "sold_at": sold_at,
        "price": 1_650_000,
        "condition": "new",
        **extra,
    }
    return event(event_id, "vehicle.sold", sold_at, **data)


def service(
    event_id: str, customer: str, vin: str, closed_at: str, km: int, total: float = 12_500
) -> dict[str, Any]:
    return event(
        event_id,
        "service_order.closed",
        closed_at,
        order_id=f"RO-{event_id}",
        customer_external_id=customer,
        vin=vin,
        closed_at=closed_at,
        mileage_km=km,
        jobs=[{"name": "ТО-1", "kind": "maintenance", "amount": total}],
        total_amount=total,
    )


def profile_of(dealer: TenantFixture, **query: str) -> dict[str, Any]:
    customer = only_customer(dealer, **query)
    status, profile = api("GET", f"/v1/customers/{customer['id']}", dealer.api_key)
    assert status == 200
    return profile


def test_a_sold_car_and_its_visits_appear_in_the_profile_newest_first(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    ingest(
        dealer,
        drain,
        customer_event("c-1", "K-1", first_name="Анна", phones=["89161112233"]),
        sold(
            "s-1",
            "K-1",
            RIO,
            "2022-06-10T12:00:00+03:00",
            mileage_km=12,
            financing={"type": "loan", "term_months": 36, "ends_on": "2025-06-10"},
        ),
        service("v-2", "K-1", RIO, "2023-06-01T15:00:00+03:00", 15_200),
        service("v-1", "K-1", RIO, "2022-12-01T15:00:00+03:00", 7_900),
    )
    profile = profile_of(dealer, vin=RIO.lower())
    [car] = profile["vehicles"]
    assert (car["vin"], car["make"], car["model"], car["year"]) == (RIO, "Kia", "Rio", 2022)
    assert car["mileage_km"] == 15_200
    assert car["estimated_mileage_km"] > 15_200  # years have passed since the last reading
    assert car["warranty_ends_on"] == "2027-06-10"  # Kia: five years from the sale
    assert car["financing_ends_on"] == "2025-06-10"
    assert [v["order_id"] for v in profile["visits"]] == ["RO-v-2", "RO-v-1"]
    assert profile["purchases"][0]["deal_id"] == "D-s-1"
    assert profile["aggregates"]["visit_count"] == 2
    assert profile["aggregates"]["total_service_spend"] == 25_000
    # Only what is computed: no offers yet, no loyalty programme, no readiness score
    assert profile["offers"] == [] and profile["loyalty"] is None and profile["readiness"] is None
    assert "next_needs" not in profile


def test_an_older_reading_never_lowers_the_mileage(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    ingest(dealer, drain, service("o-2", "K-2", SOLARIS, "2025-05-01T10:00:00+03:00", 80_000))
    ingest(
        dealer,
        drain,
        event(
            "o-3",
            "vehicle.odometer",
            "2024-01-01T10:00:00+03:00",
            vin=SOLARIS,
            mileage_km=60_000,
            at="2024-01-01T10:00:00+03:00",
            source="telematics",
        ),
    )
    [car] = profile_of(dealer, external_id="K-2")["vehicles"]
    assert car["mileage_km"] == 80_000


def test_a_car_sold_on_moves_to_the_new_owner_and_stays_in_the_old_ones_history(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    vin = "XTA217030L0123456"
    ingest(dealer, drain, sold("t-1", "K-3", vin, "2020-03-01T10:00:00+03:00"))
    # The later sale to someone else arrives first: order of arrival must not matter
    ingest(dealer, drain, sold("t-3", "K-4", vin, "2024-09-01T10:00:00+03:00", condition="used"))
    ingest(
        dealer,
        drain,
        sold("t-2", "K-3", "Z94C241BBNR099999", "2024-08-30T10:00:00+03:00", trade_in_vin=vin),
    )
    old_owner = profile_of(dealer, external_id="K-3")
    new_owner = profile_of(dealer, external_id="K-4")
    assert [c["vin"] for c in new_owner["vehicles"]] == [vin]
    assert vin not in [c["vin"] for c in old_owner["vehicles"]]
    assert [c["vin"] for c in old_owner["past_vehicles"]] == [vin]
    assert old_owner["past_vehicles"][0]["owned_until"] == "2024-08-30T07:00:00Z"
    assert only_customer(dealer, vin=vin)["id"] == new_owner["id"]


def test_a_cancelled_test_drive_stays_cancelled_when_the_booking_arrives_late(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    booked = event(
        "td-1",
        "test_drive.changed",
        "2026-11-10T10:00:00+03:00",
        booking_id="TD-9",
        customer_external_id="K-5",
        model="Sportage",
        status="booked",
        starts_at="2026-11-28T12:00:00+03:00",
    )
    cancelled = event(
        "td-2",
        "test_drive.changed",
        "2026-11-11T10:00:00+03:00",
        booking_id="TD-9",
        customer_external_id="K-5",
        model="Sportage",
        status="cancelled",
        starts_at="2026-11-28T12:00:00+03:00",
    )
    ingest(dealer, drain, cancelled)
    ingest(dealer, drain, booked)
    [drive] = profile_of(dealer, external_id="K-5")["test_drives"]
    assert (drive["id"], drive["status"]) == ("TD-9", "cancelled")


def test_appointments_use_the_contract_shape(dealer: TenantFixture, drain: IngestDrain) -> None:
    ingest(
        dealer,
        drain,
        event(
            "a-1",
            "service_appointment.changed",
            appointment_id="AP-1",
            customer_external_id="K-6",
            vin=RIO,
            status="booked",
            starts_at="2026-12-01T09:00:00+03:00",
            location_id="loc_1",
            source="phone",
        ),
    )
    [appointment] = profile_of(dealer, external_id="K-6")["appointments"]
    assert appointment == {
        "id": "AP-1",
        "appointment_id": "AP-1",
        "vin": RIO,
        "status": "booked",
        "starts_at": "2026-12-01T06:00:00Z",
        "location_id": "loc_1",
        "source": "phone",
    }


def test_a_lead_by_phone_joins_the_known_customer_and_brings_web_activity(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    ingest(
        dealer, drain, customer_event("l-0", "K-7", first_name="Борис", phones=["8 925 700 00 07"])
    )
    web = event(
        "w-1",
        "web.activity",
        anonymous_id="anon-77",
        at="2026-11-19T21:00:00+03:00",
        page="configurator",
        model="Sportage",
    )
    lead = event(
        "l-1",
        "lead.created",
        lead_id="LD-1",
        contact={"name": "Борис", "phone": "+7 925 700-00-07"},
        anonymous_id="anon-77",
        source="form",
        interest={"model": "Sportage"},
    )
    ingest(dealer, drain, web)
    ingest(dealer, drain, lead)
    profile = profile_of(dealer, external_id="K-7")
    assert [item["lead_id"] for item in profile["leads"]] == ["LD-1"]
    assert (
        profile["web_activity"]["models_90d"] == {"Sportage": 1}
        or profile["web_activity"]["visits_90d"] == 0
    )


def test_a_shared_phone_with_another_name_is_not_the_same_person(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    ingest(dealer, drain, customer_event("f-0", "K-8", first_name="Ирина", phones=["89267000008"]))
    lead = event(
        "f-1",
        "lead.created",
        lead_id="LD-2",
        contact={"name": "Максим", "phone": "89267000008"},
        source="call",
    )
    ingest(dealer, drain, lead)
    _status, found = api("GET", "/v1/customers", dealer.api_key, query={"phone": "89267000008"})
    names = sorted(item["first_name"] for item in found["items"])
    assert names == ["Ирина", "Максим"]


def test_replaying_every_event_changes_nothing(dealer: TenantFixture, drain: IngestDrain) -> None:
    events = [
        customer_event("r-0", "K-9", first_name="Глеб", phones=["89030000009"]),
        sold("r-1", "K-9", "Z94C241BBNR011111", "2023-01-10T12:00:00+03:00"),
        service("r-2", "K-9", "Z94C241BBNR011111", "2024-01-10T12:00:00+03:00", 14_000),
    ]
    ingest(dealer, drain, *events)
    before = profile_of(dealer, external_id="K-9")
    # the same events under new ids (a DMS re-export) apply again and change nothing
    again = [{**e, "id": e["id"] + "-again"} for e in events]
    ingest(dealer, drain, *again)
    after = profile_of(dealer, external_id="K-9")
    for volatile in ("vehicles", "updated_at", "aggregates"):
        before.pop(volatile), after.pop(volatile)
    assert after == before


def test_the_car_record_keeps_owners_readings_and_technical_history(
    dealer: TenantFixture, other_dealer: TenantFixture, drain: IngestDrain
) -> None:
    vin = "XTA210990Y1234567"
    ingest(
        dealer,
        drain,
        sold("h-1", "K-10", vin, "2021-04-01T10:00:00+03:00", mileage_km=5),
        service("h-2", "K-10", vin, "2022-04-01T10:00:00+03:00", 14_800),
        event(
            "h-3",
            "insurance.policy",
            policy_id="P-1",
            customer_external_id="K-10",
            vin=vin,
            kind="osago",
            ends_on="2027-03-31",
        ),
    )
    status, car = api("GET", f"/v1/vehicles/{vin.lower()}", dealer.api_key)
    assert status == 200
    assert car["owner_customer_id"] == only_customer(dealer, external_id="K-10")["id"]
    assert [r["km"] for r in car["readings"]] == [14_800, 5]
    assert car["estimated_mileage_km"] >= 14_800
    assert [v["order_id"] for v in car["visits"]] == ["RO-h-2"]
    assert car["insurance"] == [{"policy_id": "P-1", "kind": "osago", "ends_on": "2027-03-31"}]
    assert api("GET", f"/v1/vehicles/{vin}", other_dealer.api_key)[0] == 404
    assert api("GET", "/v1/vehicles/NOT-A-VIN", dealer.api_key)[0] == 404


def test_a_long_history_is_paged_newest_first_never_dropped(
    dealer: TenantFixture, drain: IngestDrain, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a customer with twelve visits and a 360° page of five items
    vin = "Z94C241BBNR055555"
    visits = [
        service(f"pg-{n:02d}", "K-11", vin, f"20{14 + n}-03-01T10:00:00+03:00", 10_000 * n)
        for n in range(1, 13)
    ]
    ingest(dealer, drain, sold("pg-0", "K-11", vin, "2014-01-10T10:00:00+03:00"), *visits)
    monkeypatch.setattr(profile_service, "PROFILE_PAGE_ITEMS", 5)
    # When the profile is read, then the rest of the history page by page
    profile = profile_of(dealer, external_id="K-11")
    seen = [v["order_id"] for v in profile["visits"]]
    cursor = profile["history_cursor"]
    while cursor:
        status, page = api(
            "GET",
            f"/v1/customers/{profile['id']}/history",
            dealer.api_key,
            query={"cursor": cursor},
        )
        assert status == 200
        seen += [v["order_id"] for v in page["visits"]]
        cursor = page["cursor"]
    # Then the first page held the newest visits and every visit came exactly once
    assert profile["visits"][0]["order_id"] == "RO-pg-12"
    assert sorted(seen) == sorted(f"RO-pg-{n:02d}" for n in range(1, 13))
    assert (
        api(
            "GET",
            f"/v1/customers/{profile['id']}/history",
            dealer.api_key,
            query={"cursor": "bm9wZQ"},
        )[0]
        == 400
    )


def test_the_consent_ledger_keeps_every_statement_and_the_latest_is_current(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    granted = {
        "sms": {
            "marketing": True,
            "at": "2026-03-01T10:00:00+03:00",
            "source": "анкета",
            "text_version": "v2",
        }
    }
    ingest(dealer, drain, customer_event("cl-1", "K-12", consents=granted))
    withdrawn = event(
        "cl-2",
        "customer.consent_changed",
        "2026-06-01T10:00:00+03:00",
        customer_external_id="K-12",
        channel="sms",
        purpose="marketing",
        granted=False,
        at="2026-06-01T10:00:00+03:00",
        source="звонок в колл-центр",
    )
    ingest(dealer, drain, withdrawn)
    # the DMS resends its record with the old consent: it is proof already held, nothing changes
    ingest(
        dealer, drain, customer_event("cl-3", "K-12", "2026-07-01T10:00:00+03:00", consents=granted)
    )
    profile = profile_of(dealer, external_id="K-12")
    assert profile["consents"]["sms"]["marketing"]["granted"] is False
    ledger = [(e["granted"], e["source"], e["at"]) for e in profile["consent_ledger"]]
    assert ledger == [
        (False, "звонок в колл-центр", "2026-06-01T07:00:00Z"),
        (True, "анкета", "2026-03-01T07:00:00Z"),
    ]
    assert profile["consent_ledger"][1]["text_version"] == "v2"


def test_a_parts_purchase_shows_its_lines_in_the_profile(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    lines = [
        {"name": "Коврики", "category": "accessories", "qty": 1, "amount": 3500},
        {"sku": "OIL-5W30", "name": "Масло 5W-30", "category": "oil", "qty": 4, "amount": 4400},
    ]
    ingest(
        dealer,
        drain,
        customer_event("pp-c", "PP-1", first_name="Олег"),
        event(
            "pp-1",
            "parts.purchased",
            customer_external_id="PP-1",
            order_id="PS-1",
            at="2026-11-20T10:00:00+03:00",
            items=lines,
            total_amount=7900,
        ),
    )
    customer_id = only_customer(dealer, external_id="PP-1")["id"]
    status, profile = api("GET", f"/v1/customers/{customer_id}", dealer.api_key)
    assert status == 200, profile
    [purchase] = profile["parts_purchases"]
    assert [line["name"] for line in purchase["items"]] == ["Коврики", "Масло 5W-30"]
    assert purchase["at"] == "2026-11-20T07:00:00Z"
