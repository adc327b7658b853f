"""What falls due by the hour, for the hourly tick (access patterns 8, 10): held messages, waiting
journey runs and fallbacks share the `due` index's hour buckets (`DUE#{hour}#{shard}`), so the
tick reads each bucket with one Query, whatever kinds of work wait in it; and the watermark that
says how far the tick got (`DUEMARK#WATERMARK` / `TICK`), so a missed tick is caught up."""

from dataclasses import dataclass, field
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from trigly.platform import aws
from trigly.platform.clock import isoformat
from trigly.platform.settings import get_settings
from trigly.store import due_hours
from trigly.store.conditions import held
from trigly.store.journeys import RunRef
from trigly.store.messages import MessageRef
from trigly.store.models import DueWatermarkItem, bind

WATERMARK_PK = "DUEMARK#WATERMARK"
WATERMARK_SK = "TICK"


@dataclass
class DueWork:
    through: datetime  # everything due by this moment that sat on the index was read
    messages: list[MessageRef] = field(default_factory=list)  # held messages
    runs: list[RunRef] = field(default_factory=list)  # journey runs whose wait ended
    fallbacks: list[MessageRef] = field(default_factory=list)  # sent messages to look at again
    # Campaigns to look at (a start, an A/B decision, a watchdog): (tenant, campaign id).
    campaigns: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.messages) + len(self.runs) + len(self.fallbacks) + len(self.campaigns)


def due_work(start: datetime, now: datetime, limit: int) -> DueWork:
    """What is due by `now` in the buckets of `start`'s hour and every hour after it, oldest
    hour first. Whole hours are read; after the hour in which `limit` items are reached the
    read stops, and `through` says where the next read starts."""
    first, last = due_hours.hour_of(start), due_hours.hour_of(now)
    hours = [first + i * due_hours.HOUR for i in range((last - first) // due_hours.HOUR + 1)]
    hour_of_bucket = {b: h for h in hours for b in due_hours.buckets_of(h)}
    found = DueWork(through=now)
    client = aws.dynamodb()
    table = get_settings().main_table
    reading = first
    for bucket in due_hours.marked(hours):
        if hour_of_bucket[bucket] != reading:  # the previous hour is read whole
            if len(found) >= limit:
                found.through = reading + due_hours.HOUR
                return found
            reading = hour_of_bucket[bucket]
        begin: dict[str, object] | None = None
        while True:
            page = client.query(
                TableName=table,
                IndexName="due",
                KeyConditionExpression="due_pk = :bucket AND due_sk <= :until",
                ExpressionAttributeValues={
                    ":bucket": {"S": bucket},
                    ":until": {"S": f"{isoformat(now)}#~"},
                },
                ProjectionExpression="due_sk, kind",
                **({"ExclusiveStartKey": begin} if begin else {}),  # type: ignore[arg-type]
            )
            for item in page.get("Items", []):
                _sort(found, item["kind"]["S"], item["due_sk"]["S"])
            begin = page.get("LastEvaluatedKey")  # type: ignore[assignment]
            if not begin:
                break
    return found


def _sort(found: DueWork, kind: str, due_sk: str) -> None:
    """One due item into its list, by its kind."""
    _, tenant_id, customer_id, sk = due_sk.split("#", 3)
    if kind == "message":
        found.messages.append(MessageRef(tenant_id, customer_id, sk))
    elif kind == "enrollment":
        found.runs.append(RunRef(tenant_id, customer_id, sk))
    elif kind == "fallback":
        found.fallbacks.append(MessageRef(tenant_id, customer_id, sk))
    elif kind == "campaign":  # its id stands where a customer's would
        found.campaigns.append((tenant_id, customer_id))


# --- the watermark ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Watermark:
    through: datetime | None  # everything due by then was queued (None: no tick ran yet)
    lease_until: datetime | None  # a tick is working on what follows until then
    version: int | None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def read_watermark() -> Watermark:
    bind()
    try:
        item = DueWatermarkItem.get(WATERMARK_PK, WATERMARK_SK, consistent_read=True)
    except DoesNotExist:
        return Watermark(None, None, None)
    return Watermark(_moment(item.through), _moment(item.lease_until), int(item.version or 0))


def _write(seen: Watermark, through: datetime | None, lease_until: datetime | None) -> int | None:
    """Conditional on the version read: of two ticks that read the same watermark one wins."""
    bind()
    item = DueWatermarkItem(
        WATERMARK_PK,
        WATERMARK_SK,
        through=isoformat(through) if through else None,
        lease_until=isoformat(lease_until) if lease_until else None,
    )
    if seen.version is not None:
        item.version = seen.version
    if not held(item.save):
        return None
    return int(item.version or 0)


def take_lease(seen: Watermark, until: datetime) -> Watermark | None:
    """The hours after `seen.through` are this tick's until `until`; None when another tick
    changed the watermark since it was read."""
    version = _write(seen, seen.through, until)
    return None if version is None else Watermark(seen.through, until, version)


def advance_watermark(leased: Watermark, through: datetime) -> bool:
    """Record that everything due by `through` was queued and give the lease back; False when
    the lease ran out and another tick took the hours over (it queues them again: consumers
    are idempotent)."""
    return _write(leased, through, None) is not None


def give_back(leased: Watermark) -> None:
    """Give the lease back with the watermark where it was (a tick that failed): its retry
    covers the same hours at once instead of waiting for the lease to run out."""
    _write(leased, leased.through, None)
