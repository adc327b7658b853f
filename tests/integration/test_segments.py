"""Segments against moto through the API handler (CONTRACT §6): saved, counted and previewed
from the analytics view, members paged, membership that follows data, and journeys that start
once when a customer enters a segment."""

from datetime import time, timedelta
from typing import Any

import pytest

from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_analytics_view import project_waiting
from tests.integration.test_car_and_timeline_events import event
from tests.integration.test_customer_pages import MSK
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.integration.test_messages import work_journey_queue
from tests.support import customer_event, days_ahead
from trigly.platform import clock
from trigly.segments import service

MOSCOW_SMS = {
    "all": [
        {"field": "customer.region", "op": "eq", "value": "RU-MOW"},
        {"field": "consent.sms.marketing", "op": "eq", "value": True},
    ]
}


def consents(marketing: bool) -> dict[str, Any]:
    at = (clock.now() - timedelta(days=30)).isoformat()
    return {"sms": {"marketing": marketing, "service": True, "at": at, "source": "анкета"}}


def customers(dealer: TenantFixture, drain: IngestDrain, stack: DeployedStack) -> dict[str, str]:
    """Three people: a Muscovite with SMS consent and a Kia, one without consent, one in
    St Petersburg; their rows projected into the view. External id → customer id."""
    registered = (clock.now() - timedelta(days=4 * 365)).isoformat()
    ingest(
        dealer,
        drain,
        customer_event(
            "s1", "S-1", phones=["+79160000001"], region="RU-MOW", consents=consents(True)
        ),
        customer_event(
            "s2", "S-2", phones=["+79160000002"], region="RU-MOW", consents=consents(False)
        ),
        customer_event(
            "s3", "S-3", phones=["+79160000003"], region="RU-SPE", consents=consents(True)
        ),
        event(
            "s1-car",
            "vehicle.registered",
            registered,
            customer_external_id="S-1",
            vin="XWEFF41BBNR000101",
            make="KIA",
            model="Rio",
            year=2022,
        ),
    )
    project_waiting(stack)
    return {x: only_customer(dealer, external_id=x)["id"] for x in ("S-1", "S-2", "S-3")}


def test_a_segment_is_saved_counted_previewed_and_listed(
    stack: DeployedStack, dealer: TenantFixture, other_dealer: TenantFixture, drain: IngestDrain
) -> None:
    ids = customers(dealer, drain, stack)
    body = {"name": "Москва, SMS", "conditions": MOSCOW_SMS}
    status, saved = api("PUT", "/v1/segments/moscow-sms", dealer.api_key, body=body)
    assert status == 200, saved
    assert saved["id"] == "moscow-sms" and saved["count"] == 1 and saved["computed_at"]
    assert api("GET", "/v1/segments/moscow-sms", dealer.api_key)[1]["count"] == 1
    # A car block: the same current car is a Kia and 3–5 years old
    kia = {
        "car": {
            "all": [
                {"field": "car.make", "op": "eq", "value": "kia"},
                {"field": "car.age_years", "op": "between", "value": [3, 5]},
            ]
        }
    }
    status, preview = api("POST", "/v1/segments/preview", dealer.api_key, body={"conditions": kia})
    assert status == 200 and preview == {"count": 1, "sample": [ids["S-1"]]}
    everyone = {"field": "visits.count", "op": "gte", "value": 0}
    status, preview = api(
        "POST", "/v1/segments/preview", dealer.api_key, body={"conditions": everyone}
    )
    assert preview["count"] == 3 and sorted(preview["sample"]) == sorted(ids.values())
    # Listed with counts; another tenant sees none of it
    status, listed = api("GET", "/v1/segments", dealer.api_key)
    assert [(s["id"], s["count"]) for s in listed["items"]] == [("moscow-sms", 1)]
    assert api("GET", "/v1/segments/moscow-sms", other_dealer.api_key)[0] == 404
    assert api("GET", "/v1/segments", other_dealer.api_key)[1]["items"] == []
    status, theirs = api(
        "POST", "/v1/segments/preview", other_dealer.api_key, body={"conditions": everyone}
    )
    assert status == 200 and theirs["count"] == 0
    # Deleted: gone, and a second delete is a 404
    assert api("DELETE", "/v1/segments/moscow-sms", dealer.api_key)[0] == 204
    assert api("GET", "/v1/segments/moscow-sms", dealer.api_key)[0] == 404
    assert api("DELETE", "/v1/segments/moscow-sms", dealer.api_key)[0] == 404


def test_bad_conditions_are_refused_with_the_field(dealer: TenantFixture) -> None:
    bad = {
        "all": [
            {"field": "customer.shoe_size", "op": "eq", "value": 42},
            {"field": "visits.count", "op": "in", "value": []},
            {"car": {"field": "customer.city", "op": "eq", "value": "Тула"}},
        ]
    }
    status, problem = api(
        "PUT", "/v1/segments/bad", dealer.api_key, body={"name": "x", "conditions": bad}
    )
    assert status == 422
    fields = {e["field"] for e in problem["errors"]}
    assert {"conditions.all.0.field", "conditions.all.1.value"} <= fields
    assert any(f.startswith("conditions.all.2.car") for f in fields)
    assert "shoe_size" in str(problem)
    status, problem = api(
        "PUT", "/v1/segments/Bad Id", dealer.api_key, body={"name": "", "conditions": MOSCOW_SMS}
    )
    assert status == 422 and {e["field"] for e in problem["errors"]} == {"id", "name"}
    assert api("GET", "/v1/segments/bad", dealer.api_key)[0] == 404
    status, problem = api(
        "POST", "/v1/segments/preview", dealer.api_key, body={"conditions": {"field": "status"}}
    )
    assert status == 422 and problem["errors"][0]["field"].startswith("conditions")


