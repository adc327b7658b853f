"""Domain events on the EventBridge bus: every applied inbound change, for journeys, reports and
other subscribers to react to without touching ingest (schema: docs/events.md).

Delivery is at least once (a retried batch publishes again) with a stable `id` per change, so
subscribers drop repeats. The detail carries ids and facts, never contact data or names:
subscribers read the profile by `customer_id` when they need more.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from trigly.platform import aws
from trigly.platform.clock import isoformat
from trigly.platform.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

SOURCE = "trigly"
# Fields that identify a person; they stay in the profile, not on the bus.
PERSONAL = {
    "phones",
    "emails",
    "contact",
    "caller_phone",
    "first_name",
    "last_name",
    "middle_name",
    "birth_date",
    "advisor",
    "salesperson",
    "consents",
    "url",
}


@dataclass(frozen=True)
class DomainEvent:
    id: str
    tenant_id: str
    type: str
    occurred_at: datetime
    customer_id: str | None
    data: dict[str, Any]

    def entry(self, bus: str) -> "PutEventsRequestEntryTypeDef":
        detail = {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "type": self.type,
            "occurred_at": isoformat(self.occurred_at),
            "customer_id": self.customer_id,
            "data": {k: v for k, v in self.data.items() if k not in PERSONAL},
        }
        return {
            "Source": SOURCE,
            "DetailType": self.type,
            "Detail": json.dumps(detail),
            "EventBusName": bus,
        }


def publish(events: list[DomainEvent]) -> None:
    bus = get_settings().event_bus
    for start in range(0, len(events), 10):
        chunk = events[start : start + 10]
        response = aws.events().put_events(Entries=[e.entry(bus) for e in chunk])
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"{response['FailedEntryCount']} domain events not published")
