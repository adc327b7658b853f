"""Built-in playbooks: journeys every tenant has from the start, enabled with sensible defaults.

A tenant edits one by saving a journey with the same id (`PUT /v1/journeys/{id}`), or turns it
off with `"enabled": false`. Their messages use the built-in templates of the same names
(`trigly.messaging.defaults`), which the tenant can override the same way.
"""

from typing import Any

from trigly.journeys.definition import Journey

_MAINTENANCE_REMINDER: dict[str, Any] = {
    "name": "Напоминание о ТО",
    "trigger": {"type": "milestone", "milestone": "maintenance", "offset_days": -14},
    "exit_when": ["car_booked", "car_serviced"],
    "steps": [
        {
            "id": "reminder",
            "type": "send",
            "kind": "maintenance_reminder",
            "purpose": "service",
            "template_id": "maintenance_reminder",
            "links": ["booking"],
            "pace_by_capacity": True,
        },
        {"id": "wait_booking", "type": "wait_for", "goal": "car_booked", "timeout": "P7D"},
        {
            "id": "nudge",
            "type": "send",
            "kind": "maintenance_reminder",
            "purpose": "service",
            "template_id": "maintenance_nudge",
            "links": ["booking"],
        },
        {"id": "wait_nudge", "type": "wait_for", "goal": "car_booked", "timeout": "P21D"},
    ],
}

_SERVICE_BOOKING: dict[str, Any] = {
    "name": "Запись в сервис: подтверждение, напоминание, оценка визита",
    "trigger": {
        "type": "event",
        "event": "service_appointment.changed",
        "where": {"status": "booked"},
        "key": ["appointment_id"],
    },
    "exit_when": ["appointment_cancelled"],
    "steps": [
        {
            "id": "confirmation",
            "type": "send",
            "kind": "booking_confirmation",
            "purpose": "transactional",
            "template_id": "booking_confirmation",
            "channels": ["sms"],
        },
        {
            # A visit booked for tomorrow needs no "see you tomorrow" on top of the confirmation.
            "id": "soon",
            "type": "branch",
            "cases": [
                {
                    "all": [{"field": "appointment.lead_hours", "op": "lt", "value": 30}],
                    "goto": "after_visit",
                }
            ],
        },
        {
            "id": "day_before",
            "type": "wait",
            "until": "appointment.starts_at",
            "offset": "-P1D",
            "at_local_time": "10:00:00",
        },
        {
            "id": "reminder",
            "type": "send",
            "kind": "booking_reminder",
            "purpose": "transactional",
            "template_id": "booking_reminder",
            "channels": ["sms"],
        },
        {
            "id": "after_visit",
            "type": "wait_for",
            "goal": "appointment_done",
            "timeout": "P3D",
            "on_timeout": "end",
        },
        {
            "id": "nps",
            "type": "send",
            "kind": "nps_request",
            "purpose": "transactional",
            "template_id": "nps_request",
        },
        {"id": "end", "type": "exit"},
    ],
}

PLAYBOOKS: dict[str, Journey] = {
    journey_id: Journey.model_validate(
        {**definition, "journey_id": journey_id, "version": 1, "builtin": True}
    )
    for journey_id, definition in (
        ("maintenance_reminder", _MAINTENANCE_REMINDER),
        ("service_booking", _SERVICE_BOOKING),
    )
}
