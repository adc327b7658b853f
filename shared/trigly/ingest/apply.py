"""Applying one queued event to the customer data it touches. Safe to run more than once."""

from collections.abc import Callable
from typing import cast

from trigly.events.customer import CustomerUpserted
from trigly.events.validation import ValidEvent, validate_event
from trigly.ingest.messages import IngestMessage
from trigly.platform import tenancy
from trigly.profiles import service as profiles


class UnappliableEvent(Exception):
    """A queued event no longer validates (e.g. a schema change between deploys): it must go to
    the DLQ for a person to look at, not be dropped."""


def _customer_upserted(message: IngestMessage, tenant: tenancy.Tenant, event: ValidEvent) -> None:
    profiles.apply_customer_upserted(
        tenant, message.connector_id, event.id, cast(CustomerUpserted, event.payload), message.stamp
    )


APPLIERS: dict[str, Callable[[IngestMessage, tenancy.Tenant, ValidEvent], None]] = {
    "customer.upserted": _customer_upserted,
}


def apply_message(body: str) -> None:
    message = IngestMessage.model_validate_json(body)
    # Validated as of receipt, so the "not in the future" rule means the same thing here.
    event = validate_event(message.event, now=message.received_at)
    if isinstance(event, list):
        raise UnappliableEvent(f"{message.event_id}: {[e.field for e in event]}")
    tenant = tenancy.get_tenant_cached(message.tenant_id)
    APPLIERS[event.type](message, tenant, event)
