"""Today's (or any day's) mileage of a car, with P10/P50/P90, from its odometer readings.

A car's daily km = its **level** × the **season** (a monthly curve: Russians drive more in
summer, the dacha season, and least in winter) × the **age decline** (a car is driven less as it
ages). The level is learned per car by a small Kalman filter over its history:

- it starts from the prior of the car's region and make (`MileagePrior.level`), with the spread
  of levels between cars as its uncertainty;
- each interval between readings (at least 14 days; and the car's life before its first reading
  when its model year is known) is an observation of the level: the km driven over the
  interval's expected km at level 1 (season and age applied). Its noise is the month-to-month
  noise of driving, averaged over the interval's months, so a year between two visits weighs
  twelve times a month between two telematics readings;
- between observations the level drifts (people change jobs, cars change hands), so old history
  weighs less than recent history and a car whose use changed for good is followed.

The weight the car's own history earns is therefore what it is worth: a car seen over three
years of visits is mostly its own history, a car seen twice a month apart mostly its prior. The
estimate at a date is the last reading + the level × the expected km since, never below the
highest reading. Its uncertainty is log-normal: the level's remaining variance, the drift since,
and the month-to-month noise over the horizon. See docs/lifecycle.md and docs/adr/0015.

The prior (`DEFAULT_PRIOR`) ships with the code; `fit_prior` pools one from any set of cars'
readings (the season curve, the age decline, the level per region and make, the spreads), which
is how the shipped numbers were made and how a tenant's own prior is made.
"""

import math
from calendar import isleap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from statistics import NormalDist, median

from trigly.vehicles.model import OdometerReading

NATIONAL_KM_PER_YEAR = 17_500.0  # Russia's average car, before age, region and make
DAY_SECONDS = 86_400.0
YEAR_DAYS = 365.25
MONTH_DAYS = YEAR_DAYS / 12
MIN_SPAN_DAYS = 14.0  # readings closer than this are not an interval of their own
MIN_LIFE_DAYS = 90.0  # a model year's mid-point to the first reading, to count the car's life
MIN_LIFE_KM = 500  # fewer km at the first reading: a new car out of stock, not its life
UNKNOWN_AGE_YEARS = 5.0  # the age assumed at the first reading when the model year is unknown
# The model year's mid-point is a guess of when the car started: its life as an observation is
# noisier than an interval between two readings.
LIFE_EXTRA_VARIANCE = 0.05
MAX_LOG_SD = 0.9  # keeps every quantile monotone in time (MileageModel.log_sd)
MAX_DRIFT = 0.1  # a year, in log level: the most changes of use a pooled prior may claim
# Use stops falling at this age: an old car is still driven (to the dacha, by a new owner).
MAX_DECLINE_AGE_YEARS = 15.0
NEVER_DAYS = 1_000 * YEAR_DAYS  # a km the car will not reach in a thousand years: never


@dataclass(frozen=True)
class MileagePrior:
    """What a car drives before its own readings say otherwise, and how driving varies."""

    km_per_year: float  # a new car's yearly km (before region and make)
    region: Mapping[str, float]  # ISO 3166-2 code -> factor on the level
    make: Mapping[str, float]  # upper-case make -> factor on the level
    season: tuple[float, ...]  # 12 monthly factors, January first, averaging 1
    decline: float  # the level falls by exp(-decline) a year of the car's age
    spread: float  # σ of log level between cars of one region and make
    noise: float  # σ of log of one month's km around the car's level
    drift: float  # variance a year of the car's log level (changes of use)

    def level(self, region: str | None, make: str | None) -> float:
        """A new car's km a day in this region and of this make (season averaged out)."""
        factor = self.region.get(region or "", 1.0) * self.make.get((make or "").upper(), 1.0)
        return self.km_per_year * factor / YEAR_DAYS


