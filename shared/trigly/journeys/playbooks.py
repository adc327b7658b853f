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

# Event-triggered playbooks start from the event's own moment, so a send whose moment passed long
# ago is skipped (`stale_after`); a goal reached later (a completed test drive) or a date far
# after the event (the first anniversary of a car sold 11 months ago) would not be. An imported
# or late event therefore starts nothing at all: its first step exits when the trigger is older
# than a day (CONTRACT §3, "no welcome for a car sold last year").
_FRESH = {
    "id": "fresh",
    "type": "branch",
    "cases": [{"all": [{"field": "run.age_hours", "op": "gt", "value": 24}], "goto": "end"}],
}
_END = {"id": "end", "type": "exit"}

_TEST_DRIVE: dict[str, Any] = {
    "name": "Тест-драйв: подтверждение, напоминание, отзыв, предложение, приглашение",
    "trigger": {
        "type": "event",
        "event": "test_drive.changed",
        "where": {"status": "booked"},
        "key": ["booking_id"],
    },
    "exit_when": ["car_bought", "test_drive_cancelled"],
    "steps": [
        _FRESH,
        {
            "id": "confirmation",
            "type": "send",
            "kind": "test_drive_confirmation",
            "purpose": "transactional",
            "template_id": "test_drive_confirmation",
            "channels": ["sms"],
        },
        {
            # A drive booked for tomorrow needs no "see you tomorrow" on top of the confirmation.
            "id": "soon",
            "type": "branch",
            "cases": [
                {
                    "all": [{"field": "test_drive.lead_hours", "op": "lt", "value": 30}],
                    "goto": "after_drive",
                }
            ],
        },
        {
            "id": "day_before",
            "type": "wait",
            "until": "test_drive.starts_at",
            "offset": "-P1D",
            "at_local_time": "10:00:00",
        },
        {
            "id": "reminder",
            "type": "send",
            "kind": "test_drive_reminder",
            "purpose": "transactional",
            "template_id": "test_drive_reminder",
            "channels": ["telegram", "sms"],
        },
        {
            # Only a drive the DMS reports as taken gets the rest: no "how was it?" after a
            # drive that never happened.
            "id": "after_drive",
            "type": "wait_for",
            "goal": "test_drive_done",
            "timeout": "P3D",
            "on_timeout": "end",
        },
        {"id": "settle", "type": "wait", "duration": "PT2H"},
        {
            # Transactional, not service: it answers the customer's own action (the drive they
            # booked and took), like the NPS request after a service visit; it invites to no
            # paid service (CONTRACT §3 "service") and offers nothing (that is "marketing").
            "id": "feedback",
            "type": "send",
            "kind": "test_drive_feedback",
            "purpose": "transactional",
            "template_id": "test_drive_feedback",
            "channels": ["email"],
        },
        {"id": "three_days", "type": "wait", "duration": "P3D", "at_local_time": "11:00:00"},
        {
            "id": "offer",
            "type": "send",
            "kind": "test_drive_offer",
            "purpose": "marketing",
            "template_id": "test_drive_offer",
        },
        {"id": "a_week", "type": "wait", "duration": "P4D", "at_local_time": "11:00:00"},
        {
            "id": "invitation",
            "type": "send",
            "kind": "test_drive_invitation",
            "purpose": "marketing",
            "template_id": "test_drive_invitation",
        },
        _END,
    ],
}

_NEW_OWNER: dict[str, Any] = {
    "name": "Новый владелец: приветствие, советы, шины, годовщина",
    "trigger": {"type": "event", "event": "vehicle.sold", "key": ["deal_id"]},
    "steps": [
        _FRESH,
        {
            # Answers the purchase itself (who to call, the first service is reminded of):
            # transactional. The salesperson is personal data and not on the bus, so the
            # contacts are the selling location's.
            "id": "welcome",
            "type": "send",
            "kind": "welcome",
            "purpose": "transactional",
            "template_id": "welcome",
        },
        {
            "id": "day_30",
            "type": "wait",
            "until": "sale.sold_at",
            "offset": "P30D",
            "at_local_time": "11:00:00",
        },
        {
            "id": "care_tips",
            "type": "send",
            "kind": "care_tips",
            "purpose": "marketing",
            "template_id": "care_tips",
        },
        {
            "id": "month_6",
            "type": "wait",
            "until": "sale.sold_at",
            "offset": "P182D",
            "at_local_time": "11:00:00",
        },
        {
            "id": "tyres",
            "type": "send",
            "kind": "tyre_season",
            "purpose": "marketing",
            "template_id": "new_owner_tyres",
            "links": ["booking"],
        },
        {
            "id": "year_1",
            "type": "wait",
            "until": "sale.sold_at",
            "offset": "P365D",
            "at_local_time": "11:00:00",
        },
        {
            # The first anniversary is sent here, not by a purchase_anniversary milestone
            # playbook: one way, never two messages for the same day.
            "id": "anniversary",
            "type": "send",
            "kind": "purchase_anniversary",
            "purpose": "marketing",
            "template_id": "purchase_anniversary",
        },
        _END,
    ],
}


