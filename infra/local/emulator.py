"""Where moto's cost grows with a queue's depth, the local stack makes it not (ARCHITECTURE,
"Emulator facts").

moto's `Queue.attributes` computes the three approximate message counts (each a pass over every
message in the queue, reading the clock per message) whenever any attribute is read, and SQS's
SendMessage reads one for every message sent (`ContentBasedDeduplication`), ReceiveMessage three
for every message received (`MessageRetentionPeriod`). With a backlog of 10,000 messages, a
500-event webhook took 80 s. Here the counts are computed only when asked for
(GetQueueAttributes), so a send or a receive no longer walks the whole queue to learn a setting.

moto's EventBridge also builds a JSONPath parser (ply's parser tables, milliseconds each) for
every path of every event it delivers through an input transformer: one per path, reused here.

moto's DynamoDB TransactWriteItems deep-copies every table it touches before it starts, to roll
back on a cancellation: with the webhook claiming its events 100 to a transaction, that was a
copy of the whole idempotency table (100,000 claims after 100,000 events) per transaction. Here
it checks every condition first and writes only when none failed, as DynamoDB does (a
transaction touches an item once, so no condition depends on another write of it), and undoes
the items it wrote if a write fails. And moto parses a condition or filter expression anew on
every request (a hand-written lexer, ~1 ms): parsed once per expression here.

Per request, moto's server also lists its own package directory to recognise a service name
(`list_of_moto_modules`, a `stat` per entry) and lists a response class's methods with
`inspect.getmembers` to find the action: both never change while the stack runs, so they are
computed once (~8 % of the stack's CPU while it applies a backlog).

Only the local stack installs these; tests of the product use moto as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

# The counts moto derives from the messages; every other attribute is a stored setting.
COUNTS = {
    "ApproximateNumberOfMessages": "approximate_number_of_messages",
    "ApproximateNumberOfMessagesDelayed": "approximate_number_of_messages_delayed",
    "ApproximateNumberOfMessagesNotVisible": "approximate_number_of_messages_not_visible",
}


class QueueAttributes(Mapping[str, Any]):
    """A queue's attributes as moto's `Queue.attributes` gives them, the counts read on access."""

    def __init__(self, queue: Any, settings: dict[str, Any]) -> None:
        self._queue = queue
        self._settings = settings
        self._names = [*COUNTS, *settings]

    def __getitem__(self, name: str) -> Any:
        if name in COUNTS:
            return getattr(self._queue, COUNTS[name])
        return self._settings[name]

    def __contains__(self, name: object) -> bool:
        return name in COUNTS or name in self._settings

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _settings(queue: Any) -> dict[str, Any]:
    """moto 5's `Queue.attributes` without the counts (same names, values and encoding)."""
    from moto.core.utils import camelcase_to_underscores

    names = [name for name in queue.BASE_ATTRIBUTES if name not in COUNTS]
    if queue.fifo_queue:
        names += queue.FIFO_ATTRIBUTES
    if queue.kms_master_key_id:
        names += queue.KMS_ATTRIBUTES
    result: dict[str, Any] = {n: getattr(queue, camelcase_to_underscores(n)) for n in names}
    if queue.policy:
        result["Policy"] = queue.policy
    if queue.redrive_policy:
        import json

        result["RedrivePolicy"] = json.dumps(queue.redrive_policy)
    return {
        name: str(value).lower() if isinstance(value, bool) else value
        for name, value in result.items()
    }


class _LazyAttributes:
    """The descriptor that replaces moto's `Queue.attributes` property."""

    def __init__(self, original: Any) -> None:
        self.original = original

    def __get__(self, queue: Any, owner: type | None = None) -> Any:
        if queue is None:
            return self
        return QueueAttributes(queue, _settings(queue))


Reason = tuple[str | None, str | None, dict[str, Any] | None]  # code, message, old item
Write = tuple[str, dict[str, Any], dict[str, Any]]  # op type, key, op


def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto 5's `DynamoDBBackend.transact_write_items` (same checks, errors and cancellation
    reasons) without copying the tables: conditions first, then the writes, undone item by item
    if one fails."""
    from moto.dynamodb.exceptions import TooManyTransactionsException, TransactionCanceledException

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    writes: list[Write] = []
    reasons: list[Reason] = []
    for entry in transact_items:
        reason, write = _check(backend, entry, seen)
        reasons.append(reason)
        if write is not None:
            writes.append(write)
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    _write_all(backend, writes)


def _check(
    backend: Any, entry: dict[str, Any], seen: set[tuple[str, str]]
) -> tuple[Reason, Write | None]:
    """One transaction item's condition: its cancellation reason (or none), and its write."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MultipleTransactionsException,
        TransactWriteSingleOpException,
    )

    if len(entry) > 1:
        raise TransactWriteSingleOpException
    op_type, op = next(iter(entry.items()))
    original_item = None
    try:
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        table = backend.get_table(op["TableName"])
        key = _key(table, op) if op_type == "Put" else op["Key"]
        identity = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        current = backend.get_item(op["TableName"], key)
        if op.get("ConditionExpression") is not None and not _condition(op).expr(current):
            if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                original_item = current.to_json()["Attributes"]
            raise ConditionalCheckFailed(item=original_item)
    except ConditionalCheckFailed as exc:
        return ("ConditionalCheckFailed", str(exc.message), original_item), None
    except Exception as exc:
        # moto's validation errors fail the whole request; anything else is the item's reason.
        if isinstance(exc, MultipleTransactionsException) or (
            type(exc).__name__ == "MockValidationException"
        ):
            raise
        return (type(exc).__name__, str(exc), original_item), None
    return (None, None, None), None if op_type == "ConditionCheck" else (op_type, key, op)


