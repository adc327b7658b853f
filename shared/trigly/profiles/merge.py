"""Merging two customers the dealer knows are one person: recorded, resumable and reversible.

A merge moves the duplicate's history into the survivor, joins contacts, DMS ids and consents,
re-points every lookup, moves car ownerships, and deletes the duplicate. Before any of that the
merge is recorded (`MERGE#` in the survivor's collection, state `started`, with its plan) and the
duplicate's id is marked, in one transaction; then a snapshot of both is kept in the archive
bucket. Every step after that is idempotent, so a merge interrupted halfway is finished by asking
for it again; the record says `done` at the end. A duplicate is merged once: merging it again,
or merging into a merged customer, is a conflict.

Undo splits them again (CONTRACT §3) and keeps everything recorded after the merge:
- the duplicate comes back with what it brought — its contacts, DMS ids, consents and items, the
  items as they are now (a car record refreshed since keeps its news) — and its lookups and cars;
- the survivor keeps what came after: new records, messages, contacts and values set since;
- a consent statement recorded after the merge follows the identifier that brought it: one that
  came through the duplicate's DMS id or a message to one of its contacts goes to the duplicate;
  a withdrawal always stays on the survivor too (never message someone who said no); a grant
  that came only through the duplicate's identifiers is not the survivor's.
Undo is offered for UNDO_DAYS; the snapshot is kept that long (the archive bucket's `merges/`
lifecycle rule) and deleted once the merge is undone or the customer erased.
"""

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from trigly.events.types import Channel, ConsentPurpose
from trigly.ingest import archive
from trigly.messaging.message import StoredMessage
from trigly.platform import clock, ids
from trigly.platform.errors import Conflict, NotFound
from trigly.platform.observability import logger
from trigly.platform.tenancy import Tenant
from trigly.profiles.contacts import Contact, ContactStatus
from trigly.profiles.model import (
    ConsentState,
    CustomerProfile,
    IdentityLink,
    MergeRecord,
    MergeState,
    known_external_ids,
)
from trigly.profiles.records import ConsentProof
from trigly.profiles.upsert import SCALAR_FIELDS
from trigly.store import customers as store
from trigly.store import keys, merges
from trigly.vehicles import history
from trigly.vehicles.service import update_vehicle

UNDO_DAYS = 365  # template.yaml's `merges/` lifecycle rule keeps the snapshot a day longer
MAX_SAVE_ATTEMPTS = 5

Pair = tuple[Channel, ConsentPurpose]


class Snapshot(BaseModel):
    """What undo needs of the time of the merge (archive bucket, `merges/{tenant}/{id}.json`)."""

    survivor_before: CustomerProfile
    survivor_after: CustomerProfile  # as the merge made it: what changed later came after
    survivor_sks: list[str]
    duplicate_before: CustomerProfile
    duplicate_items: list[dict[str, Any]]  # store.snapshot: the duplicate's items as stored


# ------------------------------------------------------------------------------- pure rules


def _join_contacts(first: list[Contact], second: list[Contact]) -> list[Contact]:
    known = {c.value for c in first}
    return first + [c for c in second if c.value not in known]


def merge_link(record: MergeRecord) -> IdentityLink:
    return IdentityLink(
        connector_id="",
        external_id=record.duplicate_id,
        reason=f"merge: {record.reason}",
        at=record.at,
    )


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
    merged.linked = {**duplicate.linked, **merged.linked}
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


def _consent(profile: CustomerProfile, pair: Pair) -> ConsentState | None:
    return profile.consents.get(pair[0], {}).get(pair[1])


def _pairs(*profiles: CustomerProfile) -> list[Pair]:
    return sorted(
        {(c, p) for profile in profiles for c, ps in profile.consents.items() for p in ps}
    )


def _set_consents(profile: CustomerProfile, states: dict[Pair, ConsentState | None]) -> None:
    profile.consents = {}
    for (channel, purpose), state in states.items():
        if state is not None:
            profile.consents.setdefault(channel, {})[purpose] = state


