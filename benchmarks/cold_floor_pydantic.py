"""`benchmarks.cold_floor` plus pydantic: its import and one small model built and used.

Not a handler: the least a function pays whose usual call parses a pydantic model (the webhook
and ingest validate events with pydantic, the channel worker reads its message as one, the
journey worker its journeys), whatever it makes lazy. The first model built also imports
`importlib.metadata` (pydantic's plugin loader), even with plugins disabled.
"""

from trigly.platform.startup import init_phase

with init_phase():  # as every handler imports
    from pydantic import BaseModel

    from benchmarks.cold_floor import logger, metrics, traced_handler

    class Probe(BaseModel):
        id: str
        count: int

    Probe.model_validate({"id": "x", "count": 1})

__all__ = ["logger", "metrics", "traced_handler"]
