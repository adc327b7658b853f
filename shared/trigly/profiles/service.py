"""Profile use cases: apply an inbound customer event, read the 360° view, search."""

import contextlib
import hashlib
import json
from typing import Any

from trigly.events.customer import CustomerConsentChanged, CustomerUpserted
from trigly.platform import clock, cursors, ids
from trigly.platform.errors import NotFound
from trigly.platform.observability import logger
from trigly.platform.tenancy import Tenant, list_connectors
from trigly.profiles import identity
from trigly.profiles.collection import profile_and_history
from trigly.profiles.contacts import ContactStatus, email_search_key, phone_search_key
from trigly.profiles.model import CustomerProfile, IdentityLink
from trigly.profiles.ordering import EventContext
from trigly.profiles.records import SECTIONS, CustomerHistory
from trigly.profiles.upsert import (
    ConsentStatement,
    apply_consent,
    consent_statements,
    merge_customer_upserted,
)
from trigly.profiles.views import history_view, profile_view, search_view
from trigly.store import customers as store
from trigly.store import keys
from trigly.store import vehicles as vehicle_store
from trigly.store.models import (
    ConsentRecordItem,
)
from trigly.vehicles.model import DEALER
from trigly.vehicles.vin import normalize_vehicle_id

MAX_SAVE_ATTEMPTS = 5


def _ledger_item(
    tenant_id: str,
    customer_id: str,
    statement: ConsentStatement,
    connector_id: str,
    event_id: str,
    *,
    proof: dict[str, str] | None = None,
    external_id: str | None = None,
) -> ConsentRecordItem:
    at = clock.isoformat(statement.at)
    return ConsentRecordItem(
        keys.customer(tenant_id, customer_id),
        # One item per distinct statement: the same proof sent again rewrites it, never adds.
        f"CONSENT#{at}#{statement.channel}#{statement.purpose}#{int(statement.granted)}#"
        f"{hashlib.sha256(statement.source.encode()).hexdigest()[:12]}",
        channel=statement.channel.value,
        purpose=statement.purpose.value,
        granted=statement.granted,
        at=at,
        source=statement.source,
        text_version=statement.text_version,
        connector_id=connector_id,
        event_id=event_id,
        external_id=external_id,
        proof=json.dumps(proof, ensure_ascii=False, sort_keys=True) if proof else None,
    )


def _is_current(profile: CustomerProfile | None, statement: ConsentStatement) -> bool:
    """A statement that is already the current state was recorded when it became current."""
    state = profile.consents.get(statement.channel, {}).get(statement.purpose) if profile else None
    return state is not None and (state.granted, state.at, state.source) == (
        statement.granted,
        statement.at,
        statement.source,
    )


