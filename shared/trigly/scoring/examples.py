"""Training examples from a tenant's own history: what was known at T → bought in (T, T+180 d].

For each past moment T (monthly over the tenant's history, `moments`) and each customer the
dealer knew at T (a fact dated at or before T), one example: `features_at(…, T)` and the label,
whether a purchase from this dealer (a `SALE#` record of the customer) is dated in the window
(T, T + 180 days]. A moment whose window has not closed by `now` is skipped: its label would
say "did not buy" of customers who still may.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from trigly.profiles.records import CustomerHistory
from trigly.scoring.features import Features, aware, features_at, first_known
from trigly.vehicles.model import Vehicle

HORIZON = timedelta(days=180)  # CONTRACT §7: buys within 180 days
STEP = timedelta(days=30)  # a moment a month


@dataclass(frozen=True)
class CustomerFacts:
    """One customer's collection as scoring reads it."""

    customer_id: str
    history: CustomerHistory
    cars: Sequence[Vehicle] = field(default_factory=tuple)
    birth_date: date | None = None


@dataclass(frozen=True)
class Example:
    customer_id: str
    as_of: datetime
    features: Features
    bought: bool  # a purchase dated in (as_of, as_of + HORIZON]


def bought_within(history: CustomerHistory, as_of: datetime, horizon: timedelta = HORIZON) -> bool:
    """The label: a purchase from this dealer dated in (as_of, as_of + horizon]."""
    start = aware(as_of)
    return any(start < aware(p.sold_at) <= start + horizon for p in history.purchases)


def monthly_moments(
    customers: Iterable[CustomerFacts], now: datetime, step: timedelta = STEP
) -> list[datetime]:
    """Moments every `step` back from the last one whose window has closed (now − 180 days)
    to the tenant's first fact, oldest first."""
    firsts = [f for c in customers if (f := first_known(c.history)) is not None]
    if not firsts:
        return []
    start, moment = min(firsts), aware(now) - HORIZON
    found: list[datetime] = []
    while moment > start:
        found.append(moment)
        moment -= step
    return found[::-1]


def training_examples(
    customers: Iterable[CustomerFacts],
    moments: Iterable[datetime],
    *,
    now: datetime,
    horizon: timedelta = HORIZON,
) -> list[Example]:
    """One example per moment and customer known then; moments whose label window ends after
    `now` are skipped. Ordered by moment, then customer, as given."""
    closed = sorted(aware(m) for m in moments if aware(m) + horizon <= aware(now))
    people = [(c, first_known(c.history)) for c in customers]
    return [
        Example(
            customer_id=customer.customer_id,
            as_of=moment,
            features=features_at(
                customer.history, customer.cars, moment, birth_date=customer.birth_date
            ),
            bought=bought_within(customer.history, moment, horizon),
        )
        for moment in closed
        for customer, first in people
        if first is not None and first <= moment
    ]
