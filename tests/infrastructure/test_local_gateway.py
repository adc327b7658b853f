"""The local gateway routes and shapes requests as API Gateway's HTTP API (payload 2.0) does."""

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from infra.deploy import DeployedFunction
from infra.local.gateway import Gateway, MalformedResponseError, Router, to_response
from infra.local.runtime import FunctionHost
from infra.template import Route
from tests.infrastructure import local_handlers
from tests.support import load_event

ROUTES = [
    Route("GET", "/pets/dog/1", "Static", "e1", "Api"),
    Route("GET", "/pets/dog/{id}", "Templated", "e2", "Api"),
    Route("GET", "/pets/{proxy+}", "GreedyGet", "e3", "Api"),
    Route("ANY", "/{proxy+}", "GreedyAny", "e4", "Api"),
    Route("POST", "/v1/webhooks/{connector_id}", "Webhook", "e5", "Api"),
]


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        # API Gateway's own example: full match, then greedy, and ANY for other methods
        ("GET", "/pets/dog/1", "Static", {}),
        ("GET", "/pets/dog/2", "Templated", {"id": "2"}),
        ("GET", "/pets/cat/1", "GreedyGet", {"proxy": "cat/1"}),
        ("POST", "/pets/cat/1", "GreedyAny", {"proxy": "pets/cat/1"}),
        ("POST", "/v1/webhooks/con_1", "Webhook", {"connector_id": "con_1"}),
        ("POST", "/v1/webhooks/a%20b", "Webhook", {"connector_id": "a b"}),
    ],
)
def test_router_picks_the_most_specific_route(
    method: str, path: str, function: str, params: dict[str, str]
) -> None:
    match = Router(ROUTES).match(method, path)

    assert match is not None
    assert (match.route.function, match.path_parameters) == (function, params)


def test_router_without_a_match_or_default_finds_nothing() -> None:
    assert Router(ROUTES[:3]).match("DELETE", "/pets/dog/1") is None
    assert Router(ROUTES[:3]).match("GET", "/pets") is None  # greedy needs a segment


def test_default_route_catches_the_rest() -> None:
    router = Router([*ROUTES[:1], Route("ANY", "$default", "Fallback", "e", "Api")])

    match = router.match("PATCH", "/anything/at/all")

    assert match is not None
    assert match.route.function == "Fallback"
    assert match.route.route_key == "$default"


@pytest.fixture
def gateway() -> Iterator[Client]:
    function = DeployedFunction(
        logical_id="Fn",
        name="trigly-local-Fn",
        arn="arn:aws:lambda:us-east-1:123456789012:function:trigly-local-Fn",
        handler="tests/infrastructure/local_handlers.handler",
        environment={},
        timeout=10,
        memory_size=512,
    )
    routes = [
        Route("POST", "/v1/webhooks/{connector_id}", "Fn", "Webhook", "Api"),
        Route("ANY", "/v1/{proxy+}", "Fn", "V1", "Api"),
    ]
    local_handlers.reset(lambda event: {"statusCode": 204})
    app = Gateway(routes, FunctionHost({"Fn": function}), account_id="123456789012")
    yield Client(app, use_cookies=False)
    local_handlers.reset()


def last_event() -> dict[str, Any]:
    event: dict[str, Any] = local_handlers.calls[-1][0]
    return event


def test_request_becomes_a_payload_2_event_like_the_recorded_one(gateway: Client) -> None:
    # When a JSON webhook arrives
    gateway.post(
        "/v1/webhooks/con_1?a=1&a=2&b=",
        data=b'{"id": "x"}',
        headers={"Content-Type": "application/json", "X-Custom": "v", "Cookie": "s=1; t=2"},
    )
    event = last_event()
    recorded = load_event("apigw_http_v2.json")
    # Then it has every field API Gateway sends, with the same request context
    assert set(recorded) <= set(event)
    assert set(recorded["requestContext"]) <= set(event["requestContext"])
    assert set(recorded["requestContext"]["http"]) == set(event["requestContext"]["http"])
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"]
    assert event["routeKey"] == "POST /v1/webhooks/{connector_id}"
    assert event["rawPath"] == "/v1/webhooks/con_1"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["pathParameters"] == {"connector_id": "con_1"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-custom"] == "v"
    assert all(name == name.lower() for name in event["headers"])
    assert event["requestContext"]["stage"] == "$default"
    assert event["body"] == '{"id": "x"}'
    assert event["isBase64Encoded"] is False
    # And the function got a context like Lambda's
    context = local_handlers.calls[-1][1]
    assert context.function_name == "trigly-local-Fn"
    assert 0 < context.get_remaining_time_in_millis() <= 10_000


def test_non_text_bodies_arrive_base64_encoded(gateway: Client) -> None:
    # Form posts (booking pages) and binary bodies are base64-encoded by HTTP APIs
    gateway.post(
        "/v1/l/token",
        data=b"slot=2026-12-01T10%3A00",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    event = last_event()

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"slot=2026-12-01T10%3A00"
    assert event["pathParameters"] == {"proxy": "l/token"}


def test_a_request_without_body_or_query_omits_them(gateway: Client) -> None:
    gateway.get("/v1/customers")
    event = last_event()

    assert "body" not in event
    assert "queryStringParameters" not in event
    assert event["rawQueryString"] == ""


def test_unknown_route_answers_api_gateways_404(gateway: Client) -> None:
    response = gateway.get("/nope")

    assert response.status_code == 404
    assert response.get_json() == {"message": "Not Found"}


def test_handler_exception_is_a_500_with_api_gateways_message(gateway: Client) -> None:
    def explode(event: Any) -> Any:
        raise RuntimeError("boom")

    local_handlers.reset(explode)

    response = gateway.get("/v1/customers")

    assert response.status_code == 500
    assert response.get_json() == {"message": "Internal Server Error"}


def test_structured_response_maps_status_headers_cookies_and_body() -> None:
    response = to_response(
        {
            "statusCode": 303,
            "headers": {"location": "/done", "x-n": 1},
            "cookies": ["a=1; HttpOnly", "b=2"],
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        },
        "rid",
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/done"
    assert response.headers["x-n"] == "1"
    assert response.headers.getlist("Set-Cookie") == ["a=1; HttpOnly", "b=2"]
    assert response.get_data() == b"\x00\x01"
    assert response.headers["apigw-requestid"] == "rid"


@pytest.mark.parametrize("value", [{"items": [1]}, [1, 2], "text", 7, None])
def test_any_other_json_value_is_a_200_json_body(value: Any) -> None:
    # payload 2.0 inference: no statusCode means 200, application/json, the value as body
    response = to_response(value, "rid")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.get_data()) == value


@pytest.mark.parametrize(
    "result", [{"statusCode": "200"}, {"statusCode": 99}, {"statusCode": 200, "body": {"a": 1}}]
)
def test_malformed_structured_responses_are_refused(result: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError):
        to_response(result, "rid")