def apply_customer_upserted(
    tenant: Tenant,
    connector_id: str,
    event_id: str,
    payload: CustomerUpserted,
    stamp: str,
) -> str:
    """Create or update the customer the DMS id names; returns the customer id. Idempotent."""
    tenant_id = tenant.tenant_id
    customer_id = store.find_by_external_id(tenant_id, connector_id, payload.external_id)
    link: IdentityLink | None = None
    brand_new = False  # a fresh id: no profile can exist yet, so none is read
    if customer_id is None:
        # A DMS record seen for the first time may be a customer another system already sent.
        match = identity.match_person(
            tenant,
            connector_id,
            first_name=payload.first_name,
            phones=payload.phones or [],
            emails=payload.emails or [],
        )
        proposed = match[0] if match else ids.new_id("cus")
        customer_id = store.claim_external_id(
            tenant_id, connector_id, payload.external_id, proposed
        )
        brand_new = match is None and customer_id == proposed
        if match and customer_id == match[0]:
            link = IdentityLink(
                connector_id=connector_id,
                external_id=payload.external_id,
                reason=match[1],
                at=clock.now(),
            )
    previous: CustomerProfile | None = None
    for _ in range(MAX_SAVE_ATTEMPTS):
        now = clock.now()
        loaded = None if brand_new else store.load_profile(tenant_id, customer_id)
        brand_new = False  # a retry after a conflict reads what the other writer saved
        previous = loaded[0] if loaded else None
        current, version = loaded or (
            CustomerProfile(customer_id=customer_id, created_at=now, updated_at=now),
            None,
        )
        merged = merge_customer_upserted(
            current,
            payload,
            connector_id=connector_id,
            stamp=stamp,
            default_country=tenant.default_country,
            now=now,
        )
        if link is not None and link not in merged.links:
            merged.links.append(link)
        if loaded is not None and merged == current:
            break  # a duplicate delivery or an older event that changes nothing
        try:
            store.save_profile(tenant_id, merged, version)
        except store.StaleProfile:
            continue
        if merged.birth_date != current.birth_date:  # the birthday journey's date trigger
            from trigly.journeys import triggers

            triggers.sync_customer(
                tenant_id, customer_id, current.birth_date, merged.birth_date, now.date()
            )
        known = {c.value for c in current.phones + current.emails}
        store.add_to_lookups(
            tenant_id,
            customer_id,
            phones=[
                c.value
                for c in merged.phones
                if c.status == ContactStatus.OK and c.value not in known
            ],
            emails=[
                c.value
                for c in merged.emails
                if c.status == ContactStatus.OK and c.value not in known
            ],
        )
        break
    else:
        raise store.StaleProfile(customer_id)
    store.append_consent_records(
        [
            _ledger_item(
                tenant_id,
                customer_id,
                statement,
                connector_id,
                event_id,
                external_id=payload.external_id,
            )
            for statement in consent_statements(payload)
            if not _is_current(previous, statement)
        ]
    )
    logger.info("customer upserted", extra={"customer_id": customer_id, "event_id": event_id})
    return customer_id


# Items in the 360° read: enough for years of a customer's history at ~1 KB each; older detail
# is paged through GET /v1/customers/{id}/history.
PROFILE_PAGE_ITEMS = 400


HISTORY = "history"  # the cursor's list name


def _cursor(sk: str | None) -> str | None:
    return cursors.encode(HISTORY, sk or None)


def get_profile(tenant: Tenant, customer_id: str) -> dict[str, Any]:
    """The 360° profile (CONTRACT §3) from one Query of the customer's item collection; when the
    history is longer than a page, `history_cursor` continues it."""
    items, next_sk = store.read_collection_page(tenant.tenant_id, customer_id, PROFILE_PAGE_ITEMS)
    profile, history = profile_and_history(items)
    if profile is None:
        raise NotFound("No such customer.")
    return {**profile_view(profile, history, clock.now()), "history_cursor": _cursor(next_sk)}


def load_customer(
    tenant_id: str, customer_id: str
) -> tuple[CustomerProfile, CustomerHistory] | None:
    """The profile and its recent history as domain objects (journeys, booking pages)."""
    items, _ = store.read_collection_page(tenant_id, customer_id, PROFILE_PAGE_ITEMS)
    profile, history = profile_and_history(items)
    return (profile, history) if profile is not None else None


def get_history(tenant: Tenant, customer_id: str, cursor: str) -> dict[str, Any]:
    """Older history of a customer, a page at a time, in the 360° view's sections."""
    after = cursors.decode(HISTORY, cursor, starts=("#", *[f"{kind}#" for kind in SECTIONS]))
    if store.load_profile(tenant.tenant_id, customer_id) is None:
        raise NotFound("No such customer.")
    items, next_sk = store.read_collection_page(
        tenant.tenant_id, customer_id, PROFILE_PAGE_ITEMS, after_sk=after
    )
    _, history = profile_and_history(items)
    return {**history_view(history), "cursor": _cursor(next_sk)}


