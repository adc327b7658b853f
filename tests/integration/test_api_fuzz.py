"""Property-based fuzzing of the whole API from its own `/openapi.json` (schemathesis).

Every documented operation gets generated requests, valid and invalid (schemathesis' examples,
coverage and fuzzing phases: wrong types, missing fields, undeclared and malformed content
types, boundary numbers), with a valid API key, through the local gateway (API Gateway's routing
and payload 2.0) into the functions in process, on the template deployed into moto. Whatever
comes in, the API never answers a server error, answers what its document says, and every
refusal is a problem document.

`make test` runs a quick profile (TRIGLY_FUZZ_EXAMPLES=2 per operation); `make fuzz` a longer
one. A failure lists each operation with the request that broke it.
"""

import os
from typing import Any

import schemathesis
from schemathesis import Case, engine
from schemathesis.engine import Status, events

from infra.deploy import DeployedStack
from infra.local.gateway import Gateway
from infra.local.runtime import FunctionHost
from tests.integration.conftest import new_tenant

EXAMPLES = int(os.environ.get("TRIGLY_FUZZ_EXAMPLES", "2"))
PROBLEM = "application/problem+json"


@schemathesis.check
def refusals_are_problems(ctx: Any, response: Any, case: Case) -> bool | None:
    """Every 4xx is RFC 9457 (CONTRACT §1a): `application/problem+json` with its status."""
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith(PROBLEM), f"{response.status_code} as {content_type}"
        body = response.json()
        assert body["status"] == response.status_code, body
        assert body["type"] and body["title"], body
    return None


CHECKS = {
    "not_a_server_error",
    "response_schema_conformance",
    "content_type_conformance",
    "refusals_are_problems",
}


def fuzz(
    stack: DeployedStack, examples: int
) -> tuple[set[str], set[str], dict[tuple[str, str], str]]:
    """(operations tested, checks run, {(operation, check): the failing request and why})."""
    api_key = new_tenant("Фаззинг").api_key
    gateway = Gateway(stack.routes, FunctionHost(stack.functions), account_id=stack.account_id)
    config = schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": f"Bearer {api_key}"},
            "seed": 20261207,  # the same requests every run: a failure reproduces
            "generation": {
                "max-examples": examples,
                "database": "none",
                # The key is the fixture's; generated Authorization headers only test the 401.
                "with-security-parameters": False,
            },
            "phases": {"stateful": {"enabled": False}},  # the document declares no links
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    )
    schema = schemathesis.openapi.from_wsgi("/openapi.json", gateway, config=config)
    tested: set[str] = set()
    ran: set[str] = set()
    failures: dict[tuple[str, str], str] = {}
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.FatalError | events.NonFatalError):
            failures[(str(getattr(event, "label", "")), "error")] = str(event.info.message)
        if not isinstance(event, events.ScenarioFinished) or event.label is None:
            continue
        tested.add(event.label)
        for case_id, checks in event.recorder.checks.items():
            for check in checks:
                ran.add(check.name)
                if check.status is Status.SUCCESS:
                    continue
                case = event.recorder.cases[case_id].value
                sent = f"{case.headers.get('Content-Type', '')} {str(case.body)[:200]}"
                why = str(check.failure_info.failure if check.failure_info else "")[:300]
                failures.setdefault((event.label, check.name), f"{sent} -> {why}")
    return tested, ran, failures


def test_fuzzing_every_operation_finds_no_server_error_and_only_problems(
    stack: DeployedStack,
) -> None:
    tested, ran, failures = fuzz(stack, EXAMPLES)

    assert failures == {}
    assert ran == CHECKS
    # Every operation of the document was exercised (the webhook's signature refuses: 401).
    assert len(tested) >= 49, sorted(tested)
