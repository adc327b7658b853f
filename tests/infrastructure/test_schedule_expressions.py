"""The local scheduler reads EventBridge schedule expressions as EventBridge does."""

from datetime import UTC, datetime, timedelta

import pytest

from infra.local import schedule

START = datetime(2026, 11, 25, 15, 47, 12, tzinfo=UTC)  # a Wednesday


def fire(expression: str, days: float, timezone: str | None = None) -> list[datetime]:
    recurrence = schedule.parse(expression, timezone)
    return list(recurrence.firings(START, START, START + timedelta(days=days)))


def test_rate_fires_at_whole_periods_from_the_start() -> None:
    assert fire("rate(1 hour)", 0.15) == [
        START + timedelta(hours=1),
        START + timedelta(hours=2),
        START + timedelta(hours=3),
    ]


def test_rate_counts_from_the_anchor_not_from_the_window() -> None:
    # Given a window that opens between two firings
    recurrence = schedule.parse("rate(15 minutes)")
    after = START + timedelta(minutes=20)
    # When the next firings are asked for
    moments = list(recurrence.firings(START, after, after + timedelta(minutes=30)))
    # Then they stay on the anchor's grid
    assert moments == [START + timedelta(minutes=30), START + timedelta(minutes=45)]


def test_thirty_days_of_hourly_ticks_are_720() -> None:
    assert len(fire("rate(1 hour)", 30)) == 720


def test_cron_weekdays_in_the_schedules_time_zone() -> None:
    # 09:00 Moscow is 06:00 UTC; Saturday and Sunday are skipped
    assert fire("cron(0 9 ? * MON-FRI *)", 7, "Europe/Moscow") == [
        datetime(2026, 11, d, 6, 0, tzinfo=UTC) for d in (26, 27, 30)
    ] + [datetime(2026, 12, d, 6, 0, tzinfo=UTC) for d in (1, 2)]


def test_cron_last_day_of_month() -> None:
    assert fire("cron(0 10 L * ? *)", 40) == [
        datetime(2026, 11, 30, 10, tzinfo=UTC),
        datetime(2026, 12, 31, 10, tzinfo=UTC),
    ]


def test_cron_nth_and_last_weekday_of_month() -> None:
    # 2#1 is the first Monday; 6L the last Friday (EventBridge counts SUN=1 … SAT=7)
    assert fire("cron(0 10 ? * 2#1 *)", 35) == [datetime(2026, 12, 7, 10, tzinfo=UTC)]
    assert fire("cron(0 10 ? * 6L *)", 40) == [
        datetime(2026, 11, 27, 10, tzinfo=UTC),
        datetime(2026, 12, 25, 10, tzinfo=UTC),
    ]


def test_cron_steps_give_the_shortest_interval() -> None:
    recurrence = schedule.parse("cron(0/10 * * * ? *)")

    assert schedule.shortest_interval(recurrence) == timedelta(minutes=10)


def test_at_fires_once() -> None:
    assert fire("at(2026-11-26T08:00:00)", 3, "Europe/Moscow") == [
        datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "rate(0 hours)",
        "rate(1 week)",
        "cron(0 9 * * MON *)",  # both day fields set
        "cron(0 9 15W * ? *)",  # nearest weekday: refused, not guessed
        "cron(0 9 * *)",
        "every hour",
    ],
)
def test_malformed_or_unsupported_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ValueError):
        schedule.parse(expression)
