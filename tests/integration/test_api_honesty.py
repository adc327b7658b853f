"""The API tells the truth about bad input: each refusal is the right status as a problem,
lists take back only their own cursors, and the document says what every route answers."""

import json
from datetime import timedelta
from typing import Any

import pytest

from functions.api.app import handler as api_handler
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.support import FakeLambdaContext, customer_event, http_event
from trigly.platform import clock

PROBLEM = "application/problem+json"


def send(
    dealer: TenantFixture, method: str, path: str, body: str, content_type: str
) -> tuple[int, str, Any]:
    event = http_event(
        method,
        path,
        route_key="ANY /v1/{proxy+}",
        headers={"authorization": f"Bearer {dealer.api_key}", "content-type": content_type},
        body=body,
    )
    response = api_handler(event, FakeLambdaContext())
    content = {k.lower(): v for k, v in response.get("headers", {}).items()}["content-type"]
    parsed = json.loads(response["body"]) if "json" in content else response["body"]
    return response["statusCode"], content, parsed


LOCATION = {"name": "Автомир Север", "kind": "service_station", "timezone": "Europe/Moscow"}


@pytest.mark.parametrize(
    ("method", "path", "content_type", "body"),
    [
        # multipart without its boundary made the resolver raise: a 500 on 13 operations
        ("POST", "/v1/locations", "multipart/form-data", json.dumps(LOCATION)),
        ("PUT", "/v1/templates/promo", "multipart/form-data", '{"text": "Привет"}'),
        ("POST", "/v1/api-keys", "multipart/form-data; boundary=x", "--x--"),
        ("POST", "/v1/locations", "application/x-www-form-urlencoded", "name=A&kind=b"),
        ("PUT", "/v1/maintenance-prices", "text/plain", "make=Kia"),
    ],
)
def test_a_body_that_is_not_json_is_415_as_a_problem(
    dealer: TenantFixture, method: str, path: str, content_type: str, body: str
) -> None:
    status, content_type_out, problem = send(dealer, method, path, body, content_type)

    assert (status, content_type_out) == (415, PROBLEM)
    assert problem["type"].endswith("/unsupported-media-type")
    assert problem["status"] == 415


def test_json_with_a_charset_is_read(dealer: TenantFixture) -> None:
    body = json.dumps(LOCATION)
    status, _, created = send(
        dealer, "POST", "/v1/locations", body, "application/json; charset=utf-8"
    )
    assert status == 201, created


def test_an_unexpected_failure_is_a_500_problem(
    dealer: TenantFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trigly.platform import tenancy

    def broken(tenant_id: str) -> list[Any]:
        raise RuntimeError("the table is gone")

    monkeypatch.setattr(tenancy, "list_api_keys", broken)
    status, content_type, problem = send(dealer, "GET", "/v1/api-keys", "", "application/json")

    assert (status, content_type) == (500, PROBLEM)
    assert problem["type"].endswith("/internal")
    assert "table" not in problem["detail"]  # the failure is logged, not told


@pytest.mark.parametrize("cursor", ["garbage", "bm9wZQ", "b3RoZXJ8aW1wXzAx"])
def test_a_cursor_the_list_did_not_give_is_400_on_every_list(
    dealer: TenantFixture, drain: IngestDrain, cursor: str
) -> None:
    ingest(dealer, drain, customer_event("c-1", "DMS-1", first_name="Иван"))
    customer_id = only_customer(dealer, external_id="DMS-1")["id"]
    for path in (
        "/v1/rejected-events",
        "/v1/imports",
        f"/v1/customers/{customer_id}/history",
    ):
        status, problem = api("GET", path, dealer.api_key, query={"cursor": cursor})
        assert (status, problem["status"]) == (400, 400), (path, problem)
        assert problem["type"].endswith("/malformed")


def test_a_message_to_an_unknown_customer_is_404(dealer: TenantFixture) -> None:
    for body in ({"text": "Здравствуйте"}, {"template_id": "no_such_template"}):
        status, problem = api(
            "POST",
            "/v1/messages",
            dealer.api_key,
            body={
                "customer_id": "cus_nobody",
                "purpose": "service",
                "idempotency_key": "k",
                **body,
            },
        )
        assert (status, problem["type"]) == (404, "https://trigly.dev/problems/not-found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # a subject with a template passed the API model and broke the send intent: a 500
        ({"text": None, "template_id": "welcome", "subject": "Тема"}, "subject"),
        ({}, "template_id"),
        ({"text": "Привет", "template_id": "welcome"}, "template_id"),
        ({"text": "Привет", "channel": "pigeon"}, "channel"),
    ],
)
def test_every_message_validation_problem_is_422_at_its_field(
    dealer: TenantFixture, body: dict[str, Any], field: str
) -> None:
    status, problem = api(
        "POST",
        "/v1/messages",
        dealer.api_key,
        body={"customer_id": "cus_nobody", "purpose": "service", "idempotency_key": "k", **body},
    )

    assert status == 422
    assert field in [e["field"] for e in problem["errors"]], problem


