from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from trigly.vehicles.mileage import DEFAULT_PRIOR, daily_rate, estimate
from trigly.vehicles.model import OdometerReading

T0 = datetime(2022, 3, 1, tzinfo=UTC)
PRIOR_DAILY = DEFAULT_PRIOR.level(None, None)


def reading(days: float, km: int) -> OdometerReading:
    return OdometerReading(at=T0 + timedelta(days=days), km=km, source="service_order")


readings_strategy = st.lists(
    st.tuples(st.integers(0, 2000), st.integers(0, 300_000)),
    min_size=1,
    max_size=8,
    unique_by=lambda t: t[0],
).map(lambda pairs: [reading(d, km) for d, km in sorted(pairs)])


@settings(max_examples=80, deadline=None)
@given(readings=readings_strategy, later=st.integers(0, 1500), more=st.integers(1, 400))
def test_the_estimate_is_monotone_in_time_and_never_below_a_reading(
    readings: list[OdometerReading], later: int, more: int
) -> None:
    last_at = readings[-1].at
    sooner = estimate(readings, 2020, last_at + timedelta(days=later))
    after = estimate(readings, 2020, last_at + timedelta(days=later + more))
    assert sooner is not None and after is not None
    assert after.km >= sooner.km >= max(r.km for r in readings)


def test_with_years_of_history_the_rate_converges_to_the_observed_one() -> None:
    # A car driven 30 km a day, seen at every service for four years
    readings = [reading(d, 30 * d) for d in range(0, 4 * 365, 180)]
    rate, weight = daily_rate(readings, 2021)
    assert weight > 0.85
    assert abs(rate - 30) < 0.15 * abs(PRIOR_DAILY - 30)


def test_with_little_history_the_rate_leans_on_the_prior() -> None:
    readings = [reading(0, 10_000), reading(20, 10_100)]  # 5 km a day over three weeks
    rate, weight = daily_rate(readings, None)
    assert weight < 0.85
    assert 5 < rate < PRIOR_DAILY


def test_uncertainty_grows_with_time_since_the_last_reading() -> None:
    readings = [reading(0, 15_000)]
    soon = estimate(readings, 2022, T0 + timedelta(days=30))
    late = estimate(readings, 2022, T0 + timedelta(days=300))
    assert soon is not None and late is not None
    assert late.sd_km > soon.sd_km