def test_members_page_through_and_follow_the_data(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = customers(dealer, drain, stack)
    everyone = {"field": "spend.total", "op": "gte", "value": 0}
    body = {"name": "Все", "conditions": everyone}
    assert api("PUT", "/v1/segments/all", dealer.api_key, body=body)[0] == 200
    monkeypatch.setattr(service, "PAGE_SIZE", 2)
    status, first = api("GET", "/v1/segments/all/members", dealer.api_key)
    assert status == 200 and len(first["items"]) == 2 and first["cursor"]
    status, second = api(
        "GET", "/v1/segments/all/members", dealer.api_key, query={"cursor": first["cursor"]}
    )
    assert status == 200 and len(second["items"]) == 1 and second["cursor"] is None
    paged = [m["customer_id"] for m in first["items"] + second["items"]]
    assert paged == sorted(ids.values())
    # A cursor of another list is refused
    status, _ = api(
        "GET", "/v1/segments/other/members", dealer.api_key, query={"cursor": first["cursor"]}
    )
    assert status in (400, 404)
    # The Muscovite without consent gives it: in the Moscow SMS segment after the projection
    body = {"name": "Москва, SMS", "conditions": MOSCOW_SMS}
    assert api("PUT", "/v1/segments/moscow-sms", dealer.api_key, body=body)[1]["count"] == 1
    ingest(
        dealer,
        drain,
        customer_event("s2-again", "S-2", region="RU-MOW", consents=consents(True)),
    )
    project_waiting(stack)
    assert api("GET", "/v1/segments/moscow-sms", dealer.api_key)[1]["count"] == 2
    # An erased customer is never a member
    assert api("DELETE", f"/v1/customers/{ids['S-1']}", dealer.api_key)[0] in (200, 202, 204)
    project_waiting(stack)
    status, members = api("GET", "/v1/segments/moscow-sms/members", dealer.api_key)
    assert [m["customer_id"] for m in members["items"]] == [ids["S-2"]]


def test_a_journey_starts_once_when_a_customer_enters_its_segment(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    business_clock.move_to(days_ahead(1, time(12), MSK))  # inside sending hours
    ids = customers(dealer, drain, stack)
    body = {"name": "Москва, SMS", "conditions": MOSCOW_SMS}
    assert api("PUT", "/v1/segments/moscow-sms", dealer.api_key, body=body)[0] == 200
    journey = {
        "name": "Добро пожаловать в Москву",
        "trigger": {"segment_entered": "moscow-sms"},
        "steps": [{"id": "hello", "type": "task", "title": "Позвонить клиенту"}],
        "reentry": "never",
    }
    # A journey on a segment that does not exist is refused
    status, problem = api(
        "PUT",
        "/v1/journeys/welcome",
        dealer.api_key,
        body={**journey, "trigger": {"segment_entered": "nope"}},
    )
    assert status == 422 and problem["errors"][0]["field"] == "trigger.segment_entered"
    status, saved = api("PUT", "/v1/journeys/welcome", dealer.api_key, body=journey)
    assert status == 200 and saved["trigger"]["segment_entered"] == "moscow-sms"
    # The tenant's day finds who is in already: S-1 enters once
    from trigly.segments import membership

    assert membership.refresh(dealer.tenant.tenant_id, None) == {"moscow-sms": 1}
    work_journey_queue(stack)
    assert membership.refresh(dealer.tenant.tenant_id, None) == {"moscow-sms": 0}
    # S-2 gives consent: the projection queues their re-evaluation, they enter
    ingest(
        dealer,
        drain,
        customer_event("s2-consent", "S-2", region="RU-MOW", consents=consents(True)),
    )
    project_waiting(stack)
    work_journey_queue(stack)
    runs = {
        c: [j for j in api("GET", f"/v1/customers/{c}", dealer.api_key)[1]["journeys"]]
        for c in ids.values()
    }
    assert [r["journey_id"] for r in runs[ids["S-1"]]] == ["welcome"]
    assert [r["journey_id"] for r in runs[ids["S-2"]]] == ["welcome"]
    assert runs[ids["S-3"]] == []
    # Another pass and a redelivered page start nothing more
    membership.refresh(dealer.tenant.tenant_id, None)
    membership.record_entries(
        dealer.tenant.tenant_id, "moscow-sms", [ids["S-2"]], clock.isoformat(clock.now())
    )
    work_journey_queue(stack)
    again = api("GET", f"/v1/customers/{ids['S-2']}", dealer.api_key)[1]["journeys"]
    assert [r["journey_id"] for r in again] == ["welcome"]
    # A segment a journey starts on cannot be deleted
    assert api("DELETE", "/v1/segments/moscow-sms", dealer.api_key)[0] == 409
