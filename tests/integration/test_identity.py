"""Identity resolution across connectors, and merges that are recorded and can be undone."""

from datetime import datetime, timedelta
from typing import Any, cast

import pytest

from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_car_and_timeline_events import event, profile_of, service, sold
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.integration.test_webhook import encode, post
from tests.support import customer_event
from trigly.platform import clock, tenancy
from trigly.profiles import merge
from trigly.store import customers as customers_store
from trigly.store import merges as merges_store


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


def _withdrawal(event_id: str, external_id: str, channel: str) -> dict[str, Any]:
    at = clock.isoformat(clock.now())
    return event(
        event_id,
        "customer.consent_changed",
        at,
        customer_external_id=external_id,
        channel=channel,
        purpose="marketing",
        granted=False,
        at=at,
        source="звонок в колл-центр",
    )


def _merge(dealer: TenantFixture, survivor: str, duplicate: str) -> dict[str, Any]:
    body = {"duplicate_id": duplicate, "reason": "один человек"}
    status, merged = api("POST", f"/v1/customers/{survivor}/merge", dealer.api_key, body=body)
    assert status == 200, merged
    return cast(dict[str, Any], merged)


def test_undo_keeps_what_was_recorded_after_the_merge(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    # Given two cards of one person, both having said yes to marketing
    granted_at = clock.isoformat(clock.now() - timedelta(days=30))

    def consents(channel: str) -> dict[str, Any]:
        return {channel: {"marketing": True, "at": granted_at, "source": "анкета"}}

    ingest(
        dealer,
        drain,
        customer_event(
            "u-1", "SVC-40", first_name="Анна", phones=["89160000040"], consents=consents("sms")
        ),
        customer_event(
            "u-2", "SVC-41", emails=["anna@example.ru"], consents=consents("email"), city="Тверь"
        ),
    )
    survivor = only_customer(dealer, external_id="SVC-40")["id"]
    duplicate = only_customer(dealer, external_id="SVC-41")["id"]
    merged = _merge(dealer, survivor, duplicate)
    assert merged["state"] == "done"

    # When, after the merge, the person withdraws both consents, once under each DMS id
    ingest(
        dealer, drain, _withdrawal("u-3", "SVC-40", "sms"), _withdrawal("u-4", "SVC-41", "email")
    )
    assert (
        profile_of(dealer, external_id="SVC-41")["consents"]["email"]["marketing"]["granted"]
        is False
    )
    # and the survivor's card changes city
    ingest(dealer, drain, customer_event("u-5", "SVC-40", city="Клин"))
    # and then the merge is undone
    status, undone = api(
        "POST", f"/v1/customers/{survivor}/merges/{merged['id']}/undo", dealer.api_key
    )
    assert status == 200 and undone["state"] == "undone"

    # Then no withdrawal is lost: the survivor keeps both, the duplicate keeps the one that came
    # under its own DMS id, and nobody is marketable again
    kept = profile_of(dealer, external_id="SVC-40")
    assert kept["consents"]["sms"]["marketing"]["granted"] is False
    assert kept["consents"]["email"]["marketing"]["granted"] is False
    assert kept["city"] == "Клин"
    assert [e["value"] for e in kept["emails"]] == []
    back = profile_of(dealer, external_id="SVC-41")
    assert back["id"] == duplicate
    assert back["consents"]["email"]["marketing"]["granted"] is False
    assert "sms" not in back["consents"]
    assert back["city"] == "Тверь"
    assert only_customer(dealer, email="anna@example.ru")["id"] == duplicate
    assert only_customer(dealer, phone="89160000040")["id"] == survivor


def test_an_interrupted_merge_is_finished_by_asking_again(
    dealer: TenantFixture, drain: IngestDrain, monkeypatch: pytest.MonkeyPatch
) -> None:
    vin = "Z94C241BBNR078888"
    ingest(
        dealer,
        drain,
        customer_event("i-1", "SVC-50", first_name="Олег", phones=["89160000050"]),
        customer_event("i-2", "SVC-51", emails=["oleg@example.ru"]),
        sold("i-3", "SVC-51", vin, "2023-02-01T10:00:00+03:00"),
    )
    survivor = only_customer(dealer, external_id="SVC-50")["id"]
    duplicate = only_customer(dealer, external_id="SVC-51")["id"]

    # Given a merge that crashes after most of its writes (the duplicate is not deleted yet)
    def crash(tenant_id: str, customer_id: str) -> None:
        raise RuntimeError("the function timed out")

    with monkeypatch.context() as patched:
        patched.setattr(customers_store, "delete_collection", crash)
        body = {"duplicate_id": duplicate, "reason": "один человек"}
        path = f"/v1/customers/{survivor}/merge"
        assert api("POST", path, dealer.api_key, body=body)[0] == 500  # a logged problem

    # When the dealer asks for the same merge again, it is finished, once
    merged = _merge(dealer, survivor, duplicate)
    assert merged["state"] == "done"
    assert api("GET", f"/v1/customers/{duplicate}", dealer.api_key)[0] == 404
    profile = profile_of(dealer, external_id="SVC-51")
    assert profile["id"] == survivor
    assert [c["vin"] for c in profile["vehicles"]] == [vin]
    # and asking a third time is a conflict, not a second merge
    assert (
        api(
            "POST",
            f"/v1/customers/{survivor}/merge",
            dealer.api_key,
            body={"duplicate_id": duplicate, "reason": "ещё раз"},
        )[0]
        == 409
    )

    # Then undo, interrupted at its last step and asked again, brings the duplicate back as it
    # was, and the survivor as it was
    undo = f"/v1/customers/{survivor}/merges/{merged['id']}/undo"
    with monkeypatch.context() as patched:
        patched.setattr(merges_store, "forget_mark", crash)
        assert api("POST", undo, dealer.api_key)[0] == 500
    status, undone = api("POST", undo, dealer.api_key)
    assert status == 200 and undone["state"] == "undone"
    assert api("POST", undo, dealer.api_key)[0] == 409
    assert only_customer(dealer, email="oleg@example.ru")["id"] == duplicate
    assert profile_of(dealer, external_id="SVC-50")["emails"] == []
    assert only_customer(dealer, vin=vin)["id"] == duplicate
    # and, split again, the two may be merged again
    assert _merge(dealer, survivor, duplicate)["state"] == "done"


def test_merging_with_itself_or_with_a_merged_customer_is_a_conflict(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    ingest(
        dealer,
        drain,
        customer_event("c-1", "SVC-60"),
        customer_event("c-2", "SVC-61"),
        customer_event("c-3", "SVC-62"),
    )
    a, b, c = (only_customer(dealer, external_id=f"SVC-6{n}")["id"] for n in range(3))

    def merge(survivor: str, duplicate: str) -> tuple[int, Any]:
        body = {"duplicate_id": duplicate, "reason": "дубль"}
        return api("POST", f"/v1/customers/{survivor}/merge", dealer.api_key, body=body)

    assert merge(a, a)[0] == 409
    assert merge(a, b)[0] == 200
    for survivor, duplicate in ((c, b), (b, c), (a, b)):
        status, problem = merge(survivor, duplicate)
        assert status == 409 and problem["type"].endswith("conflict"), (survivor, duplicate)
    assert only_customer(dealer, external_id="SVC-62")["id"] == c


def test_a_merge_can_be_undone_for_a_year_and_says_until_when(
    dealer: TenantFixture, drain: IngestDrain, business_clock: clock.AdjustableClock
) -> None:
    ingest(dealer, drain, customer_event("y-1", "SVC-70"), customer_event("y-2", "SVC-71"))
    a = only_customer(dealer, external_id="SVC-70")["id"]
    b = only_customer(dealer, external_id="SVC-71")["id"]
    merged = _merge(dealer, a, b)
    until = datetime.fromisoformat(merged["undo_until"])
    assert until - datetime.fromisoformat(merged["at"]) == timedelta(days=merge.UNDO_DAYS)
    business_clock.move_to(until + timedelta(hours=1))
    undo = f"/v1/customers/{a}/merges/{merged['id']}/undo"
    assert api("POST", undo, dealer.api_key)[0] == 409
