"""Customer profiles and the lookups that find them (access patterns 2, 3, 5).

Hot paths address items by key (GetItem/PutItem/UpdateItem); only reads of one customer's
collection use Query.
"""

import base64
import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist

from trigly.profiles.model import CustomerProfile
from trigly.store import keys
from trigly.store.conditions import held
from trigly.store.models import (
    ConsentRecordItem,
    CustomerLookupItem,
    CustomerProfileItem,
    MainItem,
    RecordItem,
    bind,
)

PROFILE_SK = "#PROFILE"  # sorts before every record, so the first page always has it
LOOKUP_SK = "LOOKUP"


class StaleProfile(Exception):
    """Someone saved the profile after we read it; re-read and merge again."""


def _lookup_ids(pk: str) -> set[str]:
    bind()
    try:
        item = CustomerLookupItem.get(pk, LOOKUP_SK)
    except DoesNotExist:
        return set()
    return set(item.customer_ids or ()) if isinstance(item, CustomerLookupItem) else set()


def find_by_external_id(tenant_id: str, connector_id: str, external_id: str) -> str | None:
    found = _lookup_ids(keys.external_id(tenant_id, connector_id, external_id))
    return min(found) if found else None


def claim_external_id(tenant_id: str, connector_id: str, external_id: str, customer_id: str) -> str:
    """Bind a DMS id to a new customer; if another worker won the race, its customer is returned."""
    bind()
    item = CustomerLookupItem(
        keys.external_id(tenant_id, connector_id, external_id),
        LOOKUP_SK,
        customer_ids={customer_id},
    )
    if not held(lambda: item.save(condition=CustomerLookupItem.pk.does_not_exist())):
        winner = find_by_external_id(tenant_id, connector_id, external_id)
        if winner is None:  # pragma: no cover - the item was there a moment ago
            raise StaleProfile(f"lookup {connector_id}/{external_id} vanished")
        return winner
    return customer_id


def customers_with_phone(tenant_id: str, e164: str) -> set[str]:
    return _lookup_ids(keys.phone(tenant_id, e164))


def customers_with_email(tenant_id: str, address: str) -> set[str]:
    return _lookup_ids(keys.email(tenant_id, address))


def add_to_lookups(
    tenant_id: str, customer_id: str, phones: Iterable[str], emails: Iterable[str]
) -> None:
    """ADD to a set is idempotent, so a retried event leaves the same lookups."""
    bind()
    pks = [keys.phone(tenant_id, p) for p in phones] + [keys.email(tenant_id, e) for e in emails]
    for pk in pks:
        CustomerLookupItem(pk, LOOKUP_SK).update(
            actions=[CustomerLookupItem.customer_ids.add({customer_id})]
        )


def load_profile(tenant_id: str, customer_id: str) -> tuple[CustomerProfile, int] | None:
    bind()
    try:
        item = CustomerProfileItem.get(
            # Eventually consistent (half the cost): every save is versioned, a stale read retries.
            keys.customer(tenant_id, customer_id),
            PROFILE_SK,
        )
    except DoesNotExist:
        return None
    return CustomerProfile.model_validate_json(item.doc), int(item.version or 0)


def save_profile(tenant_id: str, profile: CustomerProfile, version: int | None) -> None:
    """Optimistic: the save fails with StaleProfile if the profile changed since `version`."""
    bind()
    item = CustomerProfileItem(
        keys.customer(tenant_id, profile.customer_id),
        PROFILE_SK,
        doc=profile.model_dump_json(exclude_none=True),
    )
    if version is not None:
        item.version = version
    if not held(item.save):
        raise StaleProfile(profile.customer_id)


def append_consent_records(records: list[ConsentRecordItem]) -> None:
    """The ledger's keys are deterministic per statement, so a replay rewrites the same items."""
    if not records:
        return
    bind()
    with ConsentRecordItem.batch_write() as batch:
        for record in records:
            batch.save(record)


def read_collection(tenant_id: str, customer_id: str) -> Iterator[MainItem]:
    """Everything stored under one customer (erasure, export, merge): as many pages as it takes."""
    bind()
    yield from MainItem.query(keys.customer(tenant_id, customer_id))


