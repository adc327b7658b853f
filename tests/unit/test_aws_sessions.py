"""PynamoDB's botocore sessions read the service and endpoint models through boto3's loader, so
a cold container parses each model once (a cold-start cost, docs/benchmarks.md)."""

import boto3
import pytest
from pynamodb.connection import Connection

import trigly.store.models  # noqa: F401  (binds PynamoDB's sessions to boto3's loader)


def test_pynamodb_sessions_share_boto3s_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    # Credentials from the environment: no instance-metadata lookup.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    boto3.client("sqs", region_name="us-east-1")
    assert boto3.DEFAULT_SESSION is not None
    boto3_loader = boto3.DEFAULT_SESSION._session.get_component("data_loader")

    session = Connection(region="us-east-1").session

    assert session.get_component("data_loader") is boto3_loader
