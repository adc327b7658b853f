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