def _values(profile: CustomerProfile) -> set[str]:
    return {c.value for c in profile.phones + profile.emails}


def split_survivor(
    current: CustomerProfile,
    snapshot: Snapshot,
    merge_id: str,
    duplicate_only: set[Pair],
    now: datetime,
) -> CustomerProfile:
    """The survivor after undo: as it is now, less what the duplicate brought. A consent changed
    since the merge stays (a grant that came only through the duplicate's identifiers excepted);
    one unchanged since goes back to what the survivor had. Pure, and idempotent: splitting a
    split survivor again changes nothing."""
    before, after, duplicate = (
        snapshot.survivor_before,
        snapshot.survivor_after,
        snapshot.duplicate_before,
    )
    brought = _values(duplicate) - _values(before)
    split = current.model_copy(deep=True)
    split.phones = [c for c in split.phones if c.value not in brought]
    split.emails = [c for c in split.emails if c.value not in brought]
    for name in SCALAR_FIELDS:
        value = getattr(current, name)
        filled = getattr(before, name) is None and value == getattr(duplicate, name)
        if filled and value is not None and value == getattr(after, name):
            setattr(split, name, None)
    split.external_ids = {
        connector: external
        for connector, external in current.external_ids.items()
        if before.external_ids.get(connector) == external
        or duplicate.external_ids.get(connector) != external
    }
    merge_links = [link for link in after.links if link not in before.links]
    split.links = [link for link in current.links if link not in merge_links]
    split.anonymous_ids = [
        a
        for a in current.anonymous_ids
        if a in before.anonymous_ids or a not in duplicate.anonymous_ids
    ]
    split.linked = {
        channel: address
        for channel, address in current.linked.items()
        if before.linked.get(channel) == address or duplicate.linked.get(channel) != address
    }
    states: dict[Pair, ConsentState | None] = {}
    for pair in _pairs(current, before, after):
        now_state = _consent(current, pair)
        if now_state == _consent(after, pair):
            states[pair] = _consent(before, pair)  # nothing recorded since the merge
        elif now_state is not None and now_state.granted and pair in duplicate_only:
            states[pair] = _consent(before, pair)
        else:
            states[pair] = now_state
    _set_consents(split, states)
    split.merged_from = [m for m in current.merged_from if m != merge_id]
    split.updated_at = now
    return split


def split_duplicate(
    current: CustomerProfile, snapshot: Snapshot, to_duplicate: set[Pair], now: datetime
) -> CustomerProfile:
    """The duplicate after undo: as it came in, with what was recorded since through its own
    identifiers — its contacts' statuses (a bounce, a complaint) and the consent statements
    that came through it. Pure."""
    after, duplicate = snapshot.survivor_after, snapshot.duplicate_before
    restored = duplicate.model_copy(deep=True)
    now_by_value = {c.value: c for c in current.phones + current.emails}
    then_by_value = {c.value: c for c in after.phones + after.emails}

    def updated(contact: Contact) -> Contact:
        later = now_by_value.get(contact.value)
        return later if later is not None and later != then_by_value.get(contact.value) else contact

    restored.phones = [updated(c) for c in restored.phones]
    restored.emails = [updated(c) for c in restored.emails]
    states: dict[Pair, ConsentState | None] = {}
    for pair in _pairs(current, duplicate):
        own, now_state = _consent(duplicate, pair), _consent(current, pair)
        came_after = now_state is not None and now_state != _consent(after, pair)
        states[pair] = now_state if came_after and pair in to_duplicate else own
    _set_consents(restored, states)
    restored.updated_at = now
    return restored


def came_through(entry: ConsentProof, person: CustomerProfile, sent_to: dict[str, str]) -> bool:
    """Whether a consent statement came through one of the person's identifiers: under one of
    their DMS ids, or from a message sent to one of their contacts (an unsubscribe link)."""
    dms_id = (entry.connector_id or "", entry.external_id or "")
    if entry.external_id and dms_id in set(known_external_ids(person)):
        return True
    message_id = (entry.proof or {}).get("message_id")
    address = sent_to.get(message_id) if message_id else None
    return address is not None and address in _values(person) | set(person.linked.values())