def test_a_price_is_money_to_the_kopeck(dealer: TenantFixture) -> None:
    price = {"make": "Kia", "model": "Rio", "number": 1}
    # 5e-324 is a float no DynamoDB number can hold: it was a 500
    status, problem = api(
        "PUT", "/v1/maintenance-prices", dealer.api_key, body={**price, "amount": 5e-324}
    )
    assert status == 422
    assert [e["field"] for e in problem["errors"]] == ["amount"]

    status, saved = api(
        "PUT", "/v1/maintenance-prices", dealer.api_key, body={**price, "amount": 12_345.678}
    )
    assert (status, saved) == (200, {"key": "KIA|RIO|1", "amount": 12_345.68})
    status, quoted = api(
        "GET",
        "/v1/maintenance-prices/quote",
        dealer.api_key,
        query={"make": "kia", "model": "rio", "number": "1"},
    )
    assert quoted["amount"] == 12_345.68


def test_built_in_templates_are_listed_and_each_listed_one_can_be_read(
    dealer: TenantFixture,
) -> None:
    status, _ = api(
        "PUT", "/v1/templates/welcome", dealer.api_key, body={"text": "Своё приветствие"}
    )
    assert status == 200

    status, listed = api("GET", "/v1/templates", dealer.api_key)

    assert status == 200
    ids = [t["template_id"] for t in listed["items"]]
    assert "maintenance_reminder" in ids and "booking_confirmation" in ids
    assert ids.count("welcome") == 1  # the tenant's own replaces the built-in one
    assert next(t for t in listed["items"] if t["template_id"] == "welcome")["text"] == (
        "Своё приветствие"
    )
    for template_id in ids:
        assert api("GET", f"/v1/templates/{template_id}", dealer.api_key)[0] == 200
    # a built-in template is replaced, not deleted; deleting the own one brings it back
    assert api("DELETE", "/v1/templates/nps_request", dealer.api_key)[0] == 409
    assert api("DELETE", "/v1/templates/welcome", dealer.api_key)[0] == 204
    status, built_in = api("GET", "/v1/templates/welcome", dealer.api_key)
    assert status == 200 and built_in["text"] != "Своё приветствие"


def test_a_preview_fills_the_customers_own_car_and_its_next_service(
    dealer: TenantFixture, drain: IngestDrain
) -> None:
    sold_at = (clock.now() - timedelta(days=300)).isoformat()
    ingest(
        dealer,
        drain,
        customer_event("c-1", "DMS-7", first_name="Ольга", phones=["+79123456701"]),
        {
            "id": "sale-1",
            "type": "vehicle.sold",
            "occurred_at": sold_at,
            "data": {
                "deal_id": "D-1",
                "customer_external_id": "DMS-7",
                "vin": "Z94C241BBNR012345",
                "make": "Kia",
                "model": "Rio",
                "year": 2022,
                "sold_at": sold_at,
                "price": 1_650_000,
                "condition": "new",
            },
        },
    )
    customer_id = only_customer(dealer, external_id="DMS-7")["id"]

    status, preview = api(
        "POST",
        "/v1/templates/maintenance_reminder/preview",
        dealer.api_key,
        body={"customer_id": customer_id},
    )

    assert status == 200
    sms = next(i for i in preview["items"] if i["channel"] == "sms")
    assert "error" not in sms, sms  # was: 'car' is undefined
    assert "Kia Rio" in sms["text"] and "Ольга" in sms["text"]
    # the caller's variables still win over the customer's data
    status, preview = api(
        "POST",
        "/v1/templates/maintenance_reminder/preview",
        dealer.api_key,
        body={"customer_id": customer_id, "variables": {"car": {"make": "Lada", "model": "Vesta"}}},
    )
    assert "Lada Vesta" in next(i for i in preview["items"] if i["channel"] == "sms")["text"]
    # a car is named by its VIN in any case
    status, preview = api(
        "POST",
        "/v1/templates/maintenance_reminder/preview",
        dealer.api_key,
        body={"customer_id": customer_id, "vin": "z94c241bbnr012345"},
    )
    assert "Kia Rio" in next(i for i in preview["items"] if i["channel"] == "sms")["text"]
    status, problem = api(
        "POST",
        "/v1/templates/maintenance_reminder/preview",
        dealer.api_key,
        body={"customer_id": customer_id, "vin": "XTA000000000000000"},
    )
    assert status == 422 and problem["errors"][0]["field"] == "vin"


def test_every_route_documents_what_it_answers(stack: DeployedStack) -> None:
    status, document = api("GET", "/openapi.json", None)
    assert status == 200
    untyped = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for code, response in responses.items():
                if code == "204":
                    assert "content" not in response, (method, path)
                    continue
                schema = next(iter(response.get("content", {}).values()), {}).get("schema", {})
                if code.startswith("2") and "$ref" not in schema:
                    untyped.append(f"{method.upper()} {path} {code}")
                if code.startswith(("4", "5")):
                    assert schema == {"$ref": "#/components/schemas/Problem"} or path.startswith(
                        "/v1/webhooks/"
                    ), (method, path, code)
    assert untyped == []
