"""Import worker: one message is one step of an API import (split the file, or one chunk of it).

Each chunk goes through the same reader and Importer as `trigly import`, so every event takes
the webhook's path; a failed message is retried alone and ends in the import DLQ.
"""

from trigly.platform.startup import init_phase

with init_phase():
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from trigly.imports.jobs import handle
    from trigly.platform.batches import SQSRecord, process_partial_batch
    from trigly.platform.observability import logger, traced_handler


def run_step(record: SQSRecord) -> None:
    handle(record["body"])


@logger.inject_lambda_context
@traced_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_batch(event, run_step)
