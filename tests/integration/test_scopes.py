"""API-key scopes (CONTRACT §1): every route's scope is declared in `functions.api.access`, and a
key outside it gets 403 and changes nothing — checked over every route the API serves, so a new
route enters these tests the moment it is added."""

import hashlib
import json
from typing import Any

import boto3
import pytest

from functions.api import access
from functions.api.app import app
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture, new_tenant
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.integration.test_webhook import encode, post
from tests.support import customer_event
from trigly.platform import tenancy
from trigly.platform.tenancy import Scope
from trigly.store import keys

ROUTES = sorted(
    {(route.method, route.path, route.include_in_schema) for route in app._static_routes}
    | {(route.method, route.path, route.include_in_schema) for route in app._dynamic_routes}
)
KEYED = [(m, path) for m, path, _ in ROUTES if access.needed(m, path) is not access.PUBLIC]
WRITES = [(method, path) for method, path in KEYED if method in access.WRITES]
READS = [(method, path) for method, path in KEYED if method in access.READS]
ADMIN_READS = {("GET", "/v1/api-keys"), ("GET", "/v1/customers/<customer_id>/export")}


def route_id(route: tuple[str, str]) -> str:
    return f"{route[0]} {route[1]}"


def test_every_route_has_a_declared_scope() -> None:
    assert len(ROUTES) > 40  # the whole API, not an empty import
    for method, path, documented in ROUTES:
        rule = access.rule_for(method, path)
        assert rule is not None, f"{method} {path} has no scope in functions/api/access.py"
        # A route takes no key exactly when it is left out of the OpenAPI document (customer
        # links, provider callbacks, the document itself): every documented route is keyed.
        assert (rule.needs is access.PUBLIC) is (not documented), f"{method} {path}"


def test_no_two_rules_claim_the_same_method_and_path() -> None:
    claimed = [(m, r.segments) for r in access.RULES for m in r.methods]
    assert len(claimed) == len(set(claimed))


def test_the_contract_table_holds_for_known_routes() -> None:
    assert access.needed("GET", "/v1/customers/cus_1") is Scope.READ
    assert access.needed("GET", "/v1/customers/cus_1/export") is Scope.ADMIN
    assert access.needed("GET", "/v1/api-keys") is Scope.ADMIN
    assert access.needed("PUT", "/v1/templates/welcome") is Scope.MARKETING
    assert access.needed("POST", "/v1/messages") is Scope.MARKETING
    assert access.needed("DELETE", "/v1/customers/cus_1") is Scope.ADMIN
    assert access.needed("POST", "/v1/rejected-events/rej_1/replay") is Scope.ADMIN
    # A write nobody has declared yet is admin-only, never open.
    assert access.needed("PUT", "/v1/settings/messaging") is Scope.ADMIN
    assert access.needed("POST", "/v1//api-keys") is Scope.ADMIN
    assert access.needed("GET", "/l/abc") is access.PUBLIC


@pytest.fixture(scope="module")
def world(stack: DeployedStack) -> dict[str, Any]:
    """One tenant for the module; keys per scope are added as tests ask for them."""
    return {"dealer": new_tenant("Scopes")}


@pytest.fixture(scope="module")
def ids(world: dict[str, Any], stack: DeployedStack) -> dict[str, str]:
    """Something real behind the ids routes take, so a refused call had something to change."""
    dealer: TenantFixture = world["dealer"]
    ingest(dealer, IngestDrain(stack), customer_event("s-1", "DMS-S1", phones=["+79123450001"]))
    customer = only_customer(dealer, external_id="DMS-S1")
    _status, receipt = post(dealer, encode(customer_event("s-2", "DMS-S2", region="nowhere")))
    spare = tenancy.issue_api_key(dealer.tenant.tenant_id, "spare", [Scope.READ])
    return {
        "customer_id": customer["id"],
        "rejection_id": receipt["rejected"][0]["rejection_id"],
        "key_id": spare.key_id,
        "connector_id": dealer.connector_id,
        "channel": "sms",
        "journey_id": "maintenance",
        "template_id": "welcome",
        "location_id": "loc_none",
        "import_id": "imp_none",
        "merge_id": "mrg_none",
        "token": "device-token",
        "vin": "XW8ZZZ61ZKG000001",
    }


def key_for(world: dict[str, Any], scope: Scope) -> str:
    dealer: TenantFixture = world["dealer"]
    if scope.value not in world:
        world[scope.value] = tenancy.issue_api_key(dealer.tenant.tenant_id, scope, [scope]).api_key
    return str(world[scope.value])


def concrete(path: str, ids: dict[str, str]) -> str:
    """The route with its parameters filled: a real object where the test made one."""
    return "/".join(
        ids.get(segment[1:-1], f"none_{segment[1:-1]}") if segment.startswith("<") else segment
        for segment in path.split("/")
    )


