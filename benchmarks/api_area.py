"""What one per-area API function would load, for `benchmarks.cold_start` (the "split" figure).

The product has one API function (`functions.api.app`, every router). This module builds the
same resolver (validation on) with one area's router only: customers, the 360° read and the
routes a DMS integration calls most. Its cold start against the same baseline says what a
split of the API into per-area functions (or routers loaded on demand) would buy; it is a
measurement, not a handler.
"""

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from functions.api import access, customers
from trigly.platform import tenancy
from trigly.platform.http import problem_response
from trigly.platform.observability import logger, traced_handler

app = APIGatewayHttpResolver(enable_validation=True)
app.include_router(customers.router, prefix="/v1")

__all__ = ["access", "app", "logger", "problem_response", "tenancy", "traced_handler"]
