"""Merging `customer.upserted` into a profile: pure, deterministic, order-independent.

Rules (CONTRACT §2): an absent field changes nothing; a field set by a newer event is never
overwritten by an older one; a given `phones`/`emails` list is the current list — contacts no
longer in it stay for identity but turn `stale`; consents order by their own `at`. Applying the
same event twice, or events in any order, ends in the same profile.
"""

from dataclasses import dataclass
from datetime import datetime

from trigly.events.customer import CustomerUpserted
from trigly.events.types import Channel, ConsentPurpose
from trigly.profiles.contacts import Contact, ContactStatus, normalize_email, normalize_phone
from trigly.profiles.model import ConsentState, CustomerProfile
from trigly.profiles.ordering import event_stamp

SCALAR_FIELDS = (
    "first_name",
    "last_name",
    "middle_name",
    "birth_date",
    "city",
    "region",
    "timezone",
    "preferred_channel",
    "location_id",
)
# Delivery problems are facts about the address, not about the DMS's list; they stick.
STICKY = {ContactStatus.BOUNCED, ContactStatus.COMPLAINED}


@dataclass(frozen=True)
class ConsentStatement:
    """One consent as a source stated it: appended to the ledger whether or not it is current."""

    channel: Channel
    purpose: ConsentPurpose
    granted: bool
    at: datetime
    source: str
    text_version: str | None


def _dedupe(contacts: list[Contact]) -> list[Contact]:
    seen: dict[str, Contact] = {}
    for contact in contacts:
        seen.setdefault(contact.value, contact)
    return list(seen.values())


def _not_current(contact: Contact) -> Contact:
    """A contact no longer on the DMS's list: `stale`, unless it says something worse."""
    if contact.status in STICKY or contact.status == ContactStatus.INVALID:
        return contact
    return Contact(value=contact.value, status=ContactStatus.STALE)


def merge_contacts(current: list[Contact], given: list[Contact], newer: bool) -> list[Contact]:
    known = {c.value: c for c in current}
    if not newer:
        # An older list cannot say what is current; it only adds identities we did not know.
        extra = [_not_current(c) for c in given if c.value not in known]
        return current + extra
    listed = []
    for contact in given:
        previous = known.get(contact.value)
        status = previous.status if previous and previous.status in STICKY else contact.status
        listed.append(Contact(value=contact.value, status=status))
    listed_values = {c.value for c in listed}
    dropped = [_not_current(c) for c in current if c.value not in listed_values]
    return listed + sorted(dropped, key=lambda c: c.value)


def consent_statements(payload: CustomerUpserted) -> list[ConsentStatement]:
    statements = []
    for channel, grant in sorted((payload.consents or {}).items()):
        for purpose in ConsentPurpose:
            granted = getattr(grant, purpose.value)
            if granted is None:
                continue
            statements.append(
                ConsentStatement(
                    channel, purpose, granted, grant.at, grant.source, grant.text_version
                )
            )
    return statements


def apply_consent(profile: CustomerProfile, statement: ConsentStatement, stamp: str) -> None:
    """The statement becomes current if it is the latest by its own `at` (ties: later receipt)."""
    key = f"consent.{statement.channel}.{statement.purpose}"
    order = f"{event_stamp(statement.at, statement.at, 0)}|{stamp}"
    if order < profile.stamps.get(key, ""):
        return
    profile.consents.setdefault(statement.channel, {})[statement.purpose] = ConsentState(
        granted=statement.granted,
        at=statement.at,
        source=statement.source,
        text_version=statement.text_version,
    )
    profile.stamps[key] = order


def merge_customer_upserted(
    profile: CustomerProfile,
    payload: CustomerUpserted,
    *,
    connector_id: str,
    stamp: str,
    default_country: str,
    now: datetime,
) -> CustomerProfile:
    """A new profile with the event applied; `profile` itself is left untouched."""
    merged = profile.model_copy(deep=True)
    merged.external_ids[connector_id] = payload.external_id
    given = payload.model_fields_set
    for name in SCALAR_FIELDS:
        if name in given and stamp >= merged.stamps.get(name, ""):
            setattr(merged, name, getattr(payload, name))
            merged.stamps[name] = stamp
    if payload.phones is not None:
        phones = _dedupe([normalize_phone(p, default_country) for p in payload.phones])
        newer = stamp >= merged.stamps.get("phones", "")
        merged.phones = merge_contacts(merged.phones, phones, newer)
        if newer:
            merged.stamps["phones"] = stamp
    if payload.emails is not None:
        emails = _dedupe([normalize_email(e) for e in payload.emails])
        newer = stamp >= merged.stamps.get("emails", "")
        merged.emails = merge_contacts(merged.emails, emails, newer)
        if newer:
            merged.stamps["emails"] = stamp
    if payload.anonymous_id and payload.anonymous_id not in merged.anonymous_ids:
        merged.anonymous_ids = sorted([*merged.anonymous_ids, payload.anonymous_id])
    for statement in consent_statements(payload):
        apply_consent(merged, statement, stamp)
    if merged != profile:
        merged.updated_at = now
    return merged
