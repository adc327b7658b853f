"""No test or benchmark sets the business clock to a literal date.

The business clock only moves forward and the wall clock keeps moving, so a test that moves the
clock to `datetime(2026, 12, 7, 12, 0)` passes until that day and fails every day after (the
suite did, on 2026-12-07). Moments a clock is set to are computed from its own now
(`tests.support.days_ahead`, `local_stack.now()`, `business_clock.now()`). Literal dates stay
fine where a pure function takes the moment as an argument (a calendar, a cron expression).
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("tests", "benchmarks")
# Calls that set a business clock: AdjustableClock(start), clock.move_to(when), and the local
# stack's `POST /_local/clock {"to": ...}`.
CLOCK_SETTERS = {"AdjustableClock", "move_to"}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def literal_moment(node: ast.AST, constants: dict[str, ast.AST]) -> bool:
    """Whether an expression is, or is built on, a date written into the source."""
    for part in ast.walk(node):
        if isinstance(part, ast.Name) and literal_moment(constants.get(part.id, ast.Pass()), {}):
            return True
        if isinstance(part, ast.Constant) and ISO_DATE.match(str(part.value)):
            return True
        if isinstance(part, ast.Call):
            callee = part.func
            name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
            if name in {"datetime", "date"} and part.args:
                first = part.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, int):
                    return True
    return False


def module_constants(tree: ast.Module) -> dict[str, ast.AST]:
    constants: dict[str, ast.AST] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = statement.value
    return constants


def clock_targets(tree: ast.Module) -> Iterator[tuple[int, ast.AST]]:
    """Every expression a business clock is set to, with its line."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func
        name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
        if name in CLOCK_SETTERS:
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                yield node.lineno, argument
        posts_to_clock = name == "post" and any(
            isinstance(a, ast.Constant) and a.value == "/_local/clock" for a in node.args
        )
        if posts_to_clock:
            for keyword in node.keywords:
                if keyword.arg == "json" and isinstance(keyword.value, ast.Dict):
                    for key, value in zip(keyword.value.keys, keyword.value.values, strict=True):
                        if isinstance(key, ast.Constant) and key.value == "to":
                            yield node.lineno, value


def literal_clock_targets(source: str) -> list[int]:
    tree = ast.parse(source)
    constants = module_constants(tree)
    lines = {line for line, target in clock_targets(tree) if literal_moment(target, constants)}
    return sorted(lines)


def test_no_business_clock_is_set_to_a_literal_date() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in SCANNED
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line in literal_clock_targets(path.read_text())
    ]

    assert offenders == [], "set the clock to a moment computed from its now: " + ", ".join(
        offenders
    )


def test_the_check_finds_each_way_a_literal_date_reaches_a_clock() -> None:
    # The check itself must be able to fail: each of these is what broke the suite.
    caught = """
from datetime import UTC, datetime
START = datetime(2026, 11, 25, 15, 47, tzinfo=UTC)
business_clock.move_to(datetime(2026, 12, 7, 12, 0, tzinfo=MSK))
clock.AdjustableClock(START)
local_stack.move_to("2026-12-08T09:00:00+03:00")
client.post("/_local/clock", json={"to": "2026-12-09T12:00:00Z"})
business_clock.move_to(datetime(2026, 12, 7, 12) + timedelta(hours=1))
"""
    assert literal_clock_targets(caught) == [4, 5, 6, 7, 8]


def test_the_check_lets_moments_computed_from_the_clock_pass() -> None:
    fine = """
business_clock.move_to(days_ahead(1, time(12), MSK))
business_clock.move_to(datetime.combine(tomorrow, time(11), tzinfo=MSK))
local_stack.move_to(local_stack.now() + timedelta(days=2))
client.post("/_local/clock", json={"advance": "P14D"})
assert after_duration(datetime(2026, 1, 31, 12, tzinfo=UTC), "P1M")
"""
    assert literal_clock_targets(fine) == []