def read_collection_page(
    tenant_id: str, customer_id: str, limit: int, after_sk: str | None = None
) -> tuple[list[MainItem], str | None]:
    """One Query of at most `limit` items (and 1 MB); the sort key to continue after, if any."""
    bind()
    pk = keys.customer(tenant_id, customer_id)
    start = {"pk": {"S": pk}, "sk": {"S": after_sk}} if after_sk else None
    query = MainItem.query(pk, limit=limit, page_size=limit, last_evaluated_key=start)
    items = list(query)
    last = query.last_evaluated_key
    return items, (last["sk"]["S"] if last else None)


ANONYMOUS_CONNECTOR = "anon"  # lookups of website visitors not yet identified


def point_lookup(pk: str, customer_id: str) -> None:
    """Make a lookup name exactly this customer (after a visitor is identified)."""
    bind()
    CustomerLookupItem(pk, LOOKUP_SK, customer_ids={customer_id}).save()


def copy_records(tenant_id: str, from_customer: str, to_customer: str, prefix: str) -> int:
    """Move one kind of record (e.g. `WEB#`) between collections; returns how many moved."""
    bind()
    source = keys.customer(tenant_id, from_customer)
    target = keys.customer(tenant_id, to_customer)
    moved = 0
    with RecordItem.batch_write() as batch:
        for item in RecordItem.query(source, RecordItem.sk.startswith(prefix)):
            batch.save(RecordItem(target, item.sk, doc=item.doc, stamp=item.stamp))
            moved += 1
    return moved


def delete_collection(tenant_id: str, customer_id: str) -> list[MainItem]:
    """Delete every item of a customer's collection; returns what was deleted."""
    bind()
    items = list(read_collection(tenant_id, customer_id))
    with MainItem.batch_write() as batch:
        for item in items:
            batch.delete(item)
    return items


def remove_from_lookups(
    tenant_id: str, customer_id: str, phones: Iterable[str], emails: Iterable[str]
) -> None:
    """Take the customer out of their contact lookups; a lookup left naming nobody is deleted."""
    pks = [keys.phone(tenant_id, p) for p in phones] + [keys.email(tenant_id, e) for e in emails]
    for pk in pks:
        delete_lookup(pk, customer_id)


def delete_lookup(pk: str, customer_id: str) -> None:
    bind()
    item = CustomerLookupItem(pk, LOOKUP_SK)
    removed = held(
        lambda: item.update(
            actions=[CustomerLookupItem.customer_ids.delete({customer_id})],
            condition=CustomerLookupItem.pk.exists(),
        )
    )
    if not removed:
        return
    # DynamoDB drops an emptied set attribute; then the lookup itself goes.
    with contextlib.suppress(DeleteError):
        item.delete(condition=CustomerLookupItem.customer_ids.does_not_exist())


def raw_items(items: Iterable[MainItem]) -> list[dict[str, Any]]:
    """Items as JSON-safe DynamoDB attribute maps (binary values in base64), for snapshots that
    must restore them exactly."""
    return [
        {
            name: {"B": base64.b64encode(value["B"]).decode()} if "B" in value else value
            for name, value in item.serialize().items()
        }
        for item in items
    ]


def restore_items(raw: Iterable[dict[str, Any]]) -> None:
    bind()
    with MainItem.batch_write() as batch:
        for data in raw:
            decoded = {
                name: {"B": base64.b64decode(value["B"])} if "B" in value else value
                for name, value in data.items()
            }
            batch.save(MainItem.from_raw_data(decoded))


def delete_records(tenant_id: str, customer_id: str, sks: Iterable[str]) -> None:
    bind()
    pk = keys.customer(tenant_id, customer_id)
    with RecordItem.batch_write() as batch:
        for sk in sks:
            batch.delete(RecordItem(pk, sk))


def move_items(
    tenant_id: str, items: Iterable[MainItem], to_customer: str, skip_sks: set[str]
) -> list[str]:
    """Copy items into another customer's collection under the same sort keys; returns them."""
    bind()
    target = keys.customer(tenant_id, to_customer)
    moved = []
    with MainItem.batch_write() as batch:
        for item in items:
            if item.sk in skip_sks:
                continue
            data = item.serialize()
            data["pk"] = {"S": target}
            batch.save(MainItem.from_raw_data(data))
            moved.append(item.sk)
    return moved
