"""What the OpenAPI document says about the API as a whole."""

from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server
from pydantic import BaseModel, Field

from trigly.events.validation import PAYLOADS

DESCRIPTION = """Trigly's management API. Authenticate with `Authorization: Bearer <api key>`;
the key alone determines the tenant. A key has scopes: `read` (every GET except keys, staff,
audit and a customer's export), `marketing` (read + templates, segments, journeys, campaigns,
messages, offers, scoring refresh, referral links, loyalty redemptions, report links) and `admin`
(everything). Each operation names its scope (`x-trigly-scope`); a key without it gets `403` and
nothing changes. Keys made before scopes existed are `admin`. Errors are
`application/problem+json` (RFC 9457). Lists answer `{"items": [...], "cursor": ...}`, newest
first. Times are ISO 8601 UTC with `Z`.

DMS webhooks (`POST /v1/webhooks/{connector_id}`) are signed per Standard Webhooks with the
connector's `whsec_` secret instead of an API key; see the README for the event catalogue."""

OPENAPI: dict[str, Any] = {
    "title": "Trigly API",
    "version": "1.0.0",
    "description": DESCRIPTION,
    "security_schemes": {"apiKey": HTTPBearer(description="An API key issued to your tenant.")},
    "security": [{"apiKey": []}],
    "servers": [Server(url="/")],
}


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` lists each failing field (422).",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "example": "https://trigly.dev/problems/validation"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "example": "data.jobs.0.amount"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
# What every status means (the README's error table says the same).
PROBLEMS = {
    "400": "Malformed: the body is not JSON, or a `cursor` this list did not give",
    "401": "No API key, or a wrong or revoked one",
    "404": "No such object for your tenant (unknown, another tenant's, or erased)",
    "409": "Conflicts with the current state (e.g. an idempotency key reused)",
    "415": "A body that is not `application/json`",
    "422": "Well-formed JSON that breaks the schema: `errors` names each field",
    "500": "An unexpected failure of Trigly's, logged with the request's id",
}
BODY_METHODS = {"post", "put", "patch"}


def document_problems(document: dict[str, Any]) -> None:
    """Every operation's refusals are problems (one `Problem` schema), and `204` has no body:
    the resolver's own defaults (HTTPValidationError, a null body) are not what the API sends."""
    ref = {"$ref": "#/components/schemas/Problem"}
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            # The resolver keys responses by int; JSON has string keys.
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            operation["responses"] = responses
            if "204" in responses:
                responses["204"].pop("content", None)
                responses["204"]["description"] = "Done; no body"
            statuses = ["400", "401", "404", "422", "500"]
            if method in BODY_METHODS:
                statuses.append("415")
            if path.startswith("/v1/webhooks/"):
                continue  # WebhookFunction's own list
            for status in sorted(statuses):
                responses[status] = {
                    "description": PROBLEMS[status],
                    "content": {"application/problem+json": {"schema": ref}},
                }
            operation["responses"] = dict(sorted(responses.items()))


def webhook_documentation() -> tuple[dict[str, Any], dict[str, Any]]:
    """The webhook route (served by WebhookFunction, not this resolver): its path and schemas."""
    ref = "#/components/schemas/{model}"
    schemas: dict[str, Any] = {}
    event_refs = []
    for event_type, payload in sorted(PAYLOADS.items()):
        name = payload.__name__
        schema = payload.model_json_schema(ref_template=ref)
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
        event_name = f"{name}Event"
        schemas[event_name] = {
            "type": "object",
            "required": ["id", "type", "occurred_at", "data"],
            "properties": {
                "id": {"type": "string", "description": "Idempotency key, unique per connector."},
                "type": {"const": event_type},
                "occurred_at": {"type": "string", "format": "date-time"},
                "data": {"$ref": ref.format(model=name)},
            },
        }
        event_refs.append({"$ref": ref.format(model=event_name)})

    class WebhookRejection(BaseModel):
        index: int
        id: str | None
        rejection_id: str
        errors: list[dict[str, str]] = Field(
            description='[{"field": "data.vin", "message": "..."}]'
        )

    class WebhookReceipt(BaseModel):
        accepted: int
        duplicates: int
        rejected: list[WebhookRejection]

    receipt = WebhookReceipt.model_json_schema(ref_template=ref)
    schemas.update(receipt.pop("$defs", {}))
    schemas["WebhookReceipt"] = receipt
    event = {"oneOf": event_refs}
    problem = {"description": "A problem (RFC 9457)", "content": {"application/problem+json": {}}}
    signature = [
        {
            "name": name,
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": text,
        }
        for name, text in (
            ("webhook-id", "Unique per delivery."),
            ("webhook-timestamp", "Unix seconds; more than 5 minutes off is refused."),
            ("webhook-signature", "v1,<base64 HMAC-SHA256 of '{id}.{timestamp}.{body}'>"),
        )
    ]
    operation = {
        "tags": ["webhooks"],
        "summary": "Receive DMS events (Standard Webhooks signature, not an API key)",
        "operationId": "receive_webhook",
        "security": [],
        "parameters": [
            {"name": "connector_id", "in": "path", "required": True, "schema": {"type": "string"}},
            *signature,
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            event,
                            {
                                "type": "object",
                                "required": ["events"],
                                "properties": {
                                    "events": {"type": "array", "maxItems": 500, "items": event}
                                },
                            },
                        ]
                    }
                }
            },
        },
        "responses": {
            "202": {
                "description": "Stored and queued; counts add up to the events sent.",
                "content": {
                    "application/json": {"schema": {"$ref": ref.format(model="WebhookReceipt")}}
                },
            },
            "400": problem,
            "401": problem,
            "413": problem,
        },
    }
    return {"/v1/webhooks/{connector_id}": {"post": operation}}, schemas
