"""Webhook → ingest queue → ingest worker → management API, with real event shapes on moto."""

import json
from typing import Any

import boto3

from functions.api.app import handler as api_handler
from functions.ingest.app import handler as ingest_handler
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_webhook import encode, post
from tests.support import FakeLambdaContext, customer_event, http_event, sqs_event


def api(
    method: str,
    path: str,
    key: str | None,
    *,
    query: dict[str, str] | None = None,
    body: object = None,
    raw: bytes | None = None,
) -> tuple[int, Any]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    payload = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    event = http_event(
        method, path, route_key="ANY /v1/{proxy+}", query=query, headers=headers, body=payload
    )
    response = api_handler(event, FakeLambdaContext())
    text = response.get("body") or "null"
    headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
    content_type = headers.get("content-type", "")
    return response["statusCode"], json.loads(text) if "json" in content_type else text


def ingest(dealer: TenantFixture, drain: IngestDrain, *events: dict[str, Any]) -> dict[str, Any]:
    status, body = post(dealer, encode({"events": list(events)}))
    assert status == 202
    assert not drain()["batchItemFailures"]
    return body


def only_customer(dealer: TenantFixture, **query: str) -> dict[str, Any]:
    status, found = api("GET", "/v1/customers", dealer.api_key, query=query)
    assert status == 200
    [item] = found["items"]
    return item


