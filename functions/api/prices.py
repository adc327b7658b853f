"""What scheduled services cost per make and model: reminders quote these prices."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.api.context import current_tenant
from trigly.lifecycle.prices import MaintenancePrice, PriceQuote, price_key

router = APIGatewayHttpRouter()


@router.put(
    "/maintenance-prices",
    tags=["journeys"],
    summary="Set what a scheduled service costs on a make/model (reminders quote it)",
)
def set_price(price: MaintenancePrice) -> PriceQuote:
    from trigly.platform import clock
    from trigly.store import prices

    key = price_key(price.make, price.model, price.number)
    prices.set_price(
        current_tenant(router).tenant_id, key, price.amount, clock.isoformat(clock.now())
    )
    return PriceQuote(key=key, amount=price.amount)


@router.get(
    "/maintenance-prices/quote",
    tags=["journeys"],
    summary="The price a reminder would quote for a make/model and service number",
)
def quote_price(
    make: Annotated[str, Query(min_length=1)],
    number: Annotated[int, Query(ge=1, le=50)],
    model: Annotated[str | None, Query()] = None,
) -> PriceQuote:
    from trigly.store import prices

    key = price_key(make, model, number)
    return PriceQuote(key=key, amount=prices.quote(current_tenant(router).tenant_id, key))
