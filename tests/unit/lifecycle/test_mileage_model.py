"""The mileage model (vehicles.mileage): properties over random histories, the season, the age
decline, changes of use, the prior per region and make, and the backtest against the naive
estimate (last reading + the car's own average rate)."""

import math
import statistics
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import mileage as backtest
from trigly.vehicles.mileage import (
    DEFAULT_PRIOR,
    MAX_DRIFT,
    YEAR_DAYS,
    CarHistory,
    MileageModel,
    daily_rate,
    estimate,
    fit,
    fit_prior,
    project,
)
from trigly.vehicles.model import OdometerReading

T0 = datetime(2021, 3, 1, 9, tzinfo=UTC)
PRIOR_DAILY = DEFAULT_PRIOR.level(None, None)


def reading(days: float, km: float, source: str = "telematics") -> OdometerReading:
    return OdometerReading(at=T0 + timedelta(days=days), km=round(km), source=source)


histories = st.lists(
    st.tuples(st.integers(0, 3000), st.integers(0, 400_000)),
    min_size=1,
    max_size=25,
    unique_by=lambda pair: pair[0],
).map(lambda pairs: [reading(d, km) for d, km in sorted(pairs)])

# Plausible drivers: a steady rate with or without a summer peak, read at random days.
drivers = st.builds(
    lambda rate, amplitude, days: [
        reading(
            d,
            rate
            * (d + amplitude * YEAR_DAYS / (2 * math.pi) * math.sin(2 * math.pi * d / YEAR_DAYS)),
        )
        for d in sorted(set(days))
    ],
    st.floats(5, 150),
    st.floats(0, 0.4),
    st.lists(st.integers(0, 1500), min_size=2, max_size=30),
)


def model_of(readings: list[OdometerReading], year: int | None = 2019) -> MileageModel:
    model = fit(readings, year)
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


# The widest prior fit_prior can return (its clips), with a deep winter.
WIDEST = replace(
    DEFAULT_PRIOR,
    spread=1.2,
    noise=0.8,
    drift=MAX_DRIFT,
    decline=0.25,
    season=(0.3, 0.3, 0.6, 1.0, 1.3, 1.6, 1.7, 1.6, 1.2, 1.0, 0.8, 0.6),
)


@settings(max_examples=120, deadline=None)
@given(readings=histories, later=st.integers(0, 4000), more=st.integers(1, 800))
def test_quantiles_stay_monotone_under_the_widest_prior_a_pool_can_give(
    readings: list[OdometerReading], later: int, more: int
) -> None:
    model = fit(readings, 2019, prior=WIDEST)
    assert model is not None
    sooner_at = readings[-1].at + timedelta(days=later)
    after_at = sooner_at + timedelta(days=more)
    sooner, after = model.quantiles(sooner_at), model.quantiles(after_at)
    assert sooner.p10 <= sooner.p50 <= sooner.p90
    assert after.p10 >= sooner.p10 and after.p50 >= sooner.p50 and after.p90 >= sooner.p90


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
    for quantile, moment in ((0.9, early), (0.1, late)):
        assert model.km_at(moment + timedelta(minutes=1), quantile) >= target
        assert model.km_at(moment - timedelta(hours=1), quantile) <= target


@settings(max_examples=80, deadline=None)
@given(readings=drivers)
def test_a_km_already_shown_is_reached_at_the_last_reading(
    readings: list[OdometerReading],
) -> None:
    model = model_of(readings)
    assert model.reaches(max(r.km for r in readings)) == readings[-1].at


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(5, 150), years=st.integers(3, 8), every=st.integers(20, 200))
def test_with_long_histories_the_rate_is_the_cars_own_whatever_the_prior(
    rate: float, years: int, every: int
) -> None:
    readings = [reading(d, 1_000 + rate * d, "service_order") for d in range(0, years * 365, every)]
    fitted, weight = daily_rate(readings, 2020)
    assert weight > 0.9
    # The car's own pace, give or take what the season and the age decline explain
    assert abs(fitted - rate) <= 0.15 * rate


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(1, 200), start_km=st.integers(0, 100_000))
def test_the_weight_of_a_cars_own_history_grows_with_its_length(rate: float, start_km: int) -> None:
    weights = []
    for span in (14, 60, 365, 3 * 365):
        readings = [reading(0, start_km), reading(span, start_km + rate * span)]
        fitted, weight = daily_rate(readings, None)
        # Between the prior and what the car showed (season and age set aside: ±35 %)
        assert min(rate, PRIOR_DAILY) * 0.65 <= fitted <= max(rate, PRIOR_DAILY) * 1.35
        weights.append(weight)
    assert 0 < weights[0] < weights[1] < weights[2] < weights[3] < 1


def test_a_few_weeks_of_history_leave_the_rate_between_the_prior_and_the_observation() -> None:
    readings = [reading(0, 10_000), reading(20, 10_100)]  # 5 km a day over three weeks
    fitted, weight = daily_rate(readings, None)
    assert 0.3 < weight < 0.85
    assert 5 < fitted < PRIOR_DAILY


def test_uncertainty_is_wide_for_a_car_we_know_little_about_and_narrows_with_history() -> None:
    little = model_of([reading(0, 10_000), reading(20, 10_600)])
    much = model_of([reading(d, 40 * d) for d in range(0, 4 * 365, 90)])
    horizon = T0 + timedelta(days=5 * 365)
    spread_little = little.quantiles(horizon)
    spread_much = much.quantiles(horizon)
    assert little.log_var > much.log_var
    assert (spread_little.p90 - spread_little.p10) / spread_little.p50 > (
        spread_much.p90 - spread_much.p10
    ) / spread_much.p50


