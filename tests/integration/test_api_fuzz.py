"""Property-based fuzzing of the whole API from its own `/openapi.json` (schemathesis).

Every documented operation gets generated requests, valid and invalid, with a valid API key,
through the local gateway (API Gateway's routing and payload 2.0) into the functions in process,
on the template deployed into moto. Whatever comes in, the API never answers a server error, and
every refusal is a problem document.

`make test` runs a quick profile; `make fuzz` a longer one (TRIGLY_FUZZ_EXAMPLES per operation).
"""

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from infra.deploy import DeployedStack
from infra.local.gateway import Gateway
from infra.local.runtime import FunctionHost
from tests.integration.conftest import new_tenant

EXAMPLES = int(os.environ.get("TRIGLY_FUZZ_EXAMPLES", "6"))
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def api_key(stack: DeployedStack) -> str:
    return new_tenant("Фаззинг").api_key


@pytest.fixture(scope="module")
def api_schema(stack: DeployedStack) -> OpenApiSchema:
    gateway = Gateway(stack.routes, FunctionHost(stack.functions), account_id=stack.account_id)
    loaded = schemathesis.openapi.from_wsgi("/openapi.json", gateway)
    # The key comes from the fixture; generated Authorization headers would only test the 401.
    loaded.config.generation.update(with_security_parameters=False, no_shrink=True)
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


def problem_on_refusal(ctx: Any, response: Any, case: Case) -> bool | None:
    """Every 4xx of the API is RFC 9457 (the webhook's too): `type`, `title`, `status`."""
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith(PROBLEM), (response.status_code, content_type)
        body = response.json()
        assert body["status"] == response.status_code
        assert body["type"] and body["title"]
    return None


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_api_fail(case: Case, api_key: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api_key}"},
        checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
        additional_checks=[problem_on_refusal],
    )
