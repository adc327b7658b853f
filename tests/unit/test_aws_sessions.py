"""PynamoDB's botocore sessions are boto3's (main thread) or read models through boto3's loader
(other threads), so a cold container parses each model once (a cold-start cost,
docs/benchmarks.md)."""

import threading

import boto3
import pytest
from pynamodb.connection import Connection

import trigly.store.models  # noqa: F401  (binds PynamoDB's sessions to boto3's)


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # Credentials from the environment: no instance-metadata lookup.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def boto3_session() -> object:
    boto3.client("sqs", region_name="us-east-1")
    assert boto3.DEFAULT_SESSION is not None
    return boto3.DEFAULT_SESSION._session


def test_pynamodb_uses_boto3s_session_in_the_main_thread() -> None:
    assert Connection(region="us-east-1").session is boto3_session()


def test_another_thread_gets_its_own_session_on_boto3s_loader() -> None:
    shared = boto3_session()
    seen = []
    worker = threading.Thread(target=lambda: seen.append(Connection(region="us-east-1").session))
    worker.start()
    worker.join()

    (session,) = seen
    assert session is not shared
    assert session.get_component("data_loader") is shared.get_component("data_loader")  # type: ignore[attr-defined]
