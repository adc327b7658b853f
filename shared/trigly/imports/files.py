"""The uploaded import files in S3 (the archive bucket, `imports/{tenant}/{import id}`): the
presigned upload, reads of the whole file or from a byte on, ranged reads of a chunk, deletion."""

from collections.abc import Iterator

from botocore.exceptions import ClientError

from trigly.platform import aws
from trigly.platform.settings import get_settings


class NoFile(Exception):
    """Nothing is stored under the key (not uploaded yet, or deleted)."""


def upload_url(key: str, expires_in: int) -> str:
    """A presigned PUT URL for the file."""
    url: str = aws.s3().generate_presigned_url(
        "put_object",
        Params={"Bucket": get_settings().archive_bucket, "Key": key},
        ExpiresIn=expires_in,
    )
    return url


def is_uploaded(key: str) -> bool:
    try:
        aws.s3().head_object(Bucket=get_settings().archive_bucket, Key=key)
    except ClientError:
        return False
    return True


def read_blocks(key: str, block_size: int, start: int | None = None) -> Iterator[bytes]:
    """The file (from byte `start` on, when given) as a stream of blocks, or `NoFile`."""
    bucket = get_settings().archive_bucket
    try:
        if start is None:
            body = aws.s3().get_object(Bucket=bucket, Key=key)["Body"]
        else:
            body = aws.s3().get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-")["Body"]
    except ClientError as exc:
        raise NoFile(key) from exc
    blocks: Iterator[bytes] = body.iter_chunks(block_size)
    return blocks


def read_range(key: str, start: int, end: int) -> bytes:
    """Bytes `start` to `end` (exclusive) of the file."""
    body = aws.s3().get_object(
        Bucket=get_settings().archive_bucket, Key=key, Range=f"bytes={start}-{end - 1}"
    )["Body"]
    data: bytes = body.read()
    return data


def delete(key: str) -> None:
    aws.s3().delete_object(Bucket=get_settings().archive_bucket, Key=key)
