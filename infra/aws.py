"""Sessions for the emulator: one region, dummy credentials, never a real account."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import boto3

REGION = "us-east-1"
# Dummies on purpose: whatever endpoint a client points at, these open no real account.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"  # noqa: S105  # a well-known placeholder, not a secret


def session(region: str = REGION) -> boto3.session.Session:
    import boto3

    return boto3.session.Session(
        region_name=region,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )
