"""The ingest queue's message: one accepted event and what is needed to apply it in order."""

from typing import Any

from pydantic import AwareDatetime, BaseModel


class IngestMessage(BaseModel):
    tenant_id: str
    connector_id: str
    event_id: str
    stamp: str  # ordering stamp (profiles.ordering.event_stamp)
    received_at: AwareDatetime
    event: dict[str, Any]
