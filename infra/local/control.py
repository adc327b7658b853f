"""The local-only endpoints (`/_local/*`, CONTRACT §5): the business clock and the outbox.

Moving the clock fires every schedule that falls due on the way, in order, each at its own
moment, and drains the queues after each; the background loop does the same as wall time
passes. One lock keeps the two from interleaving.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from infra.local import console
from infra.local.outbox import BadCursor, Outbox
from infra.local.queues import QueueConsumer, drain
from infra.local.scheduler import Scheduler
from trigly.platform import clock

MAX_OUTBOX_PAGE = 1000
_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)


class ProblemError(Exception):
    def __init__(self, status: int, title: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.field = status, title, detail, field

    def response(self, instance: str) -> Response:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.field is not None:
            body["errors"] = [{"field": self.field, "message": self.detail}]
        return Response(
            json.dumps(body), status=self.status, content_type="application/problem+json"
        )


def _add_months(moment: datetime, months: int) -> datetime:
    years, month_index = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + years, month_index + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def starting_clock() -> clock.AdjustableClock:
    """The business clock a local stack (or a test) starts with.

    It starts at the wall clock, or `TRIGLY_CLOCK_AHEAD` (an ISO 8601 duration, e.g. `P1Y`) ahead
    of it: `make test-ahead` runs every suite a year on, which shows that no test depends on a
    date that the wall clock will pass.
    """
    ahead = os.environ.get("TRIGLY_CLOCK_AHEAD", "PT0S")
    now = datetime.now(UTC)
    return clock.AdjustableClock(after_duration(now, ahead))


def after_duration(start: datetime, text: str) -> datetime:
    """`start` moved by an ISO 8601 duration (P14D, PT0S, P1M, P1Y2M3DT4H5M6.5S, P2W)."""
    match = _DURATION.match(text.strip().upper())
    if match is None:
        raise ProblemError(
            422, "Invalid duration", f"{text!r} is not an ISO 8601 duration", "advance"
        )
    parts = {name: value for name, value in match.groupdict().items() if value}
    moved = _add_months(start, 12 * int(parts.get("years", 0)) + int(parts.get("months", 0)))
    return moved + timedelta(
        weeks=int(parts.get("weeks", 0)),
        days=int(parts.get("days", 0)),
        hours=int(parts.get("hours", 0)),
        minutes=int(parts.get("minutes", 0)),
        seconds=float(parts.get("seconds", "0").replace(",", ".")),
    )


def parse_instant(text: Any) -> datetime:
    """An ISO 8601 time with an offset (a time without one is a field error, CONTRACT §1a)."""
    if not isinstance(text, str):
        raise ProblemError(422, "Invalid time", "`to` must be an ISO 8601 string", "to")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise ProblemError(
            422, "Invalid time", f"{text!r} is not an ISO 8601 time", "to"
        ) from error
    if moment.tzinfo is None:
        raise ProblemError(422, "Invalid time", f"{text!r} has no UTC offset", "to")
    return moment


@dataclass(frozen=True)
class ClockMove:
    now: datetime
    fired: list[dict[str, str]]
    processed: int

    def as_json(self) -> dict[str, Any]:
        return {"now": clock.isoformat(self.now), "fired": self.fired, "processed": self.processed}


class Control:
    def __init__(
        self,
        business_clock: clock.AdjustableClock,
        scheduler: Scheduler,
        consumers: Sequence[QueueConsumer],
        outbox: Outbox,
        collect_mail: Callable[[], object],
    ) -> None:
        self.clock = business_clock
        self.scheduler = scheduler
        self.consumers = list(consumers)
        self.outbox = outbox
        self.collect_mail = collect_mail
        # Clock moves and the background loop never interleave.
        self.lock = threading.RLock()
        # Set when the stack stops: drains end after the batch in hand.
        self.stopping = threading.Event()

    # ------------------------------------------------------------------ clock and queues
    def drain(self) -> int:
        with self.lock:
            return drain(self.consumers, until=self.stopping.is_set)

    def tick(self, give_way: Callable[[], bool] = lambda: False) -> int:
        """Fire what wall time made due, drain the queues (the background loop's step).
        `give_way`: checked between batches; true ends the drain early (requests first)."""
        with self.lock:
            return self._run_until(self.clock.now(), fired=[], give_way=give_way)

    def _run_until(
        self,
        target: datetime,
        fired: list[dict[str, str]],
        give_way: Callable[[], bool] = lambda: False,
    ) -> int:
        def until() -> bool:
            return self.stopping.is_set() or give_way()

        processed = drain(self.consumers, until=until)
        for firing in self.scheduler.due(target):
            if self.stopping.is_set():
                return processed
            if firing.at > self.clock.now():
                self.clock.move_to(firing.at)
            self.scheduler.fire(firing)
            self.scheduler.mark(firing.at)
            fired.append({"schedule": firing.schedule.name, "at": clock.isoformat(firing.at)})
            processed += drain(self.consumers, only_if_sent=True, until=until)
        if target > self.clock.now():
            self.clock.move_to(target)
        self.scheduler.mark(target)
        return processed + drain(self.consumers, until=until)

    def move(self, body: Any) -> ClockMove:
        """POST /_local/clock: `{"advance": "<ISO 8601 duration>"}` or `{"to": "<ISO time>"}`."""
        if body is None:
            body = {"advance": "PT0S"}
        if not isinstance(body, dict) or len({"advance", "to"} & set(body)) != 1:
            raise ProblemError(
                422, "Invalid clock move", 'send {"advance": "P14D"} or {"to": "<ISO time>"}', ""
            )
        with self.lock:
            start = self.clock.now()
            if "advance" in body:
                if not isinstance(body["advance"], str):
                    raise ProblemError(422, "Invalid duration", "a string like P14D", "advance")
                target = after_duration(start, body["advance"])
            else:
                target = parse_instant(body["to"])
                if target < start:
                    raise ProblemError(
                        409,
                        "The clock never goes back",
                        f"{clock.isoformat(target)} is before now ({clock.isoformat(start)})",
                    )
            fired: list[dict[str, str]] = []
            processed = self._run_until(target, fired)
            self.collect_mail()
            moved = ClockMove(self.clock.now(), fired, processed)
            console.say(
                f"    clock: now {clock.isoformat(moved.now)}, {len(fired)} schedule firings,"
                f" {processed} queued records handled"
            )
            return moved

    # ------------------------------------------------------------------ HTTP
    def routes(self, request: Request) -> Response | None:
        path = request.path.rstrip("/")
        try:
            if path == "/_local/clock" and request.method == "GET":
                return _json({"now": clock.isoformat(self.clock.now())})
            if path == "/_local/clock" and request.method == "POST":
                return _json(self.move(_json_body(request)).as_json())
            if path == "/_local/outbox" and request.method == "GET":
                return _json(self.list_outbox(request))
            if path in {"/_local/clock", "/_local/outbox"}:
                raise ProblemError(405, "Method Not Allowed", f"{request.method} {path}")
        except ProblemError as problem:
            return problem.response(request.path)
        return None

    def list_outbox(self, request: Request) -> dict[str, Any]:
        """`?to=&channel=&customer_id=` filter; `?limit=N` pages (no limit: everything), the
        answer's `cursor` (null on the last page) given back as `?cursor=` reads the next."""
        self.collect_mail()
        self.outbox.collect_sandbox()
        to = request.args.get("to")
        if to is not None and to[:1] == " " and to.strip().isdigit():
            to = "+" + to.strip()  # an unencoded '+' of an E.164 number arrives as a space
        limit = request.args.get("limit")
        if limit is not None and not (limit.isdigit() and 1 <= int(limit) <= MAX_OUTBOX_PAGE):
            raise ProblemError(422, "Invalid limit", f"a whole number 1–{MAX_OUTBOX_PAGE}", "limit")
        try:
            page = self.outbox.page(
                to=to,
                channel=request.args.get("channel"),
                customer_id=request.args.get("customer_id"),
                limit=int(limit) if limit is not None else None,
                cursor=request.args.get("cursor") or None,
            )
        except BadCursor as error:
            raise ProblemError(
                422, "Invalid cursor", "give back a cursor this outbox answered", "cursor"
            ) from error
        return {"messages": [m.as_json() for m in page.messages], "cursor": page.cursor}


def _json_body(request: Request) -> Any:
    data = request.get_data(cache=True)
    if not data.strip():
        return None
    try:
        return json.loads(data)
    except ValueError as error:
        raise ProblemError(400, "Malformed JSON", str(error)) from error


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )
