"""Merging two customers the dealer knows are one person, recorded and reversible.

A merge moves the duplicate's history into the survivor, joins contacts, DMS ids and consents,
re-points every lookup, moves car ownerships, and deletes the duplicate. It is recorded as a
`MERGE#` record in the survivor's collection with its reason, and a snapshot of both customers
as they were is kept in the archive bucket, so the merge can be undone: the duplicate comes back
as it was, with its lookups and cars, and the survivor loses what the merge brought. Events
applied to the survivor after the merge stay with the survivor.
"""

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from trigly.ingest import archive
from trigly.platform import clock, ids
from trigly.platform.errors import Conflict, NotFound
from trigly.platform.observability import logger
from trigly.platform.tenancy import Tenant
from trigly.profiles.contacts import Contact, ContactStatus
from trigly.profiles.model import CustomerProfile, IdentityLink, known_external_ids
from trigly.profiles.upsert import SCALAR_FIELDS
from trigly.store import customers as store
from trigly.store import keys
from trigly.store import vehicles as vehicle_store
from trigly.store.models import CustomerProfileItem, MainItem, RecordItem
from trigly.vehicles import history
from trigly.vehicles.model import Vehicle
from trigly.vehicles.service import update_vehicle


class MergeRecord(BaseModel):
    merge_id: str
    survivor_id: str
    duplicate_id: str
    reason: str
    at: datetime
    moved: list[str]
    snapshot_key: str
    undone_at: datetime | None = None

    @staticmethod
    def sk(merge_id: str) -> str:
        return f"MERGE#{merge_id}"


def _collection(tenant: Tenant, customer_id: str) -> tuple[CustomerProfile, int, list[MainItem]]:
    items = list(store.read_collection(tenant.tenant_id, customer_id))
    loaded = store.load_profile(tenant.tenant_id, customer_id)
    if loaded is None:
        raise NotFound("No such customer.")
    return loaded[0], loaded[1], items


def _join_contacts(first: list[Contact], second: list[Contact]) -> list[Contact]:
    known = {c.value for c in first}
    return first + [c for c in second if c.value not in known]


def merge_profiles(
    survivor: CustomerProfile, duplicate: CustomerProfile, link: IdentityLink
) -> CustomerProfile:
    """The survivor's values win; the duplicate fills what the survivor lacks. Pure."""
    merged = survivor.model_copy(deep=True)
    for name in SCALAR_FIELDS:
        if getattr(merged, name) is None:
            setattr(merged, name, getattr(duplicate, name))
    merged.phones = _join_contacts(merged.phones, duplicate.phones)
    merged.emails = _join_contacts(merged.emails, duplicate.emails)
    merged.external_ids = {**duplicate.external_ids, **merged.external_ids}
    merged.anonymous_ids = sorted({*merged.anonymous_ids, *duplicate.anonymous_ids})
    for channel, purposes in duplicate.consents.items():
        for purpose, state in purposes.items():
            current = merged.consents.get(channel, {}).get(purpose)
            if current is None or state.at > current.at:
                merged.consents.setdefault(channel, {})[purpose] = state
    # A DMS with duplicate cards keeps both ids; the survivor's stays primary, the other is a link.
    extra_ids = [
        IdentityLink(connector_id=connector, external_id=external, reason=link.reason, at=link.at)
        for connector, external in duplicate.external_ids.items()
        if merged.external_ids.get(connector) != external
    ]
    merged.links = [*merged.links, *duplicate.links, *extra_ids, link]
    return merged


def _owner_swap(old: str, new: str) -> Callable[[Vehicle], None]:
    return lambda vehicle: history.replace_customer(vehicle, old, new)


def _repoint(tenant: Tenant, profile: CustomerProfile, old: str, new: str) -> None:
    ok_phones = [c.value for c in profile.phones if c.status == ContactStatus.OK]
    ok_emails = [c.value for c in profile.emails if c.status == ContactStatus.OK]
    store.remove_from_lookups(tenant.tenant_id, old, phones=ok_phones, emails=ok_emails)
    store.add_to_lookups(tenant.tenant_id, new, phones=ok_phones, emails=ok_emails)
    for connector_id, external_id in known_external_ids(profile):
        store.point_lookup(keys.external_id(tenant.tenant_id, connector_id, external_id), new)
    for anonymous_id in profile.anonymous_ids:
        store.point_lookup(
            keys.external_id(tenant.tenant_id, store.ANONYMOUS_CONNECTOR, anonymous_id), new
        )


def _cars(items: list[MainItem]) -> list[str]:
    return [
        i.sk.removeprefix("CAR#")
        for i in items
        if isinstance(i, RecordItem) and i.sk.startswith("CAR#")
    ]


def merge_customers(
    tenant: Tenant, survivor_id: str, duplicate_id: str, reason: str
) -> MergeRecord:
    if survivor_id == duplicate_id:
        raise Conflict("A customer cannot be merged into itself.")
    survivor, version, survivor_items = _collection(tenant, survivor_id)
    duplicate, _, duplicate_items = _collection(tenant, duplicate_id)
    now = clock.now()
    merge_id = ids.new_id("mrg")
    snapshot_key = archive.merge_snapshot_key(tenant.tenant_id, merge_id)
    archive.put(
        snapshot_key,
        json.dumps(
            {
                "survivor_profile": survivor.model_dump(mode="json"),
                "duplicate": store.raw_items(duplicate_items),
            }
        ).encode(),
    )
    history = [i for i in duplicate_items if not isinstance(i, CustomerProfileItem)]
    moved = store.move_items(
        tenant.tenant_id, history, survivor_id, skip_sks={i.sk for i in survivor_items}
    )
    for vin in _cars(duplicate_items):
        update_vehicle(tenant.tenant_id, vin, _owner_swap(duplicate_id, survivor_id))
    link = IdentityLink(
        connector_id="", external_id=duplicate_id, reason=f"merge: {reason}", at=now
    )
    merged = merge_profiles(survivor, duplicate, link)
    merged.merged_from = [*merged.merged_from, merge_id]
    merged.updated_at = now
    store.save_profile(tenant.tenant_id, merged, version)
    _repoint(tenant, duplicate, duplicate_id, survivor_id)
    store.delete_collection(tenant.tenant_id, duplicate_id)
    record = MergeRecord(
        merge_id=merge_id,
        survivor_id=survivor_id,
        duplicate_id=duplicate_id,
        reason=reason,
        at=now,
        moved=moved,
        snapshot_key=snapshot_key,
    )
    vehicle_store.put_customer_records(
        tenant.tenant_id, survivor_id, [(MergeRecord.sk(merge_id), record)]
    )
    logger.info("customers merged", extra={"merge_id": merge_id, "survivor_id": survivor_id})
    return record


def undo_merge(tenant: Tenant, survivor_id: str, merge_id: str) -> MergeRecord:
    doc = vehicle_store.get_customer_record(tenant.tenant_id, survivor_id, MergeRecord.sk(merge_id))
    if doc is None:
        raise NotFound("No such merge.")
    record = MergeRecord.model_validate_json(doc)
    if record.undone_at is not None:
        raise Conflict("The merge was undone already.")
    snapshot = json.loads(archive.get(record.snapshot_key))
    before = CustomerProfile.model_validate(snapshot["survivor_profile"])
    duplicate_raw: list[dict[str, Any]] = snapshot["duplicate"]
    store.restore_items(duplicate_raw)
    loaded = store.load_profile(tenant.tenant_id, record.duplicate_id)
    assert loaded is not None  # just restored
    duplicate = loaded[0]
    store.delete_records(tenant.tenant_id, survivor_id, record.moved)
    current = store.load_profile(tenant.tenant_id, survivor_id)
    restored = before.model_copy(update={"updated_at": clock.now()})
    store.save_profile(tenant.tenant_id, restored, current[1] if current else None)
    _repoint(tenant, duplicate, survivor_id, record.duplicate_id)
    # Contacts the survivor had before the merge still name the survivor.
    store.add_to_lookups(
        tenant.tenant_id,
        survivor_id,
        phones=[c.value for c in before.phones if c.status == ContactStatus.OK],
        emails=[c.value for c in before.emails if c.status == ContactStatus.OK],
    )
    for connector_id, external_id in before.external_ids.items():
        store.point_lookup(
            keys.external_id(tenant.tenant_id, connector_id, external_id), survivor_id
        )
    for sk in record.moved:
        if sk.startswith("CAR#"):
            update_vehicle(
                tenant.tenant_id,
                sk.removeprefix("CAR#"),
                _owner_swap(survivor_id, record.duplicate_id),
            )
    record.undone_at = clock.now()
    vehicle_store.put_customer_records(
        tenant.tenant_id, survivor_id, [(MergeRecord.sk(merge_id), record)]
    )
    logger.info("merge undone", extra={"merge_id": merge_id, "survivor_id": survivor_id})
    return record
