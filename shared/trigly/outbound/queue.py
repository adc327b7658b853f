"""Queueing outbound events: one SQS message per (event, connector), so each DMS retries alone."""

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from trigly.platform import aws, clock, tenancy
from trigly.platform.settings import get_settings


class OutboundEvent(BaseModel):
    """The body a DMS receives; `id` is stable so the receiver can drop repeats."""

    id: str
    type: str
    occurred_at: str
    data: dict[str, Any]


class OutboundDelivery(BaseModel):
    connector_id: str
    tenant_id: str
    queued_at: datetime
    event: OutboundEvent


def send_to_connectors(
    tenant_id: str,
    event_id: str,
    event_type: str,
    data_for: dict[str, dict[str, Any]] | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Queue the event for every connector of the tenant with an outbound URL; `data_for` gives
    connector-specific data (e.g. that DMS's own customer id). Returns how many were queued."""
    now = clock.now()
    deliveries = []
    for connector in tenancy.list_connectors(tenant_id):
        if not connector.outbound_url:
            continue
        payload = (data_for or {}).get(connector.connector_id, data)
        if payload is None:
            continue
        event = OutboundEvent(
            id=event_id, type=event_type, occurred_at=clock.isoformat(now), data=payload
        )
        deliveries.append(
            OutboundDelivery(
                connector_id=connector.connector_id, tenant_id=tenant_id, queued_at=now, event=event
            )
        )
    for start in range(0, len(deliveries), 10):
        chunk = deliveries[start : start + 10]
        response = aws.sqs().send_message_batch(
            QueueUrl=get_settings().outbound_queue_url,
            Entries=[
                {"Id": str(i), "MessageBody": d.model_dump_json()} for i, d in enumerate(chunk)
            ],
        )
        if response.get("Failed"):
            raise RuntimeError(json.dumps(response["Failed"]))
    return len(deliveries)