def everything_stored(stack: DeployedStack) -> dict[str, Any]:
    """Every item of every table and the depth of every queue: what a refused call must not move."""
    dynamodb = boto3.client("dynamodb")
    sqs = boto3.client("sqs")
    seen: dict[str, Any] = {}
    for logical_id in ("MainTable", "IdempotencyTable", "RejectedEventsTable"):
        table = stack.physical_ids[logical_id]
        items = dynamodb.get_paginator("scan").paginate(TableName=table)
        seen[logical_id] = sorted(
            json.dumps(i, sort_keys=True, default=repr) for p in items for i in p["Items"]
        )
    for logical_id, queue in stack.queues.items():
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        seen[logical_id] = attributes
    return seen


@pytest.mark.parametrize("route", WRITES, ids=route_id)
def test_a_read_key_gets_403_on_every_write_and_nothing_changes(
    route: tuple[str, str], world: dict[str, Any], ids: dict[str, str], stack: DeployedStack
) -> None:
    method, template = route
    read_key = key_for(world, Scope.READ)
    before = everything_stored(stack)

    status, problem = api(method, concrete(template, ids), read_key, body={})

    assert status == 403, problem
    assert problem["type"].endswith("/forbidden") and problem["status"] == 403
    assert everything_stored(stack) == before


@pytest.mark.parametrize("route", WRITES, ids=route_id)
def test_a_marketing_key_may_write_marketing_routes_only(
    route: tuple[str, str], world: dict[str, Any], ids: dict[str, str]
) -> None:
    method, template = route
    marketing_key = key_for(world, Scope.MARKETING)

    status, _ = api(method, concrete(template, ids), marketing_key, body={})

    if access.needed(method, template) is Scope.MARKETING:
        assert status != 403  # refused for its body or its id, not for the key
    else:
        assert status == 403


@pytest.mark.parametrize("route", READS, ids=route_id)
def test_a_read_key_reads_everything_but_keys_and_exports(
    route: tuple[str, str], world: dict[str, Any], ids: dict[str, str]
) -> None:
    method, template = route
    read_key = key_for(world, Scope.READ)

    status, _ = api(method, concrete(template, ids), read_key)

    if route in ADMIN_READS:
        assert status == 403
    else:
        assert status != 403


def test_keys_are_issued_with_scopes_and_scopes_are_required(dealer: TenantFixture) -> None:
    status, problem = api("POST", "/v1/api-keys", dealer.api_key, body={"label": "crm"})
    assert status == 422 and problem["errors"][0]["field"] == "scopes"
    status, problem = api("POST", "/v1/api-keys", dealer.api_key, body={"scopes": []})
    assert status == 422 and problem["errors"][0]["field"] == "scopes"
    status, problem = api("POST", "/v1/api-keys", dealer.api_key, body={"scopes": ["owner"]})
    assert status == 422 and problem["errors"][0]["field"].startswith("scopes")

    status, issued = api(
        "POST", "/v1/api-keys", dealer.api_key, body={"label": "crm", "scopes": ["marketing"]}
    )
    assert status == 201 and issued["scopes"] == ["marketing"]
    assert issued["api_key"].startswith(issued["prefix"])
    listing = api("GET", "/v1/api-keys", dealer.api_key)[1]["items"]
    assert {k["id"]: k["scopes"] for k in listing}[issued["id"]] == ["marketing"]
    # The new key can do what its scope says, and cannot mint itself a wider one.
    assert api("GET", "/v1/templates", issued["api_key"])[0] == 200
    refused = api("POST", "/v1/api-keys", issued["api_key"], body={"scopes": ["admin"]})
    assert refused[0] == 403
    assert len(api("GET", "/v1/api-keys", dealer.api_key)[1]["items"]) == len(listing)


def test_a_key_made_before_scopes_is_admin(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    old = tenancy.issue_api_key(dealer.tenant.tenant_id, "from before scopes", [Scope.READ])
    # Such a key was stored without the attribute: take it off both of its items.
    table = boto3.resource("dynamodb").Table(stack.physical_ids["MainTable"])
    lookup = keys.api_key(hashlib.sha256(old.api_key.encode()).hexdigest())
    listing = keys.tenant(dealer.tenant.tenant_id)
    for pk, sk in ((lookup, "APIKEY"), (listing, f"APIKEY#{old.key_id}")):
        table.update_item(Key={"pk": pk, "sk": sk}, UpdateExpression="REMOVE scopes")

    listing = api("GET", "/v1/api-keys", old.api_key)
    assert listing[0] == 200
    assert {k["id"]: k["scopes"] for k in listing[1]["items"]}[old.key_id] == ["admin"]
    ingest(dealer, drain, customer_event("old-1", "DMS-OLD"))
    customer = only_customer(dealer, external_id="DMS-OLD")
    assert api("DELETE", f"/v1/customers/{customer['id']}", old.api_key)[0] == 204


def test_an_admin_key_does_what_a_read_key_may_not(
    world: dict[str, Any], ids: dict[str, str]
) -> None:
    dealer: TenantFixture = world["dealer"]
    read_key = key_for(world, Scope.READ)
    path = f"/v1/customers/{ids['customer_id']}"

    assert api("DELETE", path, read_key)[0] == 403
    assert api("GET", path, read_key)[0] == 200
    assert api("DELETE", path, dealer.api_key)[0] == 204
    assert api("GET", path, read_key)[0] == 404
