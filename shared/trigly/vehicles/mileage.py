"""Today's estimated mileage of a car from its odometer readings.

The daily rate is the rate observed across the readings, shrunk toward a prior (Russia's
average, ~17,500 km a year) in proportion to how little history there is: a car seen twice a
month apart says little about its yearly use, a car seen over three years says a lot. A single
reading of a car whose age is known counts as the span from its model year's mid-point. The
uncertainty shrinks the same way. (The lifecycle work refines this with seasonality and priors by
brand and region.)
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from trigly.vehicles.model import OdometerReading

PRIOR_KM_PER_YEAR = 17_500.0
PRIOR_KM_PER_DAY = PRIOR_KM_PER_YEAR / 365.0
# Days of observed history that weigh as much as the prior.
PRIOR_WEIGHT_DAYS = 180.0
MIN_SPAN_DAYS = 14.0


@dataclass(frozen=True)
class MileageEstimate:
    km: int
    daily_km: float
    sd_km: int  # one standard deviation of the estimate today


def daily_rate(readings: list[OdometerReading], year: int | None) -> tuple[float, float]:
    """(km per day, weight of the observation in 0..1)."""
    span_days = 0.0
    observed = PRIOR_KM_PER_DAY
    if len(readings) >= 2:
        first, last = readings[0], readings[-1]
        span_days = (last.at - first.at).total_seconds() / 86_400
        if span_days >= MIN_SPAN_DAYS:
            observed = max(0.0, (max(r.km for r in readings) - first.km) / span_days)
        else:
            span_days = 0.0
    if span_days == 0.0 and readings and year:
        # One reading of a car of known age: its whole life so far is the observation.
        born = datetime(year, 7, 1, tzinfo=UTC)
        span_days = (readings[-1].at - born).total_seconds() / 86_400
        if span_days >= 90:
            observed = readings[-1].km / span_days
        else:
            span_days = 0.0
    weight = span_days / (span_days + PRIOR_WEIGHT_DAYS)
    return weight * observed + (1 - weight) * PRIOR_KM_PER_DAY, weight


def estimate(
    readings: list[OdometerReading], year: int | None, now: datetime
) -> MileageEstimate | None:
    """Never below the highest reading; grows with time since the last one."""
    if not readings:
        return None
    rate, weight = daily_rate(readings, year)
    last = readings[-1]
    highest = max(r.km for r in readings)
    days = max(0.0, (now - last.at).total_seconds() / 86_400)
    km = max(highest, round(last.km + rate * days))
    sd = round(rate * days * (0.15 + 0.5 * (1 - weight)))
    return MileageEstimate(km=km, daily_km=round(rate, 2), sd_km=sd)
