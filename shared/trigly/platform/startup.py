"""A handler's init phase with the cyclic garbage collector paused.

Importing a handler allocates hundreds of thousands of long-lived objects (botocore's models,
pydantic's validators, Powertools): with the collector on, each generation-0 collection during the
import walks the ever-growing young heap, 45-70 ms CPU of a worker's cold start (ADR 0019). The
handler imports inside `init_phase()`: the collector is paused, and at the end what the import
made is frozen (moved to the permanent generation, never walked again: it lives as long as the
container anyway) and the collector resumes, also when the import fails.

The price: cyclic garbage made during the import is never collected (a one-off, bounded by what
the imports discard).
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def init_phase() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
