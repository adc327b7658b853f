"""Journeys as data: a trigger, steps, exit goals and a re-entry policy (JSON, validated).

A marketer or an integrator edits a journey through the API; the engine (`engine.py`) runs it.
Steps refer to each other by `id`; a step without `next` continues with the one below it.

- `send`: one message through the messaging core (every guardrail applies);
- `wait`: a duration, or until a moment taken from the journey's facts (e.g. the visit's start
  minus a day), optionally at a local time of day in the customer's time zone;
- `wait_for`: until a goal holds (the car was booked...) or a timeout, each with its own branch;
- `branch`: the first condition on the facts that holds picks the next step;
- `split`: A/B percentages by a stable hash of the enrollment (the rest is a holdout that exits);
- `task`: a task for a manager (recorded on the enrollment, visible in the profile);
- `exit`: ends the run.
"""

import re
from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, JsonValue, field_validator, model_validator

from trigly.events.types import Channel
from trigly.messaging.kinds import HoldPolicy, MessagePurpose, Priority
from trigly.platform.models import DeferredModel

_ID = r"^[a-z][a-z0-9_]{0,63}$"
_DURATION = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


def parse_duration(text: str) -> timedelta:
    """ISO 8601 durations in days, hours and minutes (`P14D`, `PT4H`, `-P1D`, `P1DT12H`)."""
    match = _DURATION.match(text)
    if not match or text in {"P", "-P", "PT", "-PT"} or text.endswith("T"):
        raise ValueError("must be an ISO 8601 duration in days/hours/minutes, e.g. P7D or PT4H")
    sign, days, hours, minutes = match.groups()
    delta = timedelta(days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0))
    return -delta if sign else delta


Duration = Annotated[str, Field(description="ISO 8601 duration, e.g. P7D, PT4H, -P1D")]


def _duration(value: str) -> str:
    parse_duration(value)
    return value


class Goal(StrEnum):
    """Facts a journey waits for or exits on; the engine knows how to check each."""

    CAR_BOOKED = "car_booked"  # a service booking for the enrollment's car made after it began
    CAR_SERVICED = "car_serviced"  # a service visit of the car closed after it began
    CAR_BOUGHT = "car_bought"  # the customer bought a car after it began
    APPOINTMENT_CANCELLED = "appointment_cancelled"  # the booking this run is about was cancelled
    APPOINTMENT_DONE = "appointment_done"  # ...completed (or a visit closed after its start)
    TEST_DRIVE_DONE = "test_drive_done"
    TEST_DRIVE_CANCELLED = "test_drive_cancelled"

    @property
    def events(self) -> frozenset[str]:
        """Domain events that can make the goal true (the engine re-checks runs on them)."""
        return _GOAL_EVENTS[self]


_GOAL_EVENTS = {
    Goal.CAR_BOOKED: frozenset({"service_appointment.changed"}),
    Goal.CAR_SERVICED: frozenset({"service_order.closed"}),
    Goal.CAR_BOUGHT: frozenset({"vehicle.sold"}),
    Goal.APPOINTMENT_CANCELLED: frozenset({"service_appointment.changed"}),
    Goal.APPOINTMENT_DONE: frozenset({"service_appointment.changed", "service_order.closed"}),
    Goal.TEST_DRIVE_DONE: frozenset({"test_drive.changed"}),
    Goal.TEST_DRIVE_CANCELLED: frozenset({"test_drive.changed"}),
}


class Milestone(StrEnum):
    """Dates in a car's and a customer's life a journey can start from (see lifecycle)."""

    MAINTENANCE = "maintenance"
    TYRE_SEASON = "tyre_season"
    INSURANCE_RENEWAL = "insurance_renewal"
    WARRANTY_END = "warranty_end"
    FINANCING_END = "financing_end"
    BIRTHDAY = "birthday"
    PURCHASE_ANNIVERSARY = "purchase_anniversary"
    CAR_AGE = "car_age"
    DECLINED_WORK = "declined_work"


