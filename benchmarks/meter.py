"""An AWS request meter: every botocore call counted per service and operation, and DynamoDB
calls priced in capacity units computed from the items themselves.

moto's `ConsumedCapacity` is a fixed number per call, blind to item size and to index writes, so
the meter prices each call by DynamoDB's documented rules (developer guide, "Item sizes and
formats" and "Capacity unit consumption"):

- item size: attribute names (UTF-8) + values; S: UTF-8 bytes; N: one byte per two significant
  digits + 1; B: raw bytes; BOOL/NULL: 1; L/M: 3 + the elements + 1 per element; sets: the sum of
  their elements;
- writes: one WRU per started KB of the larger of the item before and after (PutItem,
  UpdateItem, DeleteItem, each item of a BatchWriteItem), at least one; plus the index writes of
  every secondary index the item is (or was) projected into (sparse: only items carrying the
  index's key attributes); a failed conditional write still costs the write (one WRU if the
  item did not exist); TransactWriteItems costs two writes per item (prepare and commit);
- reads: one RRU per started 4 KB, half for an eventually consistent read, a missing item
  still costs one unit (0.5 eventually consistent); a BatchGetItem rounds each item, a Query or
  Scan rounds the sum of the items it evaluated (before any filter, whatever the projection);
  TransactGetItems costs two reads per item. Any Scan is flagged.

How it sees the calls: handlers on botocore's event system (`before-parameter-build`,
`before-call`, `after-call`, `after-call-error`). botocore has no global emitter, so `install()`
registers them the way moto registers its own stub: appended to `botocore.handlers.
BUILTIN_HANDLERS` (every botocore session created afterwards registers them, and every client
copies its session's handlers) and registered on every session and client that already exists.
That covers boto3's clients and PynamoDB's, which come from `botocore.session.get_session()`.

What the request and response do not tell (the item before an UpdateItem, the GSIs of a table,
the items a filtered Query evaluated) the meter learns with side requests of its own, made on a
private client and never counted. They are not atomic with the call they price: meter
single-threaded workloads.

    with meter() as m:
        handler(event, context)
    print(m.report())
"""

from __future__ import annotations

import copy
import gc
import json
import math
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import botocore.client
import botocore.handlers
import botocore.session

KB = 1024
READ_BLOCK = 4 * KB
MAX_NUMBER_BYTES = 21

Item = Mapping[str, Mapping[str, Any]]
"""A DynamoDB item in the low-level (typed) form botocore sends and parses: {"pk": {"S": ...}}."""

# ---------------------------------------------------------------------------------------- sizes


def number_size(text: str) -> int:
    """Bytes of a Number value: digits are stored in pairs aligned on the decimal point (base
    100), leading and trailing zero pairs dropped; + 1 byte, + 1 more if negative; zero is 1.

    The guide's rule is "1 byte per two significant digits + 1"; the pairing on the decimal
    point (so 1.5 and 10.5 differ) and the sign byte follow the measurements published with
    zaccharles/dynamodb-calculator.
    """
    value = Decimal(text.strip())
    if value == 0:
        return 1
    whole, _, fraction = format(value.copy_abs(), "f").partition(".")
    whole = whole.lstrip("0")
    fraction = fraction.rstrip("0")
    if len(whole) % 2:
        whole = "0" + whole
    if len(fraction) % 2:
        fraction += "0"
    digits = whole + fraction
    pairs = [digits[i : i + 2] for i in range(0, len(digits), 2)]
    while pairs and pairs[0] == "00":
        pairs.pop(0)
    while pairs and pairs[-1] == "00":
        pairs.pop()
    size = len(pairs) + 1 + (1 if value < 0 else 0)
    return min(size, MAX_NUMBER_BYTES)


def _binary_size(value: bytes | bytearray | str) -> int:
    # botocore hands raw bytes both ways; a str here is already-decoded text (count its bytes).
    return len(value) if isinstance(value, bytes | bytearray) else len(value.encode())


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one typed attribute value (without its name)."""
    [(kind, data)] = value.items()
    match kind:
        case "S":
            return len(data.encode())
        case "N":
            return number_size(data)
        case "B":
            return _binary_size(data)
        case "BOOL" | "NULL":
            return 1
        case "SS":
            return sum(len(s.encode()) for s in data)
        case "NS":
            return sum(number_size(n) for n in data)
        case "BS":
            return sum(_binary_size(b) for b in data)
        case "L":
            return 3 + sum(value_size(v) + 1 for v in data)
        case "M":
            return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Item | None) -> int:
    """Bytes of an item: its attribute names and values; 0 for no item."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


