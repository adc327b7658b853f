"""Segments (CONTRACT §6): saved conditions over the analytics view, counted and previewed
synchronously, members listed by page."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field, JsonValue

from functions.api.context import current_tenant
from functions.api.schemas import Segment, SegmentList, SegmentMembers, SegmentPreview
from trigly.platform.clock import isoformat
from trigly.segments import service

router = APIGatewayHttpRouter()


class SegmentBody(BaseModel):
    name: JsonValue = Field(description="What marketers call it")
    conditions: JsonValue = Field(description="The condition tree (docs/segments.md)")


class PreviewBody(BaseModel):
    conditions: JsonValue


def _view(counted: service.Counted) -> Segment:
    return Segment.model_validate(
        {
            **counted.segment.model_dump(mode="json", include={"id", "name", "conditions"}),
            "count": counted.count,
            "computed_at": isoformat(counted.computed_at),
        }
    )


@router.get("/segments", tags=["segments"], summary="Segments with their counts")
def list_segments() -> SegmentList:
    items = service.list_segments(current_tenant(router))
    return SegmentList(items=[_view(c) for c in items], cursor=None)


@router.put("/segments/<segment_id>", tags=["segments"], summary="Create or replace a segment")
def save_segment(segment_id: str, body: Annotated[SegmentBody, Body()]) -> Segment:
    return _view(
        service.save_segment(current_tenant(router), segment_id, body.name, body.conditions)
    )


@router.get("/segments/<segment_id>", tags=["segments"], summary="One segment and its count")
def get_segment(segment_id: str) -> Segment:
    return _view(service.get_segment(current_tenant(router), segment_id))


@router.delete(
    "/segments/<segment_id>",
    tags=["segments"],
    summary="Delete a segment (409 while a journey starts on it)",
    status_code=204,
)
def delete_segment(segment_id: str) -> Response[None]:
    service.delete_segment(current_tenant(router), segment_id)
    return Response(status_code=204)


@router.post(
    "/segments/preview",
    tags=["segments"],
    summary="Count and sample the customers that conditions match, now",
)
def preview(body: Annotated[PreviewBody, Body()]) -> SegmentPreview:
    count, sample = service.preview(current_tenant(router), body.conditions)
    return SegmentPreview(count=count, sample=sample)


@router.get(
    "/segments/<segment_id>/members", tags=["segments"], summary="Members, a page at a time"
)
def members(
    segment_id: str, cursor: Annotated[str | None, Query(max_length=600)] = None
) -> SegmentMembers:
    ids, following = service.members_page(current_tenant(router), segment_id, cursor)
    return SegmentMembers.model_validate(
        {"items": [{"customer_id": c} for c in ids], "cursor": following}
    )
