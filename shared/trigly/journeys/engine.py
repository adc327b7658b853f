"""Running one enrollment: pure, so every rule is tested without AWS.

`advance` takes a run's state, its journey, what is known now (`Facts`) and the time, walks the
steps that are due, and returns the new state with the actions to carry out (messages to send,
tasks to create). The caller performs the actions — each is idempotent by its key — and saves
the state; running `advance` again on the same state and facts gives the same result, so a
retried tick or a redelivered queue message never does anything twice.
"""

import hashlib
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import Field

from trigly.journeys.definition import (
    BranchStep,
    Condition,
    ExitStep,
    Goal,
    Journey,
    SendStep,
    SplitStep,
    TaskStep,
    WaitForStep,
    WaitStep,
    parse_duration,
)
from trigly.platform.models import DeferredModel

if TYPE_CHECKING:  # the records' models load with the facts (advancing), not with every event
    from trigly.profiles.records import Appointment, Purchase, ServiceVisit, TestDrive

MAX_STEPS_PER_ADVANCE = 100  # a journey looping through branches without waiting stops here
# Capacity pacing: while less than this share of the workshop's next seven days is free, the
# day's paced sends spread over the coming days in proportion to each day's free places (a
# send on day k is booked from day k+1 on); with no free place at all they wait a day at a time.
# Never more than a week in all: then it goes (the car still needs its service).
PACE_BELOW_FREE_SHARE = 0.15
PACE_AT_MOST = timedelta(days=7)
PACED = "workshop_paced"  # a send spread to a later day: on that day it goes
FULL = "workshop_full"  # no free place this week: look again tomorrow


class RunStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"  # walked off the last step
    EXITED = "exited"  # an exit goal held, an exit step, a holdout, or a stale trigger


class Transition(DeferredModel):
    step: str
    at: datetime
    outcome: str  # sent, skipped_stale, waiting, goal, timeout, branch, variant, task, exit...
    detail: str | None = None


class Enrollment(DeferredModel):
    """One run of a journey for one customer (and car)."""

    journey_id: str
    version: int
    key: str
    run: int = 1
    customer_id: str
    vin: str | None = None
    subject: dict[str, Any] = Field(default_factory=dict)  # the trigger's data (ids, dates...)
    enrolled_at: datetime
    status: RunStatus = RunStatus.ACTIVE
    step: str | None = None
    step_since: datetime  # when the current step became due
    due_at: datetime | None = None  # when the engine must look again (a wait's end)
    exit_reason: str | None = None
    history: list[Transition] = Field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status is RunStatus.ACTIVE


@dataclass(frozen=True)
class Facts:
    """What the engine may look at: values for conditions and waits, and the records goals
    are checked against (the customer's, read in one Query)."""

    zone: ZoneInfo
    values: dict[str, Any] = field(default_factory=dict)
    appointments: list["Appointment"] = field(default_factory=list)
    visits: list["ServiceVisit"] = field(default_factory=list)
    purchases: list["Purchase"] = field(default_factory=list)
    test_drives: list["TestDrive"] = field(default_factory=list)


@dataclass(frozen=True)
class SendAction:
    step: SendStep
    idempotency_key: str
    moment: datetime  # when the step was due (links' lifetimes count from it, deterministically)


@dataclass(frozen=True)
class TaskAction:
    step: TaskStep
    key: str


Action = SendAction | TaskAction


def _car_booked(run: Enrollment, facts: Facts) -> bool:
    return any(
        a.status == "booked" and a.vin == run.vin and a.starts_at >= run.enrolled_at
        for a in facts.appointments
    )


def _car_serviced(run: Enrollment, facts: Facts) -> bool:
    return any(v.vin == run.vin and v.closed_at > run.enrolled_at for v in facts.visits)


def _car_bought(run: Enrollment, facts: Facts) -> bool:
    return any(p.sold_at > run.enrolled_at for p in facts.purchases)


def _appointment(run: Enrollment, facts: Facts) -> "Appointment | None":
    wanted = run.subject.get("appointment_id")
    return next((a for a in facts.appointments if a.appointment_id == wanted), None)


def _appointment_cancelled(run: Enrollment, facts: Facts) -> bool:
    booked = _appointment(run, facts)
    return booked is not None and booked.status in {"cancelled", "no_show"}


def _appointment_done(run: Enrollment, facts: Facts) -> bool:
    """Completed, or a visit of the car closed from (about) its start on."""
    booked = _appointment(run, facts)
    if booked is None:
        return False
    return booked.status == "completed" or any(
        v.closed_at >= booked.starts_at - timedelta(hours=12)
        and (booked.vin is None or v.vin == booked.vin)
        for v in facts.visits
    )


def _test_drive_status(run: Enrollment, facts: Facts) -> str | None:
    wanted = run.subject.get("booking_id")
    return next((d.status for d in facts.test_drives if d.booking_id == wanted), None)


