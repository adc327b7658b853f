"""Identity resolution across connectors, and merges that are recorded and can be undone."""

from typing import Any

from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_car_and_timeline_events import profile_of, service, sold
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.integration.test_webhook import encode, post
from tests.support import customer_event
from trigly.platform import tenancy


def from_second_system(dealer: TenantFixture, drain: IngestDrain, *events: dict[str, Any]) -> None:
    """The dealer's other system (e.g. the sales CRM) sends through its own connector."""
    crm = tenancy.create_connector(dealer.tenant.tenant_id, "Sales CRM")
    body = encode({"events": list(events)})
    assert post(dealer, body, connector_id=crm.connector_id, secret=crm.secret)[0] == 202
    assert not drain()["batchItemFailures"]


def test_the_same_email_from_another_system_is_the_same_customer(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    ingest(
        dealer, drain, customer_event("j-1", "SVC-1", first_name="Лев", emails=["lev@example.ru"])
    )
    from_second_system(
        dealer,
        drain,
        customer_event("crm-1", "CRM-77", last_name="Толстой", emails=["LEV@example.ru"]),
    )
    profile = profile_of(dealer, email="lev@example.ru")
    assert sorted(profile["external_ids"].values()) == ["CRM-77", "SVC-1"]
    assert (profile["first_name"], profile["last_name"]) == ("Лев", "Толстой")


def test_a_family_phone_with_another_name_stays_two_customers(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    ingest(
        dealer, drain, customer_event("j-2", "SVC-2", first_name="Ольга", phones=["89035550000"])
    )
    from_second_system(
        dealer,
        drain,
        customer_event("crm-2", "CRM-78", first_name="Игорь", phones=["+7 903 555-00-00"]),
    )
    _status, found = api("GET", "/v1/customers", dealer.api_key, query={"phone": "89035550000"})
    assert sorted(c["first_name"] for c in found["items"]) == ["Игорь", "Ольга"]
    # the same phone and the same first name is the same person
    from_second_system(
        dealer, drain, customer_event("crm-3", "CRM-79", first_name="ОЛЬГА", phones=["89035550000"])
    )
    _status, found = api("GET", "/v1/customers", dealer.api_key, query={"phone": "89035550000"})
    assert len(found["items"]) == 2  # ОЛЬГА joined Ольга


def test_a_merge_moves_history_and_can_be_undone(dealer: TenantFixture, drain: IngestDrain) -> None:
    vin = "Z94C241BBNR077777"
    ingest(
        dealer,
        drain,
        customer_event("m-1", "SVC-10", first_name="Пётр", phones=["89160000010"]),
        customer_event("m-2", "SVC-11", first_name="Петр", emails=["petr@example.ru"]),
        sold("m-3", "SVC-11", vin, "2023-02-01T10:00:00+03:00"),
        service("m-4", "SVC-11", vin, "2024-02-01T10:00:00+03:00", 16_000),
    )
    survivor = only_customer(dealer, external_id="SVC-10")["id"]
    duplicate = only_customer(dealer, external_id="SVC-11")["id"]

    status, merged = api(
        "POST",
        f"/v1/customers/{survivor}/merge",
        dealer.api_key,
        body={"duplicate_id": duplicate, "reason": "один человек, две карточки"},
    )
    assert status == 200 and merged["moved_records"] >= 3
    profile = profile_of(dealer, email="petr@example.ru")
    assert profile["id"] == survivor
    assert [c["vin"] for c in profile["vehicles"]] == [vin]
    assert [v["order_id"] for v in profile["visits"]] == ["RO-m-4"]
    assert only_customer(dealer, external_id="SVC-11")["id"] == survivor
    assert only_customer(dealer, vin=vin)["id"] == survivor
    assert api("GET", f"/v1/customers/{duplicate}", dealer.api_key)[0] == 404

    status, undone = api(
        "POST", f"/v1/customers/{survivor}/merges/{merged['id']}/undo", dealer.api_key
    )
    assert status == 200 and undone["undone_at"]
    assert only_customer(dealer, external_id="SVC-11")["id"] == duplicate
    assert only_customer(dealer, email="petr@example.ru")["id"] == duplicate
    assert only_customer(dealer, vin=vin)["id"] == duplicate
    assert profile_of(dealer, external_id="SVC-10")["vehicles"] == []
    assert [c["vin"] for c in profile_of(dealer, external_id="SVC-11")["vehicles"]] == [vin]
    assert (
        api("POST", f"/v1/customers/{survivor}/merges/{merged['id']}/undo", dealer.api_key)[0]
        == 409
    )


def test_duplicate_cards_of_one_dms_merge_and_both_ids_find_the_survivor(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    ingest(dealer, drain, customer_event("n-1", "SVC-20"), customer_event("n-2", "SVC-21"))
    a, b = (
        only_customer(dealer, external_id="SVC-20")["id"],
        only_customer(dealer, external_id="SVC-21")["id"],
    )
    body = {"duplicate_id": b, "reason": "дубль карточки в DMS"}
    assert api("POST", f"/v1/customers/{a}/merge", dealer.api_key, body=body)[0] == 200
    assert only_customer(dealer, external_id="SVC-21")["id"] == a
    assert only_customer(dealer, external_id="SVC-20")["id"] == a
