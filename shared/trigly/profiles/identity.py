"""Identity resolution for events that name a person by contact instead of a DMS id
(a test drive booked on the website, a lead, a tracked call).

Rules, in order (deterministic, so replays land on the same customer):
1. The source record (connector + lead/booking id) seen before → the same customer.
2. The E.164 phone belongs to exactly one customer → that customer, unless a name is given and
   differs from that customer's first name: a shared family phone is not enough on its own to
   call two people one.
3. The email belongs to exactly one customer → that customer (emails are personal).
4. Otherwise a new customer with these contacts.
Several customers on one phone or email are never guessed between: a new customer is created
and the dealer sees both. Merging such customers is an explicit, recorded step.
"""

from trigly.platform import clock, ids
from trigly.platform.tenancy import Tenant
from trigly.profiles.contacts import ContactStatus, normalize_email, normalize_phone
from trigly.profiles.model import CustomerProfile
from trigly.store import customers as store
from trigly.store import keys


def _first_name(name: str | None) -> str | None:
    parts = (name or "").split()
    return parts[0].casefold() if parts else None


def _same_name(a: str | None, b: str | None) -> bool:
    return bool(a and b) and (a or "").casefold().replace("ё", "е") == (b or "").casefold().replace(
        "ё", "е"
    )


def match_person(
    tenant: Tenant,
    connector_id: str,
    *,
    first_name: str | None,
    phones: list[str],
    emails: list[str],
) -> tuple[str, str] | None:
    """(customer id, reason) of the known customer a new DMS record is, by the rules above;
    a customer another record of the same DMS already names is a different person to that DMS."""
    candidates: list[tuple[str, str]] = []
    for raw in emails:
        contact = normalize_email(raw)
        if contact.status == ContactStatus.OK:
            owners = store.customers_with_email(tenant.tenant_id, contact.value)
            if len(owners) == 1:
                candidates.append((next(iter(owners)), "email"))
    for raw in phones:
        contact = normalize_phone(raw, tenant.default_country)
        if contact.status != ContactStatus.OK:
            continue
        # A shared phone names a family; only the one with the same first name is this person.
        owners = store.customers_with_phone(tenant.tenant_id, contact.value)
        same_name = [
            owner
            for owner in sorted(owners)
            if (loaded := store.load_profile(tenant.tenant_id, owner))
            and _same_name(first_name, loaded[0].first_name)
        ]
        if len(same_name) == 1:
            candidates.append((same_name[0], "phone+name"))
    for customer_id, reason in candidates:
        loaded = store.load_profile(tenant.tenant_id, customer_id)
        if loaded is None or connector_id in loaded[0].external_ids:
            continue
        return customer_id, reason
    return None


def match_contact(
    tenant: Tenant, name: str | None, phone: str | None, email: str | None
) -> str | None:
    if phone:
        contact = normalize_phone(phone, tenant.default_country)
        owners = (
            store.customers_with_phone(tenant.tenant_id, contact.value)
            if contact.status == ContactStatus.OK
            else set()
        )
        if len(owners) == 1:
            [candidate] = owners
            given = _first_name(name)
            loaded = store.load_profile(tenant.tenant_id, candidate)
            known = (loaded[0].first_name or "").casefold() if loaded else ""
            if not given or not known or given == known:
                return candidate
    if email:
        contact = normalize_email(email)
        owners = (
            store.customers_with_email(tenant.tenant_id, contact.value)
            if contact.status == ContactStatus.OK
            else set()
        )
        if len(owners) == 1:
            return next(iter(owners))
    return None


def resolve_contact(
    tenant: Tenant,
    connector_id: str,
    source_key: str,
    *,
    name: str | None,
    phone: str | None,
    email: str | None,
    anonymous_id: str | None = None,
) -> str:
    """The customer behind a contact; `source_key` (e.g. `lead:L-1`) makes the answer stable.
    An `anonymous_id` ties the visitor's earlier web activity to that customer."""
    customer_id = _resolve_contact(
        tenant, connector_id, source_key, name=name, phone=phone, email=email
    )
    if anonymous_id:
        attach_anonymous(tenant, anonymous_id, customer_id)
    return customer_id


def _resolve_contact(
    tenant: Tenant,
    connector_id: str,
    source_key: str,
    *,
    name: str | None,
    phone: str | None,
    email: str | None,
) -> str:
    known = store.find_by_external_id(tenant.tenant_id, connector_id, source_key)
    if known:
        return known
    match = match_contact(tenant, name, phone, email)
    customer_id = store.claim_external_id(
        tenant.tenant_id, connector_id, source_key, match or ids.new_id("cus")
    )
    if match is None and store.load_profile(tenant.tenant_id, customer_id) is None:
        now = clock.now()
        first, _, last = (name or "").strip().partition(" ")
        phones = [normalize_phone(phone, tenant.default_country)] if phone else []
        emails = [normalize_email(email)] if email else []
        profile = CustomerProfile(
            customer_id=customer_id,
            created_at=now,
            updated_at=now,
            first_name=first or None,
            last_name=last or None,
            phones=phones,
            emails=emails,
        )
        store.save_profile(tenant.tenant_id, profile, None)
        store.add_to_lookups(
            tenant.tenant_id,
            customer_id,
            phones=[c.value for c in phones if c.status == ContactStatus.OK],
            emails=[c.value for c in emails if c.status == ContactStatus.OK],
        )
    return customer_id


def resolve_anonymous(tenant: Tenant, anonymous_id: str) -> str:
    """The customer a website visitor is: the identified person once known, else an anonymous
    profile that collects the visitor's activity until then."""
    known = store.find_by_external_id(tenant.tenant_id, store.ANONYMOUS_CONNECTOR, anonymous_id)
    if known:
        return known
    customer_id = store.claim_external_id(
        tenant.tenant_id, store.ANONYMOUS_CONNECTOR, anonymous_id, ids.new_id("cus")
    )
    if store.load_profile(tenant.tenant_id, customer_id) is None:
        now = clock.now()
        profile = CustomerProfile(
            customer_id=customer_id, created_at=now, updated_at=now, anonymous_ids=[anonymous_id]
        )
        store.save_profile(tenant.tenant_id, profile, None)
    return customer_id


def attach_anonymous(tenant: Tenant, anonymous_id: str, customer_id: str) -> None:
    """The visitor turned out to be this customer: their web activity moves to the customer's
    profile, the anonymous profile goes, and later activity lands on the customer directly."""
    previous = store.find_by_external_id(tenant.tenant_id, store.ANONYMOUS_CONNECTOR, anonymous_id)
    lookup = keys.external_id(tenant.tenant_id, store.ANONYMOUS_CONNECTOR, anonymous_id)
    if previous == customer_id:
        return
    if previous is not None:
        loaded = store.load_profile(tenant.tenant_id, previous)
        if loaded is not None and loaded[0].external_ids:
            return  # the id belongs to an identified customer already; never move a person's data
        store.copy_records(tenant.tenant_id, previous, customer_id, "WEB#")
        store.delete_collection(tenant.tenant_id, previous)
    store.point_lookup(lookup, customer_id)