class _Strict(DeferredModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventTrigger(_Strict):
    type: Literal["event"] = "event"
    event: str = Field(description="Domain event type, e.g. `test_drive.changed`")
    where: dict[str, JsonValue] = Field(
        default_factory=dict, description="Fields of the event's data that must be equal"
    )
    key: list[str] = Field(
        min_length=1,
        max_length=4,
        description="Data fields that identify one run, e.g. [`booking_id`]: "
        "the same values never start a second run",
    )


class MilestoneTrigger(_Strict):
    type: Literal["milestone"] = "milestone"
    milestone: Milestone
    offset_days: int = Field(
        default=0, ge=-365, le=365, description="Start this many days from the date (-14: before)"
    )


class ManualTrigger(_Strict):
    type: Literal["manual"] = "manual"


class SegmentTrigger(_Strict):
    """A run starts when a customer enters the segment (CONTRACT §6): `{"segment_entered": id}`."""

    type: Literal["segment_entered"] = "segment_entered"
    segment_entered: str = Field(min_length=1, max_length=64, description="The segment's id")


Trigger = Annotated[
    EventTrigger | MilestoneTrigger | ManualTrigger | SegmentTrigger, Field(discriminator="type")
]


class _Step(_Strict):
    id: str = Field(pattern=_ID)
    next: str | None = Field(default=None, description="The step after this one (default: below)")


class SendStep(_Step):
    type: Literal["send"] = "send"
    kind: str = Field(pattern=_ID, description="What sends it, e.g. `maintenance_reminder`")
    purpose: MessagePurpose
    template_id: str = Field(min_length=1, max_length=100)
    channels: list[Channel] = Field(default_factory=list, max_length=7)
    only_listed_channels: bool = False
    priority: Priority = Priority.NORMAL
    when_held: HoldPolicy = HoldPolicy.QUEUE_UNTIL_ALLOWED
    links: list[Literal["booking"]] = Field(
        default_factory=list, description="Customer links the message carries"
    )
    offer_id: str | None = Field(
        default=None, description="An offer that rides along where marketing consent allows"
    )
    pace_by_capacity: bool = Field(
        default=False,
        description="While less than 15 % of the workshop's next 7 days is free, spread the "
        "day's sends over the coming days in proportion to each day's free places (no free "
        "place: wait a day); at most a week. Nobody is invited into a full workshop",
    )


class WaitStep(_Step):
    type: Literal["wait"] = "wait"
    duration: Annotated[Duration | None, Field(default=None)] = None
    until: str | None = Field(
        default=None, description="A moment among the facts, e.g. `appointment.starts_at`"
    )
    offset: Duration | None = Field(default=None, description="Added to `until`, e.g. -P1D")
    at_local_time: time | None = Field(
        default=None, description="Then at this time of day in the customer's time zone"
    )

    @field_validator("duration", "offset")
    @classmethod
    def _valid_duration(cls, value: str | None) -> str | None:
        return _duration(value) if value is not None else None

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if (self.duration is None) == (self.until is None):
            raise ValueError("give exactly one of `duration` and `until`")
        if self.offset is not None and self.until is None:
            raise ValueError("`offset` goes with `until`")
        return self


class WaitForStep(_Step):
    type: Literal["wait_for"] = "wait_for"
    goal: Goal
    timeout: Duration
    on_goal: str | None = Field(
        default=None, description="Step when the goal holds (default: next)"
    )
    on_timeout: str | None = Field(
        default=None, description="Step after the timeout (default: next)"
    )

    @field_validator("timeout")
    @classmethod
    def _valid_timeout(cls, value: str) -> str:
        return _duration(value)


class Condition(_Strict):
    field: str = Field(description="A dotted path among the facts, e.g. `car.year`")
    op: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "exists", "missing"] = "eq"
    value: JsonValue = None


class BranchCase(_Strict):
    all: list[Condition] = Field(min_length=1, max_length=10)
    goto: str


class BranchStep(_Step):
    type: Literal["branch"] = "branch"
    cases: list[BranchCase] = Field(min_length=1, max_length=10)
    otherwise: str | None = None


class SplitVariant(_Strict):
    name: str = Field(pattern=_ID)
    percent: int = Field(ge=0, le=100)
    goto: str


class SplitStep(_Step):
    type: Literal["split"] = "split"
    variants: list[SplitVariant] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _at_most_all(self) -> Self:
        if sum(v.percent for v in self.variants) > 100:
            raise ValueError("variants add up to more than 100 percent")
        return self


class TaskStep(_Step):
    type: Literal["task"] = "task"
    title: str = Field(min_length=1, max_length=300)


class ExitStep(_Step):
    type: Literal["exit"] = "exit"


Step = Annotated[
    SendStep | WaitStep | WaitForStep | BranchStep | SplitStep | TaskStep | ExitStep,
    Field(discriminator="type"),
]


class JourneyDefinition(_Strict):
    """What a tenant edits (`PUT /v1/journeys/{id}`); the stored journey adds id and version."""

    name: str = Field(min_length=1, max_length=200)
    enabled: bool = True
    trigger: Trigger
    steps: list[Step] = Field(min_length=1, max_length=50)
    exit_when: list[Goal] = Field(default_factory=list, description="Goals that end a run early")
    reentry: Literal["never", "after_exit"] = Field(
        default="never",
        description="`never`: one run per key, ever; `after_exit`: a new run once the last ended",
    )
    stale_after: Duration = Field(
        default="P1D",
        description="A send whose moment passed longer ago than this is skipped (CONTRACT §3)",
    )

    @field_validator("trigger", mode="before")
    @classmethod
    def _segment_trigger_shorthand(cls, value: Any) -> Any:
        """The contract's `{"segment_entered": "<id>"}` needs no `type`."""
        if isinstance(value, dict) and "type" not in value and "segment_entered" in value:
            return {"type": "segment_entered", **value}
        return value

    @model_validator(mode="after")
    def _steps_connect(self) -> Self:
        ids = [s.id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError("step ids must be unique")
        known = set(ids)
        for step in self.steps:
            for target in _targets(step):
                if target not in known:
                    raise ValueError(f"step {step.id!r} goes to unknown step {target!r}")
        parse_duration(self.stale_after)
        return self

    def step(self, step_id: str) -> Any:
        return next(s for s in self.steps if s.id == step_id)

    def after(self, step_id: str) -> str | None:
        """The step that follows `step_id` when it names none (the next one in the list)."""
        current = self.step(step_id)
        if current.next is not None:
            return str(current.next)
        index = [s.id for s in self.steps].index(step_id)
        return self.steps[index + 1].id if index + 1 < len(self.steps) else None


def _targets(step: Any) -> list[str]:
    found = [step.next] if step.next else []
    if isinstance(step, WaitForStep):
        found += [t for t in (step.on_goal, step.on_timeout) if t]
    elif isinstance(step, BranchStep):
        found += [c.goto for c in step.cases] + ([step.otherwise] if step.otherwise else [])
    elif isinstance(step, SplitStep):
        found += [v.goto for v in step.variants]
    return found


class Journey(JourneyDefinition):
    journey_id: str = Field(pattern=_ID)
    version: int = Field(ge=1)
    builtin: bool = False