# ------------------------------------------------------------------------------------ merge


def merge_customers(
    tenant: Tenant, survivor_id: str, duplicate_id: str, reason: str
) -> MergeRecord:
    """Merge, or finish the same merge when an earlier attempt was interrupted."""
    tenant_id = tenant.tenant_id
    if survivor_id == duplicate_id:
        raise Conflict("A customer cannot be merged into itself.")
    mark = merges.merged_into(tenant_id, duplicate_id)
    if mark is not None:
        earlier = merges.load(tenant_id, mark.survivor_id, mark.merge_id)
        if earlier and earlier.survivor_id == survivor_id and earlier.state is MergeState.STARTED:
            return _carry_out(tenant, earlier)
        raise Conflict(f"That customer was merged already (merge {mark.merge_id}).")
    if merges.merged_into(tenant_id, survivor_id) is not None:
        raise Conflict("This customer was merged into another one.")
    survivor = store.load_collection(tenant_id, survivor_id)
    duplicate = store.load_collection(tenant_id, duplicate_id)
    if survivor is None or duplicate is None:
        raise NotFound("No such customer.")
    merge_id = ids.new_id("mrg")
    record = MergeRecord(
        merge_id=merge_id,
        survivor_id=survivor_id,
        duplicate_id=duplicate_id,
        reason=reason,
        at=clock.now(),
        state=MergeState.STARTED,
        snapshot_key=archive.merge_snapshot_key(tenant_id, merge_id),
        moved=sorted(duplicate.sks - survivor.sks),
        kept=sorted(duplicate.sks & survivor.sks),
    )
    if not merges.begin(tenant_id, record):
        raise Conflict("That customer is being merged already.")
    return _carry_out(tenant, record)


def _take_snapshot(tenant_id: str, record: MergeRecord) -> Snapshot:
    """The snapshot, taken before the first step changes anything (so a resumed merge that finds
    none finds both customers untouched)."""
    kept = archive.get_if_any(record.snapshot_key)
    if kept is not None:
        return Snapshot.model_validate_json(kept)
    survivor = store.load_collection(tenant_id, record.survivor_id)
    duplicate = store.load_collection(tenant_id, record.duplicate_id)
    if survivor is None or duplicate is None:  # erased while the merge was recorded
        raise Conflict("A customer of this merge is gone; the merge cannot go on.")
    after = merge_profiles(survivor.profile, duplicate.profile, merge_link(record))
    after.merged_from = [*after.merged_from, record.merge_id]
    taken = Snapshot(
        survivor_before=survivor.profile,
        survivor_after=after,
        survivor_sks=sorted(survivor.sks),
        duplicate_before=duplicate.profile,
        duplicate_items=store.snapshot(tenant_id, record.duplicate_id),
    )
    archive.put(record.snapshot_key, taken.model_dump_json().encode())
    return taken


def _carry_out(tenant: Tenant, record: MergeRecord) -> MergeRecord:
    tenant_id = tenant.tenant_id
    taken = _take_snapshot(tenant_id, record)
    duplicate = taken.duplicate_before
    # Lookups first: from here on what arrives for the duplicate lands on the survivor.
    _repoint(tenant, duplicate, record.duplicate_id, record.survivor_id, keep=set())
    # History as it is now (with anything that arrived since the plan); a resumed merge copies
    # the same items again, which changes nothing.
    moved = store.copy_items(
        tenant_id, record.duplicate_id, record.survivor_id, skip=set(record.kept)
    )
    record.moved = sorted({*record.moved, *moved})
    for vin in _cars(record.moved):
        update_vehicle(
            tenant_id,
            vin,
            lambda car: history.replace_customer(car, record.duplicate_id, record.survivor_id),
        )
    _save_merged(tenant_id, record, duplicate)
    store.delete_collection(tenant_id, record.duplicate_id)
    record.state = MergeState.DONE
    merges.save(tenant_id, record)
    logger.info(
        "customers merged", extra={"merge_id": record.merge_id, "survivor_id": record.survivor_id}
    )
    return record


