"""Logger, Tracer and Metrics, created once per container and shared by every module.

Log lines carry structured keys (ids, counts), never a phone, email or name: callers pass ids.
Traces carry timings and annotations only: `traced_handler` keeps a handler's response and error
out of X-Ray (a response can be a 360° profile, a one-time API key or a webhook secret).
"""

import functools
from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools import Logger, Metrics, Tracer

from trigly.analytics import notices

logger = Logger(utc=True)
# Patch only botocore: the default also imports httpx and requests into every function.
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()

# Before any AWS client exists: every write to a customer's collection is noted (ADR 0022).
notices.install()


def send_change_notices() -> None:
    """Tell the analytics projection which customers this invocation changed. A failure is
    logged, never raised: the data is written, the answer stands; the notes wait for the next
    invocation's flush (and `trigly analytics rebuild` repairs a view that missed one)."""
    try:
        sent = notices.flush()
    except Exception:
        logger.exception("analytics change notices not sent")
        return
    if sent:
        logger.debug("analytics change notices sent", extra={"customers": sent})


def traced_handler[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """The handler in its own X-Ray subsegment, without its response or error as metadata.

    The template also sets POWERTOOLS_TRACER_CAPTURE_RESPONSE/ERROR=false for every function,
    so a handler decorated with the bare `tracer.capture_lambda_handler` records nothing either.
    When the handler ends (answered or raised), the customers it changed go to the analytics
    projection (`send_change_notices`).
    """

    @functools.wraps(handler)
    def noticed(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            send_change_notices()

    traced = tracer.capture_lambda_handler(noticed, capture_response=False, capture_error=False)
    return cast("Handler", traced)
