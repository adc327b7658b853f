"""Running an import: classify every event, then (unless a dry run) accept it like a webhook.

Rows are taken in batches of at most 500 events (the webhook's batch limit). For each batch:

1. every event is validated exactly as intake validates it (same function, same business time);
2. what it would do is read by key, two BatchGetItem calls per 100 events, never a Query: its
   claim (idempotency table) says whether the id was accepted before (`duplicates`) or rejected
   with this very content (`previously_rejected`); the item it addresses (the DMS id's lookup,
   the car, the car's visit) says `new` or `existing`;
3. a commit hands the events that are neither to `ingest.intake.accept_events` (claim, ingest
   queue, rejected events kept for replay): the one path every inbound event takes.

Nothing here writes in a dry run. Re-running a committed file finds every event's claim and
so sends nothing.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trigly.events.validation import ValidEvent, validate_event
from trigly.imports import report as r
from trigly.imports.csv_rows import Columns
from trigly.imports.report import ImportReport
from trigly.imports.source import SourceRow
from trigly.ingest.intake import MAX_EVENT_BYTES, MAX_EVENTS, accept_events
from trigly.platform import tenancy
from trigly.platform.errors import FieldError
from trigly.profiles.contacts import ContactStatus, normalize_email, normalize_phone
from trigly.profiles.records import ServiceVisit
from trigly.store import keys
from trigly.store.intake import ACCEPTED, REJECTED
from trigly.store.models import EventClaimItem, MainItem, RejectedEventItem, bind

BATCH_EVENTS = MAX_EVENTS
VEHICLE_TYPES = {"vehicle.sold", "vehicle.registered", "vehicle.odometer", "insurance.policy"}
Key = tuple[str, str]


@dataclass
class _Event:
    line: int
    raw: dict[str, Any] | Any
    valid: ValidEvent | None = None
    errors: list[FieldError] = field(default_factory=list)
    skip: str | None = None  # why it is not sent: in_file / imported / previously_rejected
    entity: Key | None = None

    @property
    def event_type(self) -> str:
        if self.valid is not None:
            return self.valid.type
        kind = self.raw.get("type") if isinstance(self.raw, dict) else None
        return kind if isinstance(kind, str) and kind else "(no type)"

    @property
    def event_id(self) -> str | None:
        value = self.raw.get("id") if isinstance(self.raw, dict) else None
        return value if isinstance(value, str) else None


def _canonical(raw: object) -> str:
    return json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _digest(raw: object) -> str:
    return hashlib.sha256(_canonical(raw).encode()).hexdigest()


@dataclass
class Importer:
    """One import run (or one chunk of one): feed it rows, then `finish()`."""

    tenant: tenancy.Tenant
    connector_id: str
    dry_run: bool
    report: ImportReport
    received_at: datetime
    columns: Columns | None = None  # CSV: names the file's columns in error examples
    progress: Callable[[int], None] | None = None  # called with the last line handled
    _pending: list[SourceRow] = field(default_factory=list)
    _pending_events: int = 0
    _seen_valid: set[str] = field(default_factory=set)
    _seen_invalid: set[str] = field(default_factory=set)
    _seen_entities: set[Key] = field(default_factory=set)

    def add(self, rows: Iterable[SourceRow]) -> None:
        for row in rows:
            if self._pending_events + len(row.events) > BATCH_EVENTS:
                self._flush()
            self._pending.append(row)
            self._pending_events += len(row.events)
        # Keep the batch for the next rows: batches stay full across calls.

    def finish(self) -> ImportReport:
        self._flush()
        return self.report

    # ------------------------------------------------------------------------------ batches

    def _flush(self) -> None:
        rows, self._pending, self._pending_events = self._pending, [], 0
        if not rows:
            return
        events: list[_Event] = []
        for row in rows:
            self._note_row(row)
            events.extend(self._check(row.line, raw) for raw in row.events)
        self._classify(events)
        if not self.dry_run:
            self._commit(events)
        if self.progress is not None:
            self.progress(rows[-1].line)

    def _note_row(self, row: SourceRow) -> None:
        self.report.count(r.LINES)
        self.report.count(r.EVENTS, len(row.events))
        if row.error is not None:
            self.report.count(r.UNREADABLE)
            self.report.count_event(r.UNREADABLE_TYPE, "invalid")
            self.report.example(
                "invalid",
                {"line": row.line, "errors": [{"field": "", "message": row.error}]},
            )
        for warning in row.warnings:
            self.report.count(r.WARNINGS)
            self.report.example(
                "warnings",
                {"line": row.line, "column": warning.column, "message": warning.message},
            )

    def _check(self, line: int, raw: dict[str, Any]) -> _Event:
        event = _Event(line, raw)
        size = len(_canonical(raw).encode())
        if size > MAX_EVENT_BYTES:
            event.errors = [FieldError("", "too_large: an event may be at most 256 KB")]
        else:
            checked = validate_event(raw, now=self.received_at)
            if isinstance(checked, list):
                event.errors = checked
            else:
                event.valid = checked
        if event.valid is not None:
            if event.valid.id in self._seen_valid:
                event.skip = "in_file"
            self._seen_valid.add(event.valid.id)
        else:
            digest = _digest(raw)
            if digest in self._seen_invalid:
                event.skip = "in_file"
            self._seen_invalid.add(digest)
        return event

    # ------------------------------------------------------------------------- classification

    def _classify(self, events: list[_Event]) -> None:
        live = [e for e in events if e.skip is None]
        claims = self._claims([e.event_id for e in live if e.event_id])
        for event in live:
            claim = claims.get(event.event_id or "")
            if event.valid is not None and claim is not None and claim.status == ACCEPTED:
                event.skip = "imported"
        rejected_before = self._identical_rejections([e for e in live if e.valid is None], claims)
        for event in live:
            if event.valid is None and _digest(event.raw) in rejected_before:
                event.skip = "previously_rejected"
            if event.valid is not None and event.skip is None:
                event.entity = self._entity(event.valid)
        known = self._existing({e.entity for e in live if e.entity and e.skip is None})
        for event in events:
            self._count(event, known)

    def _count(self, event: _Event, known: set[Key]) -> None:
        kind = event.event_type
        if event.skip in {"in_file", "imported"}:
            self.report.count_event(kind, "duplicates")
            self.report.count(r.DUP_IN_FILE if event.skip == "in_file" else r.DUP_IMPORTED)
            return
        if event.valid is None:
            self.report.count_event(kind, "invalid")
            if event.skip == "previously_rejected":
                self.report.count(r.PREVIOUSLY_REJECTED)
            self._invalid_example(event)
            return
        entity = event.entity
        existing = entity is not None and (entity in known or entity in self._seen_entities)
        if entity is not None:
            self._seen_entities.add(entity)
        self.report.count_event(kind, "existing" if existing else "new")
        if kind == "customer.upserted":
            self._check_contacts(event)

    def _invalid_example(self, event: _Event) -> None:
        example: dict[str, Any] = {
            "line": event.line,
            "id": event.event_id,
            "type": event.event_type,
            "errors": [self._field(e) for e in event.errors],
        }
        self.report.example("invalid", example)

    def _field(self, error: FieldError) -> dict[str, str]:
        described = {"field": error.field, "message": error.message}
        column = self.columns.column_of(error.field) if self.columns else None
        if column:
            described["column"] = column
        return described

    def _check_contacts(self, event: _Event) -> None:
        """Contacts that will be kept but flagged `invalid` on the profile (never sent to)."""
        assert event.valid is not None
        payload: Any = event.valid.payload
        country = self.tenant.default_country
        checks = [
            ("phones", r.BAD_PHONES, normalize_phone(p, country), "not a phone number")
            for p in payload.phones or []
        ] + [
            ("emails", r.BAD_EMAILS, normalize_email(e), "not an email address")
            for e in payload.emails or []
        ]
        for position, (name, counter, contact, message) in enumerate(checks):
            if contact.status != ContactStatus.INVALID:
                continue
            self.report.count(counter)
            index = position if name == "phones" else position - len(payload.phones or [])
            self.report.example(
                "contacts",
                {"line": event.line, **self._field(FieldError(f"data.{name}.{index}", message))},
            )

    def _entity(self, event: ValidEvent) -> Key | None:
        """The item whose existence makes this event an update rather than something new."""
        payload: Any = event.payload
        tenant_id = self.tenant.tenant_id
        if event.type == "customer.upserted":
            return keys.external_id(tenant_id, self.connector_id, payload.external_id), "LOOKUP"
        if event.type == "service_order.closed":
            return keys.vehicle(tenant_id, payload.vin), ServiceVisit.sk(
                payload.closed_at, payload.order_id
            )
        if event.type in VEHICLE_TYPES:
            return keys.vehicle(tenant_id, payload.vin), "CAR"
        if event.type == "inventory.changed":
            return keys.stock(tenant_id), payload.stock_id
        external = getattr(payload, "customer_external_id", None)
        if isinstance(external, str):
            return keys.external_id(tenant_id, self.connector_id, external), "LOOKUP"
        return None

    # ---------------------------------------------------------------------------- key reads

    def _claims(self, event_ids: list[str]) -> dict[str, EventClaimItem]:
        if not event_ids:
            return {}
        bind()
        tenant_id, now = self.tenant.tenant_id, int(self.received_at.timestamp())
        by_key = {keys.event_claim(tenant_id, self.connector_id, i[:128]): i for i in event_ids}
        found: dict[str, EventClaimItem] = {}
        for claim in EventClaimItem.batch_get(list(by_key)):
            if claim.expires_at > now:  # TTL deletion is lazy: an expired claim is absent
                found[by_key[claim.pk]] = claim
        return found

    def _identical_rejections(
        self, invalid: list[_Event], claims: dict[str, EventClaimItem]
    ) -> set[str]:
        """Digests of invalid events stored as rejected before with this very content."""
        wanted: dict[str, set[str]] = {}
        for event in invalid:
            claim = claims.get(event.event_id or "")
            if claim is not None and claim.status == REJECTED:
                for rejection_id in claim.rejected_ids or ():
                    wanted.setdefault(rejection_id, set()).add(_digest(event.raw))
        if not wanted:
            return set()
        bind()
        tenant_key, now = keys.tenant(self.tenant.tenant_id), int(self.received_at.timestamp())
        same: set[str] = set()
        for item in RejectedEventItem.batch_get([(tenant_key, rid) for rid in wanted]):
            if item.expires_at <= now or not item.payload:
                continue
            try:
                stored = _digest(json.loads(item.payload))
            except ValueError:
                continue
            if stored in wanted.get(item.sk, set()):
                same.add(stored)
        return same

    @staticmethod
    def _existing(entities: set[Key]) -> set[Key]:
        if not entities:
            return set()
        bind()
        return {(item.pk, item.sk) for item in MainItem.batch_get(list(entities))}

    # ------------------------------------------------------------------------------- commit

    def _commit(self, events: list[_Event]) -> None:
        by_type: dict[str, list[_Event]] = {}
        for event in events:
            if event.skip is None:
                by_type.setdefault(event.event_type, []).append(event)
        # One call per type, so the receipt's duplicates (an id claimed meanwhile) are per type.
        for event_type, group in by_type.items():
            receipt = accept_events(
                self.tenant,
                self.connector_id,
                [e.raw for e in group],
                received_at=self.received_at,
            )
            self.report.count_event(event_type, "accepted", receipt.accepted)
            if receipt.duplicates:
                self.report.count_event(event_type, "duplicates", receipt.duplicates)
                self.report.count(r.DUP_IMPORTED, receipt.duplicates)
            # Examples name the rejected event kept for replay (GET /v1/rejected-events/{id}).
            stored = {
                (group[rej.index].line, group[rej.index].event_id): rej.rejection_id
                for rej in receipt.rejected
            }
            for example in self.report.invalid_examples:
                found = stored.get((example.get("line", 0), example.get("id")))
                if found:
                    example["rejection_id"] = found
