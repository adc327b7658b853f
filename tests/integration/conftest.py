"""Integration tests: handlers called with real AWS event shapes against moto, whose tables,
queues and bucket are created from template.yaml itself (deployed through CloudFormation)."""

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto import mock_aws

from infra.deploy import DeployedStack, deploy
from infra.local.control import starting_clock
from tests.support import reset_process_caches
from trigly.messaging import settings
from trigly.platform import clock, tenancy

# Powertools reads these when the handler modules are imported, which happens at collection,
# before the stack fixture sets the template's environment.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Trigly")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "trigly")


@pytest.fixture(scope="module")
def stack() -> Iterator[DeployedStack]:
    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        deployed = deploy()
        os.environ.update(deployed.environment())
        reset_process_caches()
        yield deployed
    os.environ.clear()
    os.environ.update(saved)
    reset_process_caches()


@dataclass(frozen=True)
class TenantFixture:
    tenant: tenancy.Tenant
    api_key: str
    connector_id: str
    secret: str


def new_tenant(name: str, *, sandbox: bool = True) -> TenantFixture:
    """A tenant like the local stack's demo ones: every channel without a provider records to
    the sandbox outbox (`sandbox=False`: a deployed tenant's behaviour)."""
    tenant = tenancy.create_tenant(name)
    if sandbox:
        settings.change_settings(tenant.tenant_id, {"sandbox": True})
    key = tenancy.issue_api_key(tenant.tenant_id, "tests")
    connector = tenancy.create_connector(tenant.tenant_id, "DMS")
    return TenantFixture(tenant, key.api_key, connector.connector_id, connector.secret)


@pytest.fixture
def dealer(stack: DeployedStack) -> TenantFixture:
    """A fresh tenant per test: tests share a stack but never each other's data."""
    return new_tenant("Автомир")


@pytest.fixture
def other_dealer(stack: DeployedStack) -> TenantFixture:
    return new_tenant("Другой дилер")


@pytest.fixture
def business_clock() -> Iterator[clock.AdjustableClock]:
    adjustable = starting_clock()
    clock.use(adjustable)
    yield adjustable
    clock.use(starting_clock())


@dataclass(frozen=True)
class IngestDrain:
    """Hands what waits in the ingest queue to the ingest handler, as Lambda's poller would."""

    stack: DeployedStack

    def __call__(self) -> dict[str, list[dict[str, str]]]:
        import boto3

        from functions.ingest.app import handler
        from tests.support import FakeLambdaContext, sqs_event

        sqs = boto3.client("sqs")
        queue = self.stack.queues["IngestQueue"]
        failures: list[dict[str, str]] = []
        while True:
            received = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not received:
                return {"batchItemFailures": failures}
            event = sqs_event([m["Body"] for m in received], queue.arn)
            handles = {
                r["messageId"]: m["ReceiptHandle"]
                for r, m in zip(event["Records"], received, strict=True)
            }
            result = handler(event, FakeLambdaContext())
            failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
            failures.extend(result["batchItemFailures"])
            for message_id, handle in handles.items():
                if message_id not in failed:
                    sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=handle)
            if failed:
                return {"batchItemFailures": failures}


@pytest.fixture
def drain(stack: DeployedStack) -> IngestDrain:
    return IngestDrain(stack)


PUBLIC_URL = "https://go.dealer.example"


@pytest.fixture
def public_url(stack: DeployedStack) -> Iterator[str]:
    """The deployment's public URL set: messages carry tracked and customer links only with it."""
    saved = os.environ.get("TRIGLY_PUBLIC_URL", "")
    os.environ["TRIGLY_PUBLIC_URL"] = PUBLIC_URL
    reset_process_caches()
    yield PUBLIC_URL
    os.environ["TRIGLY_PUBLIC_URL"] = saved
    reset_process_caches()