_GOALS: dict[Goal, Callable[[Enrollment, Facts], bool]] = {
    Goal.CAR_BOOKED: _car_booked,
    Goal.CAR_SERVICED: _car_serviced,
    Goal.CAR_BOUGHT: _car_bought,
    Goal.APPOINTMENT_CANCELLED: _appointment_cancelled,
    Goal.APPOINTMENT_DONE: _appointment_done,
    Goal.TEST_DRIVE_DONE: lambda run, facts: _test_drive_status(run, facts) == "completed",
    Goal.TEST_DRIVE_CANCELLED: lambda run, facts: (
        _test_drive_status(run, facts) in {"cancelled", "no_show"}
    ),
}


def goal_holds(goal: Goal, run: Enrollment, facts: Facts) -> bool:
    return _GOALS[goal](run, facts)


def _lookup(values: dict[str, Any], path: str) -> Any:
    current: Any = values
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def _compare(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(found: Any, wanted: Any) -> bool:
        if found is None or wanted is None:
            return False
        try:
            return bool(test(found, wanted))
        except TypeError:  # a number against text: the condition does not hold
            return False

    return compare


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "exists": lambda found, _: found is not None,
    "missing": lambda found, _: found is None,
    "eq": lambda found, wanted: bool(found == wanted),
    "ne": lambda found, wanted: bool(found != wanted),
    "in": lambda found, wanted: isinstance(wanted, list) and found in wanted,
    "gt": _compare(operator.gt),
    "gte": _compare(operator.ge),
    "lt": _compare(operator.lt),
    "lte": _compare(operator.le),
}


def condition_holds(condition: Condition, values: dict[str, Any]) -> bool:
    return _OPERATORS[condition.op](_lookup(values, condition.field), condition.value)


def bucket(key: str, salt: str) -> int:
    """A stable 0..99 for A/B splits: the same run always lands in the same variant."""
    return int(hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()[:8], 16) % 100


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else None
    return None


def wait_until(step: WaitStep, run: Enrollment, facts: Facts) -> datetime | None:
    """When a wait ends; None when the moment it waits for is unknown (the wait is skipped)."""
    if step.duration is not None:
        target = run.step_since + parse_duration(step.duration)
    else:
        assert step.until is not None
        base = _moment(_lookup(facts.values, step.until))
        if base is None:
            return None
        target = base + (parse_duration(step.offset) if step.offset else timedelta())
    if step.at_local_time is not None:
        local = target.astimezone(facts.zone)
        target = datetime.combine(local.date(), step.at_local_time, tzinfo=facts.zone)
    return target


def send_key(run: Enrollment, step_id: str) -> str:
    suffix = f"#{run.run}" if run.run > 1 else ""
    return f"jrn:{run.journey_id}:{run.key}{suffix}:{step_id}"


def start(
    journey: Journey,
    *,
    key: str,
    customer_id: str,
    vin: str | None,
    subject: dict[str, Any],
    at: datetime,
    run: int = 1,
) -> Enrollment:
    return Enrollment(
        journey_id=journey.journey_id,
        version=journey.version,
        key=key,
        run=run,
        customer_id=customer_id,
        vin=vin,
        subject=subject,
        enrolled_at=at,
        step=journey.steps[0].id,
        step_since=at,
        due_at=at,
    )


def _move(run: Enrollment, journey: Journey, target: str | None, at: datetime) -> None:
    if target is None:
        run.status, run.step, run.due_at = RunStatus.COMPLETED, None, None
        run.history.append(Transition(step="", at=at, outcome="completed"))
        return
    run.step, run.step_since, run.due_at = target, at, at


def _exit(run: Enrollment, at: datetime, reason: str, step: str = "") -> None:
    run.status, run.due_at, run.exit_reason = RunStatus.EXITED, None, reason
    run.history.append(Transition(step=step, at=at, outcome="exit", detail=reason))


@dataclass
class _Walk:
    """One `advance`: the run being changed, what it asks for, and the time."""

    journey: Journey
    run: Enrollment
    facts: Facts
    now: datetime
    actions: list[Action] = field(default_factory=list)

    def note(self, step: str, outcome: str, detail: str | None = None) -> None:
        self.run.history.append(Transition(step=step, at=self.now, outcome=outcome, detail=detail))

    def wait(self, step: str, until: datetime, detail: str | None) -> None:
        if self.run.due_at != until:
            self.note(step, "waiting", detail)
        self.run.due_at = until


def _share_point(run: Enrollment, step_id: str) -> float:
    """A stable 0..1 per run and step: which of the day's sends goes on which later day."""
    digest = hashlib.sha256(f"pace:{step_id}:{run.key}#{run.run}".encode()).hexdigest()
    return int(digest[:8], 16) / 0x1_0000_0000