def _key(table: Any, op: dict[str, Any]) -> dict[str, Any]:
    item = op["Item"]
    key = {table.hash_key_attr: item[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = item[table.range_key_attr]
    return key


def _condition(op: dict[str, Any]) -> Any:
    from moto.dynamodb.comparisons import get_filter_expression

    return get_filter_expression(
        op.get("ConditionExpression"),
        op.get("ExpressionAttributeNames"),
        op.get("ExpressionAttributeValues"),
    )


def _write_all(backend: Any, writes: list[Write]) -> None:
    """Each write as moto's transaction makes it; if one fails, the ones made are undone."""
    import copy

    from moto.dynamodb.exceptions import TransactionCanceledException

    done: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []  # table, key, before
    for index, (op_type, key, op) in enumerate(writes):
        table_name = op["TableName"]
        before = backend.get_item(table_name, key)
        names = op.get("ExpressionAttributeNames")
        values = op.get("ExpressionAttributeValues")
        try:
            if op_type == "Put":
                backend.put_item(table_name, op["Item"])
            elif op_type == "Delete":
                backend.delete_item(table_name, key, names, values)
            else:
                backend.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
        except Exception as exc:
            for undo_table, undo_key, undo_before in reversed(done):
                if undo_before is None:
                    backend.delete_item(undo_table, undo_key)
                else:
                    backend.put_item(undo_table, undo_before)
            if type(exc).__name__ == "MockValidationException":
                raise
            reasons: list[Reason] = [(None, None, None)] * len(writes)
            reasons[index] = (type(exc).__name__, str(exc), None)
            raise TransactionCanceledException(reasons) from exc
        done.append(
            (table_name, key, copy.deepcopy(before.to_json()["Attributes"]) if before else None)
        )


class _Parsed:
    """A moto `ConditionExpressionParser` after its `parse()`: the parsed tree (read-only when
    evaluated) and every attribute the parse left (the names and values it found, which moto's
    request validation reads)."""

    def __init__(self, parsed: Any, state: dict[str, Any]) -> None:
        self._parsed = parsed
        for name, value in state.items():
            setattr(self, name, list(value) if isinstance(value, list) else value)

    def parse(self) -> Any:
        return self._parsed


def _parsed_once(create: Any) -> Any:
    """moto's `create_condition_expression_parser`, parsing each expression once; an expression
    that does not parse raises each time, as moto's does."""
    import json

    cache: dict[str, tuple[Any, dict[str, Any]]] = {}

    def parser(expr: str | None, names: Any, values: Any) -> _Parsed:
        key = json.dumps([expr, names or {}, values or {}], sort_keys=True)
        if key not in cache:
            if len(cache) > 4096:
                cache.clear()
            fresh = create(expr, names, values)
            cache[key] = (fresh.parse(), dict(vars(fresh)))
        return _Parsed(*cache[key])

    parser.__wrapped__ = create  # type: ignore[attr-defined]
    return parser


def _listed_once(list_modules: Any) -> Any:
    modules: tuple[str, ...] = ()

    def listed() -> tuple[str, ...]:
        nonlocal modules
        if not modules:
            modules = tuple(list_modules())
        return modules

    listed.__wrapped__ = list_modules  # type: ignore[attr-defined]
    return listed


def _methods_once(method_names: Any) -> Any:
    cache: dict[object, tuple[str, ...]] = {}

    def names(clazz: object) -> list[str]:
        if clazz not in cache:
            cache[clazz] = tuple(method_names(clazz))
        return list(cache[clazz])

    names.__wrapped__ = method_names  # type: ignore[attr-defined]
    return names


def install() -> None:
    """Make moto's queue attributes lazy, its JSONPath and condition parsing and request
    dispatch cached and its transactions copy no tables, in this process (idempotent)."""
    import jsonpath_ng.ext
    import moto.backends
    import moto.core.responses
    import moto.dynamodb.comparisons as dynamodb_comparisons
    import moto.dynamodb.models as dynamodb_models
    import moto.dynamodb.responses as dynamodb_responses
    from moto.dynamodb.models import DynamoDBBackend
    from moto.sqs.models import Queue

    current = Queue.__dict__["attributes"]
    if not isinstance(current, _LazyAttributes):
        Queue.attributes = _LazyAttributes(current)  # type: ignore[method-assign, assignment]
    if not hasattr(jsonpath_ng.ext.parse, "cache_info"):
        jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)
    if DynamoDBBackend.transact_write_items is not transact_write_items:
        _ORIGINALS["transact_write_items"] = DynamoDBBackend.transact_write_items
        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    create = dynamodb_comparisons.create_condition_expression_parser
    if not hasattr(create, "__wrapped__"):
        cached = _parsed_once(create)  # one cache for every module that imported it
        for module in (dynamodb_comparisons, dynamodb_models, dynamodb_responses):
            module.create_condition_expression_parser = cached
    if not hasattr(moto.backends.list_of_moto_modules, "__wrapped__"):
        moto.backends.list_of_moto_modules = _listed_once(moto.backends.list_of_moto_modules)
    if not hasattr(moto.core.responses.method_names_from_class, "__wrapped__"):
        moto.core.responses.method_names_from_class = _methods_once(
            moto.core.responses.method_names_from_class
        )


_ORIGINALS: dict[str, Any] = {}


def uninstall() -> None:
    """moto as it was (for tests)."""
    import jsonpath_ng.ext
    import moto.backends
    import moto.core.responses
    import moto.dynamodb.comparisons as dynamodb_comparisons
    import moto.dynamodb.models as dynamodb_models
    import moto.dynamodb.responses as dynamodb_responses
    from moto.dynamodb.models import DynamoDBBackend
    from moto.sqs.models import Queue

    current = Queue.__dict__["attributes"]
    if isinstance(current, _LazyAttributes):
        Queue.attributes = current.original  # type: ignore[method-assign]
    if hasattr(jsonpath_ng.ext.parse, "cache_info"):
        jsonpath_ng.ext.parse = jsonpath_ng.ext.parse.__wrapped__
    if "transact_write_items" in _ORIGINALS:
        DynamoDBBackend.transact_write_items = _ORIGINALS.pop(  # type: ignore[method-assign]
            "transact_write_items"
        )
    for module in (dynamodb_comparisons, dynamodb_models, dynamodb_responses):
        create = module.create_condition_expression_parser
        if hasattr(create, "__wrapped__"):
            module.create_condition_expression_parser = create.__wrapped__
    for module, name in (
        (moto.backends, "list_of_moto_modules"),
        (moto.core.responses, "method_names_from_class"),
    ):
        patched = getattr(module, name)
        if hasattr(patched, "__wrapped__"):
            setattr(module, name, patched.__wrapped__)
