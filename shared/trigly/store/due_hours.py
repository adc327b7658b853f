"""The `due` index's hour buckets, shared by held messages and waiting journey runs.

Work due at a moment goes in the bucket of its UTC hour (`DUE#{hour}`); the hourly tick reads
its hour and the one before. A bucket with work also gets a marker item (`DUEMARK#{hour}`), so
the tick looks for markers with one BatchGetItem and Queries only buckets that hold something:
an empty hour costs a key lookup, not a Query (on AWS both are cheap; the local stack's emulator
walks its whole table on every Query, and replays hundreds of ticks a second). A container writes
each marker once (it remembers which it wrote), so a busy hour is not a hot key.
"""

from datetime import UTC, datetime, timedelta

from trigly.store.models import DueMarkItem, bind

MARK_SK = "MARK"
MARK_LIFETIME = timedelta(days=3)
_written: set[str] = set()


def bucket_of(moment: datetime) -> str:
    return f"DUE#{moment.astimezone(UTC):%Y-%m-%dT%H}"


def mark(moment: datetime) -> str:
    """The bucket of `moment`, marked as holding work; call before writing the due item."""
    bucket = bucket_of(moment)
    if bucket not in _written:
        bind()
        expires = int((moment + MARK_LIFETIME).timestamp())
        DueMarkItem(f"DUEMARK#{bucket}", MARK_SK, expires_at=expires).save()
        _written.add(bucket)
    return bucket


def marked(moments: list[datetime]) -> list[str]:
    """The buckets of these moments that hold (or held) work, in order: one BatchGetItem."""
    bind()
    buckets = [bucket_of(m) for m in moments]
    found = {
        item.pk.removeprefix("DUEMARK#")
        for item in DueMarkItem.batch_get([(f"DUEMARK#{b}", MARK_SK) for b in buckets])
    }
    return [b for b in buckets if b in found]
