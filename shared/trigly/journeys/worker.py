"""Journeys at work: the journey worker's dispatch of one queue message to what it asks —
starting runs (from domain events and date triggers, `starting`), a tenant's day (`due`),
advancing a run whose step fell due (`advancing`), or the messaging core's held messages and
fallbacks.

Everything arrives through the journey queue (`queue`), so no job runs long and every piece is
retried on its own: the daily job and the hourly tick only read what is due and queue it; the
bus sends every domain event there too (an EventBridge rule). Runs are keyed, sends are keyed,
and the engine is deterministic, so a redelivered queue message or a replayed event changes
nothing.
"""

import json
from datetime import date

from trigly.journeys.due import queue_due_triggers
from trigly.journeys.starting import on_domain_event, start_from_trigger
from trigly.store.journeys import RunRef


def handle(body: str) -> None:
    """One journey-queue message: a bus event, a tenant's day, a fired date trigger, or what the
    hourly tick found due (a run whose wait ended, a held message, a fallback to look at)."""
    message = json.loads(body)
    if "detail-type" in message:  # an EventBridge envelope
        on_domain_event(message["detail"])
    elif message["kind"] == "tenant_day":
        days = [date.fromisoformat(day) for day in message["days"]]
        queue_due_triggers(message["tenant_id"], days)
        from trigly.segments import membership  # time-relative conditions follow the clock

        membership.refresh(message["tenant_id"], None)
    elif message["kind"] == "trigger":
        start_from_trigger(
            message["tenant_id"],
            message["owner_pk"],
            message["journey_id"],
            message["partition"],
            message.get("sk"),
        )
    elif message["kind"] == "segment_entered":
        from trigly.segments import membership

        membership.record_entries(
            message["tenant_id"], message["segment_id"], message["customer_ids"], message["at"]
        )
    elif message["kind"] == "segment_changes":  # the projection wrote these customers' rows
        from trigly.segments import membership

        membership.refresh(message["tenant_id"], message["customer_ids"])
    elif message["kind"] == "run":
        from trigly.journeys.advancing import advance_run  # renders: see `starting.enroll`

        advance_run(RunRef(message["tenant_id"], message["customer_id"], message["sk"]))
    elif message["kind"] in ("campaign", "campaign_page"):  # campaigns share the queue
        from trigly.campaigns import sending

        sending.handle(message)
    elif message["kind"] in ("held_message", "fallback"):  # the tick's, for the messaging core
        from trigly.messaging import service as messaging
        from trigly.store.messages import MessageRef

        ref = MessageRef(message["tenant_id"], message["customer_id"], message["sk"])
        if message["kind"] == "held_message":
            messaging.release_held(ref)
        else:
            messaging.follow_up(ref)