# ------------------------------------------------------------------------------ capacity rules


def write_units(*sizes: int) -> int:
    """WRU of one item write: a unit per started KB of the largest size given, at least one."""
    return max(1, math.ceil(max(sizes, default=0) / KB))


def read_blocks(size: int) -> int:
    """Started 4 KB blocks of a read, at least one (reading nothing still costs a unit)."""
    return max(1, math.ceil(size / READ_BLOCK))


def read_units(size: int, *, consistent: bool) -> float:
    """RRU of reading `size` bytes as one read (an item, or the sum a Query evaluated)."""
    blocks = read_blocks(size)
    return float(blocks) if consistent else blocks / 2


def batch_read_units(sizes: Iterable[int], *, consistent: bool) -> float:
    """RRU of a BatchGetItem: each item rounded to 4 KB on its own (a missing item is 0)."""
    blocks = sum(read_blocks(s) for s in sizes)
    return float(blocks) if consistent else blocks / 2


@dataclass(frozen=True)
class IndexSchema:
    """A secondary index as far as its write cost goes: its key and what it projects."""

    name: str
    keys: tuple[str, ...]
    projection: str = "ALL"  # ALL | KEYS_ONLY | INCLUDE
    non_key_attributes: tuple[str, ...] = ()

    def holds(self, item: Item | None) -> bool:
        """Sparse: an item is in the index only if it carries every index key attribute."""
        return item is not None and all(k in item for k in self.keys)

    def entry(self, item: Item, table_keys: Sequence[str]) -> dict[str, Any]:
        """The index's copy of an item."""
        if self.projection == "ALL":
            return dict(item)
        names = {*table_keys, *self.keys}
        if self.projection == "INCLUDE":
            names |= set(self.non_key_attributes)
        return {k: v for k, v in item.items() if k in names}


def index_write_units(
    old: Item | None, new: Item | None, index: IndexSchema, table_keys: Sequence[str]
) -> int:
    """WRU an index spends on one table write (developer guide, GSI write capacity): a put when
    the item enters the index, a delete when it leaves, both when its index key changes, one
    update when only projected attributes change, nothing when its entry stays the same."""
    was, now = index.holds(old), index.holds(new)
    if not was and not now:
        return 0
    before = index.entry(old, table_keys) if was and old is not None else None
    after = index.entry(new, table_keys) if now and new is not None else None
    if before is None:
        return write_units(item_size(after))
    if after is None:
        return write_units(item_size(before))
    if any(before[k] != after[k] for k in index.keys):
        return write_units(item_size(before)) + write_units(item_size(after))
    if before == after:
        return 0
    return write_units(item_size(before), item_size(after))


@dataclass(frozen=True)
class TableSchema:
    name: str
    keys: tuple[str, ...]
    indexes: tuple[IndexSchema, ...] = ()

    @classmethod
    def from_description(cls, table: Mapping[str, Any]) -> TableSchema:
        """From DescribeTable's `Table`: key schema, GSIs and LSIs (both cost index writes)."""
        indexes = []
        for described in [
            *table.get("GlobalSecondaryIndexes", []),
            *table.get("LocalSecondaryIndexes", []),
        ]:
            projection = described.get("Projection", {})
            indexes.append(
                IndexSchema(
                    name=described["IndexName"],
                    keys=tuple(k["AttributeName"] for k in described["KeySchema"]),
                    projection=projection.get("ProjectionType", "ALL"),
                    non_key_attributes=tuple(projection.get("NonKeyAttributes", ())),
                )
            )
        return cls(
            name=table["TableName"],
            keys=tuple(k["AttributeName"] for k in table["KeySchema"]),
            indexes=tuple(indexes),
        )

    def key_of(self, item: Item) -> dict[str, Any]:
        return {k: item[k] for k in self.keys}

    def key_id(self, item: Item) -> str:
        """A hashable identity of the item's primary key."""
        return json.dumps({k: item[k] for k in self.keys}, sort_keys=True, default=repr)

    def index_units(self, old: Item | None, new: Item | None) -> int:
        return sum(index_write_units(old, new, ix, self.keys) for ix in self.indexes)


