"""Applying queued events to the customer data they touch. Safe to run more than once."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trigly.events.validation import validate_event
from trigly.ingest.messages import IngestMessage, QueuedEvent
from trigly.ingest.queue import requeue_alone
from trigly.outbound import bus
from trigly.platform import tenancy
from trigly.platform.observability import logger
from trigly.profiles import activity, identity
from trigly.profiles import service as profiles
from trigly.profiles.ordering import EventContext
from trigly.vehicles import service as vehicles
from trigly.vehicles import stock


class UnappliableEvent(Exception):
    """A queued event no longer validates (e.g. a schema change between deploys): it must go to
    the DLQ for a person to look at, not be dropped."""


def _customer_upserted(tenant: tenancy.Tenant, ctx: EventContext, payload: Any) -> str:
    customer_id = profiles.apply_customer_upserted(
        tenant, ctx.connector_id, ctx.event_id, payload, ctx.stamp
    )
    if payload.anonymous_id:
        identity.attach_anonymous(tenant, payload.anonymous_id, customer_id)
    return customer_id


# Each applier returns the customer the event concerns (None when it concerns none).
Applier = Callable[[tenancy.Tenant, EventContext, Any], str | None]

APPLIERS: dict[str, Applier] = {
    "customer.upserted": _customer_upserted,
    "customer.consent_changed": profiles.apply_consent_change,
    "vehicle.sold": vehicles.apply_vehicle_sold,
    "vehicle.registered": vehicles.apply_vehicle_registered,
    "vehicle.odometer": vehicles.apply_vehicle_odometer,
    "service_order.closed": vehicles.apply_service_order_closed,
    "insurance.policy": vehicles.apply_insurance_policy,
    "inventory.changed": stock.apply_inventory_changed,
    "service_appointment.changed": activity.apply_appointment,
    "test_drive.changed": activity.apply_test_drive,
    "showroom.visited": activity.apply_showroom_visit,
    "lead.created": activity.apply_lead,
    "parts.purchased": activity.apply_parts_purchase,
    "web.activity": activity.apply_web_activity,
    "call.tracked": activity.apply_call,
    "order.status_changed": activity.apply_order_status,
}


@dataclass(frozen=True)
class Applied:
    """What became of one queue message's events."""

    applied: int
    requeued: int  # failed here, queued again one per message for their own retries


def apply_message(body: str) -> Applied:
    """Apply each event of the message. A message of one event fails as a whole (SQS retries it,
    then dead-letters it); from a message of several, the events that fail are queued again one
    per message, so each gets its own retries and, if it keeps failing, its own place in the
    DLQ, while the others are done. Raises only if that fails too (then the whole message is
    retried: applying an event again changes nothing)."""
    message = IngestMessage.model_validate_json(body)
    failed: list[QueuedEvent] = []
    for queued in message.events:
        try:
            apply_event(message, queued)
        except Exception as error:  # each event succeeds or fails on its own
            if len(message.events) == 1:
                raise
            logger.warning(
                "event failed in a shared message; queued again alone",
                extra={
                    "tenant_id": message.tenant_id,
                    "event_id": queued.event_id,
                    "error": type(error).__name__,
                },
            )
            failed.append(queued)
    if failed:
        requeue_alone(message, failed)
    return Applied(len(message.events) - len(failed), len(failed))


def apply_event(message: IngestMessage, queued: QueuedEvent) -> None:
    # Validated as of receipt, so the "not in the future" rule means the same thing here.
    event = validate_event(queued.event, now=message.received_at)
    if isinstance(event, list):
        raise UnappliableEvent(f"{queued.event_id}: {[e.field for e in event]}")
    tenant = tenancy.get_tenant_cached(message.tenant_id)
    ctx = EventContext(
        connector_id=message.connector_id,
        event_id=queued.event_id,
        occurred_at=event.occurred_at,
        stamp=queued.stamp,
    )
    customer_id = APPLIERS[event.type](tenant, ctx, event.payload)
    bus.publish(
        [
            bus.DomainEvent(
                id=f"{message.connector_id}:{queued.event_id}",
                tenant_id=tenant.tenant_id,
                type=event.type,
                occurred_at=event.occurred_at,
                customer_id=customer_id,
                data=event.payload.model_dump(mode="json", exclude_none=True),
            )
        ]
    )
