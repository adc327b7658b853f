"""What each route answers, as pydantic models: the OpenAPI document shows them, and the
resolver checks every answer against its model on the way out.

Views are documentation of the domain's answers, not a second implementation: a `View` takes
the domain's JSON as it is (unknown keys kept) and gives back exactly the keys it was given, so
declaring a model never changes a response's shape. Keys that are always there are required;
keys a view adds only when they apply have a default and stay absent when absent.
"""

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    model_serializer,
)


class View(BaseModel):
    # Built on first use, not at import: a cold start pays only for the routes it serves.
    model_config = ConfigDict(extra="allow", defer_build=True)

    @model_serializer(mode="wrap")
    def _as_given(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        given = self.model_fields_set | set(self.model_extra or {})
        return {k: v for k, v in data.items() if k in given}


Cursor = Field(description="Pass as `cursor` for the next page; null: this was the last page")
Timestamp = str  # ISO 8601 UTC with `Z` (CONTRACT §1a)


class Contact(View):
    value: str = Field(description="E.164 phone or lower-case email")
    status: Literal["ok", "invalid", "stale", "bounced", "complained"]


# --- customers ------------------------------------------------------------------------------


class CustomerSummary(View):
    id: str
    first_name: str | None
    last_name: str | None
    phones: list[Contact]
    emails: list[Contact]
    external_ids: JsonValue = Field(description="The DMS's ids of the customer, per connector")
    updated_at: Timestamp


class CustomerList(View):
    items: list[CustomerSummary]
    cursor: str | None = Cursor


class Vehicle(View):
    vin: str
    make: str | None
    model: str | None
    year: int | None
    mileage_km: int | None = Field(description="The last reading")
    estimated_mileage_km: float | None = Field(description="Today's estimate")
    next_maintenance: dict[str, JsonValue] | None = Field(
        description='{"due_on" (median date), "due_km", "window": {"p10", "p90"}, "service", '
        '"number"}'
    )


class CustomerHistoryPage(View):
    """The dated sections of the 360° view, newest first."""

    visits: list[dict[str, JsonValue]] = Field(description="Closed service orders")
    purchases: list[dict[str, JsonValue]]
    appointments: list[dict[str, JsonValue]] = Field(
        description="id, vin, starts_at, status, location_id, source"
    )
    test_drives: list[dict[str, JsonValue]]
    showroom_visits: list[dict[str, JsonValue]]
    leads: list[dict[str, JsonValue]]
    parts_purchases: list[dict[str, JsonValue]]
    calls: list[dict[str, JsonValue]]
    car_orders: list[dict[str, JsonValue]]
    consent_ledger: list[dict[str, JsonValue]] = Field(description="Every consent statement")
    cursor: str | None = Field(
        default=None, description="Older history (`GET …/history?cursor=`); null: no more"
    )


class CustomerProfile(CustomerHistoryPage):
    """The 360° profile in one read (CONTRACT §3)."""

    id: str
    external_ids: JsonValue
    first_name: str | None
    last_name: str | None
    middle_name: str | None
    birth_date: str | None = Field(description="YYYY-MM-DD")
    city: str | None
    region: str | None = Field(description="ISO 3166-2, e.g. RU-MOW")
    timezone: str | None
    preferred_channel: str | None
    location_id: str | None
    phones: list[Contact]
    emails: list[Contact]
    consents: dict[str, dict[str, dict[str, JsonValue]]] = Field(
        description='{channel: {purpose: {"granted", "at", "source", "text_version"?}}}'
    )
    vehicles: list[Vehicle] = Field(description="Cars owned now")
    past_vehicles: list[Vehicle] = Field(description="Cars sold on")
    web_activity: JsonValue
    messages: list[dict[str, JsonValue]] = Field(description="The 20 most recent")
    journeys: list[dict[str, JsonValue]] = Field(description="Journey runs with their steps")
    offers: list[JsonValue] = Field(description="The items of `GET …/offers`; `[]` when none")
    loyalty: JsonValue = Field(description="`null` without a loyalty programme")
    readiness: JsonValue = Field(description="`null` until the customer is scored (CONTRACT §7)")
    aggregates: dict[str, JsonValue]
    created_at: Timestamp
    updated_at: Timestamp
    history_cursor: str | None = Field(
        description="Older history than this read holds (`GET …/history?cursor=`)"
    )


class CustomerExport(View):
    """Everything stored about the customer (a data subject's access request)."""

    exported_at: Timestamp
    customer_id: str
    profile: dict[str, JsonValue]
    consent_ledger: list[JsonValue]
    records: JsonValue = Field(description="Every stored record of the customer, by kind")


class Merge(View):
    id: str = Field(description="The merge_id an undo names")
    survivor_id: str
    duplicate_id: str
    reason: str
    at: Timestamp
    state: Literal["started", "done", "undoing", "undone"]
    moved_records: int
    undo_until: Timestamp = Field(description="Undo is offered until then (365 days)")
    undone_at: Timestamp | None


class TelegramLink(View):
    url: str = Field(description="https://t.me/<bot>?start=<token>")
    expires_at: Timestamp
    linked: bool = Field(description="Whether the customer's Telegram chat is linked already")


class PushDevice(View):
    customer_id: str
    channel: Literal["push"]
    platform: Literal["android", "ios"]


# --- vehicles -------------------------------------------------------------------------------


class VehicleRecord(View):
    """A car as a record of its own: owners, readings, sales, policies, technical history."""

    vin: str
    make: str | None
    model: str | None
    trim: str | None
    year: int | None
    plate: str | None
    owner_customer_id: str | None
    in_dealer_stock: bool
    owners: list[dict[str, JsonValue]] = Field(description="customer_id, since, via; newest first")
    mileage_km: int | None
    estimated_mileage_km: float | None
    readings: list[dict[str, JsonValue]] = Field(description="at, km, source")


# --- rejected events, credentials -----------------------------------------------------------


class FieldProblem(View):
    field: str = Field(description="Dot-joined path, list indexes as numbers (`data.jobs.0`)")
    message: str


class RejectedEvent(View):
    id: str
    connector_id: str
    event_id: str | None
    type: str | None
    received_at: Timestamp
    status: str = Field(description="pending, resolved (resent corrected) or replayed")
    errors: list[FieldProblem]
    event: JsonValue = Field(description="The event as received")
    archived: bool = Field(description="Kept whole in object storage (over 256 KB)")
    resolved_at: Timestamp | None


class RejectedEventList(View):
    items: list[RejectedEvent]
    cursor: str | None = Cursor


class Rejection(View):
    index: int
    id: str | None
    rejection_id: str
    errors: list[FieldProblem]


class IntakeReceipt(View):
    """Counts add up to the events sent."""

    accepted: int
    duplicates: int
    rejected: list[Rejection]


Scopes = Field(description="`read`, `marketing`, `admin` (CONTRACT §1)")


class ApiKey(View):
    id: str
    prefix: str
    label: str
    scopes: list[str] = Scopes
    created_at: Timestamp
    revoked_at: Timestamp | None


class ApiKeyList(View):
    items: list[ApiKey]
    cursor: str | None = Cursor


class IssuedApiKey(View):
    id: str
    prefix: str
    label: str
    scopes: list[str] = Scopes
    api_key: str = Field(description="Shown once: only its hash is stored")


class Connector(View):
    id: str
    name: str
    outbound_url: str | None
    created_at: Timestamp
    webhook_path: str


class ConnectorList(View):
    items: list[Connector]
    cursor: str | None = Cursor


class CreatedConnector(View):
    id: str
    name: str
    secret: str = Field(description="whsec_…, shown once")
    webhook_path: str


class ConnectorSecret(View):
    secret: str = Field(description="The new whsec_… secret, shown once")


# --- locations, slots -----------------------------------------------------------------------


class Location(View):
    id: str
    name: str
    kind: str
    brands: list[str]
    timezone: str
    region: str | None
    city: str | None
    address: str | None
    phone: str | None
    capacity: JsonValue = Field(description="Service bookings per hour and weekday, or null")


class LocationList(View):
    items: list[Location]
    cursor: str | None = Cursor


class Slot(View):
    starts_at: Timestamp
    free: int = Field(description="Bookings still possible at that time")


class SlotList(View):
    items: list[Slot]
    cursor: str | None = Cursor


# --- messages, templates --------------------------------------------------------------------


class AcceptedMessage(View):
    id: str
    status: str = Field(description="Where the message stands now (queued, held, suppressed…)")


class Message(View):
    id: str
    customer_id: str
    kind: str
    purpose: Literal["transactional", "service", "marketing"]
    channel: str | None
    status: str
    reason: str | None
    history: list[dict[str, JsonValue]] = Field(description="Every status it went through")
    created_at: Timestamp
    sent_at: Timestamp | None
    fallback_of: str | None = Field(default=None, description="The message it stands in for")


class MessageList(View):
    items: list[Message]
    cursor: str | None = Cursor


class Template(View):
    """A template as written: `text` for every channel, and a variant per channel that needs
    its own (`sms`, `email` {subject, html or mjml, text}, `telegram`, `push`...)."""

    template_id: str
    text: str | None = None
    email: dict[str, JsonValue] | None = None
    telegram: dict[str, JsonValue] | None = None


class TemplateList(View):
    items: list[Template] = Field(description="Your templates and the built-in ones, by id")
    cursor: str | None = Cursor


class PreviewItem(View):
    channel: str
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    sms: dict[str, JsonValue] | None = Field(default=None, description="encoding, length, segments")
    buttons: list[dict[str, JsonValue]] | None = None
    error: str | None = Field(default=None, description="Why this channel's message fails")


class Preview(View):
    items: list[PreviewItem]


# --- channels -------------------------------------------------------------------------------


class ChannelSetting(View):
    channel: str
    mode: str = Field(description="live, ses, sandbox or not_configured")
    provider: str | None
    configured_at: Timestamp | None
    bot_username: str | None = Field(default=None, description="Telegram's bot")


class ChannelList(View):
    items: list[ChannelSetting]
    cursor: str | None = Cursor


# --- journeys, plans ------------------------------------------------------------------------


class Journey(View):
    """A journey as data (docs/journeys.md): what `PUT` takes, with its id and version."""

    journey_id: str
    version: int
    builtin: bool = Field(description="A built-in playbook (saving under its id overrides it)")
    name: str
    enabled: bool
    trigger: dict[str, JsonValue]
    steps: list[dict[str, JsonValue]]
    exit_when: list[JsonValue]
    reentry: Literal["never", "after_exit"]
    stale_after: str


class JourneyList(View):
    items: list[Journey] = Field(description="Built-in playbooks and your own, by id")
    cursor: str | None = Cursor


class MaintenancePlan(View):
    """Intervals in km and months, whichever comes first; an optional first-service
    exception; works per step (the same shape `PUT` takes)."""

    make: str = Field(description="Normalized make, or * for unknown makes")
    model: str | None
    interval_km: int
    interval_months: int
    first_km: int | None
    first_months: int | None
    works: dict[str, list[str]] = Field(description="Works per step number")
    source: str | None


class MaintenancePlanList(View):
    items: list[MaintenancePlan]
    cursor: str | None = Cursor


class EffectivePlan(MaintenancePlan):
    steps: list[dict[str, JsonValue]] = Field(description="The first six services")


# --- imports --------------------------------------------------------------------------------


class Import(View):
    id: str
    status: str
    format: str
    connector_id: str
    dry_run: bool
    exported_at: str | None
    created_at: Timestamp
    updated_at: Timestamp
    chunks: dict[str, int | None] = Field(description="total (null until split), done")
    error: str | None
    upload_url: str | None = Field(default=None, description="PUT the file here (one hour)")
    report: dict[str, JsonValue] | None = Field(default=None, description="Counts and examples")
    totals: dict[str, JsonValue] | None = None


class ImportList(View):
    items: list[Import]
    cursor: str | None = Cursor


# --- campaigns (CONTRACT §6) ------------------------------------------------------------------


class CreatedCampaign(View):
    id: str
    status: Literal["scheduled", "sending", "paused", "sent", "cancelled"]


class CampaignCounts(View):
    audience: int = Field(description="The segment's members when sending started")
    holdout: int
    queued: int = Field(description="What waits now: held or queued, or not yet released")
    sent: int = Field(description="Cumulative: a delivered message counts here too")
    delivered: int
    clicked: int
    booked: int
    suppressed: dict[str, int] = Field(description="By reason (holdout, global_control, …)")
    failed: int


class CampaignVariant(View):
    id: str
    audience: int
    sent: int
    delivered: int
    clicked: int
    booked: int


class CampaignWinner(View):
    variant: str
    metric: Literal["clicked", "booked"]
    p_value: float


class CampaignView(View):
    id: str
    name: str
    segment_id: str
    purpose: Literal["marketing", "service"]
    status: Literal["scheduled", "sending", "paused", "sent", "cancelled"]
    send_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    counts: CampaignCounts
    variants: list[CampaignVariant]
    winner: CampaignWinner | None


class CampaignSummary(View):
    id: str
    name: str
    status: Literal["scheduled", "sending", "paused", "sent", "cancelled"]
    segment_id: str
    send_at: Timestamp
    created_at: Timestamp


class CampaignList(View):
    items: list[CampaignSummary]
    cursor: str | None = Cursor


class MarketingSettingsView(View):
    global_control_percent: int
    erid_required: bool


# --- segments -------------------------------------------------------------------------------


class Segment(View):
    """A saved segment with its current count (CONTRACT §6; the language: docs/segments.md)."""

    id: str
    name: str
    conditions: dict[str, JsonValue]
    count: int = Field(description="Members now (erased customers never count)")
    computed_at: Timestamp = Field(description="When `count` was computed")


class SegmentList(View):
    items: list[Segment]
    cursor: str | None = Cursor


class SegmentPreview(View):
    count: int
    sample: list[str] = Field(description="Up to 20 member customer ids")


class SegmentMember(View):
    customer_id: str


class SegmentMembers(View):
    items: list[SegmentMember]
    cursor: str | None = Cursor
