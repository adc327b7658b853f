"""Journeys, their runs and date triggers (access patterns 7, 8).

- a tenant's journey definitions: `T#{tenant}` / `JOURNEY#{id}` (one Query lists them);
- a run (enrollment): in the customer's collection under `JRN#{journey}#{key}`, created with a
  conditional put so one key never starts twice; while it waits it is on the `due` index under
  the UTC hour it wakes (`DUE#{hour}#{shard}`, shared with held messages), which the hourly
  tick reads;
- a date trigger: on the car (or customer) it concerns, `DUE#{journey}`, on the `due` index under
  `T#{tenant}#LIFE#{date}` — the daily job reads exactly the day's partition; a car's next
  maintenance rides on the car record itself (`CAR`, same partition, the journey id as its sort
  key, ADR 0025);
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from pynamodb.exceptions import DoesNotExist

from trigly.platform import aws
from trigly.platform.settings import get_settings
from trigly.store import due_hours, keys, vehicles
from trigly.store.conditions import StaleProfile, held
from trigly.store.models import EnrollmentItem, JourneyItem, TriggerItem, bind

JOURNEY_PREFIX = "JOURNEY#"
ENROLLMENT_PREFIX = "JRN#"
TRIGGER_PREFIX = "DUE#"


class StaleEnrollment(StaleProfile):
    """The run changed since it was read."""


# --- journey definitions ----------------------------------------------------------------------


def get_journey(tenant_id: str, journey_id: str) -> tuple[str, int] | None:
    bind()
    try:
        item = JourneyItem.get(keys.tenant(tenant_id), f"{JOURNEY_PREFIX}{journey_id}")
    except DoesNotExist:
        return None
    return item.doc, int(item.version or 0)


def put_journey(tenant_id: str, journey_id: str, doc: str, version: int | None) -> None:
    bind()
    item = JourneyItem(keys.tenant(tenant_id), f"{JOURNEY_PREFIX}{journey_id}", doc=doc)
    if version is not None:
        item.version = version
    if not held(item.save):
        raise StaleEnrollment(journey_id)


def list_journeys(tenant_id: str) -> list[str]:
    bind()
    return [
        item.doc
        for item in JourneyItem.query(
            keys.tenant(tenant_id), JourneyItem.sk.startswith(JOURNEY_PREFIX)
        )
    ]


# --- runs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRef:
    tenant_id: str
    customer_id: str
    sk: str

    @classmethod
    def of(cls, tenant_id: str, customer_id: str, journey_id: str, key: str) -> "RunRef":
        return cls(tenant_id, customer_id, f"{ENROLLMENT_PREFIX}{journey_id}#{key}")


def _run_item(ref: RunRef, doc: str, due: datetime | None) -> EnrollmentItem:
    item = EnrollmentItem(keys.customer(ref.tenant_id, ref.customer_id), ref.sk, doc=doc)
    if due is not None:
        item.due_pk, item.due_sk = due_hours.place(due, ref.tenant_id, ref.customer_id, ref.sk)
    return item


def create_run(ref: RunRef, doc: str, due: datetime | None) -> int | None:
    """The new run's version; None when a run with this key exists already (a replayed
    trigger starts nothing)."""
    bind()
    item = _run_item(ref, doc, due)
    if not held(lambda: item.save(condition=EnrollmentItem.pk.does_not_exist())):
        return None
    return int(item.version or 0)


def load_run(ref: RunRef) -> tuple[str, int] | None:
    bind()
    try:
        item = EnrollmentItem.get(
            keys.customer(ref.tenant_id, ref.customer_id), ref.sk, consistent_read=True
        )
    except DoesNotExist:
        return None
    return item.doc, int(item.version or 0)


def save_run(ref: RunRef, doc: str, version: int, due: datetime | None) -> None:
    """Optimistic; `due` puts the run on the `due` index (None takes it off)."""
    bind()
    item = _run_item(ref, doc, due)
    item.version = version
    if not held(item.save):
        raise StaleEnrollment(ref.sk)


def customer_runs(tenant_id: str, customer_id: str) -> list[tuple[RunRef, str]]:
    bind()
    return [
        (RunRef(tenant_id, customer_id, item.sk), item.doc)
        for item in EnrollmentItem.query(
            keys.customer(tenant_id, customer_id), EnrollmentItem.sk.startswith(ENROLLMENT_PREFIX)
        )
    ]


# --- date triggers ----------------------------------------------------------------------------


def trigger_partition(tenant_id: str, day: date) -> str:
    return f"T#{tenant_id}#LIFE#{day.isoformat()}"


def trigger_sort(owner_pk: str, journey_id: str) -> str:
    """A trigger item's sort key on the index: whose and which journey's (a car record carrying
    its start has the journey id alone, store.vehicles)."""
    return f"{owner_pk}#{journey_id}"


def put_trigger(tenant_id: str, owner_pk: str, journey_id: str, doc: str, fire_on: date) -> None:
    bind()
    TriggerItem(
        owner_pk,
        f"{TRIGGER_PREFIX}{journey_id}",
        doc=doc,
        due_pk=trigger_partition(tenant_id, fire_on),
        due_sk=trigger_sort(owner_pk, journey_id),
    ).save()


def delete_trigger(owner_pk: str, journey_id: str) -> None:
    bind()
    TriggerItem(owner_pk, f"{TRIGGER_PREFIX}{journey_id}").delete()


class DueTrigger(NamedTuple):
    owner_pk: str
    journey_id: str
    sk: str  # the item on the index: a trigger item (`DUE#{journey}`) or a car record (`CAR`)


def due_triggers(tenant_id: str, day: date) -> Iterator[DueTrigger]:
    """Every trigger of the tenant's day: one Query, paged. Trigger items and car records share
    the partition, so it is read across kinds (keys only)."""
    client = aws.dynamodb()
    request: dict[str, Any] = {
        "TableName": get_settings().main_table,
        "IndexName": "due",
        "KeyConditionExpression": "due_pk = :day",
        "ExpressionAttributeValues": {":day": {"S": trigger_partition(tenant_id, day)}},
        "ProjectionExpression": "pk, sk, due_sk",
    }
    while True:
        page = client.query(**request)
        for item in page.get("Items", []):
            owner_pk = item["pk"]["S"]  # a trigger item's sort key starts with it, a car's not
            journey_id = item["due_sk"]["S"].removeprefix(f"{owner_pk}#")
            yield DueTrigger(owner_pk, journey_id, item["sk"]["S"])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def get_trigger(
    owner_pk: str, journey_id: str, sk: str | None = None
) -> tuple[str, str | None] | None:
    """(document, the due partition it sits in, if still on the index); `sk` says which item
    the index named (a trigger item unless it was a car record)."""
    if sk == vehicles.CAR_SK:
        carried = vehicles.carried_start(owner_pk)
        if carried is None:
            return None
        doc, due = carried
        return doc, due.pk if due and due.sk == journey_id else None
    bind()
    try:
        item = TriggerItem.get(owner_pk, f"{TRIGGER_PREFIX}{journey_id}", consistent_read=True)
    except DoesNotExist:
        return None
    return item.doc, item.due_pk


def take_trigger(owner_pk: str, journey_id: str, partition: str, sk: str | None = None) -> bool:
    """Take a fired trigger off the index, unless it was moved meanwhile (a new date)."""
    if sk == vehicles.CAR_SK:
        return vehicles.take_carried_start(owner_pk, vehicles.DueKey(partition, journey_id))
    bind()
    item = TriggerItem(owner_pk, f"{TRIGGER_PREFIX}{journey_id}")
    return held(
        lambda: item.update(
            actions=[TriggerItem.due_pk.remove(), TriggerItem.due_sk.remove()],
            condition=TriggerItem.due_pk == partition,
        )
    )
