"""EventBridge Scheduler, locally: the template's schedules fire on the stack's business clock.

The caller moves the clock to each firing time before `fire`, so a handler reading
`trigly.platform.clock.now()` sees the moment it was scheduled for. Scheduler invokes Lambda
asynchronously: a handler error is retried by Lambda (twice by default, here at once), then
sent to the function's failure queue if the template gives one, else dropped (and logged).
"""

from __future__ import annotations

import heapq
import json
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from infra.deploy import DeployedStack, Schedule
from infra.local import schedule as expressions
from infra.local.runtime import FunctionHost, report_failure
from infra.template import logical_id_of

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

DEFAULT_ASYNC_RETRIES = 2


def iso_z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class AsyncConfig:
    """How Lambda treats a failed asynchronous invocation of one function."""

    retries: int
    failure_queue_url: str | None


def async_configs(stack: DeployedStack) -> dict[str, AsyncConfig]:
    """Each function's EventInvokeConfig / DeadLetterQueue, as the template declares them."""
    from infra.template import functions

    configs: dict[str, AsyncConfig] = {}
    for logical_id, props in functions(stack.sam_template).items():
        invoke = props.get("EventInvokeConfig") or {}
        target = (props.get("DeadLetterQueue") or {}).get("TargetArn") or (
            (invoke.get("DestinationConfig") or {}).get("OnFailure") or {}
        ).get("Destination")
        queue = stack.queues.get(logical_id_of(target) or "")
        configs[logical_id] = AsyncConfig(
            retries=int(invoke.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRIES)),
            failure_queue_url=queue.url if queue else None,
        )
    return configs


@dataclass(frozen=True)
class Firing:
    at: datetime
    schedule: Schedule


class Scheduler:
    def __init__(
        self,
        schedules: Sequence[Schedule],
        host: FunctionHost,
        *,
        anchor: datetime,
        account_id: str,
        region: str,
        sqs: SQSClient,
        async_config: Mapping[str, AsyncConfig] | None = None,
    ) -> None:
        self.schedules = [s for s in schedules if s.enabled]
        self._recurrences = {s.name: expressions.parse(s.expression, s.timezone) for s in schedules}
        self.host = host
        self.anchor = anchor
        self.checked_until = anchor  # every firing up to here has been handled
        self.account_id = account_id
        self.region = region
        self.sqs = sqs
        self.async_config = dict(async_config or {})

    def due(self, until: datetime) -> Iterator[Firing]:
        """Firings after the last handled one and up to `until`, in time order."""
        streams = [
            (
                (moment, index, schedule)
                for moment in self._recurrences[schedule.name].firings(
                    self.anchor, self.checked_until, until
                )
            )
            for index, schedule in enumerate(self.schedules)
        ]
        for moment, _, schedule in heapq.merge(*streams):
            yield Firing(moment, schedule)

    def mark(self, until: datetime) -> None:
        self.checked_until = max(self.checked_until, until)

    def event(self, firing: Firing, attempt: int = 1) -> Any:
        schedule = firing.schedule
        execution_id = uuid.uuid4().hex[:16]
        if schedule.input is not None:
            # Scheduler substitutes its context attributes inside the target's input.
            text = (
                schedule.input.replace("<aws.scheduler.schedule-arn>", schedule.arn)
                .replace("<aws.scheduler.scheduled-time>", iso_z(firing.at))
                .replace("<aws.scheduler.execution-id>", execution_id)
                .replace("<aws.scheduler.attempt-number>", str(attempt))
            )
            return json.loads(text)
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.scheduler",
            "account": self.account_id,
            "time": iso_z(firing.at),
            "region": self.region,
            "resources": [schedule.arn],
            "detail": "{}",
        }

    def fire(self, firing: Firing) -> bool:
        """Invoke the schedule's function (with Lambda's async retries); True if it succeeded."""
        function = firing.schedule.function
        config = self.async_config.get(function, AsyncConfig(DEFAULT_ASYNC_RETRIES, None))
        event = self.event(firing)
        for attempt in range(1, config.retries + 2):
            try:
                self.host.invoke(function, event)
                return True
            except Exception:  # Lambda retries an async invocation on any error
                report_failure(
                    f"{function} failed on {firing.schedule.name} at {iso_z(firing.at)} "
                    f"(attempt {attempt} of {config.retries + 1})"
                )
        if config.failure_queue_url:
            self.sqs.send_message(QueueUrl=config.failure_queue_url, MessageBody=json.dumps(event))
        else:
            print(f"!! {firing.schedule.name} at {iso_z(firing.at)} dropped", file=sys.stderr)
        return False
