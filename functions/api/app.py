"""Management API: one resolver, API-key authentication and scopes (`functions.api.access`),
errors mapped to problems in one place."""

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import OpenAPI as OpenAPIDocument
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.api import (
    access,
    channels,
    credentials,
    customer_channels,
    customers,
    feedback,
    journeys,
    links,
    locations,
    messages,
    rejected_events,
    settings,
    templates,
    vehicles,
)
from functions.api.imports import router as imports_router
from functions.api.openapi import OPENAPI, webhook_documentation
from trigly.platform import tenancy
from trigly.platform.errors import (
    FieldError,
    Forbidden,
    MalformedRequest,
    NotFound,
    TriglyError,
    Unauthorized,
    ValidationFailed,
)
from trigly.platform.http import PROBLEM_CONTENT_TYPE, problem, problem_response
from trigly.platform.observability import logger, traced_handler


class TriglyResolver(APIGatewayHttpResolver):
    """Documents each operation's API-key scope, and the webhook route too (API Gateway sends it
    to WebhookFunction, not here)."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPIDocument:
        schema = super().get_openapi_schema(**kwargs)
        document = schema.model_dump(by_alias=True, exclude_none=True)
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                access.document(method, path, operation)
        paths, schemas = webhook_documentation()
        document.setdefault("paths", {}).update(paths)
        document.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
        return OpenAPIDocument.model_validate(document)


app = TriglyResolver(enable_validation=True)


def _problem(error: TriglyError) -> Response[str]:
    return Response(
        status_code=error.status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=json.dumps(problem(error, app.current_event.path), ensure_ascii=False),
    )


@app.exception_handler(TriglyError)
def handle_domain_error(error: TriglyError) -> Response[str]:
    if error.status >= 500:
        logger.exception("request failed")
    else:
        logger.info("request refused", extra={"status": error.status, "reason": error.slug})
    return _problem(error)


@app.exception_handler(RequestValidationError)
def handle_validation_error(error: RequestValidationError) -> Response[str]:
    details = error.errors()
    if any(d.get("type") == "json_invalid" for d in details):
        return _problem(MalformedRequest("The body is not valid JSON."))
    fields = [
        FieldError(".".join(str(p) for p in d.get("loc", ())[1:]), str(d.get("msg", "invalid")))
        for d in details
    ]
    return _problem(ValidationFailed(errors=fields))


@app.not_found
def handle_not_found(_: Exception) -> Response[str]:
    return _problem(NotFound("No such route."))


app.include_router(customers.router, prefix="/v1")
app.include_router(customer_channels.router, prefix="/v1")
app.include_router(rejected_events.router, prefix="/v1")
app.include_router(credentials.router, prefix="/v1")
app.include_router(locations.router, prefix="/v1")
app.include_router(vehicles.router, prefix="/v1")
app.include_router(messages.router, prefix="/v1")
app.include_router(templates.router, prefix="/v1")
app.include_router(journeys.router, prefix="/v1")
app.include_router(channels.router, prefix="/v1")
app.include_router(settings.router, prefix="/v1")
app.include_router(links.router)
app.include_router(feedback.router, prefix="/v1")
app.include_router(feedback.links_router)
app.include_router(imports_router, prefix="/v1")
app.configure_openapi(**OPENAPI)
app.enable_swagger(path="/docs", **OPENAPI)


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(
        status_code=200,
        content_type="application/json",
        body=app.get_openapi_json_schema(**OPENAPI),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@traced_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Authenticate and authorize before the resolver validates anything: no key means 401 and a
    # key without the route's scope 403, whatever else is wrong, and nothing runs.
    path = event.get("rawPath", "")
    method = (event.get("requestContext") or {}).get("http", {}).get("method", "GET")
    needed = access.needed(method, path)
    if isinstance(needed, tenancy.Scope):
        try:
            caller = tenancy.authenticate((event.get("headers") or {}).get("authorization"))
            if not caller.may(needed):
                raise Forbidden(f"This API key's scopes do not include `{needed.value}`.")
        except (Unauthorized, Forbidden) as error:
            logger.info("request refused", extra={"status": error.status, "reason": error.slug})
            return problem_response(error, instance=path)
        # The tenant comes from the API key alone (CONTRACT §1), never from the path or body.
        app.append_context(tenant_id=caller.tenant_id, key_id=caller.key_id)
    return app.resolve(event, context)
