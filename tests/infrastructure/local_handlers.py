"""Stand-in handlers for the local stack's own tests: they record calls and do as told."""

from collections.abc import Callable
from typing import Any


def _nothing(event: Any) -> Any:
    return None


calls: list[tuple[Any, Any]] = []
behaviour: Callable[[Any], Any] = _nothing


def handler(event: Any, context: Any) -> Any:
    calls.append((event, context))
    return behaviour(event)


def reset(new_behaviour: Callable[[Any], Any] = _nothing) -> None:
    global behaviour  # noqa: PLW0603  # the module is the test double
    calls.clear()
    behaviour = new_behaviour