# `fit_prior` over the readings of the default synthetic population of benchmarks/mileage.py
# (seed 0, 4,000 cars; not a seed the backtest grades), rounded. Its parameters are plausible
# readings of Russian driving (a median new car ~17,000 km a year, Moscow and Krasnodar above,
# the north below, a summer peak ~1.8× January, ~5 % less a year of age), not measurements: a
# tenant's own pooled prior (`fit_prior` over its cars) replaces them (docs/adr/0015). Regions
# and makes outside these tables get a factor of 1.
DEFAULT_PRIOR = MileagePrior(
    km_per_year=16_800.0,
    region={
        "RU-ARK": 0.81,
        "RU-KDA": 1.12,
        "RU-MOW": 1.10,
        "RU-NVS": 0.90,
        "RU-SPE": 1.01,
        "RU-SVE": 0.94,
        "RU-TA": 0.94,
    },
    make={
        "BMW": 0.86,
        "CHERY": 1.01,
        "HAVAL": 1.07,
        "HYUNDAI": 0.97,
        "KIA": 0.96,
        "LADA": 1.04,
        "SKODA": 1.09,
        "TOYOTA": 0.94,
    },
    season=(0.725, 0.776, 0.9, 1.016, 1.146, 1.253, 1.323, 1.266, 1.082, 0.959, 0.823, 0.731),
    decline=0.05,
    spread=0.46,
    noise=0.22,
    drift=0.03,
)


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


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _month_start(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)


@cache
def _season_cumulative(season: tuple[float, ...], leap: bool) -> tuple[float, ...]:
    """Season-weighted days before each month of a year (13 values, the last the year's)."""
    lengths = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    totals = [0.0]
    for factor, days in zip(season, lengths, strict=True):
        totals.append(totals[-1] + factor * days)
    return tuple(totals)


@dataclass(frozen=True)
class _Shape:
    """The expected km at level 1 (a km a day, averaged over the seasons, when new): the season
    per calendar month and the age decline per calendar year, so the rate is constant within a
    month and the km are exactly invertible. `exposure` is a difference of a cumulative sum
    kept per calendar year, so it costs the same for a day or a decade."""

    season: tuple[float, ...]
    decline: float
    born: datetime
    _years: dict[int, float] = field(default_factory=dict, compare=False, repr=False)

    def age_factor(self, year: int) -> float:
        age = year + 0.5 - (self.born.year + (self.born.month - 0.5) / 12)
        return math.exp(-self.decline * min(MAX_DECLINE_AGE_YEARS, max(0.0, age)))

    def _year_total(self, year: int) -> float:
        return self.age_factor(year) * _season_cumulative(self.season, isleap(year))[12]

    def _year_start(self, year: int) -> float:
        """Cumulative exposure at 1 January of `year`, from 1 January of the birth year."""
        origin = self.born.year
        if not self._years:
            self._years[origin] = 0.0
        known = self._years.get(year)
        if known is not None:
            return known
        if year > origin:
            nearest = max(y for y in self._years if y < year)
            total = self._years[nearest]
            for y in range(nearest, year):
                total += self._year_total(y)
                self._years[y + 1] = total
        else:
            nearest = min(y for y in self._years if y > year)
            total = self._years[nearest]
            for y in range(nearest - 1, year - 1, -1):
                total -= self._year_total(y)
                self._years[y] = total
        return self._years[year]

    def cumulative(self, moment: datetime) -> float:
        moment = moment.astimezone(UTC) if moment.tzinfo is not UTC else moment
        months = _season_cumulative(self.season, isleap(moment.year))
        into = (
            moment.day - 1 + (moment.hour * 3600 + moment.minute * 60 + moment.second) / DAY_SECONDS
        ) + moment.microsecond / 1e6 / DAY_SECONDS
        in_year = months[moment.month - 1] + self.season[moment.month - 1] * into
        return self._year_start(moment.year) + self.age_factor(moment.year) * in_year

    def rate(self, moment: datetime) -> float:
        return self.season[moment.month - 1] * self.age_factor(moment.year)

    def exposure(self, start: datetime, end: datetime) -> float:
        """Expected km at level 1 between two moments."""
        if end <= start:
            return 0.0
        return max(0.0, self.cumulative(end) - self.cumulative(start))

    def reached(self, start: datetime, exposure: float) -> datetime:
        """The moment the expected km at level 1 since `start` reach `exposure`."""
        target = self.cumulative(start) + exposure
        limit = start + timedelta(days=NEVER_DAYS)
        year = start.year
        while self._year_start(year + 1) < target:
            year += 1
            if year > limit.year:
                return limit
        factor = self.age_factor(year)
        left = (target - self._year_start(year)) / factor
        months = _season_cumulative(self.season, isleap(year))
        month = max(m for m in range(1, 13) if months[m - 1] <= left)
        days = (left - months[month - 1]) / self.season[month - 1]
        found = datetime(year, month, 1, tzinfo=UTC) + timedelta(days=days)
        return min(limit, max(start, found))


