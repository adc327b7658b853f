"""The authenticated tenant of the current request (set by the API's authentication middleware)."""

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from trigly.platform import tenancy


def current_tenant(router: APIGatewayHttpRouter) -> tenancy.Tenant:
    return tenancy.get_tenant_cached(router.context["tenant_id"])