def _save_merged(tenant_id: str, record: MergeRecord, duplicate: CustomerProfile) -> None:
    for _ in range(MAX_SAVE_ATTEMPTS):
        loaded = store.load_profile(tenant_id, record.survivor_id)
        if loaded is None:
            raise Conflict("The customer is gone; the merge cannot go on.")
        current, version = loaded
        if record.merge_id in current.merged_from:
            return  # saved by the interrupted attempt
        merged = merge_profiles(current, duplicate, merge_link(record))
        merged.merged_from = [*merged.merged_from, record.merge_id]
        merged.updated_at = clock.now()
        try:
            store.save_profile(tenant_id, merged, version)
        except store.StaleProfile:
            continue
        return
    raise store.StaleProfile(record.survivor_id)


def _cars(sks: list[str]) -> list[str]:
    return [sk.removeprefix("CAR#") for sk in sks if sk.startswith("CAR#")]


def _repoint(tenant: Tenant, profile: CustomerProfile, old: str, new: str, keep: set[str]) -> None:
    """The profile's lookups name `new` instead of `old`; contacts in `keep` are `old`'s too (a
    shared family phone) and keep naming it."""
    tenant_id = tenant.tenant_id
    ok_phones = [c.value for c in profile.phones if c.status == ContactStatus.OK]
    ok_emails = [c.value for c in profile.emails if c.status == ContactStatus.OK]
    store.remove_from_lookups(
        tenant_id,
        old,
        phones=[p for p in ok_phones if p not in keep],
        emails=[e for e in ok_emails if e not in keep],
    )
    store.add_to_lookups(tenant_id, new, phones=ok_phones, emails=ok_emails)
    for connector_id, external_id in known_external_ids(profile):
        store.point_lookup(keys.external_id(tenant_id, connector_id, external_id), new)
    for anonymous_id in profile.anonymous_ids:
        store.point_lookup(
            keys.external_id(tenant_id, store.ANONYMOUS_CONNECTOR, anonymous_id), new
        )


# ------------------------------------------------------------------------------------- undo


def undo_merge(tenant: Tenant, survivor_id: str, merge_id: str) -> MergeRecord:
    """Split the two again, or finish an undo that was interrupted."""
    tenant_id = tenant.tenant_id
    record = merges.load(tenant_id, survivor_id, merge_id)
    if record is None:
        raise NotFound("No such merge.")
    if record.state is MergeState.UNDONE:
        raise Conflict("The merge was undone already.")
    if record.state is MergeState.STARTED:
        raise Conflict("The merge is not finished: ask for it again to finish it, then undo it.")
    if record.state is MergeState.DONE:
        if clock.now() - record.at > timedelta(days=UNDO_DAYS):
            raise Conflict(f"A merge can be undone for {UNDO_DAYS} days; this one is older.")
        record.state = MergeState.UNDOING
        if not merges.move_on(tenant_id, record, MergeState.DONE):
            raise Conflict("The merge is being undone already.")
    return _split(tenant, record)


def _split(tenant: Tenant, record: MergeRecord) -> MergeRecord:
    tenant_id = tenant.tenant_id
    kept = archive.get_if_any(record.snapshot_key)
    if kept is not None:  # none: an interrupted undo got as far as deleting it
        try:
            taken = Snapshot.model_validate_json(kept)
        except ValidationError as exc:  # kept by the first merges, without the state after
            record.state = MergeState.DONE
            merges.save(tenant_id, record)
            raise Conflict("This merge is older than undo that keeps later changes.") from exc
        _split_with(tenant, record, taken)
        archive.delete(record.snapshot_key)
    record.state = MergeState.UNDONE
    record.undone_at = clock.now()
    merges.save(tenant_id, record)
    logger.info(
        "merge undone", extra={"merge_id": record.merge_id, "survivor_id": record.survivor_id}
    )
    return record