def _born(year: int | None, readings: Sequence[OdometerReading]) -> datetime:
    if year:
        return datetime(year, 7, 1, tzinfo=UTC)
    return _aware(readings[0].at) - timedelta(days=UNKNOWN_AGE_YEARS * YEAR_DAYS)


@dataclass(frozen=True)
class _Interval:
    start: datetime
    end: datetime
    km: float
    extra: float = 0.0  # variance beyond the month-to-month noise

    @property
    def months(self) -> float:
        return _days(self.start, self.end) / MONTH_DAYS


def _intervals(readings: Sequence[OdometerReading], year: int | None) -> list[_Interval]:
    """The observations a history holds: the car's life before its first reading (when its age
    is known and it had been driven), then each span of at least 14 days between readings. A
    reading lower than an earlier one (a typo, a replaced cluster) adds no km."""
    if not readings:
        return []
    first = readings[0]
    found = []
    if year and first.km >= MIN_LIFE_KM:
        born = datetime(year, 7, 1, tzinfo=UTC)
        if _days(born, _aware(first.at)) >= MIN_LIFE_DAYS:
            found.append(_Interval(born, _aware(first.at), first.km, LIFE_EXTRA_VARIANCE))
    base_at = _aware(first.at)
    highest = first.km
    for reading in readings[1:]:
        at = _aware(reading.at)
        if _days(base_at, at) < MIN_SPAN_DAYS:
            continue
        found.append(_Interval(base_at, at, max(0, reading.km - highest)))
        highest = max(highest, reading.km)
        base_at = at
    return found


def _observed_log_level(interval: _Interval, shape: _Shape, expected_level: float) -> float:
    exposure = max(
        interval.months * MONTH_DAYS * 0.01, shape.exposure(interval.start, interval.end)
    )
    # A car that stood still says its level is low, not zero (log needs a floor).
    return math.log(max(interval.km, 0.02 * expected_level * exposure) / exposure)


@cache
def _z(quantile: float) -> float:
    return NormalDist().inv_cdf(quantile)


