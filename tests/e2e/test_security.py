"""Scopes and outbound URLs on the local stack, over its HTTP gateway."""

from tests.e2e.conftest import LocalStack


def test_the_demo_key_is_admin_and_a_read_key_cannot_write(local_stack: LocalStack) -> None:
    keys = local_stack.client.get("/v1/api-keys", headers=local_stack.auth())
    assert keys.status_code == 200
    [demo_key] = [k for k in keys.json()["items"] if local_stack.api_key.startswith(k["prefix"])]
    assert demo_key["scopes"] == ["admin"]

    made = local_stack.client.post(
        "/v1/api-keys", json={"label": "reports", "scopes": ["read"]}, headers=local_stack.auth()
    )
    assert made.status_code == 201 and made.json()["scopes"] == ["read"]
    reader = {"Authorization": f"Bearer {made.json()['api_key']}"}

    assert local_stack.client.get("/v1/locations", headers=reader).status_code == 200
    refused = local_stack.client.post("/v1/locations", json={"name": "Склад"}, headers=reader)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_the_local_stack_allows_an_outbound_url_on_loopback(local_stack: LocalStack) -> None:
    # TRIGLY_OUTBOUND_ALLOW_PRIVATE: receivers run on 127.0.0.1 here (never on AWS). The other
    # tenant: the demo's traffic must not start delivering to a port nobody listens on.
    created = local_stack.client.post(
        "/v1/connectors",
        json={"name": "CRM", "outbound_url": "http://127.0.0.1:9/events"},
        headers=local_stack.auth("other"),
    )
    assert created.status_code == 201, created.text
