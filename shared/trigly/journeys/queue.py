"""The journey queue (SQS): every piece of journey work goes through it, so each is retried
on its own."""

import json
from typing import Any

from trigly.platform import aws
from trigly.platform.settings import get_settings


def enqueue(bodies: list[dict[str, Any]]) -> None:
    aws.send_all(
        get_settings().journey_queue_url, [json.dumps(b) for b in bodies], "journey messages"
    )