@dataclass(frozen=True)
class MileageModel:
    """A fitted car: its anchor (the last reading), the floor (the highest reading), its level
    (km a day when new, season averaged out) and that level's log-variance, at `learned_at`."""

    anchor_at: datetime
    anchor_km: int
    floor_km: int
    level: float
    log_var: float
    learned_at: datetime
    weight: float  # 0 = all prior, 1 = all the car's own history
    shape: _Shape = field(repr=False)
    prior: MileagePrior = field(repr=False)

    @property
    def born(self) -> datetime:
        """When the age decline starts: 1 July of the model year, or a guess (UNKNOWN_AGE_YEARS
        before the first reading)."""
        return self.shape.born

    @property
    def daily_km(self) -> float:
        """The car's average km a day at its last reading (season averaged out)."""
        return self.level * self.shape.age_factor(self.anchor_at.year)

    def driven(self, start: datetime, end: datetime) -> float:
        """Expected km driven between two moments (the median)."""
        return self.level * self.shape.exposure(_aware(start), _aware(end))

    def log_sd(self, when: datetime) -> float:
        """σ of log of the km driven from the anchor to `when`: the level's variance, its drift
        over the horizon (to its middle), and month-to-month noise averaged over it. The horizon
        is counted in days at the anchor's pace (a winter month counts less than a summer one):
        a function of the median km, so each quantile's km grow with them whatever the season
        and the age (d log σ / d log km is within ±1/2, and σ ≤ 0.9 < 2/1.28)."""
        pace = self.shape.age_factor(self.anchor_at.year)
        days = self.shape.exposure(self.anchor_at, _aware(when)) / pace
        drift_years = (_days(self.learned_at, self.anchor_at) + days / 2) / YEAR_DAYS
        variance = (
            self.log_var
            + self.prior.drift * max(0.0, drift_years)
            + self.prior.noise**2 / max(1.0, days / MONTH_DAYS)
        )
        return min(MAX_LOG_SD, math.sqrt(variance))

    def _km(self, when: datetime, quantile: float) -> float:
        driven = self.driven(self.anchor_at, when)
        if quantile != 0.5 and driven > 0:
            driven *= math.exp(_z(quantile) * self.log_sd(when))
        return self.anchor_km + driven

    def km_at(self, when: datetime, quantile: float = 0.5) -> int:
        """The odometer at `when` at a quantile, never below the highest reading."""
        return max(self.floor_km, round(self._km(_aware(when), quantile)))

    def quantiles(self, when: datetime) -> MileageQuantiles:
        return MileageQuantiles(
            p10=self.km_at(when, 0.1), p50=self.km_at(when, 0.5), p90=self.km_at(when, 0.9)
        )

    def reaches(self, km: int, quantile: float = 0.5) -> datetime:
        """The first moment the odometer is expected to show `km` at a quantile (0.9 gives the
        early date: a fast driver). Never before the anchor."""
        needed = km - self.anchor_km
        if needed <= 0 or self.floor_km >= km:
            return self.anchor_at
        median_at = self.shape.reached(self.anchor_at, needed / self.level)
        if quantile == 0.5:
            return median_at
        low, high = self.anchor_at, median_at
        limit = self.anchor_at + timedelta(days=NEVER_DAYS)
        while self._km(high, quantile) < km and high < limit:
            high = min(limit, high + (high - self.anchor_at) + timedelta(days=1))
        if self._km(high, quantile) < km:
            return limit
        if quantile > 0.5:
            low, high = self.anchor_at, median_at
        for _ in range(44):  # bisection to well under a second over a thousand years
            middle = low + (high - low) / 2
            if self._km(middle, quantile) >= km:
                high = middle
            else:
                low = middle
        return high


def _learn(
    intervals: Sequence[_Interval], shape: _Shape, prior: MileagePrior, start_level: float
) -> tuple[float, float, datetime | None]:
    """(log level, its variance, when) after the Kalman filter over the intervals."""
    mean, variance = math.log(start_level), prior.spread**2
    at: datetime | None = None
    for interval in sorted(intervals, key=lambda i: i.end):
        middle = interval.start + (interval.end - interval.start) / 2
        if at is not None and middle > at:
            variance += prior.drift * _days(at, middle) / YEAR_DAYS
        observed = _observed_log_level(interval, shape, math.exp(mean))
        noise = prior.noise**2 / max(1.0, interval.months) + interval.extra
        gain = variance / (variance + noise)
        mean += gain * (observed - mean)
        variance *= 1 - gain
        at = max(middle, at) if at else middle
    return mean, variance, at