def search_customers(
    tenant: Tenant,
    *,
    phone: str | None = None,
    email: str | None = None,
    external_id: str | None = None,
    vin: str | None = None,
) -> list[dict[str, Any]]:
    """Customers matching a phone (any human format), an email (any case), a DMS id, or the
    VIN (any case) of a car they own now."""
    found: set[str] = set()
    if phone is not None:
        key = phone_search_key(phone, tenant.default_country)
        found |= store.customers_with_phone(tenant.tenant_id, key) if key else set()
    if email is not None:
        key = email_search_key(email)
        found |= store.customers_with_email(tenant.tenant_id, key) if key else set()
    if external_id is not None:
        for connector in list_connectors(tenant.tenant_id):
            match = store.find_by_external_id(tenant.tenant_id, connector.connector_id, external_id)
            if match:
                found.add(match)
    if vin is not None:
        try:
            car = vehicle_store.load_vehicle(tenant.tenant_id, normalize_vehicle_id(vin))
        except ValueError:  # not a VIN or frame number: nothing can match
            car = None
        owner = car[0].owner_id if car else None
        if owner and owner != DEALER:
            found.add(owner)
    profiles = [
        profile[0]
        for cid in sorted(found, reverse=True)
        if (profile := store.load_profile(tenant.tenant_id, cid))
    ]
    return [search_view(p) for p in profiles]


def resolve_customer(tenant: Tenant, connector_id: str, external_id: str) -> str:
    """The customer a DMS id names; an id seen first on a car or visit event gets an empty
    profile that its `customer.upserted` fills in later (events may come in any order)."""
    customer_id = store.find_by_external_id(tenant.tenant_id, connector_id, external_id)
    if customer_id is not None:
        return customer_id
    new_id = store.claim_external_id(tenant.tenant_id, connector_id, external_id, ids.new_id("cus"))
    if store.load_profile(tenant.tenant_id, new_id) is None:
        now = clock.now()
        profile = CustomerProfile(
            customer_id=new_id,
            created_at=now,
            updated_at=now,
            external_ids={connector_id: external_id},
        )
        with contextlib.suppress(store.StaleProfile):  # created meanwhile by its own event
            store.save_profile(tenant.tenant_id, profile, None)
    return new_id


def apply_consent_change(tenant: Tenant, ctx: EventContext, event: CustomerConsentChanged) -> str:
    """One consent statement: appended to the ledger; current if it is the latest by its `at`."""
    customer_id = resolve_customer(tenant, ctx.connector_id, event.customer_external_id)
    statement = ConsentStatement(
        channel=event.channel,
        purpose=event.purpose,
        granted=event.granted,
        at=event.at,
        source=event.source,
        text_version=None,
    )
    record_consent(
        tenant,
        customer_id,
        statement,
        connector_id=ctx.connector_id,
        event_id=ctx.event_id,
        stamp=ctx.stamp,
        external_id=event.customer_external_id,
    )
    return customer_id


def record_consent(
    tenant: Tenant,
    customer_id: str,
    statement: ConsentStatement,
    *,
    connector_id: str,
    event_id: str,
    stamp: str,
    proof: dict[str, str] | None = None,
    external_id: str | None = None,
) -> None:
    """Append the statement to the ledger; it becomes current if it is the latest by its `at`.
    `proof`: how Trigly captured it, when it did (message, link, user agent); `external_id`: the
    DMS id a connector's statement came under."""
    for _ in range(MAX_SAVE_ATTEMPTS):
        loaded = store.load_profile(tenant.tenant_id, customer_id)
        if loaded is None:
            break
        current, version = loaded
        changed = current.model_copy(deep=True)
        apply_consent(changed, statement, stamp)
        if changed == current:
            break
        changed.updated_at = clock.now()
        try:
            store.save_profile(tenant.tenant_id, changed, version)
        except store.StaleProfile:
            continue
        break
    store.append_consent_records(
        [
            _ledger_item(
                tenant.tenant_id,
                customer_id,
                statement,
                connector_id,
                event_id,
                proof=proof,
                external_id=external_id,
            )
        ]
    )
