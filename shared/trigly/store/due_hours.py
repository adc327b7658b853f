"""The `due` index's hour buckets, shared by held messages, waiting journey runs and fallbacks.

Work due at a moment goes in a bucket of its UTC hour, one of `SHARDS` by the customer
(`DUE#{hour}#{shard}`), so one busy hour is not one hot index partition for every tenant.
A bucket with work also gets a marker item (`DUEMARK#DUE#{hour}#{shard}`), so the hourly tick
looks for markers with BatchGetItem and Queries only buckets that hold something: an empty hour
costs key lookups, not Queries (on AWS both are cheap; the local stack's emulator walks its whole
table on every Query, and replays hundreds of ticks a second). A container writes each marker
once (it remembers which it wrote), so a busy bucket is not a hot key.

`SHARDS` may only ever grow: the tick reads the shards it knows, and an item written in a
shard beyond them would wait unseen.
"""

import zlib
from datetime import UTC, datetime, timedelta

from trigly.platform.clock import isoformat
from trigly.store.models import DueMarkItem, bind

SHARDS = 8
HOUR = timedelta(hours=1)
MARK_SK = "MARK"
# Longer than the tick's catch-up horizon (store.due.CATCH_UP), so a bucket the tick may still
# have to read never loses its marker.
MARK_LIFETIME = timedelta(days=7)
_written: set[str] = set()


def hour_of(moment: datetime) -> datetime:
    """The start of the moment's UTC hour."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def shard_of(tenant_id: str, customer_id: str) -> int:
    """A customer's shard: stable (crc32, not Python's salted hash), spread over tenants."""
    return zlib.crc32(f"{tenant_id}#{customer_id}".encode()) % SHARDS


def bucket_of(moment: datetime, shard: int) -> str:
    return f"DUE#{moment.astimezone(UTC):%Y-%m-%dT%H}#{shard}"


def buckets_of(hour: datetime) -> list[str]:
    """Every shard's bucket of an hour."""
    return [bucket_of(hour, shard) for shard in range(SHARDS)]


def place(moment: datetime, tenant_id: str, customer_id: str, sk: str) -> tuple[str, str]:
    """(`due_pk`, `due_sk`) of an item of the customer's collection due at `moment`, its bucket
    marked as holding work: call before writing the item. The sort key orders a bucket by time
    and names the item (`{due}#{tenant}#{customer}#{sk}`), so the tick needs no other read."""
    bucket = bucket_of(moment, shard_of(tenant_id, customer_id))
    if bucket not in _written:
        bind()
        expires = int((moment + MARK_LIFETIME).timestamp())
        DueMarkItem(f"DUEMARK#{bucket}", MARK_SK, expires_at=expires).save()
        _written.add(bucket)
    return bucket, f"{isoformat(moment)}#{tenant_id}#{customer_id}#{sk}"


def marked(hours: list[datetime]) -> list[str]:
    """The buckets of these hours that hold (or held) work, in time order (BatchGetItem, 100
    keys a request: a day of hours in two)."""
    bind()
    buckets = [bucket for hour in hours for bucket in buckets_of(hour)]
    found = {
        item.pk.removeprefix("DUEMARK#")
        for item in DueMarkItem.batch_get([(f"DUEMARK#{b}", MARK_SK) for b in buckets])
    }
    return [b for b in buckets if b in found]
