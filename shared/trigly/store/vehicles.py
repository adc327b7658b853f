"""Car records (access patterns 4, 6) and the dated records of customer and car collections."""

import json
from collections.abc import Iterable
from typing import NamedTuple

from pydantic import BaseModel
from pynamodb.exceptions import DoesNotExist

from trigly.store import keys
from trigly.store.conditions import StaleProfile, held
from trigly.store.models import MainItem, RecordItem, VehicleItem, bind
from trigly.vehicles.model import Vehicle

CAR_SK = "CAR"


class DueKey(NamedTuple):
    """Where a car record sits on the `due` index: its start's day partition
    (`T#{tenant}#LIFE#{day}`) and the journey id."""

    pk: str
    sk: str


class StaleVehicle(StaleProfile):
    """The car record changed since it was read; re-read and apply again."""


def load_vehicle(tenant_id: str, vin: str) -> tuple[Vehicle, int] | None:
    loaded = load_vehicle_item(tenant_id, vin)
    return (loaded[0], loaded[1]) if loaded else None


def load_vehicle_item(tenant_id: str, vin: str) -> tuple[Vehicle, int, DueKey | None] | None:
    """The car record, its version and the `due` index key it sits under (its carried start's,
    None when it has none or the daily job took it off)."""
    bind()
    try:
        # Eventually consistent (half the read cost): the versioned save refuses a stale read.
        item = VehicleItem.get(keys.vehicle(tenant_id, vin), CAR_SK)
    except DoesNotExist:
        return None
    due = DueKey(item.due_pk, item.due_sk) if item.due_pk and item.due_sk else None
    return Vehicle.model_validate_json(item.doc), int(item.version or 0), due


def save_vehicle(
    tenant_id: str, vehicle: Vehicle, version: int | None, due: DueKey | None = None
) -> None:
    """Optimistic; `due` puts the record on the `due` index as its carried start's trigger (a
    put replaces the item: without it, the record leaves the index)."""
    bind()
    item = VehicleItem(
        keys.vehicle(tenant_id, vehicle.vin), CAR_SK, doc=vehicle.model_dump_json(exclude_none=True)
    )
    if due is not None:
        item.due_pk, item.due_sk = due.pk, due.sk
    if version is not None:
        item.version = version
    if not held(item.save):
        raise StaleVehicle(vehicle.vin)


def carried_start(owner_pk: str) -> tuple[str, DueKey | None] | None:
    """The start a car record carries (its document) and the index key it sits under; strongly
    consistent (the daily job's hand-over checks the key)."""
    bind()
    try:
        item = VehicleItem.get(owner_pk, CAR_SK, consistent_read=True)
    except DoesNotExist:
        return None
    start = json.loads(item.doc).get("due_start")
    if start is None:
        return None
    due = DueKey(item.due_pk, item.due_sk) if item.due_pk and item.due_sk else None
    return json.dumps(start), due


def take_carried_start(owner_pk: str, due: DueKey) -> bool:
    """Take a car record off the `due` index (its start was handed over), unless it moved
    meanwhile. The version goes up, so a car event that read the record before saves again
    from what is stored (and does not put the start back)."""
    bind()
    item = VehicleItem(owner_pk, CAR_SK)
    # Any value: with a version set PynamoDB adds 1 to the stored one; the condition is the key.
    item.version = 0
    return held(
        lambda: item.update(
            actions=[VehicleItem.due_pk.remove(), VehicleItem.due_sk.remove()],
            condition=(VehicleItem.due_pk == due.pk) & (VehicleItem.due_sk == due.sk),
            add_version_condition=False,
        )
    )


def put_customer_records(
    tenant_id: str, customer_id: str, records: Iterable[tuple[str, BaseModel]]
) -> None:
    """Write (sk, record) pairs into a customer's collection; same sk, same content on replay."""
    _put(keys.customer(tenant_id, customer_id), records)


def put_vehicle_records(tenant_id: str, vin: str, records: Iterable[tuple[str, BaseModel]]) -> None:
    _put(keys.vehicle(tenant_id, vin), records)


def _put(pk: str, records: Iterable[tuple[str, BaseModel]]) -> None:
    bind()
    for sk, record in records:
        RecordItem(pk, sk, doc=record.model_dump_json(exclude_none=True)).save()


def get_customer_record(tenant_id: str, customer_id: str, sk: str) -> str | None:
    """One dated record of a customer's collection (strongly consistent), or None."""
    bind()
    try:
        return RecordItem.get(keys.customer(tenant_id, customer_id), sk, consistent_read=True).doc
    except DoesNotExist:
        return None


def put_customer_record_if_newer(
    tenant_id: str, customer_id: str, sk: str, record: BaseModel, stamp: str
) -> bool:
    """Latest-wins records (an appointment's status, an order's status): one conditional put, no
    read. An older event than the one stored loses; returns whether this one was written."""
    return _put_if_newer(keys.customer(tenant_id, customer_id), sk, record, stamp)


def put_customer_record_if_absent(
    tenant_id: str, customer_id: str, sk: str, record: BaseModel
) -> bool:
    """A record whose key is a claim (a booking link's next booking): one conditional put;
    False when the key is taken already (someone else claimed it first)."""
    bind()
    item = RecordItem(
        keys.customer(tenant_id, customer_id), sk, doc=record.model_dump_json(exclude_none=True)
    )
    return held(lambda: item.save(condition=RecordItem.pk.does_not_exist()))


def put_stock_if_newer(tenant_id: str, stock_id: str, car: BaseModel, stamp: str) -> bool:
    return _put_if_newer(keys.stock(tenant_id), stock_id, car, stamp)


def list_stock(tenant_id: str) -> list[str]:
    bind()
    return [item.doc for item in RecordItem.query(keys.stock(tenant_id))]


def _put_if_newer(pk: str, sk: str, record: BaseModel, stamp: str) -> bool:
    bind()
    item = RecordItem(pk, sk, doc=record.model_dump_json(exclude_none=True), stamp=stamp)
    return held(
        lambda: item.save(condition=RecordItem.pk.does_not_exist() | (RecordItem.stamp <= stamp))
    )


def read_vehicle_collection(tenant_id: str, vin: str) -> tuple[Vehicle | None, list[str]]:
    """The car record and its technical history (visit docs), newest first: one Query."""
    bind()
    vehicle: Vehicle | None = None
    visits: list[str] = []
    for item in MainItem.query(keys.vehicle(tenant_id, vin)):
        if isinstance(item, VehicleItem):
            vehicle = Vehicle.model_validate_json(item.doc)
        elif isinstance(item, RecordItem) and item.sk.startswith("VISIT#"):
            visits.append(item.doc)
    return vehicle, visits
