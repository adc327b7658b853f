"""The ingest queue's message: accepted events of one request, and what is needed to apply each
in order.

Several events share a message (up to `queue.EVENTS_PER_MESSAGE`): a 500-event webhook becomes
50 messages instead of 500, which is 10× fewer SQS requests and Lambda records, and keeps the
queue short while the ingest worker catches up. Each event keeps its own id, ordering stamp and
idempotency, so applying a message twice, or one of its events alone, changes nothing.
"""

from typing import Any

from pydantic import AwareDatetime, model_validator

from trigly.platform.models import DeferredModel


class QueuedEvent(DeferredModel):
    event_id: str
    stamp: str  # ordering stamp (profiles.ordering.event_stamp)
    event: dict[str, Any]


class IngestMessage(DeferredModel):
    tenant_id: str
    connector_id: str
    received_at: AwareDatetime
    events: list[QueuedEvent]

    @model_validator(mode="before")
    @classmethod
    def _one_event_shape(cls, data: Any) -> Any:
        """Messages queued before events were grouped carry one event at the top level."""
        if isinstance(data, dict) and "events" not in data and "event" in data:
            single = {key: data[key] for key in ("event_id", "stamp", "event") if key in data}
            rest = {key: value for key, value in data.items() if key not in single}
            return {**rest, "events": [single]}
        return data