def fit(
    readings: Sequence[OdometerReading],
    year: int | None,
    *,
    make: str | None = None,
    region: str | None = None,
    prior: MileagePrior = DEFAULT_PRIOR,
) -> MileageModel | None:
    """The car's mileage model, or None without a reading. `readings` sorted by `at`."""
    if not readings:
        return None
    shape = _Shape(prior.season, prior.decline, _born(year, readings))
    mean, variance, learned = _learn(
        _intervals(readings, year), shape, prior, prior.level(region, make)
    )
    last = readings[-1]
    return MileageModel(
        anchor_at=_aware(last.at),
        anchor_km=last.km,
        floor_km=max(r.km for r in readings),
        level=math.exp(mean),
        log_var=variance,
        learned_at=learned or _aware(last.at),
        weight=1 - variance / prior.spread**2,
        shape=shape,
        prior=prior,
    )


def daily_rate(
    readings: Sequence[OdometerReading],
    year: int | None,
    *,
    make: str | None = None,
    region: str | None = None,
) -> tuple[float, float]:
    """(average km a day at the last reading, weight of the car's own history in 0..1)."""
    model = fit(readings, year, make=make, region=region)
    if model is None:
        return DEFAULT_PRIOR.km_per_year / YEAR_DAYS, 0.0
    return model.daily_km, model.weight


def estimate(
    readings: Sequence[OdometerReading],
    year: int | None,
    now: datetime,
    *,
    make: str | None = None,
    region: str | None = None,
) -> MileageEstimate | None:
    """Never below the highest reading; grows with time since the last one."""
    model = fit(readings, year, make=make, region=region)
    if model is None:
        return None
    sd = round(model.driven(model.anchor_at, now) * model.log_sd(now))
    return MileageEstimate(km=model.km_at(now), daily_km=round(model.daily_km, 2), sd_km=sd)


def project(
    anchor_at: datetime,
    anchor_km: int,
    level: float,
    born: datetime,
    when: datetime,
    *,
    prior: MileagePrior = DEFAULT_PRIOR,
) -> int:
    """The median odometer at `when` of a fitted car kept as its anchor, level and birth (the
    profile's snapshot of the car), never below the anchor."""
    shape = _Shape(prior.season, prior.decline, _aware(born))
    return anchor_km + round(level * shape.exposure(_aware(anchor_at), _aware(when)))


def unread_km(
    year: int,
    when: datetime,
    *,
    make: str | None = None,
    region: str | None = None,
    prior: MileagePrior = DEFAULT_PRIOR,
) -> int:
    """The median odometer of a car never read, from 1 July of its model year."""
    born = datetime(year, 7, 1, tzinfo=UTC)
    shape = _Shape(prior.season, prior.decline, born)
    return round(prior.level(region, make) * shape.exposure(born, _aware(when)))


# ------------------------------------------------------------------------------ pooling a prior


@dataclass(frozen=True)
class CarHistory:
    readings: Sequence[OdometerReading]
    year: int | None
    make: str | None = None
    region: str | None = None


@dataclass
class _Car:
    history: CarHistory
    intervals: list[_Interval]
    log_level: float = 0.0  # the car's own, from all its km over all its exposure


def fit_prior(histories: Sequence[CarHistory], base: MileagePrior = DEFAULT_PRIOR) -> MileagePrior:
    """A prior pooled from many cars' readings; each part falls back to `base` where the
    readings cannot show it (e.g. no car read often enough to see the seasons)."""
    cars = [_Car(h, _intervals(h.readings, h.year)) for h in histories if h.readings]
    cars = [c for c in cars if c.intervals]
    prior = base
    for _ in range(3):
        _car_levels(cars, prior)
        prior = replace(prior, season=_pooled_season(cars, prior))
        _car_levels(cars, prior)
        prior = replace(prior, decline=_pooled_decline(cars, prior))
        _car_levels(cars, prior)
    prior = _pooled_levels(cars, prior)
    noise, drift = _pooled_noise(cars, prior)
    prior = replace(prior, noise=noise, drift=drift)
    return replace(prior, spread=_pooled_spread(cars, prior))


def _shape_of(car: _Car, prior: MileagePrior) -> _Shape:
    return _Shape(prior.season, prior.decline, _born(car.history.year, car.history.readings))


