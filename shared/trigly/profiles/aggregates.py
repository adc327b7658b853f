"""Computed aggregates of the 360° view, derived on read from the records in the collection, so
they are always consistent with the history they summarise and cost no writes."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from trigly.platform.models import DeferredModel
from trigly.profiles.records import PartsPurchase, Purchase, ServiceVisit

ACTIVE_WITHIN = timedelta(days=548)  # a visit or purchase in the last 18 months
MONETARY_WINDOW = timedelta(days=3 * 365)
LTV_YEARS = 5


class Aggregates(DeferredModel):
    visit_count: int
    last_visit_at: datetime | None
    recency_days: int | None
    frequency_per_year: float
    monetary_3y: float
    total_service_spend: float
    total_spend: float
    status: str  # active, dormant, new
    ltv_5y_estimate: float


def compute(
    visits: Sequence[ServiceVisit],
    purchases: Sequence[Purchase],
    parts: Sequence[PartsPurchase],
    now: datetime,
) -> Aggregates:
    """Service spend counts repair orders and parts bought over the counter."""
    service_spend = sum(v.total_amount for v in visits) + sum(p.total_amount for p in parts)
    car_spend = sum(p.price for p in purchases)
    moments = [v.closed_at for v in visits] + [p.sold_at for p in purchases] + [p.at for p in parts]
    last_visit = max((v.closed_at for v in visits), default=None)
    first_visit = min((v.closed_at for v in visits), default=None)
    if not moments:
        status = "new"
    elif now - max(moments) <= ACTIVE_WITHIN:
        status = "active"
    else:
        status = "dormant"
    span_years = max(1.0, (now - first_visit).days / 365) if first_visit else 1.0
    recent = [v for v in visits if now - v.closed_at <= MONETARY_WINDOW]
    yearly_service = sum(v.total_amount for v in recent) / min(span_years, 3.0)
    return Aggregates(
        visit_count=len(visits),
        last_visit_at=last_visit,
        recency_days=(now - last_visit).days if last_visit else None,
        frequency_per_year=round(len(visits) / span_years, 2),
        monetary_3y=round(sum(v.total_amount for v in recent), 2),
        total_service_spend=round(service_spend, 2),
        total_spend=round(service_spend + car_spend, 2),
        status=status,
        # Service revenue expected from the customer over five years if they keep their pace;
        # dormant customers are expected to bring nothing until they come back.
        ltv_5y_estimate=round(yearly_service * LTV_YEARS if status != "dormant" else 0.0, 2),
    )
