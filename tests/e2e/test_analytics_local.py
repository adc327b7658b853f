"""The analytics view on the local stack (ADR 0022): the demo tenant's customers are in it, and
a webhook's change is visible in `open_view` once the clock's drain (`PT0S`) has run."""

from typing import Any

import boto3
import pytest

from infra.local import demo
from tests.e2e.conftest import LocalStack
from trigly.analytics.view import open_view

pytestmark = pytest.mark.e2e


def _archive(local_stack: LocalStack) -> tuple[Any, str]:
    """The stack's S3 (moto) and its archive bucket, as the functions see them."""
    options = {
        "endpoint_url": local_stack.aws_endpoint_url,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    cloudformation = boto3.client("cloudformation", **options)
    [stack] = cloudformation.describe_stacks()["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    return boto3.client("s3", **options), outputs["ArchiveBucketName"]


def test_the_demo_tenant_is_in_the_view_and_a_change_shows_after_a_drain(
    local_stack: LocalStack,
) -> None:
    s3, bucket = _archive(local_stack)
    local_stack.advance("PT0S")
    demo_people = {
        e["data"]["external_id"]: e["data"].get("city")
        for e in demo.demo_customers(local_stack.now())
        if e["type"] == "customer.upserted"
    }
    with open_view(local_stack.tenant_id, s3=s3, bucket=bucket) as con:
        cities = sorted(c for (c,) in con.sql("SELECT city FROM customers").fetchall() if c)
        assert con.sql("SELECT count(*) FROM cars").fetchall() != [(0,)]
    assert cities == sorted(c for c in demo_people.values() if c)
    event = {
        "id": "analytics-e2e-1",
        "type": "customer.upserted",
        "occurred_at": local_stack.now().isoformat(),
        "data": {"external_id": "AN-E2E-1", "first_name": "Ада", "city": "Аналитинск"},
    }
    assert local_stack.sign_and_post([event]).status_code == 202
    local_stack.advance("PT0S")
    with open_view(local_stack.tenant_id, s3=s3, bucket=bucket) as con:
        found = con.sql("SELECT count(*) FROM customers WHERE city = 'Аналитинск'").fetchall()
    assert found == [(1,)]
    # The other tenant's view holds none of it
    with open_view(local_stack.other_tenant.tenant_id, s3=s3, bucket=bucket) as con:
        assert con.sql("SELECT count(*) FROM customers").fetchall() == [(0,)]
