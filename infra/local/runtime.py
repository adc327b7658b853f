"""Lambda's Python runtime, in process: load a handler from its Handler string and invoke it.

Each function behaves as one warm container: its module is imported once, and it handles one
event at a time (a lock per function), as a Lambda execution environment does.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from infra.deploy import DeployedFunction
from infra.local import console
from infra.template import REPO_ROOT

Handler = Callable[[Any, Any], Any]


class LambdaContext:
    """The context object the Python runtime passes (awslambdaric's attribute names and types)."""

    def __init__(self, function: DeployedFunction, request_id: str | None = None) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        # The runtime reads this from AWS_LAMBDA_FUNCTION_MEMORY_SIZE, so it is a string there.
        self.memory_limit_in_mb = str(function.memory_size)
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + function.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def module_and_attribute(handler: str) -> tuple[str, str]:
    """`functions/webhook/app.handler` → (`functions.webhook.app`, `handler`), as Lambda does."""
    path, _, attribute = handler.rpartition(".")
    if not path or not attribute:
        raise ValueError(f"bad handler {handler!r}: expected path/to/module.function")
    return path.replace("/", "."), attribute


class FunctionHost:
    """Every function of the stack, invocable by logical id."""

    def __init__(self, functions: Mapping[str, DeployedFunction]) -> None:
        self.functions = dict(functions)
        self._handlers: dict[str, Handler] = {}
        self._locks = {logical_id: threading.Lock() for logical_id in functions}
        # Called after every invocation (e.g. to collect the mail it sent into the outbox).
        self.after_invoke: list[Callable[[], object]] = []
        root = str(REPO_ROOT)
        if root not in sys.path:  # the artifact's root: functions/ and trigly/ side by side
            sys.path.insert(0, root)

    def handler(self, logical_id: str) -> Handler:
        """The function's handler, imported on first use (a failed import is retried next time)."""
        if logical_id not in self._handlers:
            module_name, attribute = module_and_attribute(self.functions[logical_id].handler)
            handler: Handler = getattr(importlib.import_module(module_name), attribute)
            self._handlers[logical_id] = handler
        return self._handlers[logical_id]

    def warm_up(self) -> dict[str, str]:
        """Import every handler now; returns the ones that failed, with the reason."""
        failures: dict[str, str] = {}
        for logical_id in self.functions:
            try:
                self.handler(logical_id)
            except Exception as error:  # reported, and retried on first invoke
                failures[logical_id] = f"{type(error).__name__}: {error}"
        return failures

    def invoke(self, logical_id: str, event: Any, request_id: str | None = None) -> Any:
        """Run the handler as Lambda would; its exception propagates to the caller (the trigger)."""
        function = self.functions[logical_id]
        with self._locks[logical_id]:
            context = LambdaContext(function, request_id)
            started = time.monotonic()
            try:
                return self.handler(logical_id)(event, context)
            finally:
                for hook in self.after_invoke:
                    hook()
                elapsed = time.monotonic() - started
                if elapsed > function.timeout:
                    print(
                        f"!! {logical_id} ran {elapsed:.1f} s, over its {function.timeout} s "
                        "timeout: on AWS this invocation would have been killed",
                        file=sys.stderr,
                    )


def report_failure(what: str) -> None:
    """Print the current exception's traceback, as CloudWatch Logs would show it."""
    log = console.log_path()
    console.say(f"!! {what}" + (f" (traceback in {log})" if log else ""))
    traceback.print_exc(file=sys.stderr)
