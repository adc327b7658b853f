"""HTTP conventions shared by every entry point: RFC 9457 problems, JSON bodies, raw bodies."""

import base64
import json
from collections.abc import Mapping
from typing import Any

from trigly.platform.errors import TriglyError, ValidationFailed

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://trigly.dev/problems/"


def problem(error: TriglyError, instance: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + error.slug,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
    }
    if instance:
        body["instance"] = instance
    if isinstance(error, ValidationFailed):
        body["errors"] = [{"field": e.field, "message": e.message} for e in error.errors]
    return body


def problem_response(error: TriglyError, instance: str | None = None) -> dict[str, Any]:
    """An API Gateway (HTTP API v2) response carrying the problem."""
    return {
        "statusCode": error.status,
        "headers": {"content-type": PROBLEM_CONTENT_TYPE},
        "body": json.dumps(problem(error, instance), ensure_ascii=False),
    }


def json_response(status: int, body: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body, ensure_ascii=False),
    }


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body exactly as sent (signatures are computed over these bytes)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode()
