"""Logger, Tracer and Metrics, created once per container and shared by every module.

Log lines carry structured keys (ids, counts), never a phone, email or name: callers pass ids.
Traces carry timings and annotations only: `traced_handler` keeps a handler's response and error
out of X-Ray (a response can be a 360° profile, a one-time API key or a webhook secret).
"""

from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(utc=True)
# Patch only botocore: the default also imports httpx and requests into every function.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()


def traced_handler[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """The handler in its own X-Ray subsegment, without its response or error as metadata.

    The template also sets POWERTOOLS_TRACER_CAPTURE_RESPONSE/ERROR=false for every function,
    so a handler decorated with the bare `tracer.capture_lambda_handler` records nothing either.
    """
    traced = tracer.capture_lambda_handler(handler, capture_response=False, capture_error=False)
    return cast("Handler", traced)