def test_every_car_drives_more_in_july_than_in_january() -> None:
    # Even one read once a year, at the same month: the season is the pooled one, not the car's
    model = model_of([reading(d, 15_000 + 40 * d, "service_order") for d in (0, 365, 730)])
    year = T0.year + 3
    july = model.driven(datetime(year, 7, 1, tzinfo=UTC), datetime(year, 8, 1, tzinfo=UTC))
    january = model.driven(datetime(year, 1, 1, tzinfo=UTC), datetime(year, 2, 1, tzinfo=UTC))
    assert july > 1.5 * january


def test_a_car_is_expected_to_drive_less_as_it_ages() -> None:
    model = model_of([reading(d, 30 * d, "service_order") for d in (0, 365, 730)], 2018)
    this_year = model.driven(T0 + timedelta(days=730), T0 + timedelta(days=1095))
    in_five_years = model.driven(T0 + timedelta(days=6 * 365), T0 + timedelta(days=7 * 365))
    assert in_five_years < 0.85 * this_year


def test_a_car_whose_use_changed_for_good_is_followed() -> None:
    # 20 km a day for three years, 60 km a day for the last year (a new job: read each quarter)
    before = [reading(d, 20 * d, "service_order") for d in range(0, 3 * 365, 91)]
    after = [
        reading(3 * 365 + d, 20 * 3 * 365 + 60 * d, "service_order") for d in (91, 182, 273, 365)
    ]
    fitted, _ = daily_rate(before + after, 2020)
    lifetime = (after[-1].km - before[0].km) / (after[-1].at - before[0].at).days
    assert abs(fitted - 60) < abs(lifetime - 60) / 2


def test_the_prior_is_the_regions_and_the_makes() -> None:
    moscow = fit([reading(0, 5)], 2025, make="Haval", region="RU-MOW")
    north = fit([reading(0, 5)], 2025, make="BMW", region="RU-ARK")
    unknown = fit([reading(0, 5)], 2025, make="Zeekr", region="RU-XX")
    assert moscow is not None and north is not None and unknown is not None
    assert moscow.level > unknown.level > north.level
    assert unknown.level == pytest.approx(DEFAULT_PRIOR.level(None, None))


def test_a_single_reading_of_a_car_of_known_age_uses_its_whole_life() -> None:
    # 3.7 years old with 52,500 km: ~39 km/day over its life, less today (it ages); the model
    # year's guessed start keeps the life from counting as much as readings would
    model = fit([reading(0, 52_500)], 2017)
    assert model is not None
    assert 0.5 < model.weight < 1
    born = datetime(2017, 7, 1, tzinfo=UTC)
    assert abs(model.driven(born, T0) - 52_500) < abs(PRIOR_DAILY * (T0 - born).days - 52_500)
    assert model.daily_km < 52_500 / (T0 - born).days


def test_a_car_without_readings_has_no_estimate() -> None:
    assert fit([], 2020) is None
    assert estimate([], 2020, T0) is None


def test_the_profiles_snapshot_projects_the_same_mileage_as_the_model() -> None:
    readings = [reading(d, 12_000 + 35 * d, "service_order") for d in (0, 200, 500, 800)]
    model = model_of(readings, 2018)
    for days in (30, 200, 700):
        now = readings[-1].at + timedelta(days=days)
        kept = project(model.anchor_at, model.anchor_km, model.level, model.born, now)
        assert abs(kept - model.km_at(now)) <= 1


def test_a_pooled_prior_recovers_the_season_and_the_decline_of_its_cars() -> None:
    population = backtest.Population(
        cars=400, telematics_share=0.5, decline_per_year=0.08, season_swing=1.5
    )
    cars = backtest.generate(population, 7, T0)
    pooled = fit_prior([CarHistory(c.readings, c.year, c.make, c.region) for c in cars])
    truth = [1 + 1.5 * (s - 1) for s in backtest.SEASON_SHAPE]
    assert (
        max(abs(a - b / statistics.mean(truth)) for a, b in zip(pooled.season, truth, strict=True))
        < 0.12
    )
    assert 0.05 < pooled.decline < 0.11
    assert pooled.region["RU-MOW"] > pooled.region["RU-ARK"]


def test_the_estimate_beats_the_naive_one_on_a_held_out_month() -> None:
    # The defect: shrinking every car toward 17,500 km and ignoring the season and the age made
    # the estimate worse than last reading + own average rate (1.1-1.4x its error).
    population = backtest.Population(cars=300)
    end = datetime(T0.year + 1, 1, 1, tzinfo=UTC)
    cars = backtest.generate(population, 11, end)
    ours, naive, covered = [], [], 0
    for now in (datetime(T0.year, 3, 15, tzinfo=UTC), datetime(T0.year, 12, 15, tzinfo=UTC)):
        for car in cars:
            held = backtest.held_out(car, now)
            if held is None:
                continue
            seen, truth = held
            driven = truth - seen[-1].km
            q = fit(seen, car.year, make=car.make, region=car.region).quantiles(now)  # type: ignore[union-attr]
            ours.append(abs(q.p50 - truth) / driven)
            naive.append(abs(backtest.naive(seen, car.year, now) - truth) / driven)
            covered += q.p10 <= truth <= q.p90
    assert statistics.median(ours) < 0.8 * statistics.median(naive)
    assert 0.7 < covered / len(ours) < 0.9
