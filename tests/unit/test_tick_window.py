"""Where the hourly tick starts reading, and how due work spreads over the hour's shards."""

from datetime import timedelta

from trigly.platform import clock
from trigly.scheduling.tick import CATCH_UP, catch_up_from
from trigly.store import due_hours


def test_a_tick_starts_at_the_watermark_within_the_catch_up_horizon() -> None:
    now = clock.now()
    # After a punctual tick, or ticks missed for five hours: from the watermark
    assert catch_up_from(now - timedelta(hours=1), now) == now - timedelta(hours=1)
    assert catch_up_from(now - timedelta(hours=5), now) == now - timedelta(hours=5)
    # The first tick ever, and a watermark ahead of the clock: an hour back
    assert catch_up_from(None, now) == now - timedelta(hours=1)
    assert catch_up_from(now + timedelta(days=30), now) == now - timedelta(hours=1)
    # An outage longer than the horizon: the horizon
    assert catch_up_from(now - timedelta(days=10), now) == now - CATCH_UP


def test_the_buckets_markers_outlive_the_catch_up_horizon() -> None:
    assert CATCH_UP < due_hours.MARK_LIFETIME


def test_customers_spread_over_the_shards_and_keep_theirs() -> None:
    shards = [due_hours.shard_of("ten_1", f"cus_{n}") for n in range(800)]
    counts = [shards.count(s) for s in range(due_hours.SHARDS)]
    assert min(counts) > 800 / due_hours.SHARDS / 2  # no shard is left out, none takes all
    assert shards == [due_hours.shard_of("ten_1", f"cus_{n}") for n in range(800)]
    hour = due_hours.hour_of(clock.now())
    assert due_hours.bucket_of(hour, 3).startswith(f"DUE#{hour:%Y-%m-%dT%H}#")
    assert len(set(due_hours.buckets_of(hour))) == due_hours.SHARDS
