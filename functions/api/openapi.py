"""What the OpenAPI document says about the API as a whole."""

from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

DESCRIPTION = """Trigly's management API. Authenticate with `Authorization: Bearer <api key>`;
the key alone determines the tenant. Errors are `application/problem+json` (RFC 9457). Lists
answer `{"items": [...], "cursor": ...}`, newest first. Times are ISO 8601 UTC with `Z`.

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
