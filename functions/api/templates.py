"""Message templates: one template, a variant per channel; previewed with a customer's data."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, Field, JsonValue, ValidationError

from functions.api.context import current_tenant
from functions.api.schemas import Preview, Template, TemplateList
from trigly.events.validation import field_errors
from trigly.messaging import library
from trigly.messaging.templates import MessageTemplate
from trigly.platform.errors import ValidationFailed

router = APIGatewayHttpRouter()


class PreviewRequest(BaseModel):
    customer_id: str = Field(min_length=1, max_length=100)
    vin: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="Which of the customer's cars `car` is (default: the newest they own)",
    )
    variables: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Added to, or replacing, the customer's own data (`car`, `maintenance`...)",
    )


def _view(template: MessageTemplate) -> Template:
    """The template as written (MJML's compiled HTML is Trigly's, and large: not shown)."""
    return Template.model_validate(
        template.model_dump(mode="json", exclude_none=True, exclude={"email": {"compiled_html"}})
    )


@router.get("/templates", tags=["templates"], summary="Message templates")
def list_templates() -> TemplateList:
    templates = library.list_templates(current_tenant(router))
    return TemplateList(items=[_view(t) for t in templates], cursor=None)


@router.put(
    "/templates/<template_id>",
    tags=["templates"],
    summary=(
        "Create or replace a template (text, sms, email {subject, html or mjml, text}, telegram,"
        " push)"
    ),
)
def save_template(template_id: str, template: Annotated[dict[str, JsonValue], Body()]) -> Template:
    try:
        parsed = MessageTemplate.model_validate({**template, "template_id": template_id})
    except ValidationError as exc:
        raise ValidationFailed(errors=field_errors(exc)) from exc
    return _view(library.save_template(current_tenant(router), parsed))


@router.get("/templates/<template_id>", tags=["templates"], summary="One template")
def get_template(template_id: str) -> Template:
    return _view(library.get_template(current_tenant(router), template_id))


@router.delete(
    "/templates/<template_id>",
    tags=["templates"],
    summary="Delete a template (a built-in one comes back)",
    status_code=204,
)
def delete_template(template_id: str) -> Response[None]:
    library.delete_template(current_tenant(router), template_id)
    return Response(status_code=204)


@router.post(
    "/templates/<template_id>/preview", tags=["templates"], summary="Preview with a customer's data"
)
def preview_template(template_id: str, request: PreviewRequest) -> Preview:
    items = library.preview_template(
        current_tenant(router), template_id, request.customer_id, request.variables, request.vin
    )
    return Preview.model_validate({"items": items})