def test_an_upserted_customer_is_searchable_by_phone_in_any_format(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    consents = {
        "sms": {
            "marketing": True,
            "service": True,
            "at": "2026-11-01T12:00:00+03:00",
            "source": "showroom form",
            "text_version": "v3",
        }
    }
    ingest(
        dealer,
        drain,
        customer_event(
            "c-1",
            "DMS-1",
            first_name="Иван",
            last_name="Петров",
            phones=["8 (912) 345-67-89", "12"],
            emails=["Ivan@Example.RU"],
            consents=consents,
        ),
    )
    found = only_customer(dealer, phone="+7 912 3456789")
    assert found["first_name"] == "Иван"
    assert only_customer(dealer, email="IVAN@example.ru")["id"] == found["id"]
    assert only_customer(dealer, external_id="DMS-1")["id"] == found["id"]

    status, profile = api("GET", f"/v1/customers/{found['id']}", dealer.api_key)
    assert status == 200
    assert profile["phones"] == [
        {"value": "+79123456789", "status": "ok"},
        {"value": "12", "status": "invalid"},
    ]
    assert profile["emails"] == [{"value": "ivan@example.ru", "status": "ok"}]
    assert profile["consents"]["sms"]["marketing"] == {
        "granted": True,
        "at": "2026-11-01T09:00:00Z",
        "source": "showroom form",
        "text_version": "v3",
    }
    assert profile["vehicles"] == [] and profile["past_vehicles"] == []
    assert profile["created_at"].endswith("Z")


def test_late_event_does_not_overwrite_and_duplicate_delivery_changes_nothing(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    ingest(
        dealer,
        drain,
        customer_event("n-2", "DMS-2", occurred_at="2026-11-21T10:00:00+03:00", city="Казань"),
    )
    ingest(
        dealer,
        drain,
        customer_event("n-1", "DMS-2", occurred_at="2026-11-20T10:00:00+03:00", city="Москва"),
    )
    customer = only_customer(dealer, external_id="DMS-2")
    _status, profile = api("GET", f"/v1/customers/{customer['id']}", dealer.api_key)
    assert profile["city"] == "Казань"


def test_another_tenants_key_gets_404_and_no_key_401(
    dealer: TenantFixture, other_dealer: TenantFixture, drain: IngestDrain
) -> None:
    ingest(dealer, drain, customer_event("i-1", "DMS-3", phones=["89031112233"]))
    customer = only_customer(dealer, phone="89031112233")
    assert api("GET", f"/v1/customers/{customer['id']}", other_dealer.api_key)[0] == 404
    assert (
        api("GET", "/v1/customers", other_dealer.api_key, query={"phone": "89031112233"})[1][
            "items"
        ]
        == []
    )
    status, problem = api("GET", f"/v1/customers/{customer['id']}", None)
    assert status == 401 and problem["title"] == "Unauthorized"
    assert api("GET", f"/v1/customers/{customer['id']}", "trg_wrong")[0] == 401


def test_search_without_a_criterion_is_422(dealer: TenantFixture) -> None:
    status, problem = api("GET", "/v1/customers", dealer.api_key)
    assert status == 422 and problem["errors"][0]["field"] == "query"


def test_rejected_events_are_listed_and_replayed_with_a_fix(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    status, body = post(dealer, encode(customer_event("r-1", "DMS-4", region="Moscow")))
    rejection_id = body["rejected"][0]["rejection_id"]
    status, listing = api("GET", "/v1/rejected-events", dealer.api_key)
    assert status == 200
    [item] = listing["items"]
    assert item["id"] == rejection_id and item["status"] == "pending"
    assert item["errors"][0]["field"] == "data.region"
    assert item["event"]["data"]["region"] == "Moscow"

    corrected = customer_event("r-1", "DMS-4", region="RU-MOW")
    status, receipt = api(
        "POST",
        f"/v1/rejected-events/{rejection_id}/replay",
        dealer.api_key,
        body={"event": corrected},
    )
    assert (status, receipt["accepted"]) == (200, 1)
    assert not drain()["batchItemFailures"]
    assert api("GET", f"/v1/rejected-events/{rejection_id}", dealer.api_key)[1]["status"] in {
        "replayed",
        "resolved",
    }
    assert only_customer(dealer, external_id="DMS-4")


def test_rejected_events_page_newest_first(dealer: TenantFixture) -> None:
    for i in range(3):
        post(dealer, encode(customer_event(f"p-{i}", "X", region="bad")))
    _status, first = api("GET", "/v1/rejected-events", dealer.api_key, query={"limit": "2"})
    assert [i["event_id"] for i in first["items"]] == ["p-2", "p-1"] and first["cursor"]
    _status, second = api(
        "GET",
        "/v1/rejected-events",
        dealer.api_key,
        query={"limit": "2", "cursor": first["cursor"]},
    )
    assert [i["event_id"] for i in second["items"]] == ["p-0"]


def test_a_poison_message_fails_alone_and_the_batch_goes_on(
    stack: DeployedStack, dealer: TenantFixture
) -> None:
    good = {
        "tenant_id": dealer.tenant.tenant_id,
        "connector_id": dealer.connector_id,
        "event_id": "g-1",
        "stamp": "2026-11-20T07:15:00.000000Z|2026-11-25T00:00:00.000000Z|0000",
        "received_at": "2026-11-25T00:00:00Z",
        "event": customer_event("g-1", "DMS-5"),
    }
    event = sqs_event(["{not json", json.dumps(good)], stack.queues["IngestQueue"].arn)
    result = ingest_handler(event, FakeLambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert only_customer(dealer, external_id="DMS-5")


def test_api_keys_are_issued_listed_by_prefix_and_revoked(dealer: TenantFixture) -> None:
    status, issued = api(
        "POST", "/v1/api-keys", dealer.api_key, body={"label": "crm", "scopes": ["admin"]}
    )
    assert status == 201 and issued["api_key"].startswith(issued["prefix"])
    listing = api("GET", "/v1/api-keys", dealer.api_key)[1]["items"]
    assert all("api_key" not in k for k in listing)
    assert {k["prefix"] for k in listing} >= {issued["prefix"]}
    assert api("GET", "/v1/api-keys", issued["api_key"])[0] == 200
    assert api("DELETE", f"/v1/api-keys/{issued['id']}", dealer.api_key)[0] == 204
    assert api("GET", "/v1/api-keys", issued["api_key"])[0] == 401


def test_malformed_json_is_400_and_schema_breaks_are_422(dealer: TenantFixture) -> None:
    assert api("POST", "/v1/api-keys", dealer.api_key, raw=b"{oops")[0] == 400
    status, problem = api("POST", "/v1/connectors", dealer.api_key, body={"name": ""})
    assert status == 422 and problem["errors"][0]["field"] == "name"


def test_openapi_and_swagger_are_public(stack: DeployedStack) -> None:
    status, document = api("GET", "/openapi.json", None)
    assert status == 200 and "/v1/customers/{customer_id}" in document["paths"]
    webhook = document["paths"]["/v1/webhooks/{connector_id}"]["post"]
    assert webhook["security"] == [] and "202" in webhook["responses"]
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    status, page = api("GET", "/docs", None)
    assert status == 200 and "swagger" in page.lower()
    assert api("GET", "/v1/nothing-here", None)[0] in {401, 404}


def test_the_dead_letter_queue_is_wired(stack: DeployedStack) -> None:
    queue = stack.queues["IngestQueue"]
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue.url, AttributeNames=["RedrivePolicy"]
    )
    assert json.loads(attributes["Attributes"]["RedrivePolicy"])["maxReceiveCount"] == 5


def test_authentication_comes_before_validation(stack: DeployedStack) -> None:
    assert api("GET", "/v1/rejected-events", None, query={"limit": "many"})[0] == 401
