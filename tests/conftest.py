"""What every suite shares: business time starts where `make test-ahead` may move it."""

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def business_time() -> Iterator[None]:
    """Business time for the whole run: the wall clock, or `TRIGLY_CLOCK_AHEAD` ahead of it."""
    from infra.local.control import starting_clock
    from trigly.platform import clock

    clock.use(starting_clock())
    yield
    clock.use(clock.SystemClock())
