"""Management API: one resolver, API-key authentication and scopes (`functions.api.access`),
errors mapped to problems in one place."""

from trigly.platform.startup import init_phase

with init_phase():
    import json
    from http import HTTPStatus
    from typing import Any

    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.event_handler.openapi.exceptions import (
        RequestUnsupportedContentType,
        RequestValidationError,
    )
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI as OpenAPIDocument
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.api import (
        access,
        campaigns,
        channels,
        credentials,
        customer_channels,
        customers,
        feedback,
        journeys,
        links,
        locations,
        messages,
        prices,
        rejected_events,
        segments,
        settings,
        templates,
        vehicles,
    )
    from functions.api.imports import router as imports_router
    from functions.api.openapi import OPENAPI, document_problems, webhook_documentation
    from trigly.platform import tenancy
    from trigly.platform.errors import (
        FieldError,
        Forbidden,
        MalformedRequest,
        NotFound,
        TriglyError,
        Unauthorized,
        UnsupportedMediaType,
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
        document_problems(document)
        return OpenAPIDocument.model_validate(document)


# An answer that breaks its own model is Trigly's failure (500), never the caller's 422.
app = TriglyResolver(
    enable_validation=True, response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR
)


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


@app.exception_handler(RequestUnsupportedContentType)
def handle_unsupported_body(_: RequestUnsupportedContentType) -> Response[str]:
    return _problem(UnsupportedMediaType(JSON_ONLY))


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


@app.exception_handler(Exception)
def handle_failure(_: Exception) -> Response[str]:
    """A failure nobody meant: logged with its traceback, answered as a problem all the same."""
    logger.exception("request failed")
    return _problem(TriglyError())


JSON_ONLY = "The API reads JSON bodies only: send `Content-Type: application/json`."
BODY_METHODS = {"POST", "PUT", "PATCH"}


def is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def body_refusal(event: dict[str, Any]) -> TriglyError | None:
    """The one gate for bodies of the JSON API (`/v1/`, not the public callbacks): a body in
    any other media type (a form, multipart with or without its boundary, text) is `415` before
    anything parses it."""
    if not str(event.get("rawPath", "")).startswith("/v1/"):
        return None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = str(headers.get("content-type") or "")
    method = event.get("requestContext", {}).get("http", {}).get("method", "")
    if not content_type or is_json(content_type):
        return None
    if event.get("body") or method in BODY_METHODS:
        return UnsupportedMediaType(JSON_ONLY)
    return None


app.include_router(customers.router, prefix="/v1")
app.include_router(customer_channels.router, prefix="/v1")
app.include_router(rejected_events.router, prefix="/v1")
app.include_router(credentials.router, prefix="/v1")
app.include_router(locations.router, prefix="/v1")
app.include_router(vehicles.router, prefix="/v1")
app.include_router(messages.router, prefix="/v1")
app.include_router(templates.router, prefix="/v1")
app.include_router(journeys.router, prefix="/v1")
app.include_router(prices.router, prefix="/v1")
app.include_router(channels.router, prefix="/v1")
app.include_router(settings.router, prefix="/v1")
app.include_router(campaigns.router, prefix="/v1")
app.include_router(segments.router, prefix="/v1")
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
        refusal = body_refusal(event)
        if refusal is not None:
            logger.info("request refused", extra={"status": refusal.status, "reason": refusal.slug})
            return problem_response(refusal, instance=path)
    return app.resolve(event, context)
