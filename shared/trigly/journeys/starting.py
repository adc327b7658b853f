"""Starting runs: a journey's date trigger fired, or a domain event one of the tenant's journeys
listens for; a run is keyed, so a replayed trigger or event starts nothing twice."""

import json
from datetime import datetime
from typing import Any

from trigly.journeys import catalog
from trigly.journeys.definition import EventTrigger, Journey
from trigly.journeys.engine import (
    Enrollment,
    start,
)
from trigly.platform import clock
from trigly.platform.observability import logger
from trigly.platform.tenancy import Tenant, get_tenant_cached
from trigly.store import journeys as store
from trigly.store.journeys import RunRef


def start_from_trigger(
    tenant_id: str, owner_pk: str, journey_id: str, partition: str, sk: str | None = None
) -> None:
    """`sk`: the item the index named (a car record carries its next maintenance itself;
    without it, a trigger item, as queued before car records carried one)."""
    loaded = store.get_trigger(owner_pk, journey_id, sk)
    if loaded is None or loaded[1] != partition:
        return  # moved to another day or removed since the job read it
    scheduled = json.loads(loaded[0])
    tenant = get_tenant_cached(tenant_id)
    journey = catalog.journeys_cached(tenant_id).get(journey_id)
    if journey is not None and journey.enabled:
        subject = {
            "due_on": scheduled["due_on"],
            "vin": scheduled.get("vin"),
            **scheduled.get("details", {}),
        }
        enroll(
            tenant,
            journey,
            key=scheduled["key"],
            customer_id=scheduled["customer_id"],
            vin=scheduled.get("vin"),
            subject=subject,
        )
    # Milestones and maintenance plans: only a fired date trigger computes the next one.
    from trigly.journeys import triggers

    following = triggers.next_customer_start(tenant_id, triggers.ScheduledStart(**scheduled))
    if following is None:
        store.take_trigger(owner_pk, journey_id, partition, sk)
    else:  # moves it off today's partition to next year's
        store.put_trigger(
            tenant_id, owner_pk, journey_id, following.model_dump_json(), following.fire_on
        )


def _matches(trigger: EventTrigger, data: dict[str, Any]) -> bool:
    return all(data.get(name) == value for name, value in trigger.where.items())


def on_domain_event(detail: dict[str, Any]) -> None:
    """Start the journeys this event triggers, then let the customer's runs that wait for (or
    exit on) such an event look again at once."""
    tenant_id, customer_id = detail["tenant_id"], detail.get("customer_id")
    if not customer_id:
        return
    event_type, data = detail["type"], detail.get("data", {})
    tenant = get_tenant_cached(tenant_id)
    started: set[str] = set()
    for journey, trigger in catalog.event_journeys(tenant_id, event_type):
        if not _matches(trigger, data) or any(data.get(k) is None for k in trigger.key):
            continue
        key = ":".join(str(data[k]) for k in trigger.key)
        ref = enroll(
            tenant,
            journey,
            key=key,
            customer_id=customer_id,
            vin=data.get("vin"),
            subject={**data, "event_id": detail.get("id")},
            at=datetime.fromisoformat(detail["occurred_at"]),
        )
        started.add(ref.sk)
    interested = {
        j.journey_id
        for j in catalog.journeys_cached(tenant_id).values()
        if any(event_type in g.events for g in _goals(j))
    }
    if not interested:
        return
    from trigly.journeys.advancing import advance_run  # renders: see `enroll`

    for ref, doc in store.customer_runs(tenant_id, customer_id):
        run = Enrollment.model_validate_json(doc)
        if run.active and run.journey_id in interested and ref.sk not in started:
            advance_run(ref)


def _goals(journey: Journey) -> set[Any]:
    goals = set(journey.exit_when)
    goals |= {s.goal for s in journey.steps if s.type == "wait_for"}
    return goals


def enroll(
    tenant: Tenant,
    journey: Journey,
    *,
    key: str,
    customer_id: str,
    vin: str | None,
    subject: dict[str, Any],
    at: datetime | None = None,
) -> RunRef:
    """Start a run once per key (a replayed trigger finds it and does nothing more); with
    `reentry: after_exit` a key whose last run ended starts a new run."""
    # Advancing renders (jinja2, babel, prices, locations): only a run that starts needs it.
    from trigly.journeys.advancing import advance_run

    now = clock.now()
    ref = RunRef.of(tenant.tenant_id, customer_id, journey.journey_id, key)
    run = start(journey, key=key, customer_id=customer_id, vin=vin, subject=subject, at=at or now)
    doc = run.model_dump_json()
    version = store.create_run(ref, doc, run.due_at)
    if version is not None:
        logger.info("journey started", extra={"journey": journey.journey_id})
        advance_run(ref, created=(doc, version))
        return ref
    if journey.reentry == "after_exit":
        loaded = store.load_run(ref)
        if loaded is not None:
            previous = Enrollment.model_validate_json(loaded[0])
            fresh_trigger = subject.get("event_id") != previous.subject.get("event_id")
            if not previous.active and fresh_trigger:
                again = start(
                    journey,
                    key=key,
                    customer_id=customer_id,
                    vin=vin,
                    subject=subject,
                    at=at or now,
                    run=previous.run + 1,
                )
                again.history = previous.history + again.history
                try:
                    store.save_run(ref, again.model_dump_json(), loaded[1], again.due_at)
                except store.StaleEnrollment:
                    return ref
                advance_run(ref)
    return ref
