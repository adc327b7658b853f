"""Whole bodies of events too large to keep inline, in the archive bucket (kept for replay)."""

from trigly.platform import aws
from trigly.platform.settings import get_settings


def archive_key(tenant_id: str, rejection_id: str) -> str:
    return f"rejected/{tenant_id}/{rejection_id}.json"


def put(key: str, body: bytes) -> None:
    aws.s3().put_object(
        Bucket=get_settings().archive_bucket, Key=key, Body=body, ContentType="application/json"
    )


def get(key: str) -> bytes:
    return aws.s3().get_object(Bucket=get_settings().archive_bucket, Key=key)["Body"].read()


def get_if_any(key: str) -> bytes | None:
    try:
        return get(key)
    except aws.s3().exceptions.NoSuchKey:
        return None


def delete(key: str) -> None:
    aws.s3().delete_object(Bucket=get_settings().archive_bucket, Key=key)


def merge_snapshot_key(tenant_id: str, merge_id: str) -> str:
    return f"merges/{tenant_id}/{merge_id}.json"