def _split_with(tenant: Tenant, record: MergeRecord, taken: Snapshot) -> None:
    tenant_id, survivor_id, duplicate_id = tenant.tenant_id, record.survivor_id, record.duplicate_id
    survivor = store.load_collection(tenant_id, survivor_id)
    if survivor is None:
        raise Conflict("The customer was erased; there is nothing to split.")
    # Statements recorded since the merge, and whose identifiers they came through.
    sent_to = {
        message.message_id: message.to
        for message in (
            StoredMessage.model_validate_json(doc) for doc in survivor.messages.values()
        )
        if message.to
    }
    earlier = set(taken.survivor_sks) | set(record.moved)
    later = {sk: entry for sk, entry in survivor.ledger.items() if sk not in earlier}
    theirs = {sk for sk, e in later.items() if came_through(e, taken.duplicate_before, sent_to)}
    ours = {sk for sk, e in later.items() if came_through(e, taken.survivor_before, sent_to)}
    current = {sk for sk, entry in later.items() if _is_current(entry, survivor.profile)}
    to_duplicate = {_pair(later[sk]) for sk in theirs & current}
    duplicate_only = {_pair(later[sk]) for sk in (theirs - ours) & current}
    now = clock.now()

    # The duplicate comes back: its items as they are now, later statements that came through it.
    store.copy_items(tenant_id, survivor_id, duplicate_id, only=set(record.moved) | theirs)
    # Items both had under one key (the same source record twice) stayed the survivor's; the
    # duplicate gets its own copy back from the snapshot.
    store.restore(taken.duplicate_items, sks=set(record.kept))
    loaded = store.load_profile(tenant_id, duplicate_id)  # written by an interrupted attempt?
    duplicate = loaded[0] if loaded else split_duplicate(survivor.profile, taken, to_duplicate, now)
    if loaded is None:
        store.save_profile(tenant_id, duplicate, None)
    store.delete_items(tenant_id, survivor_id, record.moved)
    split = _save_split(tenant_id, record, taken, duplicate_only)
    shared = _values(split)
    _repoint(tenant, duplicate, survivor_id, duplicate_id, keep=shared)
    store.add_to_lookups(
        tenant_id,
        survivor_id,
        phones=[c.value for c in split.phones if c.status == ContactStatus.OK],
        emails=[c.value for c in split.emails if c.status == ContactStatus.OK],
    )
    for connector_id, external_id in known_external_ids(split):
        if (connector_id, external_id) not in set(known_external_ids(duplicate)):
            store.point_lookup(keys.external_id(tenant_id, connector_id, external_id), survivor_id)
    for vin in _cars(record.moved):
        update_vehicle(
            tenant_id, vin, lambda car: history.replace_customer(car, survivor_id, duplicate_id)
        )
    merges.forget_mark(tenant_id, duplicate_id)


def _pair(entry: ConsentProof) -> Pair:
    return Channel(entry.channel), ConsentPurpose(entry.purpose)


def _is_current(entry: ConsentProof, profile: CustomerProfile) -> bool:
    state = _consent(profile, _pair(entry))
    # The ledger keeps times to the millisecond (clock.isoformat): compare them so.
    return state is not None and (state.granted, clock.isoformat(state.at), state.source) == (
        entry.granted,
        clock.isoformat(entry.at),
        entry.source,
    )


def _save_split(
    tenant_id: str, record: MergeRecord, taken: Snapshot, duplicate_only: set[Pair]
) -> CustomerProfile:
    for _ in range(MAX_SAVE_ATTEMPTS):
        loaded = store.load_profile(tenant_id, record.survivor_id)
        if loaded is None:
            raise Conflict("The customer was erased; there is nothing to split.")
        current, version = loaded
        split = split_survivor(current, taken, record.merge_id, duplicate_only, clock.now())
        if split.model_copy(update={"updated_at": current.updated_at}) == current:
            return current
        try:
            store.save_profile(tenant_id, split, version)
        except store.StaleProfile:
            continue
        return split
    raise store.StaleProfile(record.survivor_id)