def _car_levels(cars: Sequence[_Car], prior: MileagePrior) -> None:
    for car in cars:
        shape = _shape_of(car, prior)
        exposure = sum(shape.exposure(i.start, i.end) for i in car.intervals)
        km = sum(i.km for i in car.intervals)
        car.log_level = math.log(max(km, 1.0) / max(exposure, 1.0))


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (a 12×12 system)."""
    size = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(size)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(size):
            if r != col and rows[col][col]:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][size] / rows[i][i] for i in range(size)]


SEASON_PSEUDO_MONTHS = 30.0  # how much the base curve weighs against the cars' intervals
SEASON_MAX_MONTHS = 3.0  # longer intervals barely show the months


def _pooled_season(cars: Sequence[_Car], prior: MileagePrior) -> tuple[float, ...]:
    """Least squares of each short interval's km / (the car's level × its km at a flat season)
    on the share of the interval in each month, ridged toward the base curve."""
    normal = [[0.0] * 12 for _ in range(12)]
    right = [SEASON_PSEUDO_MONTHS * s for s in prior.season]
    for month in range(12):
        normal[month][month] = SEASON_PSEUDO_MONTHS
    flat = (1.0,) * 12
    for car in cars:
        shape = _Shape(flat, prior.decline, _born(car.history.year, car.history.readings))
        for interval in car.intervals:
            if interval.extra or interval.months > SEASON_MAX_MONTHS:
                continue
            shares = [0.0] * 12
            cursor = interval.start
            while cursor < interval.end:
                following = min(interval.end, _month_start(cursor.year, cursor.month + 1))
                shares[cursor.month - 1] += _days(cursor, following) * shape.rate(cursor)
                cursor = following
            total = sum(shares)
            if total <= 0:
                continue
            ratio = min(5.0, max(0.1, interval.km / (math.exp(car.log_level) * total)))
            weight = max(interval.months, 0.5)
            shares = [s / total for s in shares]
            for a in range(12):
                if shares[a]:
                    right[a] += weight * shares[a] * ratio
                    for b in range(12):
                        normal[a][b] += weight * shares[a] * shares[b]
    season = [max(0.2, s) for s in _solve(normal, right)]
    mean = sum(season) / 12
    return tuple(round(s / mean, 3) for s in season)


DECLINE_PSEUDO = 50.0  # car-years² of evidence the base decline weighs as


def _pooled_decline(cars: Sequence[_Car], prior: MileagePrior) -> float:
    """Within each car, the slope of log km per expected km (season applied, no decline) on
    the car's age: the decline of the same car as it ages, not of old cars against new."""
    sxx, sxy = DECLINE_PSEUDO, -prior.decline * DECLINE_PSEUDO
    for car in cars:
        shape = _Shape(prior.season, 0.0, _born(car.history.year, car.history.readings))
        points = []
        for interval in car.intervals:
            if interval.months < 3 or interval.extra:
                continue
            exposure = shape.exposure(interval.start, interval.end)
            if interval.km <= 0 or exposure <= 0:
                continue
            middle = interval.start + (interval.end - interval.start) / 2
            age = _days(shape.born, middle) / YEAR_DAYS
            points.append((age, math.log(interval.km / exposure), interval.months))
        if len(points) < 2:
            continue
        weights = sum(p[2] for p in points)
        mean_age = sum(p[0] * p[2] for p in points) / weights
        mean_log = sum(p[1] * p[2] for p in points) / weights
        for age, log_rate, months in points:
            sxx += months * (age - mean_age) ** 2
            sxy += months * (age - mean_age) * (log_rate - mean_log)
    return round(min(0.25, max(0.0, -sxy / sxx)), 4)


GROUP_PSEUDO_CARS = 30.0  # cars a region's or a make's factor needs to move halfway