def item_write(schema: TableSchema, old: Item | None, new: Item | None) -> tuple[int, int]:
    """(table WRU, index WRU) of one applied write that turned `old` into `new`."""
    return write_units(item_size(old), item_size(new)), schema.index_units(old, new)


def failed_write(old: Item | None, proposed: Item | None = None) -> int:
    """WRU of a write whose condition failed: the write's size if the item exists, else one."""
    if old is None:
        return 1
    return write_units(item_size(old), item_size(proposed))


# ------------------------------------------------------------------------------ pricing calls


class ItemSource(Protocol):
    """What pricing needs beyond the request and response; the meter's side requests."""

    def schema(self, table: str) -> TableSchema: ...

    def get(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None: ...

    def evaluated(self, operation: str, params: Mapping[str, Any]) -> list[dict[str, Any]]: ...


@dataclass
class TableCharge:
    table: str
    rru: float = 0.0
    wru: float = 0.0  # table writes
    index_wru: float = 0.0  # secondary-index writes
    items: int = 0
    largest: int = 0  # bytes of the largest item priced


@dataclass
class Call:
    """One AWS request, as the meter saw and priced it."""

    service: str
    operation: str
    error: str | None = None
    charges: list[TableCharge] = field(default_factory=list)
    messages: int = 0  # SQS entries sent or received, S3 objects

    @property
    def scan(self) -> bool:
        return self.service == "dynamodb" and self.operation == "Scan"


@dataclass
class _Write:
    table: str
    kind: str  # Put | Update | Delete | ConditionCheck
    key: dict[str, Any]
    item: Mapping[str, Any] | None  # the Put's new item
    old: dict[str, Any] | None = None


WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
CONDITION_FAILED = {"ConditionalCheckFailedException", "TransactionCanceledException"}


def planned_writes(operation: str, params: Mapping[str, Any], source: ItemSource) -> list[_Write]:
    """The items a write request touches, with each one's state before the call."""
    writes: list[_Write] = []
    if operation == "PutItem":
        table = params["TableName"]
        key = source.schema(table).key_of(params["Item"])
        writes.append(_Write(table, "Put", key, params["Item"]))
    elif operation in {"UpdateItem", "DeleteItem"}:
        kind = "Update" if operation == "UpdateItem" else "Delete"
        writes.append(_Write(params["TableName"], kind, dict(params["Key"]), None))
    elif operation == "BatchWriteItem":
        for table, requests in params["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    put = request["PutRequest"]["Item"]
                    writes.append(_Write(table, "Put", source.schema(table).key_of(put), put))
                else:
                    key = dict(request["DeleteRequest"]["Key"])
                    writes.append(_Write(table, "Delete", key, None))
    elif operation == "TransactWriteItems":
        for action in params["TransactItems"]:
            [(kind, body)] = action.items()
            table = body["TableName"]
            key = source.schema(table).key_of(body["Item"]) if kind == "Put" else body["Key"]
            writes.append(_Write(table, kind, dict(key), body.get("Item")))
    for write in writes:
        write.old = source.get(write.table, write.key)
    return writes


def _charges_by_table(pairs: Iterable[tuple[str, TableCharge]]) -> list[TableCharge]:
    merged: dict[str, TableCharge] = {}
    for table, charge in pairs:
        total = merged.setdefault(table, TableCharge(table))
        total.rru += charge.rru
        total.wru += charge.wru
        total.index_wru += charge.index_wru
        total.items += charge.items
        total.largest = max(total.largest, charge.largest)
    return list(merged.values())


def _unprocessed(response: Mapping[str, Any], schema_of: Any) -> set[tuple[str, str]]:
    left: set[tuple[str, str]] = set()
    for table, requests in (response.get("UnprocessedItems") or {}).items():
        schema = schema_of(table)
        for request in requests:
            body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
            left.add((table, schema.key_id(body)))
    return left


def price_writes(
    operation: str,
    writes: list[_Write],
    response: Mapping[str, Any],
    error: str | None,
    source: ItemSource,
) -> list[TableCharge]:
    """Charges of a write call, once it answered (`error` is its error code, if any)."""
    transact = operation == "TransactWriteItems"
    if error and error not in CONDITION_FAILED:
        return [TableCharge(w.table) for w in writes[:1]]
    if error:
        # The condition failed (or the transaction was cancelled): nothing was written, the
        # write is paid anyway; a cancelled transaction is taken to pay its prepare phase only.
        return _charges_by_table(
            (
                w.table,
                TableCharge(
                    w.table,
                    wru=failed_write(w.old, w.item),
                    items=1,
                    largest=max(item_size(w.old), item_size(w.item)),
                ),
            )
            for w in writes
        )
    skipped = _unprocessed(response, source.schema) if operation == "BatchWriteItem" else set()
    pairs = []
    for w in writes:
        schema = source.schema(w.table)
        if (w.table, schema.key_id(w.key)) in skipped:
            continue
        new = _after(w, source)
        table_wru, index_wru = item_write(schema, w.old, new)
        if transact:
            table_wru *= 2  # prepare + commit; index propagation happens once, after commit
        largest = max(item_size(w.old), item_size(new))
        charge = TableCharge(w.table, wru=table_wru, index_wru=index_wru, items=1, largest=largest)
        pairs.append((w.table, charge))
    return _charges_by_table(pairs)


def _after(write: _Write, source: ItemSource) -> Mapping[str, Any] | None:
    match write.kind:
        case "Put":
            return write.item
        case "Delete":
            return None
        case "Update":
            return source.get(write.table, write.key)
    return write.old  # ConditionCheck: unchanged


PROJECTING = ("ProjectionExpression", "AttributesToGet")
NARROWING = (*PROJECTING, "FilterExpression", "QueryFilter", "ScanFilter", "Select")


def price_get(
    params: Mapping[str, Any], response: Mapping[str, Any], source: ItemSource
) -> TableCharge:
    item = response.get("Item")
    if item is not None and any(p in params for p in PROJECTING):
        item = source.get(params["TableName"], params["Key"])  # the full item is what is read
    size = item_size(item)
    units = read_units(size, consistent=bool(params.get("ConsistentRead")))
    return TableCharge(params["TableName"], rru=units, items=1, largest=size)


def price_batch_get(
    params: Mapping[str, Any], response: Mapping[str, Any], source: ItemSource
) -> list[TableCharge]:
    charges = []
    for table, request in params["RequestItems"].items():
        schema = source.schema(table)
        found = {schema.key_id(i): i for i in response.get("Responses", {}).get(table, [])}
        left = (response.get("UnprocessedKeys") or {}).get(table, {}).get("Keys", [])
        skipped = {schema.key_id(k) for k in left}
        sizes = []
        for key in request["Keys"]:
            key_id = schema.key_id(key)
            if key_id in skipped:
                continue
            item = found.get(key_id)
            if item is not None and any(p in request for p in PROJECTING):
                item = source.get(table, key)
            sizes.append(item_size(item))
        consistent = bool(request.get("ConsistentRead"))
        units = batch_read_units(sizes, consistent=consistent)
        charges.append(
            TableCharge(table, rru=units, items=len(sizes), largest=max(sizes, default=0))
        )
    return charges


def price_transact_get(
    params: Mapping[str, Any], response: Mapping[str, Any], source: ItemSource
) -> list[TableCharge]:
    answers = response.get("Responses", [])
    pairs = []
    for index, action in enumerate(params["TransactItems"]):
        get = action["Get"]
        item = answers[index].get("Item") if index < len(answers) else None
        if item is not None and "ProjectionExpression" in get:
            item = source.get(get["TableName"], get["Key"])
        size = item_size(item)
        units = 2 * read_units(size, consistent=True)
        charge = TableCharge(get["TableName"], rru=units, items=1, largest=size)
        pairs.append((get["TableName"], charge))
    return _charges_by_table(pairs)


def price_query(
    operation: str, params: Mapping[str, Any], response: Mapping[str, Any], source: ItemSource
) -> TableCharge:
    """A Query or Scan pays for every item it evaluated, summed, then rounded to 4 KB."""
    if any(p in params for p in NARROWING):
        items = source.evaluated(operation, params)
    else:
        items = list(response.get("Items", []))
    consistent = bool(params.get("ConsistentRead"))  # a GSI read never is
    sizes = [item_size(i) for i in items]
    units = read_units(sum(sizes), consistent=consistent)
    return TableCharge(
        params["TableName"], rru=units, items=len(items), largest=max(sizes, default=0)
    )


def price_read(
    operation: str, params: Mapping[str, Any], response: Mapping[str, Any], source: ItemSource
) -> list[TableCharge]:
    """Charges of a read call that succeeded (a failed read consumes nothing)."""
    match operation:
        case "GetItem":
            return [price_get(params, response, source)]
        case "BatchGetItem":
            return price_batch_get(params, response, source)
        case "TransactGetItems":
            return price_transact_get(params, response, source)
        case "Query" | "Scan":
            return [price_query(operation, params, response, source)]
    return []


def strip_to_key_condition(params: Mapping[str, Any]) -> dict[str, Any]:
    """A Query/Scan request that returns every item the original evaluated: no filter, no
    projection, no Select, and only the expression names and values its key condition uses."""
    kept = {k: copy.deepcopy(v) for k, v in params.items() if k not in NARROWING}
    tokens = set(re.findall(r"[#:][A-Za-z0-9_]+", kept.get("KeyConditionExpression", "")))
    for section in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        if section in kept:
            used = {k: v for k, v in kept[section].items() if k in tokens}
            if used:
                kept[section] = used
            else:
                del kept[section]
    kept.pop("ReturnConsumedCapacity", None)
    return kept


# ------------------------------------------------------------------- side requests (uncounted)

_local = threading.local()


def _suspended() -> bool:
    return bool(getattr(_local, "suspended", 0))


@contextmanager
def unmetered() -> Iterator[None]:
    """AWS calls made in this block (on this thread) are not counted by any meter."""
    _local.suspended = getattr(_local, "suspended", 0) + 1
    try:
        yield
    finally:
        _local.suspended -= 1


class BotocoreSource:
    """Side requests on a private DynamoDB client at the same endpoint as the metered call."""

    _schemas: dict[tuple[str, str], TableSchema] = {}
    _clients: dict[tuple[str, str, str], Any] = {}

    def __init__(self, endpoint_url: str, region: str, credentials: Any) -> None:
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
        access_key = frozen.access_key if frozen else ""
        cache_key = (endpoint_url, region, access_key)
        if cache_key not in self._clients:
            session = botocore.session.get_session()
            self._clients[cache_key] = session.create_client(
                "dynamodb",
                region_name=region,
                endpoint_url=endpoint_url,
                aws_access_key_id=access_key or None,
                aws_secret_access_key=frozen.secret_key if frozen else None,
                aws_session_token=frozen.token if frozen else None,
            )
        self._client = self._clients[cache_key]
        self._endpoint = endpoint_url

    @classmethod
    def forget(cls) -> None:
        cls._schemas.clear()
        cls._clients.clear()

    def schema(self, table: str) -> TableSchema:
        cache_key = (self._endpoint, table)
        if cache_key not in self._schemas:
            with unmetered():
                described = self._client.describe_table(TableName=table)["Table"]
            self._schemas[cache_key] = TableSchema.from_description(described)
        return self._schemas[cache_key]

    def get(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        with unmetered():
            response = self._client.get_item(TableName=table, Key=dict(key), ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item

    def evaluated(self, operation: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        request = strip_to_key_condition(params)
        call = self._client.query if operation == "Query" else self._client.scan
        with unmetered():
            items: list[dict[str, Any]] = call(**request).get("Items", [])
        return items


# ------------------------------------------------------------------------------- the meter


@dataclass
class Row:
    service: str
    operation: str
    table: str
    calls: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    items: int = 0
    rru: float = 0.0
    wru: float = 0.0
    index_wru: float = 0.0
    largest: int = 0

    @property
    def label(self) -> str:
        where = f" [{self.table}]" if self.table else ""
        return f"{self.service}.{self.operation}{where}"


@dataclass(frozen=True)
class Totals:
    calls: int
    dynamodb_calls: int
    rru: float
    wru: float  # table + index writes
    index_wru: float
    scans: int

    def per(self, n: int) -> dict[str, float]:
        return {
            "calls": self.calls / n,
            "dynamodb_calls": self.dynamodb_calls / n,
            "rru": self.rru / n,
            "wru": self.wru / n,
            "index_wru": self.index_wru / n,
            "scans": self.scans / n,
        }


_active: list[Meter] = []
_active_lock = threading.Lock()


class Meter:
    """Collects the calls made while it is active (`with m:`); may be entered again."""

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self.names = dict(names or {})  # physical table name → the name to show
        self.calls: list[Call] = []

    def __enter__(self) -> Meter:
        install()
        with _active_lock:
            if not _active:
                BotocoreSource.forget()
            _active.append(self)
        return self

    def __exit__(self, *_: object) -> None:
        with _active_lock:
            _active.remove(self)

    def record(self, call: Call) -> None:
        self.calls.append(call)

    def _name(self, table: str) -> str:
        short = table.rsplit("/", 1)[-1]  # an ARN names the table last
        return self.names.get(short, short)

    def rows(self) -> list[Row]:
        rows: dict[tuple[str, str, str], Row] = {}
        for call in self.calls:
            charges = call.charges or [TableCharge("")]
            for n, charge in enumerate(charges):
                key = (call.service, call.operation, self._name(charge.table))
                row = rows.setdefault(key, Row(*key))
                if n == 0:
                    row.calls += 1
                    if call.error:
                        row.errors[call.error] = row.errors.get(call.error, 0) + 1
                    row.items += call.messages
                row.items += charge.items
                row.rru += charge.rru
                row.wru += charge.wru
                row.index_wru += charge.index_wru
                row.largest = max(row.largest, charge.largest)
        return sorted(rows.values(), key=lambda r: (r.service, r.operation, r.table))

    def totals(self) -> Totals:
        charges = [c for call in self.calls for c in call.charges]
        return Totals(
            calls=len(self.calls),
            dynamodb_calls=sum(1 for c in self.calls if c.service == "dynamodb"),
            rru=sum(c.rru for c in charges),
            wru=sum(c.wru + c.index_wru for c in charges),
            index_wru=sum(c.index_wru for c in charges),
            scans=sum(1 for c in self.calls if c.scan),
        )

    @property
    def scans(self) -> list[Call]:
        return [c for c in self.calls if c.scan]

    def report(self, per: int = 1, title: str = "", unit: str = "event") -> str:
        """A per-operation table (figures divided by `per`, e.g. per event) and totals; `max B`
        is the largest item a row priced (what decides its units)."""
        lines = [title] if title else []
        lines.append(
            f"  {'operation':<44} {'calls':>6} {'items':>6} {'RRU':>6} {'WRU':>6}"
            f" {'GSI WRU':>7} {'max B':>6}"
            + (f"   (per {unit}: totals / {per})" if per != 1 else "")
        )
        for row in self.rows():
            errors = ", ".join(f"{k} x{v}" for k, v in sorted(row.errors.items()))
            lines.append(
                f"  {row.label:<44} {row.calls / per:>6.2f} {row.items / per:>6.2f}"
                f" {row.rru / per:>6.2f} {row.wru / per:>6.2f} {row.index_wru / per:>7.2f}"
                f" {row.largest or '':>6}" + (f"   errors: {errors}" if errors else "")
            )
        t = self.totals()
        lines.append(
            f"  {'TOTAL':<44} {t.calls / per:>6.2f} {'':>6} {t.rru / per:>6.2f}"
            f" {(t.wru - t.index_wru) / per:>6.2f} {t.index_wru / per:>7.2f}"
        )
        if t.scans:
            tables = sorted({self._name(ch.table) for c in self.scans for ch in c.charges})
            lines.append(f"  !!! {t.scans} DynamoDB Scan call(s) on {', '.join(tables)} !!!")
        else:
            lines.append("  no Scan")
        return "\n".join(lines)


@contextmanager
def meter(names: Mapping[str, str] | None = None) -> Iterator[Meter]:
    """`with meter() as m:` counts every AWS call in the block; then `print(m.report())`."""
    m = Meter(names)
    with m:
        yield m


# --------------------------------------------------------------------------- botocore hooks

_PENDING = "trigly_meter_pending"
_DONE = "trigly_meter_done"


@dataclass
class _Pending:
    service: str
    operation: str
    params: dict[str, Any] | None
    source: BotocoreSource | None = None
    writes: list[_Write] = field(default_factory=list)


def _on_parameters(params: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
    if not _active or _suspended() or _PENDING in context:
        return
    service = model.service_model.service_name
    # Only DynamoDB's parameters are kept (they price the call); others may hold streams.
    kept = copy.deepcopy(dict(params)) if service == "dynamodb" else None
    context[_PENDING] = _Pending(service, model.name, kept)


def _on_before_call(
    model: Any, params: Any, request_signer: Any, context: dict[str, Any], **_: Any
) -> None:
    pending: _Pending | None = context.get(_PENDING)
    if pending is None or pending.params is None or pending.source is not None:
        return
    endpoint = re.match(r"^[a-z]+://[^/]+", params.get("url", ""))
    pending.source = BotocoreSource(
        endpoint.group(0) if endpoint else "",
        context.get("client_region") or "us-east-1",
        getattr(request_signer, "_credentials", None),
    )
    if pending.operation in WRITES:
        pending.writes = planned_writes(pending.operation, pending.params, pending.source)


def _messages(service: str, operation: str, parsed: Mapping[str, Any]) -> int:
    """SQS messages sent, received or deleted; S3 objects put or got."""
    if service == "sqs":
        if operation in {"SendMessage", "DeleteMessage"}:
            return 1
        return len(parsed.get("Messages", [])) or len(parsed.get("Successful", []))
    return 1 if service == "s3" and operation in {"PutObject", "GetObject"} else 0


def _finish(context: dict[str, Any], call: Call) -> None:
    context[_DONE] = True
    with _active_lock:
        meters = list(_active)
    for m in meters:
        m.record(call)


def _on_after_call(http_response: Any, parsed: Any, context: dict[str, Any], **_: Any) -> None:
    pending: _Pending | None = context.get(_PENDING)
    if pending is None or context.get(_DONE):
        return
    error = None
    if getattr(http_response, "status_code", 200) >= 300:
        error = (parsed.get("Error") or {}).get("Code") or "error"
    call = Call(pending.service, pending.operation, error=error)
    call.messages = _messages(pending.service, pending.operation, parsed)
    if pending.params is not None and pending.source is not None:
        if pending.operation in WRITES:
            call.charges = price_writes(
                pending.operation, pending.writes, parsed, error, pending.source
            )
        elif error is None:
            call.charges = price_read(pending.operation, pending.params, parsed, pending.source)
        else:
            call.charges = [TableCharge(pending.params.get("TableName", ""))]
    _finish(context, call)


def _on_call_error(exception: BaseException, context: dict[str, Any], **_: Any) -> None:
    pending: _Pending | None = context.get(_PENDING)
    if pending is None or context.get(_DONE):
        return
    _finish(context, Call(pending.service, pending.operation, error=type(exception).__name__))


# Registered first on the wildcard events, so a handler that answers a call itself (botocore's
# Stubber) cannot hide the call from the meter.
HOOKS = (
    ("before-parameter-build.*.*", _on_parameters),
    ("before-call.*.*", _on_before_call),
    ("after-call.*.*", _on_after_call),
    ("after-call-error.*.*", _on_call_error),
)
_installed = False
_install_lock = threading.Lock()


def _emitters() -> Iterator[Any]:
    # Handlers import inside `init_phase`, which freezes what the import made (gc.freeze), and
    # gc.get_objects() does not see frozen objects: unfreeze them, or their clients go unmetered.
    gc.unfreeze()
    for obj in gc.get_objects():
        if isinstance(obj, botocore.session.Session):
            yield obj.get_component("event_emitter")
        elif isinstance(obj, botocore.client.BaseClient):
            yield obj.meta.events


def install() -> None:
    """Hook every botocore session and client of this process, now and later (idempotent).

    The hooks do nothing while no meter is active; a call is recorded once even where a client
    ends up with the hooks twice (its session's copy and its own).
    """
    global _installed  # noqa: PLW0603  # one installation per process, like moto's stub
    with _install_lock:
        if _installed:
            return
        for emitter in _emitters():
            for event, handler in HOOKS:
                emitter.register_first(event, handler, unique_id=f"trigly-meter-{event}")
        for event, handler in HOOKS:
            botocore.handlers.BUILTIN_HANDLERS.append(
                (event, handler, botocore.handlers.REGISTER_FIRST)
            )
        _installed = True


def dynamodb_calls(m: Meter) -> dict[str, int]:
    """Calls per DynamoDB operation (all tables), e.g. for assertions."""
    counts: dict[str, int] = defaultdict(int)
    for call in m.calls:
        if call.service == "dynamodb":
            counts[call.operation] += 1
    return dict(counts)
