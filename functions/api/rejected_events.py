"""Rejected inbound events: list, read, replay (CONTRACT §3)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field

from functions.api.schemas import IntakeReceipt, RejectedEvent, RejectedEventList
from trigly.ingest import intake, rejections
from trigly.platform.clock import isoformat

router = APIGatewayHttpRouter()


class ReplayRequest(BaseModel):
    event: dict[str, Any] | None = Field(
        default=None, description="A corrected event; omit to replay the event as stored."
    )


def _view(rejected: rejections.RejectedEvent) -> RejectedEvent:
    return RejectedEvent.model_validate(
        {
            "id": rejected.rejection_id,
            "connector_id": rejected.connector_id,
            "event_id": rejected.event_id,
            "type": rejected.event_type,
            "received_at": isoformat(rejected.received_at),
            "status": rejected.status,
            "errors": [{"field": e.field, "message": e.message} for e in rejected.errors],
            "event": rejected.payload,
            "archived": rejected.archived,
            "resolved_at": isoformat(rejected.resolved_at) if rejected.resolved_at else None,
        }
    )


@router.get("/rejected-events", tags=["rejected events"], summary="Rejected events, newest first")
def list_rejected_events(
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RejectedEventList:
    items, next_cursor = rejections.list_rejected(router.context["tenant_id"], limit, cursor)
    return RejectedEventList(items=[_view(i) for i in items], cursor=next_cursor)


@router.get(
    "/rejected-events/<rejection_id>", tags=["rejected events"], summary="One rejected event"
)
def get_rejected_event(rejection_id: str) -> RejectedEvent:
    return _view(rejections.get_rejected(router.context["tenant_id"], rejection_id))


@router.post(
    "/rejected-events/<rejection_id>/replay",
    tags=["rejected events"],
    summary="Replay a rejected event, as stored or corrected",
)
def replay_rejected_event(
    rejection_id: str, request: Annotated[ReplayRequest | None, Body()] = None
) -> IntakeReceipt:
    corrected = request.event if request else None
    receipt = intake.replay_rejected(router.context["tenant_id"], rejection_id, corrected)
    return IntakeReceipt.model_validate(receipt.as_response())
