"""What every function loads before its own code, for `benchmarks.cold_start` (the "floor").

Not a handler: imported the way handlers import (`trigly.platform.startup.init_phase`),
Powertools' Logger, Metrics and Tracer (botocore patched for X-Ray) as
`trigly.platform.observability` sets them up, and the settings read from the environment. With
the clients and PynamoDB's models the probe adds, its ratio is the least any handler can have.
`benchmarks.cold_floor_pydantic` adds what a handler whose first call reads one pydantic model
pays on top.
"""

from trigly.platform.startup import init_phase

with init_phase():  # as every handler imports
    from trigly.platform.observability import logger, metrics, traced_handler
    from trigly.platform.settings import get_settings

    get_settings()

__all__ = ["logger", "metrics", "traced_handler"]