def _pooled_levels(cars: Sequence[_Car], prior: MileagePrior) -> MileagePrior:
    """The national level and the region and make factors (additive in log, backfitted and
    shrunk toward none by GROUP_PSEUDO_CARS)."""
    if not cars:
        return prior
    overall = sum(c.log_level for c in cars) / len(cars)
    regions: dict[str, float] = {}
    makes: dict[str, float] = {}
    for _ in range(4):
        regions = _group_effects(cars, overall, makes, lambda h: h.region, lambda h: h.make)
        makes = _group_effects(cars, overall, regions, lambda h: h.make, lambda h: h.region)
    return replace(
        prior,
        km_per_year=round(math.exp(overall) * YEAR_DAYS, -1),
        region={k: round(math.exp(v), 3) for k, v in sorted(regions.items())},
        make={k.upper(): round(math.exp(v), 3) for k, v in sorted(makes.items())},
    )


def _group_effects(
    cars: Sequence[_Car],
    overall: float,
    other: Mapping[str, float],
    key: Callable[[CarHistory], str | None],
    other_key: Callable[[CarHistory], str | None],
) -> dict[str, float]:
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for car in cars:
        group = key(car.history)
        if not group:
            continue
        residual = car.log_level - overall - other.get(other_key(car.history) or "", 0.0)
        sums[group] = sums.get(group, 0.0) + residual
        counts[group] = counts.get(group, 0) + 1
    return {g: sums[g] / (counts[g] + GROUP_PSEUDO_CARS) for g in sums}


def _residuals(car: _Car, prior: MileagePrior) -> list[tuple[_Interval, float]]:
    shape = _shape_of(car, prior)
    level = math.exp(car.log_level)
    return [(i, _observed_log_level(i, shape, level) - car.log_level) for i in car.intervals]


def _pooled_noise(cars: Sequence[_Car], prior: MileagePrior) -> tuple[float, float]:
    """(month-to-month σ, drift a year) from pairs of a car's intervals one apart (adjacent
    ones share a calendar month, so their noise is not independent): their difference in log
    level is noise over their months plus drift over the time between them. The noise comes
    from short pairs (robustly: a median), the drift from the rest."""
    noise_samples: list[float] = []
    pairs: list[tuple[float, float, float]] = []  # (squared difference, Σ 1/months, years)
    for car in cars:
        found = [(i, r) for i, r in _residuals(car, prior) if not i.extra]
        for (first, a), (second, b) in zip(found, found[2:], strict=False):
            inverse = 1 / max(1.0, first.months) + 1 / max(1.0, second.months)
            years = _days(first.start, second.end) / YEAR_DAYS / 2
            difference = min(9.0, (a - b) ** 2)
            pairs.append((difference, inverse, years))
            if first.months <= 2 and second.months <= 2:
                noise_samples.append(difference / inverse)
    noise = prior.noise
    if len(noise_samples) >= 50:
        # The median of a χ²(1) is 0.455 of its mean.
        noise = math.sqrt(median(noise_samples) / 0.455)
    long_pairs = [p for p in pairs if p[2] >= 0.5]
    drift = prior.drift
    if len(long_pairs) >= 50:
        excess = sum(d - noise**2 * inverse for d, inverse, _ in long_pairs)
        drift = excess / sum(years for _, _, years in long_pairs)
    return round(min(0.8, max(0.1, noise)), 3), round(min(MAX_DRIFT, max(0.002, drift)), 4)


def _pooled_spread(cars: Sequence[_Car], prior: MileagePrior) -> float:
    """σ of the cars' own levels around their region and make, less what their own noise adds."""
    spreads = []
    for car in cars:
        months = sum(i.months for i in car.intervals)
        if months < 12:
            continue
        expected = math.log(prior.level(car.history.region, car.history.make))
        own = prior.noise**2 / months
        spreads.append((car.log_level - expected) ** 2 - own)
    if len(spreads) < 30:
        return prior.spread
    return round(min(1.2, max(0.15, math.sqrt(max(0.0, sum(spreads) / len(spreads))))), 3)
