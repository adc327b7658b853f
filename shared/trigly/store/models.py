"""PynamoDB models. Table names are bound at first use from settings, never at import time."""

import threading

import pynamodb.connection.base
from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.constants import BINARY
from pynamodb.models import Model

from trigly.platform import aws
from trigly.platform.settings import Settings, get_settings
from trigly.store import dictionaries

# PynamoDB's sessions share boto3's parsed models (why: `aws.botocore_session`).
pynamodb.connection.base.get_session = aws.botocore_session  # type: ignore[attr-defined]


class CompressedText(Attribute[str]):
    """A JSON document stored zlib-compressed (binary): profiles, cars and records shrink to a
    third, so most writes cost 1 WRU instead of 2–4 (DynamoDB bills per started KB). With a
    preset `dictionary` (store.dictionaries) a small document shrinks further; any stored form
    reads, whatever the attribute writes now."""

    attr_type = BINARY

    def __init__(self, *, dictionary: bytes | None = None, null: bool | None = None) -> None:
        super().__init__(null=null)
        self.dictionary = dictionary

    def serialize(self, value: str) -> bytes:
        return dictionaries.compress(value, self.dictionary)

    def deserialize(self, value: bytes) -> str:
        return dictionaries.decompress(value)


class MainItem(Model):
    """Base of every item in the main table; `kind` tells the type when a Query mixes them."""

    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    expires_at = NumberAttribute(null=True)


class TenantItem(MainItem, discriminator="tenant"):
    """pk `T#{tenant}`, sk `TENANT`: the tenant's settings."""

    name = UnicodeAttribute()
    default_country = UnicodeAttribute()
    timezone = UnicodeAttribute()
    currency = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


class TenantDirectoryItem(MainItem, discriminator="tenant_directory"):
    """pk `TENANTS`, sk `T#{tenant}`: lets scheduled jobs list tenants without a Scan."""

    tenant_id = UnicodeAttribute()
    timezone = UnicodeAttribute()


class ApiKeyItem(MainItem, discriminator="api_key"):
    """pk `APIKEY#{sha256}` (lookup by credential); pk `T#{tenant}`/sk `APIKEY#{id}` (listing)."""

    tenant_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    prefix = UnicodeAttribute()
    label = UnicodeAttribute()
    # `read`, `marketing`, `admin`; absent on keys made before scopes (they are `admin`).
    scopes = UnicodeSetAttribute(null=True)
    key_hash = UnicodeAttribute()
    created_at = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)


class SecretMap(MapAttribute[str, str]):
    secret = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_at = UnicodeAttribute(null=True)


def secret_entry(secret: str, created_at: str, expires_at: str | None = None) -> SecretMap:
    return SecretMap(secret=secret, created_at=created_at, expires_at=expires_at)  # type: ignore[no-untyped-call]


class ConnectorItem(MainItem, discriminator="connector"):
    """pk `CONNECTOR#{id}` holds the signing secrets; pk `T#{tenant}`/sk `CONNECTOR#{id}` lists."""

    tenant_id = UnicodeAttribute()
    connector_id = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UnicodeAttribute()
    outbound_url = UnicodeAttribute(null=True)
    secrets = ListAttribute(of=SecretMap, null=True)


class LocationItem(MainItem, discriminator="location"):
    """pk `T#{tenant}`, sk `LOCATION#{id}`: a dealer centre or service station."""

    doc = UnicodeAttribute()


class MessagingSettingsItem(MainItem, discriminator="messaging_settings"):
    """pk `T#{tenant}`, sk `SETTINGS#MESSAGING`: the tenant's messaging settings (CONTRACT §3),
    rewritten whole under its version (two partial PUTs never lose each other's change)."""

    doc = UnicodeAttribute()
    version = VersionAttribute()


class TemplateItem(MainItem, discriminator="template"):
    """pk `T#{tenant}`, sk `TEMPLATE#{id}`: a message template with its channel variants."""

    doc = UnicodeAttribute()


class CustomerProfileItem(MainItem, discriminator="profile"):
    """pk `T#{tenant}#C#{customer}`, sk `PROFILE`: the profile document, optimistically locked."""

    doc = CompressedText()
    version = VersionAttribute()


