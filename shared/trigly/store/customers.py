"""Customer profiles and the lookups that find them (access patterns 2, 3, 5).

Hot paths address items by key (GetItem/PutItem/UpdateItem); only reads of one customer's
collection use Query.
"""

import base64
import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DeleteError, DoesNotExist

from trigly.profiles.model import CustomerProfile
from trigly.store import keys
from trigly.store.conditions import StaleProfile as StaleProfile  # noqa: PLC0414  (re-exported)
from trigly.store.conditions import held
from trigly.store.models import (
    ConsentRecordItem,
    CustomerLookupItem,
    CustomerProfileItem,
    EnrollmentItem,
    MainItem,
    MergeItem,
    MessageItem,
    RecordItem,
    bind,
)

if TYPE_CHECKING:
    from trigly.profiles.records import ConsentProof

PROFILE_SK = "#PROFILE"  # sorts before every record, so the first page always has it
LOOKUP_SK = "LOOKUP"


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
    """Everything stored under one customer: as many pages as it takes."""
    bind()
    yield from MainItem.query(keys.customer(tenant_id, customer_id))


@dataclass
class CustomerCollection:
    """Everything stored under one customer, as domain values (erasure, export, merges)."""

    profile: CustomerProfile
    version: int
    records: dict[str, str] = field(default_factory=dict)  # sk → JSON (CAR#, VISIT#, MERGE#…)
    messages: dict[str, str] = field(default_factory=dict)  # sk → the stored message's JSON
    runs: dict[str, str] = field(default_factory=dict)  # sk → a journey run's JSON
    ledger: dict[str, "ConsentProof"] = field(default_factory=dict)  # sk → consent statement
    merges: dict[str, str] = field(default_factory=dict)  # sk → a merge record's JSON (MERGE#)
    sks: set[str] = field(default_factory=set)  # every item's sort key but the profile's

    def cars(self) -> list[str]:
        """VINs of the cars as the customer saw them (`CAR#{vin}` records)."""
        return [sk.removeprefix("CAR#") for sk in self.records if sk.startswith("CAR#")]


def load_collection(tenant_id: str, customer_id: str) -> CustomerCollection | None:
    """The customer's whole collection (one Query, paged); None when there is no profile."""
    found: CustomerCollection | None = None
    rest: list[MainItem] = []
    for item in read_collection(tenant_id, customer_id):
        if isinstance(item, CustomerProfileItem):
            profile = CustomerProfile.model_validate_json(item.doc)
            found = CustomerCollection(profile, int(item.version or 0))
        else:
            rest.append(item)
    if found is None:
        return None
    for item in rest:
        found.sks.add(item.sk)
        # Merges recorded before MergeItem existed are RecordItems under `MERGE#`.
        if isinstance(item, MergeItem) or (
            isinstance(item, RecordItem) and item.sk.startswith("MERGE#")
        ):
            found.merges[item.sk] = item.doc
        elif isinstance(item, RecordItem):
            found.records[item.sk] = item.doc
        elif isinstance(item, MessageItem):
            found.messages[item.sk] = item.doc
        elif isinstance(item, EnrollmentItem):
            found.runs[item.sk] = item.doc
        elif isinstance(item, ConsentRecordItem):
            found.ledger[item.sk] = ledger_entry(item)
    return found


def ledger_entry(item: ConsentRecordItem) -> "ConsentProof":
    """A consent ledger item as the statement it records."""
    from trigly.profiles.records import ConsentProof

    return ConsentProof(
        channel=item.channel,
        purpose=item.purpose,
        granted=item.granted,
        at=datetime.fromisoformat(item.at),
        source=item.source,
        text_version=item.text_version,
        connector_id=item.connector_id,
        event_id=item.event_id,
        external_id=item.external_id,
        proof=json.loads(item.proof) if item.proof else None,
    )


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


def snapshot(tenant_id: str, customer_id: str) -> list[dict[str, Any]]:
    """The customer's items exactly as stored, JSON-safe (binary values in base64): what a merge
    keeps so that undo can bring the duplicate back."""
    return [
        {
            name: {"B": base64.b64encode(value["B"]).decode()} if "B" in value else value
            for name, value in item.serialize().items()
        }
        for item in read_collection(tenant_id, customer_id)
    ]


def restore(snapshot_items: Iterable[dict[str, Any]], sks: set[str] | None = None) -> None:
    """Write items of a snapshot back (all, or those with these sort keys), under their own key."""
    bind()
    with MainItem.batch_write() as batch:
        for data in snapshot_items:
            if sks is not None and data["sk"]["S"] not in sks:
                continue
            decoded = {
                name: {"B": base64.b64decode(value["B"])} if "B" in value else value
                for name, value in data.items()
            }
            batch.save(MainItem.from_raw_data(decoded))


def delete_items(tenant_id: str, customer_id: str, sks: Iterable[str]) -> None:
    bind()
    pk = keys.customer(tenant_id, customer_id)
    with MainItem.batch_write() as batch:
        for sk in sks:
            batch.delete(MainItem(pk, sk))


def copy_items(
    tenant_id: str,
    from_customer: str,
    to_customer: str,
    *,
    only: set[str] | None = None,
    skip: frozenset[str] | set[str] = frozenset(),
) -> list[str]:
    """Copy items (never the profile) into another customer's collection under the same sort
    keys, as they are now; returns the sort keys copied. Rewriting the same content on a retry
    changes nothing, so a resumed merge or undo can run it again."""
    bind()
    target = keys.customer(tenant_id, to_customer)
    copied = []
    with MainItem.batch_write() as batch:
        for item in read_collection(tenant_id, from_customer):
            if isinstance(item, CustomerProfileItem) or item.sk in skip:
                continue
            if only is not None and item.sk not in only:
                continue
            data = item.serialize()
            data["pk"] = {"S": target}
            batch.save(MainItem.from_raw_data(data))
            copied.append(item.sk)
    return copied
