"""The first feature end to end, over real HTTP against `make run`'s stack (issue 3, item 6):
signed `customer.upserted` webhooks in, the profile out through the management API."""

import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LocalStack
from tests.support import customer_event

pytestmark = pytest.mark.e2e
SEND_EVENT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "send-event.sh"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def find(stack: LocalStack, tenant: str = "demo", **query: str) -> list[dict[str, Any]]:
    response = stack.client.get("/v1/customers", params=query, headers=stack.auth(tenant))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_an_upserted_customer_is_found_by_phone_in_any_format(local_stack: LocalStack) -> None:
    # Given a DMS sends a customer with a phone in a human format
    external_id = unique("C")
    event = customer_event(
        unique("evt"),
        external_id,
        first_name="Ольга",
        last_name="Смирнова",
        phones=["8 (926) 555-01-23"],
        emails=["Olga.S@Example.ru"],
        consents={
            "sms": {
                "service": True,
                "marketing": False,
                "at": "2026-11-01T10:00:00+03:00",
                "source": "service desk",
            }
        },
    )
    answer = local_stack.sign_and_post(event)
    assert answer.status_code == 202
    assert answer.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    # When the queues are drained
    local_stack.advance()
    # Then it is found by the phone typed differently, in the contract's shape
    [found] = find(local_stack, phone="+7 926 555 0123")
    response = local_stack.client.get(f"/v1/customers/{found['id']}", headers=local_stack.auth())
    assert response.status_code == 200
    profile = response.json()
    assert profile["phones"] == [{"value": "+79265550123", "status": "ok"}]
    assert profile["emails"] == [{"value": "olga.s@example.ru", "status": "ok"}]
    assert profile["consents"]["sms"]["service"] == {
        "granted": True,
        "at": "2026-11-01T07:00:00Z",
        "source": "service desk",
    }
    for section in ("vehicles", "past_vehicles", "visits", "appointments", "messages"):
        assert profile[section] == []
    # And another tenant's key sees nothing of it; no key is 401
    assert (
        local_stack.client.get(
            f"/v1/customers/{found['id']}", headers=local_stack.auth("other")
        ).status_code
        == 404
    )
    assert find(local_stack, "other", phone="89265550123") == []
    unauthenticated = local_stack.client.get(f"/v1/customers/{found['id']}")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["content-type"].startswith("application/problem+json")


def test_a_wrong_signature_is_401_and_nothing_is_stored(local_stack: LocalStack) -> None:
    event = customer_event(unique("evt"), unique("C"), phones=["8 903 777 00 11"])
    answer = local_stack.sign_and_post(event, secret="whsec_" + "QUJD" * 11)
    assert answer.status_code == 401
    local_stack.advance()
    assert find(local_stack, phone="89037770011") == []


def test_a_stale_timestamp_is_401_whatever_the_business_clock_says(local_stack: LocalStack) -> None:
    event = customer_event(unique("evt"), unique("C"))
    stale = datetime.now(UTC) - timedelta(minutes=10)
    assert local_stack.sign_and_post(event, timestamp=stale).status_code == 401


def test_one_bad_event_in_a_batch_of_three(local_stack: LocalStack) -> None:
    good = [customer_event(unique("evt"), unique("C")) for _ in range(2)]
    bad = customer_event(unique("evt"), unique("C"), birth_date="31.12.1980")
    answer = local_stack.sign_and_post([good[0], bad, good[1]])
    assert answer.status_code == 202
    body = answer.json()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    [rejected] = body["rejected"]
    assert rejected["index"] == 1 and rejected["id"] == bad["id"]
    assert [e["field"] for e in rejected["errors"]] == ["data.birth_date"]
    # and the rejection is kept, listable with its reason
    listed = local_stack.client.get("/v1/rejected-events", headers=local_stack.auth()).json()[
        "items"
    ]
    assert any(
        item["event_id"] == bad["id"] and item["errors"] == rejected["errors"] for item in listed
    )


def test_the_same_event_twice_makes_one_profile(local_stack: LocalStack) -> None:
    external_id = unique("C")
    event = customer_event(
        unique("evt"), external_id, phones=["8 916 123 45 67"], first_name="Пётр"
    )
    assert local_stack.sign_and_post(event).json()["accepted"] == 1
    assert local_stack.sign_and_post(event).json() == {
        "accepted": 0,
        "duplicates": 1,
        "rejected": [],
    }
    local_stack.advance()
    assert len(find(local_stack, external_id=external_id)) == 1


def test_malformed_and_oversized_bodies(local_stack: LocalStack) -> None:
    assert local_stack.sign_and_post(b"{not json").status_code == 400
    assert local_stack.sign_and_post(b"x" * (1024 * 1024 + 1)).status_code == 413
    unknown = {**customer_event(unique("evt"), unique("C")), "type": "customer.deleted"}
    answer = local_stack.sign_and_post(unknown)
    assert (
        answer.status_code == 202 and answer.json()["rejected"][0]["errors"][0]["field"] == "type"
    )


def test_the_readme_curl_example_works(local_stack: LocalStack) -> None:
    # Given the shell example the README shows a DMS integrator
    env = {
        **os.environ,
        "API_URL": local_stack.api_url,
        "CONNECTOR_ID": local_stack.connector_id,
        "WEBHOOK_SECRET": local_stack.webhook_secret,
    }
    # When it runs as documented
    result = subprocess.run(
        ["bash", str(SEND_EVENT)], env=env, capture_output=True, text=True, timeout=30, check=True
    )
    # Then Trigly accepted the event (or counts it as a duplicate on a rerun)
    assert '"rejected": []' in result.stdout or '"rejected":[]' in result.stdout
    local_stack.advance()
    [customer] = find(local_stack, external_id="EX-1001")
    assert customer["first_name"] == "Иван"
    # And the example is a person of its own: the demo's customers keep their phones alone
    assert [c["id"] for c in find(local_stack, phone="8 915 204-18-77")] == [customer["id"]]
    [demo] = find(local_stack, phone="8 (912) 345-67-89")
    assert list(demo["external_ids"].values()) == ["C-10001"]


def test_openapi_and_swagger_ui_are_served(local_stack: LocalStack) -> None:
    document = local_stack.client.get("/openapi.json").json()
    assert "/v1/webhooks/{connector_id}" in document["paths"]
    assert "/v1/customers" in document["paths"]
    page = local_stack.client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