class ConsentRecordItem(MainItem, discriminator="consent"):
    """pk `T#{tenant}#C#{customer}`, sk `CONSENT#{at}#{channel}#{purpose}#{source event}`: the
    append-only consent ledger; the profile holds the derived current state."""

    channel = UnicodeAttribute()
    purpose = UnicodeAttribute()
    granted = BooleanAttribute()
    at = UnicodeAttribute()
    source = UnicodeAttribute()
    text_version = UnicodeAttribute(null=True)
    connector_id = UnicodeAttribute(null=True)
    event_id = UnicodeAttribute(null=True)
    # The DMS id the statement came under (an undone merge gives it to the person it names).
    external_id = UnicodeAttribute(null=True)
    # How Trigly captured a statement itself, as JSON: the message and link, the user agent.
    proof = UnicodeAttribute(null=True)


class CustomerLookupItem(MainItem, discriminator="lookup"):
    """pk `T#{tenant}#XID|PHONE|EMAIL#{value}`, sk `LOOKUP`: the customers a contact points to."""

    customer_ids = UnicodeSetAttribute(null=True)


class VehicleItem(MainItem, discriminator="vehicle"):
    """pk `T#{tenant}#V#{vin}`, sk `CAR`: the car record, optimistically locked. It is also the
    date trigger of the start it carries (`Vehicle.due_start`, the next maintenance): on the
    `due` index under `T#{tenant}#LIFE#{local date}` until the daily job hands it over."""

    # With the car record's dictionary: a third smaller, well inside one write unit (ADR 0025).
    doc = CompressedText(dictionary=dictionaries.CAR_RECORD_V1)
    version = VersionAttribute()
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)


class RecordItem(MainItem, discriminator="record"):
    """A dated fact in a customer's or a car's collection: a visit, a sale, an appointment, the
    customer's view of a car (`CAR#{vin}`)… `sk` is `{KIND}#{…}`; `doc` is the record's JSON."""

    doc = CompressedText()
    stamp = UnicodeAttribute(null=True)  # ordering stamp, for records where the latest event wins


class MergeItem(MainItem, discriminator="merge"):
    """pk `T#{tenant}#C#{survivor}`, sk `MERGE#{id}`: a merge and its plan, written before its
    steps; `state` (started, done, undoing, undone) lets a step go ahead only once. A merged
    duplicate's id keeps a mark, pk `T#{tenant}#MERGED#{customer}`, sk `MERGED` (a MergeItem
    without plan), so it is never merged twice."""

    doc = CompressedText()
    state = UnicodeAttribute()


class MessageItem(MainItem, discriminator="message"):
    """pk `T#{tenant}#C#{customer}`, sk `MSG#{newest first}#{message}`: one message with its
    status history, optimistically locked. A held message carries `due_pk`/`due_sk` (the `due`
    index) until it is released. `claimed_at` is set once, before the provider is called."""

    doc = CompressedText()
    version = VersionAttribute()
    claimed_at = UnicodeAttribute(null=True)
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)


class PlanItem(MainItem, discriminator="maintenance_plan"):
    """pk `T#{tenant}#PLANS`, sk `{MAKE}|{MODEL or *}`: the tenant's own maintenance plan."""

    doc = UnicodeAttribute()


class DueMarkItem(MainItem, discriminator="due_mark"):
    """pk `DUEMARK#DUE#{UTC hour}#{shard}`, sk `MARK`: the bucket holds due work
    (store.due_hours)."""


class DueWatermarkItem(MainItem, discriminator="due_watermark"):
    """pk `DUEMARK#WATERMARK`, sk `TICK`: how far the hourly tick has queued due work
    (`through`), and the lease of the tick working on the hours after it (store.due)."""

    through = UnicodeAttribute(null=True)
    lease_until = UnicodeAttribute(null=True)
    version = VersionAttribute()


class EnrollmentItem(MainItem, discriminator="enrollment"):
    """pk `T#{tenant}#C#{customer}`, sk `JRN#{journey}#{enrollment key}`: one run of a journey
    for one customer (and car), with its step transitions; created once per key (no double
    start). While a step waits it sits on the `due` index under `DUE#{UTC hour}`."""

    doc = CompressedText()
    version = VersionAttribute()
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)


class TriggerItem(MainItem, discriminator="trigger"):
    """pk `T#{tenant}#V#{vin}` (a car's milestones) or the customer's collection (birthdays),
    sk `DUE#{journey}`: when a date-triggered journey starts for this car or customer. It sits
    on the `due` index under `T#{tenant}#LIFE#{local date}` until the daily job hands it over.
    (The `due` GSI, template.yaml: sparse, keys and `kind` projected; date triggers by tenant and
    day, with the car records that carry their next maintenance; held messages, waiting runs
    and fallbacks by UTC hour and shard, `DUE#{hour}#{shard}`, read by store.due.)"""

    doc = UnicodeAttribute()
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)