def _paced_until(walk: _Walk, step: SendStep) -> tuple[datetime, str] | None:
    """When a paced send goes instead of now, and why (None: now)."""
    run = walk.run
    if not step.pace_by_capacity or walk.now - run.step_since >= PACE_AT_MOST:
        return None
    last = run.history[-1] if run.history else None
    if last is not None and last.step == step.id and last.detail == PACED:
        return None  # the day it was spread to has come
    share = _lookup(walk.facts.values, "workshop.free_share")
    if not isinstance(share, int | float) or share >= PACE_BELOW_FREE_SHARE:
        return None  # room enough (or no workshop known)
    by_day = _lookup(walk.facts.values, "workshop.free_by_day")
    free = [max(0, f) for f in by_day if isinstance(f, int)] if isinstance(by_day, list) else []
    if sum(free) == 0:
        return walk.now + timedelta(days=1), FULL
    # The day the point falls in: day k takes the share of day k+1's free places.
    point, days = _share_point(run, step.id) * sum(free), 0
    while days < len(free) - 1 and point >= free[days]:
        point -= free[days]
        days += 1
    if days == 0:
        return None
    return min(walk.now + timedelta(days=days), run.step_since + PACE_AT_MOST), PACED


# Each step runner returns whether the walk goes on (False: the run waits or ended).
def _send(walk: _Walk, step: SendStep, moment: datetime) -> bool:
    paced = _paced_until(walk, step)
    if paced is not None:
        walk.wait(step.id, *paced)
        return False
    if walk.now - moment > parse_duration(walk.journey.stale_after):
        walk.note(step.id, "skipped_stale")
    else:
        walk.actions.append(SendAction(step, send_key(walk.run, step.id), moment))
        walk.note(step.id, "sent")
    _move(walk.run, walk.journey, walk.journey.after(step.id), moment)
    return True


def _wait(walk: _Walk, step: WaitStep, moment: datetime) -> bool:
    until = wait_until(step, walk.run, walk.facts)
    if until is not None and until > walk.now:
        walk.wait(step.id, until, until.isoformat())
        return False
    _move(walk.run, walk.journey, walk.journey.after(step.id), until or moment)
    return True


def _wait_for(walk: _Walk, step: WaitForStep, moment: datetime) -> bool:
    del moment
    run, journey = walk.run, walk.journey
    deadline = run.step_since + parse_duration(step.timeout)
    if goal_holds(step.goal, run, walk.facts):
        walk.note(step.id, "goal", step.goal.value)
        _move(run, journey, step.on_goal or journey.after(step.id), walk.now)
        return True
    if deadline <= walk.now:
        walk.note(step.id, "timeout")
        _move(run, journey, step.on_timeout or journey.after(step.id), deadline)
        return True
    walk.wait(step.id, deadline, step.goal.value)
    return False


def _branch(walk: _Walk, step: BranchStep, moment: datetime) -> bool:
    values = walk.facts.values
    case = next((c for c in step.cases if all(condition_holds(x, values) for x in c.all)), None)
    target = case.goto if case else (step.otherwise or walk.journey.after(step.id))
    walk.note(step.id, "branch", target)
    _move(walk.run, walk.journey, target, moment)
    return True


def _split(walk: _Walk, step: SplitStep, moment: datetime) -> bool:
    run = walk.run
    point, floor = bucket(f"{run.key}#{run.run}", f"{walk.journey.journey_id}:{step.id}"), 0
    for variant in step.variants:
        if floor <= point < floor + variant.percent:
            walk.note(step.id, "variant", variant.name)
            _move(run, walk.journey, variant.goto, moment)
            return True
        floor += variant.percent
    _exit(run, walk.now, "holdout", step.id)
    return False


def _task(walk: _Walk, step: TaskStep, moment: datetime) -> bool:
    walk.actions.append(TaskAction(step, send_key(walk.run, step.id)))
    walk.note(step.id, "task", step.title)
    _move(walk.run, walk.journey, walk.journey.after(step.id), moment)
    return True


def _exit_step(walk: _Walk, step: ExitStep, moment: datetime) -> bool:
    del moment
    _exit(walk.run, walk.now, "exit_step", step.id)
    return False


_RUNNERS: dict[type, Callable[[_Walk, Any, datetime], bool]] = {
    SendStep: _send,
    WaitStep: _wait,
    WaitForStep: _wait_for,
    BranchStep: _branch,
    SplitStep: _split,
    TaskStep: _task,
    ExitStep: _exit_step,
}


def advance(
    journey: Journey, state: Enrollment, facts: Facts, now: datetime
) -> tuple[Enrollment, list[Action]]:
    walk = _Walk(journey, state.model_copy(deep=True), facts, now)
    run = walk.run
    for _ in range(MAX_STEPS_PER_ADVANCE):
        if not run.active or run.step is None:
            break
        # Goals are looked at whenever the run is (an event may have made one true); steps
        # only when due, except `wait_for`, whose goal ends the wait early.
        held = next((g for g in journey.exit_when if goal_holds(g, run, facts)), None)
        if held is not None:
            _exit(run, now, held.value, run.step)
            break
        step = journey.step(run.step)
        if run.due_at is not None and run.due_at > now and not isinstance(step, WaitForStep):
            break
        # A step's moment: when it became due (a wait's end), not when a late tick saw it.
        moment = run.due_at or run.step_since
        if not _RUNNERS[type(step)](walk, step, moment):
            break
    return run, walk.actions
