"""Today's (or any day's) estimated mileage of a car from its odometer readings.

The daily rate is the rate observed across the readings, shrunk toward a prior (Russia's
average, ~17,500 km a year) in proportion to how little history there is: a car seen twice a
month apart says little about its yearly use, a car seen over three years says a lot. A single
reading of a car whose age is known counts as the span from its model year's mid-point.

With two years of readings or more, dense enough to see the seasons (at least six readings, not
all a whole number of years apart), the rate follows the year: rate(t) = base · (1 + A·cos(2π
(t − mid-July)/year)), A fitted by least squares over the intervals between readings, shrunk
toward 0 and capped at ±0.5 so the rate never stops. Russians drive more in summer (the dacha
season) and less in January, so A is usually positive.

The uncertainty of the rate is log-normal with σ = 0.15 + 0.5·(1 − weight): a car with a long
history keeps ±15 % (people change jobs, cars change hands), a car we know nothing about spans
the spread of Russian annual mileages. P10/P50/P90 of the odometer at a date and of the date a
given odometer is reached follow from it. See docs/lifecycle.md.
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import NormalDist

from trigly.vehicles.model import OdometerReading

PRIOR_KM_PER_YEAR = 17_500.0
PRIOR_KM_PER_DAY = PRIOR_KM_PER_YEAR / 365.0
# Days of observed history that weigh as much as the prior.
PRIOR_WEIGHT_DAYS = 180.0
MIN_SPAN_DAYS = 14.0
DAY_SECONDS = 86_400.0
YEAR_DAYS = 365.25

# Seasonality is fitted only from enough history to see it.
SEASONAL_MIN_SPAN_DAYS = 730.0
SEASONAL_MIN_READINGS = 6
SEASONAL_PEAK_DAY = 196  # 15 July, the middle of the driving season (days after 1 January)
SEASON_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MAX_AMPLITUDE = 0.5
# Below this share of independent information the seasonal term is not identifiable (e.g.
# readings taken every year in the same month).
MIN_SEASONAL_INFORMATION = 0.05

REL_SD_FLOOR = 0.15
REL_SD_PRIOR = 0.5


@dataclass(frozen=True)
class MileageEstimate:
    km: int
    daily_km: float
    sd_km: int  # one standard deviation of the estimate today


@dataclass(frozen=True)
class MileageQuantiles:
    p10: int
    p50: int
    p90: int


def _days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / DAY_SECONDS


def _season_integral(start: datetime, end: datetime) -> float:
    """∫ cos(2π(t − peak)/year) dt over [start, end], in days."""
    omega = 2 * math.pi / YEAR_DAYS
    return (math.sin(omega * _season_phase(end)) - math.sin(omega * _season_phase(start))) / omega


def _season_phase(moment: datetime) -> float:
    """Days from a mid-July peak (any year's: the cosine does not care which)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return _days(SEASON_EPOCH, aware) - SEASONAL_PEAK_DAY


@dataclass(frozen=True)
class MileageModel:
    """A fitted car: its anchor (the last reading), the floor (the highest reading), the mean
    daily rate, the seasonal amplitude and the spread of the rate."""

    anchor_at: datetime
    anchor_km: int
    floor_km: int
    daily_km: float
    weight: float  # 0 = all prior, 1 = all observation
    seasonality: float  # A; 0 when not fitted
    rel_sd: float  # σ of log(rate)

    def driven(self, start: datetime, end: datetime, rate: float | None = None) -> float:
        """Kilometres driven between two moments at the model's (or the given mean) rate."""
        if end <= start:
            return 0.0
        base = self.daily_km if rate is None else rate
        return base * (_days(start, end) + self.seasonality * _season_integral(start, end))

    def rate_at(self, quantile: float) -> float:
        """The mean daily rate at a quantile of its distribution (0.5 = the estimate)."""
        if quantile == 0.5:
            return self.daily_km
        return self.daily_km * math.exp(NormalDist().inv_cdf(quantile) * self.rel_sd)

    def km_at(self, when: datetime, quantile: float = 0.5) -> int:
        """The odometer at `when`, never below the highest reading."""
        driven = self.driven(self.anchor_at, when, self.rate_at(quantile))
        return max(self.floor_km, round(self.anchor_km + driven))

    def quantiles(self, when: datetime) -> MileageQuantiles:
        return MileageQuantiles(
            p10=self.km_at(when, 0.1), p50=self.km_at(when, 0.5), p90=self.km_at(when, 0.9)
        )

    def reaches(self, km: int, quantile: float = 0.5) -> datetime:
        """The first moment the odometer is expected to show `km` at the given quantile of the
        rate (0.9 gives the early date: a fast driver). Never before the anchor."""
        needed = km - self.anchor_km
        if needed <= 0 or self.floor_km >= km:
            return self.anchor_at
        rate = self.rate_at(quantile)
        if rate <= 0:
            return self.anchor_at + timedelta(days=36_500)
        if not self.seasonality:
            return self.anchor_at + timedelta(days=needed / rate)
        omega = 2 * math.pi / YEAR_DAYS
        start = omega * _season_phase(self.anchor_at)
        amplitude = self.seasonality / omega

        def driven(days: float) -> float:
            return rate * (days + amplitude * (math.sin(start + omega * days) - math.sin(start)))

        low, high = 0.0, needed / (rate * (1 - abs(self.seasonality))) + 1.0
        for _ in range(50):  # bisection to well under a minute; deterministic
            middle = (low + high) / 2
            if driven(middle) >= needed:
                high = middle
            else:
                low = middle
        return self.anchor_at + timedelta(days=high)


def _seasonal_fit(readings: Sequence[OdometerReading]) -> tuple[float, float] | None:
    """(amplitude, share of span) from the intervals between readings, or None when the
    history cannot show the seasons."""
    if len(readings) < SEASONAL_MIN_READINGS:
        return None
    span = _days(readings[0].at, readings[-1].at)
    if span < SEASONAL_MIN_SPAN_DAYS:
        return None
    sxx = sxs = sss = sxy = ssy = 0.0
    highest = readings[0].km
    for before, after in itertools.pairwise(readings):
        days = _days(before.at, after.at)
        if days <= 0:
            continue
        season = _season_integral(before.at, after.at)
        driven = max(0, after.km - highest)
        highest = max(highest, after.km)
        sxx += days * days
        sxs += days * season
        sss += season * season
        sxy += days * driven
        ssy += season * driven
    determinant = sxx * sss - sxs * sxs
    if sxx <= 0 or sss <= 0 or determinant / (sxx * sss) < MIN_SEASONAL_INFORMATION:
        return None
    base = (sxy * sss - ssy * sxs) / determinant
    scaled = (ssy * sxx - sxy * sxs) / determinant
    if base <= 0:
        return None
    # Shrink toward no seasonality: fully trusted only with several years.
    trust = span / (span + YEAR_DAYS)
    amplitude = max(-MAX_AMPLITUDE, min(MAX_AMPLITUDE, scaled / base)) * trust
    return amplitude, trust


def _observed(readings: Sequence[OdometerReading], year: int | None) -> tuple[float, float, float]:
    """(observed km per day, days of observation, seasonal amplitude)."""
    if len(readings) >= 2:
        first, last = readings[0], readings[-1]
        span_days = _days(first.at, last.at)
        if span_days >= MIN_SPAN_DAYS:
            gained = max(0, max(r.km for r in readings) - first.km)
            seasonal = _seasonal_fit(readings)
            amplitude = seasonal[0] if seasonal else 0.0
            effective = span_days + amplitude * _season_integral(first.at, last.at)
            return gained / effective, span_days, amplitude
    if readings and year:
        # One reading (or a short span) of a car of known age: its whole life is the observation.
        born = datetime(year, 7, 1, tzinfo=UTC)
        span_days = _days(born, readings[-1].at)
        if span_days >= 90:
            return max(0, readings[-1].km) / span_days, span_days, 0.0
    return PRIOR_KM_PER_DAY, 0.0, 0.0


def fit(
    readings: Sequence[OdometerReading],
    year: int | None,
    *,
    prior_km_per_year: float = PRIOR_KM_PER_YEAR,
) -> MileageModel | None:
    """The car's mileage model, or None without a reading. `readings` sorted by `at`."""
    if not readings:
        return None
    prior = prior_km_per_year / 365.0
    observed, span_days, amplitude = _observed(readings, year)
    weight = span_days / (span_days + PRIOR_WEIGHT_DAYS)
    rate = weight * observed + (1 - weight) * prior if span_days else prior
    last = readings[-1]
    return MileageModel(
        anchor_at=last.at,
        anchor_km=last.km,
        floor_km=max(r.km for r in readings),
        daily_km=rate,
        weight=weight,
        seasonality=amplitude,
        rel_sd=REL_SD_FLOOR + REL_SD_PRIOR * (1 - weight),
    )


def daily_rate(readings: list[OdometerReading], year: int | None) -> tuple[float, float]:
    """(mean km per day, weight of the observation in 0..1)."""
    model = fit(readings, year)
    if model is None:
        return PRIOR_KM_PER_DAY, 0.0
    return model.daily_km, model.weight


def estimate(
    readings: list[OdometerReading], year: int | None, now: datetime
) -> MileageEstimate | None:
    """Never below the highest reading; grows with time since the last one."""
    model = fit(readings, year)
    if model is None:
        return None
    driven = model.driven(model.anchor_at, now)
    km = max(model.floor_km, round(model.anchor_km + driven))
    sd = round(driven * model.rel_sd)
    return MileageEstimate(km=km, daily_km=round(model.daily_km, 2), sd_km=sd)
