"""Whole bodies of events too large to keep inline, in the archive bucket (kept for replay)."""

from functools import lru_cache
from typing import TYPE_CHECKING

import boto3

from trigly.platform.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@lru_cache(maxsize=1)
def _s3() -> "S3Client":
    return boto3.client("s3")


def archive_key(tenant_id: str, rejection_id: str) -> str:
    return f"rejected/{tenant_id}/{rejection_id}.json"


def put(key: str, body: bytes) -> None:
    _s3().put_object(
        Bucket=get_settings().archive_bucket, Key=key, Body=body, ContentType="application/json"
    )


def get(key: str) -> bytes:
    return _s3().get_object(Bucket=get_settings().archive_bucket, Key=key)["Body"].read()


def delete(key: str) -> None:
    _s3().delete_object(Bucket=get_settings().archive_bucket, Key=key)
