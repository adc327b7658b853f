"""Rights of the data subject: export everything held about a customer, and erase it.

Erasure removes the customer's whole collection (profile, consent ledger, cars as they saw them,
history, messages), the lookups that name them (phone, email, DMS ids), what the sandbox
provider recorded of their messages (the tenant's outbox), the snapshots of merges they were
part of, their personal data in rejected events kept for replay (inline and archived bodies),
and any import still waiting or running whose uploaded file names them (the import worker looks
through each kept file and stops the import, deleting its file; finished imports keep no file).
A car's technical record stays, de-personalized: its ownership periods and policies no longer
name the person.
"""

import json
from collections.abc import Callable
from typing import Any

from trigly.ingest import archive, rejections
from trigly.messaging.message import StoredMessage
from trigly.outbound import bus
from trigly.outbound import queue as outbound
from trigly.platform import clock
from trigly.platform.errors import NotFound
from trigly.platform.observability import logger
from trigly.platform.tenancy import Tenant
from trigly.profiles import traces
from trigly.profiles.model import CustomerProfile, MergeState, known_external_ids
from trigly.store import customers as store
from trigly.store import keys, merges
from trigly.store.customers import CustomerCollection
from trigly.vehicles import history
from trigly.vehicles.service import update_vehicle

ERASED = "erased"
SANDBOX_PREFIX = "sbx_"  # the sandbox provider's message ids (channels.sandbox)


def _collection(tenant: Tenant, customer_id: str) -> CustomerCollection:
    found = store.load_collection(tenant.tenant_id, customer_id)
    if found is None:
        raise NotFound("No such customer.")
    return found


def export_customer(tenant: Tenant, customer_id: str) -> dict[str, Any]:
    """Everything stored about the customer, as JSON (GDPR art. 15 / 152-FZ art. 14)."""
    collection = _collection(tenant, customer_id)
    records: dict[str, list[Any]] = {}
    for sk, doc in [*collection.records.items(), *collection.merges.items()]:
        records.setdefault(sk.split("#", 1)[0].lower(), []).append(json.loads(doc))
    return {
        "exported_at": clock.isoformat(clock.now()),
        "customer_id": customer_id,
        "profile": collection.profile.model_dump(mode="json", exclude={"stamps"}),
        "consent_ledger": [
            entry.model_dump(mode="json", exclude_none=True) for entry in collection.ledger.values()
        ],
        "records": records,
    }


def _names_person(tenant: Tenant, person: CustomerProfile) -> Callable[[object], bool]:
    digests = set(traces.digests_of(person))
    return lambda value: traces.mentions(value, digests, tenant.default_country)


def _erase_from_rejected_events(tenant: Tenant, person: CustomerProfile) -> int:
    names = _names_person(tenant, person)
    erased = 0
    for rejection_id, payload, archive_key in rejections.stored_payloads(tenant.tenant_id):
        if names(payload):
            rejections.erase_payload(tenant.tenant_id, rejection_id, archive_key)
            erased += 1
    return erased


def _look_through_imports(tenant: Tenant, person: CustomerProfile) -> int:
    from trigly.imports import jobs

    return jobs.look_for_person(tenant.tenant_id, traces.digests_of(person))


def _keep_suppressions_and_forget_lookups(
    tenant: Tenant, profile: CustomerProfile, messages: list[StoredMessage]
) -> None:
    """Before the collection goes: opt-outs, bounces and complaints stay on the suppression list
    as keyed hashes only, so a re-import never messages the person again; the lookups from a
    provider's message id and from a linked Telegram chat go with the messages, and so does
    what the sandbox provider recorded of them."""
    from trigly.messaging import suppression
    from trigly.store import feedback as feedback_store
    from trigly.store import messages as message_store

    suppression.keep_before_erasure(tenant.tenant_id, profile, clock.now())
    sent = [
        (message.channel.value, message.provider_message_id)
        for message in messages
        if message.provider_message_id and message.channel
    ]
    feedback_store.forget_provider_ids(tenant.tenant_id, sent)
    message_store.delete_outbox_entries(
        tenant.tenant_id,
        [
            (message.sent_at, message.message_id)
            for message in messages
            if message.sent_at and (message.provider_message_id or "").startswith(SANDBOX_PREFIX)
        ],
    )
    message_store.delete_bodies(tenant.tenant_id, profile.customer_id)
    for channel, address in profile.linked.items():
        if channel == "telegram":
            feedback_store.unlink_chat(tenant.tenant_id, address)


def _forget_merges(tenant: Tenant, collection: CustomerCollection) -> None:
    """The snapshots of merges into this customer hold both people as they were (one person,
    the dealer said); the marks of the merged ids go too."""
    for record in merges.in_collection(collection.merges):
        archive.delete(record.snapshot_key)
        if record.state is not MergeState.UNDONE:  # an undone duplicate lives on, unmarked
            merges.forget_mark(tenant.tenant_id, record.duplicate_id)


def erase_customer(tenant: Tenant, customer_id: str) -> None:
    collection = _collection(tenant, customer_id)
    profile = collection.profile
    for vin in collection.cars():
        update_vehicle(
            tenant.tenant_id, vin, lambda v: history.replace_customer(v, customer_id, ERASED)
        )
    store.remove_from_lookups(
        tenant.tenant_id,
        customer_id,
        phones=[c.value for c in profile.phones],
        emails=[c.value for c in profile.emails],
    )
    for connector_id, external_id in known_external_ids(profile):
        store.delete_lookup(
            keys.external_id(tenant.tenant_id, connector_id, external_id), customer_id
        )
    for anonymous_id in profile.anonymous_ids:
        store.delete_lookup(
            keys.external_id(tenant.tenant_id, store.ANONYMOUS_CONNECTOR, anonymous_id), customer_id
        )
    messages = [StoredMessage.model_validate_json(doc) for doc in collection.messages.values()]
    _keep_suppressions_and_forget_lookups(tenant, profile, messages)
    _forget_merges(tenant, collection)
    store.delete_collection(tenant.tenant_id, customer_id)
    redacted = _erase_from_rejected_events(tenant, profile)
    queued = _look_through_imports(tenant, profile)
    # The dealer's systems are told, each with the id it knows the person by (CONTRACT §2b).
    outbound.send_to_connectors(
        tenant.tenant_id,
        f"erase:{customer_id}",
        "customer.erased",
        data_for={
            connector_id: {"customer_external_id": external_id, "customer_id": customer_id}
            for connector_id, external_id in profile.external_ids.items()
            if connector_id != store.ANONYMOUS_CONNECTOR
        },
    )
    bus.publish(
        [
            bus.DomainEvent(
                id=f"erase:{customer_id}",
                tenant_id=tenant.tenant_id,
                type="customer.erased",
                occurred_at=clock.now(),
                customer_id=customer_id,
                data={},
            )
        ]
    )
    logger.info(
        "customer erased",
        extra={
            "customer_id": customer_id,
            "rejected_events_redacted": redacted,
            "imports_to_look_through": queued,
        },
    )
