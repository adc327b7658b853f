"""Helpers shared by the test suites: real AWS event shapes, signing, process-wide caches."""

import base64
import copy
import json
import uuid
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from standardwebhooks import Webhook

from trigly.platform import clock

EVENTS = Path(__file__).parent / "events"


def days_ahead(days: int, at: time, tz: tzinfo) -> datetime:
    """`at` o'clock in `tz`, `days` calendar days after the business clock's today there.

    Tests move the business clock only to moments computed from its own now: it never goes back
    and the wall clock keeps moving, so a literal date is in the past one day and fails the suite
    (it did; tests/unit/test_test_clocks.py refuses one).
    """
    today = clock.now().astimezone(tz).date()
    return datetime.combine(today + timedelta(days=days), at, tzinfo=tz)


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def http_event(
    method: str,
    path: str,
    *,
    route_key: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2.0) event, built on the recorded real one."""
    event = copy.deepcopy(load_event("apigw_http_v2.json"))
    event["routeKey"] = route_key or f"{method} {path}"
    event["rawPath"] = path
    event["rawQueryString"] = urlencode(query or {})
    event["queryStringParameters"] = query or None
    event["headers"] = {
        "content-type": "application/json",
        **{k.lower(): v for k, v in (headers or {}).items()},
    }
    event["pathParameters"] = path_parameters
    event.pop("cookies", None)
    context = event["requestContext"]
    context["http"]["method"] = method
    context["http"]["path"] = path
    context["routeKey"] = event["routeKey"]
    context["requestId"] = str(uuid.uuid4())
    if body is None:
        event.pop("body", None)
        event["isBase64Encoded"] = False
    else:
        raw = body.encode() if isinstance(body, str) else body
        event["body"] = base64.b64encode(raw).decode() if base64_body else raw.decode()
        event["isBase64Encoded"] = base64_body
    return event


def sqs_event(bodies: list[str], queue_arn: str) -> dict[str, Any]:
    """An SQS → Lambda batch, built on the recorded real one."""
    template = load_event("sqs_batch.json")["Records"][0]
    records = []
    for body in bodies:
        record = copy.deepcopy(template)
        record["messageId"] = str(uuid.uuid4())
        record["receiptHandle"] = str(uuid.uuid4())
        record["body"] = body
        record["eventSourceARN"] = queue_arn
        records.append(record)
    return {"Records": records}


def signed_headers(
    secret: str, body: bytes, *, timestamp: datetime | None = None
) -> dict[str, str]:
    moment = timestamp or datetime.now(UTC)
    msg_id = f"msg_{uuid.uuid4().hex}"
    signature = Webhook(secret).sign(msg_id, moment, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }


def customer_event(
    event_id: str, external_id: str, occurred_at: str = "2026-11-20T10:15:00+03:00", **data: Any
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "customer.upserted",
        "occurred_at": occurred_at,
        "data": {"external_id": external_id, **data},
    }


def reset_process_caches() -> None:
    """Forget what a container caches (settings, clients, bound tables) between test stacks."""
    from trigly.analytics import notices
    from trigly.channels import configuration
    from trigly.locations import service as locations_service
    from trigly.platform import aws, tenancy
    from trigly.platform.settings import get_settings
    from trigly.store import due_hours, models, prices

    get_settings.cache_clear()
    aws.forget_clients()
    tenancy._tenant_cache.clear()
    tenancy._tenant_ids_cache.clear()
    due_hours._written.clear()
    prices._learnt.clear()
    locations_service._cache.forget()
    configuration.forget_configured()
    models._bound = None
    notices.take()  # notes of writes to a previous stack's tables


class FakeLambdaContext:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
