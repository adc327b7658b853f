"""Change notices: which customers' data changed, sent to the analytics projection (ADR 0022).

No writer calls this. A hook on botocore's event system sees every successful write to the main
table (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems) by any client —
PynamoDB's and boto3's alike — and notes the customer of each key `T#{tenant}#C#{customer}`.
`traced_handler`, which wraps every function's handler, sends what an invocation noted when it
ends: one SQS message per tenant naming its customers. A write that forgot to say it changed a
customer is impossible by construction; a new writer needs nothing.

Car records (`T#{tenant}#V#{vin}`) are not customers' rows: every car change that matters to a
customer rewrites the owner's `CAR#` record in their collection on the same path
(vehicles.service.refresh_owner_views), and that write is noted.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

QUEUE_URL_VARIABLE = "TRIGLY_ANALYTICS_QUEUE_URL"
MAIN_TABLE_VARIABLE = "TRIGLY_MAIN_TABLE"
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
# SQS takes 256 KB a message; a customer id is ~30 bytes.
IDS_PER_MESSAGE = 2_000

_lock = threading.Lock()
_changed: dict[str, set[str]] = {}  # tenant → customers written since the last flush
_CONTEXT_KEY = "trigly_changed_customers"


def customer_of(pk: str) -> tuple[str, str] | None:
    """`T#{tenant}#C#{customer}` → (tenant, customer); any other key → None."""
    parts = pk.split("#")
    if len(parts) == 4 and parts[0] == "T" and parts[2] == "C" and parts[1] and parts[3]:
        return parts[1], parts[3]
    return None


# Items of a customer's collection the view holds nothing of: a journey run advancing writes its
# run on every step, and each would cost a projection (a Query and the S3 writes) for nothing.
NOT_IN_VIEW = ("JRN#",)  # store.journeys.ENROLLMENT_PREFIX


def _pk(key_or_item: Mapping[str, Any] | None) -> str | None:
    """The item's partition key, unless the item is one the analytics view does not hold."""
    sk = (key_or_item or {}).get("sk")
    if isinstance(sk, Mapping) and str(sk.get("S", "")).startswith(NOT_IN_VIEW):
        return None
    value = (key_or_item or {}).get("pk")
    return value.get("S") if isinstance(value, Mapping) else None


def _single(operation: str, params: Mapping[str, Any], table: str) -> Iterator[str]:
    if params.get("TableName") == table:
        found = _pk(params.get("Item") if operation == "PutItem" else params.get("Key"))
        if found:
            yield found


def _batch(params: Mapping[str, Any], table: str) -> Iterator[str]:
    for request in (params.get("RequestItems") or {}).get(table, []):
        put, delete = request.get("PutRequest"), request.get("DeleteRequest")
        found = _pk(put.get("Item") if put else (delete or {}).get("Key"))
        if found:
            yield found


def _transaction(params: Mapping[str, Any], table: str) -> Iterator[str]:
    for entry in params.get("TransactItems") or []:
        for kind, field in (("Put", "Item"), ("Update", "Key"), ("Delete", "Key")):
            action = entry.get(kind)
            if action and action.get("TableName") == table and (found := _pk(action[field])):
                yield found


def _written_keys(operation: str, params: Mapping[str, Any], table: str) -> Iterator[str]:
    """The partition keys a write request changes in `table` (ConditionCheck changes none)."""
    if operation == "BatchWriteItem":
        return _batch(params, table)
    if operation == "TransactWriteItems":
        return _transaction(params, table)
    return _single(operation, params, table)


def _before_call(params: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    """`before-parameter-build`: the operation's parameters as the caller gave them."""
    table = os.environ.get(MAIN_TABLE_VARIABLE)
    if not table:
        return
    customers = {c for pk in _written_keys(model.name, params, table) if (c := customer_of(pk))}
    if customers:
        context[_CONTEXT_KEY] = customers


def _after_call(http_response: Any, context: dict[str, Any], **_: Any) -> None:
    customers = context.pop(_CONTEXT_KEY, None)
    if customers and getattr(http_response, "status_code", 500) < 300:
        note(customers)


def note(customers: Iterable[tuple[str, str]]) -> None:
    """Record (tenant, customer) pairs as changed (the hook's work; also for callers outside
    the main table, e.g. a test)."""
    with _lock:
        for tenant_id, customer_id in customers:
            _changed.setdefault(tenant_id, set()).add(customer_id)


def take() -> dict[str, set[str]]:
    """What was noted since the last take, forgotten here."""
    with _lock:
        taken = dict(_changed)
        _changed.clear()
    return taken


def pending() -> dict[str, set[str]]:
    with _lock:
        return {tenant: set(ids) for tenant, ids in _changed.items()}


def bodies(changed: Mapping[str, set[str]]) -> list[str]:
    """The SQS bodies: `{"tenant_id", "customer_ids"}`, at most IDS_PER_MESSAGE ids each."""
    out = []
    for tenant_id, ids in sorted(changed.items()):
        ordered = sorted(ids)
        for start in range(0, len(ordered), IDS_PER_MESSAGE):
            chunk = ordered[start : start + IDS_PER_MESSAGE]
            out.append(json.dumps({"tenant_id": tenant_id, "customer_ids": chunk}))
    return out


def parse(body: str) -> tuple[str, list[str]]:
    data = json.loads(body)
    return str(data["tenant_id"]), [str(c) for c in data["customer_ids"]]


def flush() -> int:
    """Send what was noted to the analytics queue; returns the customers sent. Without a queue
    (a process outside the stack) the notes are dropped. When SQS refuses, the notes are kept
    for the next flush and the error is raised for the caller to log."""
    url = os.environ.get(QUEUE_URL_VARIABLE)
    changed = take()
    if not changed or not url:
        return 0
    from trigly.platform.aws import send_all

    try:
        send_all(url, bodies(changed), "change notices")
    except Exception:
        note((t, c) for t, ids in changed.items() for c in ids)
        raise
    return sum(len(ids) for ids in changed.values())


class _Installed:
    done = False


def install() -> None:
    """Register the hook for every botocore session made from now on, and on boto3's default
    session if it exists already (idempotent). Clients made before miss it: call this at
    import, before any client (trigly.platform.observability does)."""
    if _Installed.done:
        return
    _Installed.done = True
    from botocore import handlers

    for operation in WRITES:
        handlers.BUILTIN_HANDLERS.append(
            (f"before-parameter-build.dynamodb.{operation}", _before_call)
        )
        handlers.BUILTIN_HANDLERS.append((f"after-call.dynamodb.{operation}", _after_call))
    import boto3

    if boto3.DEFAULT_SESSION is not None:
        register(boto3.DEFAULT_SESSION._session)


def register(session: Any) -> None:
    """The hook on one botocore session (one created before `install`)."""
    for operation in WRITES:
        session.register(f"before-parameter-build.dynamodb.{operation}", _before_call)
        session.register(f"after-call.dynamodb.{operation}", _after_call)
