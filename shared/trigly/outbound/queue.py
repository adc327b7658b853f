"""Queueing outbound events: one SQS message per (event, connector), so each DMS retries alone."""

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
    aws.send_all(
        get_settings().outbound_queue_url,
        [d.model_dump_json() for d in deliveries],
        "outbound deliveries",
    )
    return len(deliveries)