def _reminder(
    name: str,
    milestone: str,
    offset_days: int,
    kind: str,
    *,
    purpose: str,
    links: list[str] | None = None,
) -> dict[str, Any]:
    """A one-message playbook on a car's (or customer's) milestone, `offset_days` from it."""
    return {
        "name": name,
        "trigger": {"type": "milestone", "milestone": milestone, "offset_days": offset_days},
        "steps": [
            {
                "id": "reminder",
                "type": "send",
                "kind": kind,
                "purpose": purpose,
                "template_id": kind,
                "links": links or [],
            }
        ],
    }


_TYRE_SEASON = _reminder(
    "Сезонная смена шин", "tyre_season", -10, "tyre_season", purpose="service", links=["booking"]
)
_INSURANCE = _reminder(
    "Продление страховки", "insurance_renewal", -30, "insurance_renewal", purpose="service"
)
# No policy known (a date assumed a year after the purchase): nothing is claimed to end.
_INSURANCE["steps"].insert(
    0,
    {
        "id": "known",
        "type": "branch",
        "cases": [
            {"all": [{"field": "milestone.assumed", "op": "eq", "value": True}], "goto": "end"}
        ],
    },
)
_INSURANCE["steps"].append(_END)
_WARRANTY = _reminder(
    "Окончание гарантии", "warranty_end", -30, "warranty_end", purpose="service", links=["booking"]
)
_FINANCING = _reminder(
    "Окончание кредита: трейд-ин", "financing_end", -45, "financing_end", purpose="marketing"
)
_TRADE_IN = _reminder(
    "Автомобилю 3, 4, 5 лет: трейд-ин", "car_age", 0, "trade_in", purpose="marketing"
)

_BIRTHDAY: dict[str, Any] = {
    "name": "День рождения",
    "trigger": {"type": "milestone", "milestone": "birthday"},
    "steps": [
        # The daily job runs at the tenant's 10:00; a customer in another zone hears at theirs.
        {"id": "morning", "type": "wait", "duration": "P0D", "at_local_time": "10:00:00"},
        {
            "id": "greeting",
            "type": "send",
            "kind": "birthday",
            "purpose": "marketing",
            "template_id": "birthday",
        },
    ],
}

_LEFT_WITHOUT_BUYING: dict[str, Any] = {
    "name": "Ушёл без покупки",
    "trigger": {
        "type": "event",
        "event": "showroom.visited",
        "where": {"outcome": "left"},
        "key": ["visit_id"],
    },
    "exit_when": ["car_bought"],
    "steps": [
        _FRESH,
        {"id": "two_days", "type": "wait", "duration": "P2D", "at_local_time": "11:00:00"},
        {
            "id": "reason",
            "type": "branch",
            "cases": [
                {"all": [{"field": "event.reason", "op": "eq", "value": "price"}], "goto": "used"}
            ],
        },
        {
            "id": "offer",
            "type": "send",
            "kind": "left_without_buying",
            "purpose": "marketing",
            "template_id": "left_without_buying",
            "next": "end",
        },
        {
            "id": "used",
            "type": "send",
            "kind": "left_without_buying",
            "purpose": "marketing",
            "template_id": "left_without_buying_used",
        },
        _END,
    ],
}

_ORDER_STATUS: dict[str, Any] = {
    "name": "Статус заказа автомобиля",
    # One message per status of an order; an old status (an import) is stale and not sent.
    "trigger": {"type": "event", "event": "order.status_changed", "key": ["order_id", "status"]},
    "steps": [
        {
            "id": "status",
            "type": "send",
            "kind": "order_status",
            "purpose": "transactional",
            "template_id": "order_status",
        }
    ],
}

PLAYBOOKS: dict[str, Journey] = {
    journey_id: Journey.model_validate(
        {**definition, "journey_id": journey_id, "version": 1, "builtin": True}
    )
    for journey_id, definition in (
        ("maintenance_reminder", _MAINTENANCE_REMINDER),
        ("service_booking", _SERVICE_BOOKING),
        ("test_drive", _TEST_DRIVE),
        ("new_owner", _NEW_OWNER),
        ("tyre_season", _TYRE_SEASON),
        ("insurance_renewal", _INSURANCE),
        ("warranty_end", _WARRANTY),
        ("financing_end", _FINANCING),
        ("car_age_trade_in", _TRADE_IN),
        ("birthday", _BIRTHDAY),
        ("left_without_buying", _LEFT_WITHOUT_BUYING),
        ("order_status", _ORDER_STATUS),
    )
}
