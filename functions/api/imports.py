"""Bulk imports through the API (docs/imports.md): create, upload, start, follow."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from trigly.imports import jobs

router = APIGatewayHttpRouter()


@router.post(
    "/imports",
    tags=["imports"],
    summary="Create an import; PUT the file to the returned upload_url, then start it",
)
def create_import(request: Annotated[jobs.CreateImport, Body()]) -> Response[dict[str, Any]]:
    created = jobs.create(router.context["tenant_id"], request)
    return Response(status_code=201, content_type="application/json", body=created)


@router.post(
    "/imports/<import_id>/start",
    tags=["imports"],
    summary="Start processing the uploaded file (a dry run or a commit, as created)",
)
def start_import(import_id: str) -> Response[dict[str, Any]]:
    started = jobs.start(router.context["tenant_id"], import_id)
    return Response(status_code=202, content_type="application/json", body=started)


@router.get("/imports", tags=["imports"], summary="Imports, newest first")
def list_imports(
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    items, next_cursor = jobs.list_imports(router.context["tenant_id"], limit, cursor)
    return {"items": items, "cursor": next_cursor}


@router.get("/imports/<import_id>", tags=["imports"], summary="An import's status and report")
def get_import(import_id: str) -> dict[str, Any]:
    return jobs.get(router.context["tenant_id"], import_id)
