"""AWS clients, one per service per container (created on first use, reused across invocations).

Endpoints come from the standard `AWS_ENDPOINT_URL*` variables, so the same code runs on AWS,
on moto and on AWS-compatible clouds.
"""

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient


def botocore_session(env_vars: dict[str, Any] | None = None) -> botocore.session.Session:
    """The botocore session PynamoDB creates its client from (`trigly.store.models`).

    PynamoDB builds its own session (one per thread), which parses the endpoint and DynamoDB
    models again and builds its own client classes: tens of ms of every cold start. The main
    thread gets boto3's own session instead; other threads (botocore client creation is not
    thread-safe) a session of their own that reads models through boto3's loader.
    """
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    shared = boto3.DEFAULT_SESSION._session
    if env_vars is None and threading.current_thread() is threading.main_thread():
        return shared
    session = botocore.session.get_session(env_vars)
    session.register_component("data_loader", shared.get_component("data_loader"))
    return session


@lru_cache(maxsize=1)
def dynamodb() -> "DynamoDBClient":
    """For the few reads PynamoDB's models cannot express (one Query across item kinds)."""
    return boto3.client("dynamodb")


@lru_cache(maxsize=1)
def sqs() -> "SQSClient":
    return boto3.client("sqs")


@lru_cache(maxsize=1)
def s3() -> "S3Client":
    return boto3.client("s3")


@lru_cache(maxsize=1)
def events() -> "EventBridgeClient":
    return boto3.client("events")


@lru_cache(maxsize=1)
def ses() -> "SESClient":
    return boto3.client("ses")


@lru_cache(maxsize=1)
def secretsmanager() -> Any:
    return boto3.client("secretsmanager")


@lru_cache(maxsize=1)
def ssm() -> Any:
    """Parameter Store: tenants' channel credentials (SecureString, standard tier)."""
    return boto3.client("ssm")


SQS_BATCH = 10  # SendMessageBatch's limit


def send_all(queue_url: str, bodies: Sequence[str], what: str) -> None:
    """Queue every body, ten to a request; raises when SQS did not take one (the caller's
    retry queues them again, and every consumer is idempotent)."""
    for start in range(0, len(bodies), SQS_BATCH):
        chunk = bodies[start : start + SQS_BATCH]
        response = sqs().send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)],
        )
        if response.get("Failed"):
            raise RuntimeError(f"{len(response['Failed'])} {what} not queued")


def forget_clients() -> None:
    """For tests that start a fresh emulator: the next call creates new clients."""
    for factory in (dynamodb, sqs, s3, events, ses, secretsmanager, ssm):
        factory.cache_clear()
