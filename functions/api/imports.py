"""Bulk imports through the API (docs/imports.md): create, upload, start, follow."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.api.schemas import Import, ImportList
from trigly.imports import jobs

router = APIGatewayHttpRouter()


@router.post(
    "/imports",
    tags=["imports"],
    summary="Create an import; PUT the file to the returned upload_url, then start it",
    status_code=201,
)
def create_import(request: Annotated[jobs.CreateImport, Body()]) -> Import:
    return Import.model_validate(jobs.create(router.context["tenant_id"], request))


@router.post(
    "/imports/<import_id>/start",
    tags=["imports"],
    summary="Start processing the uploaded file (a dry run or a commit, as created)",
    status_code=202,
)
def start_import(import_id: str) -> Import:
    return Import.model_validate(jobs.start(router.context["tenant_id"], import_id))


@router.get("/imports", tags=["imports"], summary="Imports, newest first")
def list_imports(
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ImportList:
    items, next_cursor = jobs.list_imports(router.context["tenant_id"], limit, cursor)
    return ImportList.model_validate({"items": items, "cursor": next_cursor})


@router.get("/imports/<import_id>", tags=["imports"], summary="An import's status and report")
def get_import(import_id: str) -> Import:
    return Import.model_validate(jobs.get(router.context["tenant_id"], import_id))