class JourneyItem(MainItem, discriminator="journey"):
    """pk `T#{tenant}`, sk `JOURNEY#{id}`: the journey's current definition (JSON, versioned)."""

    doc = CompressedText()
    version = VersionAttribute()


class SlotItem(MainItem, discriminator="slot"):
    """pk `T#{tenant}#LOC#{location}#SLOTS`, sk `{date}T{HH:MM}`: bookings of one service slot;
    `booked` never exceeds the location's posts (a conditional update takes a place)."""

    booked = NumberAttribute()
    appointment_ids = UnicodeSetAttribute(null=True)


class PriceItem(MainItem, discriminator="price"):
    """pk `T#{tenant}#PRICES`, sk `{make}|{model}|{step}`: what a scheduled service costs."""

    amount = NumberAttribute()
    source = UnicodeAttribute()  # "visit" (learnt) or "tenant" (set through the API)
    updated_at = UnicodeAttribute()


class FallbackItem(MainItem, discriminator="fallback"):
    """pk `T#{tenant}#FALLBACK#{customer}`, sk the message's sort key: when to look whether a
    sent message needs the next channel (no click on Telegram within 4 h, a refusal...). On the
    `due` index under the hour it falls due; removed once decided; TTL a week."""

    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)


class MessageBodyItem(MainItem, discriminator="message_body"):
    """pk `T#{tenant}#MSGBODY#{customer}`, sk the message's sort key: an email's HTML part,
    written once when the message is decided (the message item is rewritten at every status and
    would pay for a layout's kilobytes each time); TTL 30 days, erased with the customer."""

    html = CompressedText()


class CapLedgerItem(MainItem, discriminator="cap_ledger"):
    """pk `T#{tenant}#C#{customer}`, sk `CAP#MARKETING`: the customer's marketing messages
    counted under the frequency cap (access pattern 10), `[[message id, queued at], ...]` of
    the last 31 days. One item per customer, written only under its version: two senders
    deciding at once cannot both take the last place (messaging/caps.py). Erased with the
    customer's collection."""

    slots = UnicodeAttribute()
    version = VersionAttribute()


class MessageKeyItem(MainItem, discriminator="message_key"):
    """pk `T#{tenant}#MSGKEY#{sha256 of the idempotency key}`: the key's one message."""

    customer_id = UnicodeAttribute()
    message_sk = UnicodeAttribute()
    fingerprint = UnicodeAttribute()


class OutboxItem(MainItem, discriminator="outbox"):
    """pk `T#{tenant}#OUTBOX`, sk `{sent at}#{message}`: what the sandbox provider delivered.
    Written compressed (`doc_z`: a marketing SMS's copy with its links stays one write unit);
    `doc` is how entries were written before, still read until their TTL takes them."""

    doc = UnicodeAttribute(null=True)
    doc_z = CompressedText(null=True)


class EventClaimItem(Model):
    """Idempotency table, pk `T#{tenant}#EVT#{connector}#{event id}`: accepted once, or rejected
    (a rejected id is not used up: the corrected event may come under it again)."""

    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    claimed_at = UnicodeAttribute()
    rejected_ids = UnicodeSetAttribute(null=True)
    expires_at = NumberAttribute()


class RejectedEventItem(Model):
    """Rejected-events table, pk `T#{tenant}`, sk the rejection id (a ULID: newest last)."""

    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    connector_id = UnicodeAttribute()
    event_id = UnicodeAttribute(null=True)
    event_type = UnicodeAttribute(null=True)
    received_at = UnicodeAttribute()
    errors = UnicodeAttribute()
    payload = UnicodeAttribute(null=True)
    archive_key = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    resolved_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()


_bound: Settings | None = None
_bind_lock = threading.Lock()


def _forget_connections(model: type[Model]) -> None:
    model._connection = None
    for sub in model.__subclasses__():
        _forget_connections(sub)


def bind() -> None:
    """Point the models at this deployment's tables (from settings); cheap after the first call."""
    global _bound  # noqa: PLW0603  # binding is process-wide, like the settings it reads
    settings = get_settings()
    if _bound is settings:
        return
    with _bind_lock:
        for model, name in (
            (MainItem, settings.main_table),
            (EventClaimItem, settings.idempotency_table),
            (RejectedEventItem, settings.rejected_events_table),
        ):
            model.Meta.table_name = name
            _forget_connections(model)
        _bound = settings
