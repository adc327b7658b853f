"""The mileage model (vehicles.mileage): properties over random histories, and seasonality."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trigly.vehicles.mileage import (
    MAX_AMPLITUDE,
    PRIOR_KM_PER_DAY,
    PRIOR_WEIGHT_DAYS,
    MileageModel,
    daily_rate,
    estimate,
    fit,
)
from trigly.vehicles.model import OdometerReading

T0 = datetime(2021, 3, 1, 9, tzinfo=UTC)
YEAR = 365.25


def reading(days: float, km: float) -> OdometerReading:
    return OdometerReading(at=T0 + timedelta(days=days), km=round(km), source="telematics")


histories = st.lists(
    st.tuples(st.integers(0, 3000), st.integers(0, 400_000)),
    min_size=1,
    max_size=25,
    unique_by=lambda pair: pair[0],
).map(lambda pairs: [reading(d, km) for d, km in sorted(pairs)])

# Plausible drivers: a steady rate with or without a summer peak, read at random days.
drivers = st.builds(
    lambda rate, amplitude, days: [
        reading(d, rate * (d + amplitude * YEAR / (2 * math.pi) * math.sin(2 * math.pi * d / YEAR)))
        for d in sorted(set(days))
    ],
    st.floats(5, 150),
    st.floats(0, 0.4),
    st.lists(st.integers(0, 1500), min_size=2, max_size=30),
)


def model_of(readings: list[OdometerReading]) -> MileageModel:
    model = fit(readings, 2019)
    assert model is not None
    return model


@settings(max_examples=120, deadline=None)
@given(readings=histories, later=st.integers(0, 2000), more=st.integers(1, 800))
def test_every_quantile_is_monotone_in_time_and_never_below_the_highest_reading(
    readings: list[OdometerReading], later: int, more: int
) -> None:
    model = model_of(readings)
    sooner_at = readings[-1].at + timedelta(days=later)
    after_at = sooner_at + timedelta(days=more)
    sooner, after = model.quantiles(sooner_at), model.quantiles(after_at)
    highest = max(r.km for r in readings)
    assert highest <= sooner.p10 <= sooner.p50 <= sooner.p90
    assert after.p10 >= sooner.p10 and after.p50 >= sooner.p50 and after.p90 >= sooner.p90
    assert abs(model.seasonality) <= MAX_AMPLITUDE


@settings(max_examples=120, deadline=None)
@given(readings=histories, later=st.integers(0, 2000), more=st.integers(1, 800))
def test_estimate_grows_with_time_and_its_uncertainty_with_the_horizon(
    readings: list[OdometerReading], later: int, more: int
) -> None:
    sooner = estimate(readings, 2019, readings[-1].at + timedelta(days=later))
    after = estimate(readings, 2019, readings[-1].at + timedelta(days=later + more))
    assert sooner is not None and after is not None
    assert after.km >= sooner.km >= max(r.km for r in readings)
    assert after.sd_km >= sooner.sd_km >= 0


@settings(max_examples=80, deadline=None)
@given(readings=drivers, ahead=st.integers(1, 200_000))
def test_the_date_a_km_is_reached_is_ordered_by_quantile_and_inverts_km_at(
    readings: list[OdometerReading], ahead: int
) -> None:
    model = model_of(readings)
    target = max(r.km for r in readings) + ahead
    early, median, late = (model.reaches(target, q) for q in (0.9, 0.5, 0.1))
    assert readings[-1].at <= early <= median <= late
    assert model.km_at(median + timedelta(minutes=1)) >= target
    assert model.km_at(median - timedelta(hours=1)) <= target


@settings(max_examples=80, deadline=None)
@given(readings=drivers)
def test_a_km_already_shown_is_reached_at_the_last_reading(
    readings: list[OdometerReading],
) -> None:
    model = model_of(readings)
    assert model.reaches(max(r.km for r in readings)) == readings[-1].at


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(5, 150), years=st.integers(4, 8), every=st.integers(20, 120))
def test_with_long_histories_the_rate_converges_to_the_observed_one(
    rate: float, years: int, every: int
) -> None:
    readings = [reading(d, rate * d) for d in range(0, years * 365, every)]
    fitted, weight = daily_rate(readings, 2018)
    assert weight > 0.85
    # Within 15 % of the way from the truth to the prior, and closer with more years.
    assert abs(fitted - rate) <= 0.15 * abs(PRIOR_KM_PER_DAY - rate) + 1e-6


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(0, 200), span=st.integers(14, 60), start_km=st.integers(0, 100_000))
def test_with_few_readings_the_rate_shrinks_toward_the_17500_km_prior(
    rate: float, span: int, start_km: int
) -> None:
    readings = [reading(0, start_km), reading(span, start_km + rate * span)]
    fitted, weight = daily_rate(readings, None)
    assert weight == pytest.approx(span / (span + PRIOR_WEIGHT_DAYS), abs=1e-9)
    assert weight <= 0.25
    assert abs(fitted - PRIOR_KM_PER_DAY) <= abs(fitted - rate) + 1.0
    assert min(rate, PRIOR_KM_PER_DAY) - 0.5 <= fitted <= max(rate, PRIOR_KM_PER_DAY) + 0.5


def test_uncertainty_is_wide_for_a_car_we_know_little_about_and_narrows_with_history() -> None:
    little = model_of([reading(0, 10_000), reading(20, 10_600)])
    much = model_of([reading(d, 40 * d) for d in range(0, 4 * 365, 90)])
    horizon = T0 + timedelta(days=5 * 365)
    spread_little = little.quantiles(horizon)
    spread_much = much.quantiles(horizon)
    assert little.rel_sd > much.rel_sd >= 0.15
    assert (spread_little.p90 - spread_little.p10) / spread_little.p50 > (
        spread_much.p90 - spread_much.p10
    ) / spread_much.p50


def _seasonal_driver(amplitude: float, every_days: int, years: int) -> list[OdometerReading]:
    """40 km a day on average, peaking in mid-July, read every `every_days` from 1 March."""
    peak = datetime(2021, 7, 15, tzinfo=UTC)
    omega = 2 * math.pi / YEAR

    def odometer(days: float) -> float:
        phase = (T0 + timedelta(days=days) - peak).total_seconds() / 86_400
        phase0 = (T0 - peak).total_seconds() / 86_400
        return 40 * (
            days + amplitude * (math.sin(omega * phase) - math.sin(omega * phase0)) / omega
        )

    return [reading(d, 5_000 + odometer(d)) for d in range(0, years * 365 + 1, every_days)]


def test_monthly_readings_over_years_reveal_the_summer_peak() -> None:
    model = model_of(_seasonal_driver(0.35, 30, 4))
    # Shrunk toward 0 by span/(span + 1 year) = 0.8 over four years
    assert 0.2 < model.seasonality < 0.35
    assert model.daily_km == pytest.approx(40, rel=0.05)
    july = model.driven(datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC))
    january = model.driven(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    assert july > 1.4 * january


def test_readings_a_year_apart_cannot_show_the_seasons_so_there_are_none() -> None:
    assert model_of(_seasonal_driver(0.35, 365, 6)).seasonality == 0.0


def test_less_than_two_years_of_history_fits_no_seasonality() -> None:
    assert model_of(_seasonal_driver(0.35, 30, 1)).seasonality == 0.0


def test_a_steady_driver_read_monthly_gets_no_seasonality_to_speak_of() -> None:
    assert abs(model_of(_seasonal_driver(0.0, 30, 4)).seasonality) < 0.02


def test_a_single_reading_of_a_car_of_known_age_uses_its_whole_life() -> None:
    # 3.5 years old with 52,500 km: ~41 km/day observed over ~1,280 days
    model = fit([reading(0, 52_500)], 2017)
    assert model is not None
    assert model.weight > 0.85
    assert model.daily_km == pytest.approx(41, rel=0.1)


def test_a_car_without_readings_has_no_estimate() -> None:
    assert fit([], 2020) is None
    assert estimate([], 2020, T0) is None


def test_a_custom_prior_is_what_an_unknown_car_drives() -> None:
    model = fit([reading(0, 1_000)], None, prior_km_per_year=10_000)
    assert model is not None and model.daily_km == pytest.approx(10_000 / 365)


@settings(max_examples=100, deadline=None)
@given(readings=histories, later=st.integers(0, 2000))
def test_without_seasonality_the_estimate_is_the_one_the_profile_always_showed(
    readings: list[OdometerReading], later: int
) -> None:
    """The formula before seasonality, so the profile's numbers do not move for most cars."""
    now = readings[-1].at + timedelta(days=later)
    model = model_of(readings)
    if model.seasonality:
        return
    span = (readings[-1].at - readings[0].at).total_seconds() / 86_400
    if len(readings) >= 2 and span >= 14:
        observed = max(0.0, (max(r.km for r in readings) - readings[0].km) / span)
    else:
        span = (readings[-1].at - datetime(2019, 7, 1, tzinfo=UTC)).total_seconds() / 86_400
        observed = readings[-1].km / span if span >= 90 else PRIOR_KM_PER_DAY
        span = span if span >= 90 else 0.0
    weight = span / (span + PRIOR_WEIGHT_DAYS)
    rate = weight * observed + (1 - weight) * PRIOR_KM_PER_DAY
    got = estimate(readings, 2019, now)
    assert got is not None
    assert got.daily_km == round(rate, 2)
    highest = max(r.km for r in readings)
    assert got.km == max(highest, round(readings[-1].km + rate * later))
