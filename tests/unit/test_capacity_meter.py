"""The benchmark meter's size and capacity arithmetic, by DynamoDB's documented rules.

Figures marked "guide" are the worked examples of the DynamoDB developer guide ("Item sizes and
formats", "Capacity unit consumption for reads/writes", "Global secondary indexes").
"""

from typing import Any

import pytest

from benchmarks.meter import (
    Call,
    IndexSchema,
    Meter,
    TableCharge,
    TableSchema,
    batch_read_units,
    failed_write,
    index_write_units,
    item_size,
    number_size,
    planned_writes,
    price_read,
    price_writes,
    read_units,
    strip_to_key_condition,
    value_size,
    write_units,
)


def s(text: str) -> dict[str, str]:
    return {"S": text}


def sized(total: int, **keys: str) -> dict[str, Any]:
    """An item of exactly `total` bytes: its keys plus a padding string attribute `p`."""
    item: dict[str, Any] = {k: s(v) for k, v in keys.items()}
    pad = total - item_size(item) - len("p")
    assert pad >= 0
    item["p"] = s("x" * pad)
    assert item_size(item) == total
    return item


# ------------------------------------------------------------------------------------ sizes


def test_strings_count_utf8_bytes_of_name_and_value() -> None:
    assert item_size({"name": s("Ivan")}) == 4 + 4
    assert item_size({"имя": s("Иван")}) == 6 + 8  # Cyrillic: two bytes a letter


@pytest.mark.parametrize(
    ("number", "size"),
    [
        ("0", 1),
        ("7", 2),
        ("27", 2),  # guide: one byte per two significant digits, plus one
        ("101", 3),
        ("1000", 2),  # trailing zeroes are trimmed
        ("12345", 4),
        ("0.5", 2),
        ("-27", 3),  # the sign takes a byte
        ("1767225600", 5),  # an epoch second: 17 67 22 56 (00 dropped) → 4 pairs + 1
        ("1" * 38, 20),
    ],
)
def test_number_sizes(number: str, size: int) -> None:
    assert number_size(number) == size


def test_binary_boolean_null_and_sets() -> None:
    assert value_size({"B": b"\x00\x01\x02"}) == 3
    assert value_size({"BOOL": True}) == 1
    assert value_size({"NULL": True}) == 1
    assert value_size({"SS": ["ab", "cde"]}) == 5
    assert value_size({"NS": ["27", "12345"]}) == 2 + 4
    assert value_size({"BS": [b"ab", b"c"]}) == 3


def test_lists_and_maps_cost_three_bytes_plus_one_per_element() -> None:
    assert value_size({"L": []}) == 3
    assert value_size({"M": {}}) == 3
    assert value_size({"L": [s("ab"), s("c")]}) == 3 + (2 + 1) + (1 + 1)
    assert value_size({"M": {"k": s("vv")}}) == 3 + 1 + 2 + 1
    nested = {"M": {"a": {"L": [{"N": "27"}]}}}
    assert value_size(nested) == 3 + 1 + (3 + 2 + 1) + 1


def test_a_published_example_item_is_137_bytes() -> None:
    # The sample item of the ddb-calc item-size calculator (README: size 137, 1 RCU, 1 WCU).
    item = {
        "Id": {"N": "101"},
        "Title": s("Book 101 Title"),
        "ISBN": s("111-1111111111"),
        "Authors": {"L": [s("Author1")]},
        "Price": {"N": "2"},
        "Dimensions": s("8.5 x 11.0 x 0.5"),
        "PageCount": {"N": "500"},
        "InPublication": {"BOOL": True},
        "ProductCategory": s("Book"),
    }
    assert item_size(item) == 137
    assert write_units(137) == 1
    assert read_units(137, consistent=True) == 1


# ------------------------------------------------------------------------------ write rules


def test_a_write_costs_one_unit_per_started_kb() -> None:
    assert write_units(1) == 1
    assert write_units(1024) == 1
    assert write_units(1025) == 2  # one byte over a KB starts a second unit
    assert write_units(int(1.6 * 1024)) == 2  # guide: a 1.6 KB put or delete costs 2 KB
    assert write_units(0) == 1  # deleting nothing still costs a unit


def test_a_write_pays_for_the_larger_of_before_and_after() -> None:
    assert write_units(item_size(sized(3000)), item_size(sized(200))) == 3  # shrinking an item
    assert write_units(item_size(sized(200)), item_size(sized(3000))) == 3


def test_batch_write_rounds_each_item() -> None:
    # guide: a 500-byte and a 3.5 KB item cost 1 + 4 = 5 units, not ceil(4 KB) = 4.
    assert write_units(500) + write_units(int(3.5 * 1024)) == 5


def test_a_failed_condition_costs_the_write_or_one_unit_for_a_missing_item() -> None:
    assert failed_write(None, sized(5000)) == 1
    assert failed_write(sized(1500)) == 2
    assert failed_write(sized(100), sized(2100)) == 3


DUE = IndexSchema("due", keys=("due_pk", "due_sk"))
TABLE_KEYS = ("pk", "sk")


def test_an_item_with_the_gsi_keys_is_written_twice() -> None:
    item = sized(1025, pk="C#1", sk="PLAN", due_pk="T#1#2026-12-01", due_sk="C#1")
    assert write_units(item_size(item)) == 2
    assert index_write_units(None, item, DUE, TABLE_KEYS) == 2  # projection ALL: same size


def test_a_sparse_gsi_costs_nothing_for_items_without_its_keys() -> None:
    item = sized(900, pk="C#1", sk="PROFILE", due_pk="only half of the key")
    assert index_write_units(None, item, DUE, TABLE_KEYS) == 0


def test_gsi_writes_follow_the_item_into_out_of_and_across_the_index() -> None:
    base = {"pk": s("C#1"), "sk": s("PLAN"), "v": s("a")}
    due1 = {**base, "due_pk": s("D#1"), "due_sk": s("x")}
    due2 = {**base, "due_pk": s("D#2"), "due_sk": s("x")}
    assert index_write_units(base, due1, DUE, TABLE_KEYS) == 1  # enters: a put
    assert index_write_units(due1, base, DUE, TABLE_KEYS) == 1  # leaves: a delete
    assert index_write_units(due1, due2, DUE, TABLE_KEYS) == 2  # key changes: delete + put
    assert index_write_units(due1, {**due1, "v": s("b")}, DUE, TABLE_KEYS) == 1  # update
    assert index_write_units(due1, dict(due1), DUE, TABLE_KEYS) == 0  # entry unchanged


def test_a_keys_only_index_pays_for_its_keys_not_the_item() -> None:
    keys_only = IndexSchema("due", keys=("due_pk", "due_sk"), projection="KEYS_ONLY")
    item = sized(5000, pk="C#1", sk="PLAN", due_pk="D#1", due_sk="x")
    assert index_write_units(None, item, keys_only, TABLE_KEYS) == 1
    # Changing only a non-projected attribute leaves the index entry as it was.
    changed = {**item, "p": s("y")}
    assert index_write_units(item, changed, keys_only, TABLE_KEYS) == 0


# ------------------------------------------------------------------------------- read rules


def test_reads_cost_a_unit_per_started_4kb_and_half_eventually_consistent() -> None:
    assert read_units(3500, consistent=True) == 1  # guide: 3.5 KB reads as 4 KB
    assert read_units(10 * 1024, consistent=True) == 3  # guide: 10 KB rounds to 12 KB
    assert read_units(8 * 1024, consistent=True) == 2  # guide: 8 KB strongly consistent
    assert read_units(8 * 1024, consistent=False) == 1  # ... and eventually consistent
    assert read_units(80 * 1024, consistent=False) == 10  # guide: 80 KB EC is 10 units


def test_a_missing_item_still_costs_a_read() -> None:
    assert read_units(0, consistent=True) == 1
    assert read_units(0, consistent=False) == 0.5


def test_batch_get_rounds_each_item_query_rounds_the_sum() -> None:
    sizes = [int(1.5 * 1024), int(6.5 * 1024)]
    assert batch_read_units(sizes, consistent=True) == 3  # guide: 4 KB + 8 KB
    assert read_units(sum(sizes), consistent=True) == 2  # a Query of the same: 8 KB
    assert read_units(int(40.8 * 1024), consistent=True) == 11  # guide: 40.8 KB → 44 KB
    assert read_units(1500 * 64, consistent=True) == 24  # guide: 1500 x 64 B = 96 KB
    assert read_units(8 * 2000, consistent=False) == 2  # guide: GSI query, 8 x 2000 B


# ------------------------------------------------------------- pricing whole calls (no AWS)

MAIN = TableSchema("main", keys=("pk", "sk"), indexes=(DUE,))


class FakeTable:
    """The meter's side requests, answered from a dict instead of DynamoDB."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def schema(self, table: str) -> TableSchema:
        return MAIN

    def get(self, table: str, key: Any) -> dict[str, Any] | None:
        return self.items.get(MAIN.key_id(key))

    def put(self, item: dict[str, Any]) -> None:
        self.items[MAIN.key_id(item)] = item

    def evaluated(self, operation: str, params: Any) -> list[dict[str, Any]]:
        return list(self.items.values())


def test_put_item_over_a_larger_item_pays_for_the_old_one() -> None:
    table = FakeTable()
    old = sized(2500, pk="C#1", sk="PROFILE")
    table.put(old)
    new = sized(300, pk="C#1", sk="PROFILE")
    writes = planned_writes("PutItem", {"TableName": "main", "Item": new}, table)
    [charge] = price_writes("PutItem", writes, {}, None, table)
    assert (charge.wru, charge.index_wru) == (3, 0)


def test_update_item_reads_the_item_after_the_call() -> None:
    table = FakeTable()
    key = {"pk": s("C#1"), "sk": s("PLAN")}
    table.put({**key, "v": s("a")})
    writes = planned_writes("UpdateItem", {"TableName": "main", "Key": key}, table)
    table.put(sized(1500, pk="C#1", sk="PLAN", due_pk="D#1", due_sk="x"))  # what the call did
    [charge] = price_writes("UpdateItem", writes, {}, None, table)
    assert (charge.wru, charge.index_wru) == (2, 2)


def test_a_failed_conditional_put_of_a_new_item_costs_one_unit() -> None:
    table = FakeTable()
    item = sized(3000, pk="C#1", sk="LOOKUP")
    writes = planned_writes("PutItem", {"TableName": "main", "Item": item}, table)
    [charge] = price_writes("PutItem", writes, {}, "ConditionalCheckFailedException", table)
    assert (charge.wru, charge.index_wru) == (1, 0)


def test_a_transaction_pays_twice_per_item() -> None:
    table = FakeTable()
    a = sized(100, pk="T#1", sk="TENANT")
    b = sized(1100, pk="TENANTS", sk="T#1")
    params = {
        "TransactItems": [
            {"Put": {"TableName": "main", "Item": a}},
            {"Put": {"TableName": "main", "Item": b}},
        ]
    }
    writes = planned_writes("TransactWriteItems", params, table)
    [charge] = price_writes("TransactWriteItems", writes, {}, None, table)
    assert charge.wru == 2 * (1 + 2)
    assert charge.items == 2


def test_batch_write_skips_unprocessed_items() -> None:
    table = FakeTable()
    a, b = sized(100, pk="C#1", sk="A"), sized(2000, pk="C#1", sk="B")
    params = {"RequestItems": {"main": [{"PutRequest": {"Item": a}}, {"PutRequest": {"Item": b}}]}}
    writes = planned_writes("BatchWriteItem", params, table)
    response = {"UnprocessedItems": {"main": [{"PutRequest": {"Item": b}}]}}
    [charge] = price_writes("BatchWriteItem", writes, response, None, table)
    assert (charge.wru, charge.items) == (1, 1)


def test_get_item_prices_the_whole_item_even_when_projected() -> None:
    table = FakeTable()
    item = sized(9000, pk="C#1", sk="PROFILE")
    table.put(item)
    key = {"pk": item["pk"], "sk": item["sk"]}
    params = {"TableName": "main", "Key": key, "ProjectionExpression": "pk"}
    [charge] = price_read("GetItem", params, {"Item": {"pk": item["pk"]}}, table)
    assert charge.rru == 1.5  # 9000 B → 3 blocks, eventually consistent
    [missing] = price_read("GetItem", {**params, "ConsistentRead": True}, {}, table)
    assert missing.rru == 1


def test_a_filtered_query_pays_for_what_it_evaluated() -> None:
    table = FakeTable()
    for n in range(3):
        table.put(sized(3000, pk="C#1", sk=f"V#{n}"))
    params = {
        "TableName": "main",
        "KeyConditionExpression": "pk = :pk",
        "FilterExpression": "#k = :kind",
        "ExpressionAttributeNames": {"#k": "kind"},
        "ExpressionAttributeValues": {":pk": s("C#1"), ":kind": s("visit")},
    }
    [charge] = price_read("Query", params, {"Items": []}, table)
    assert charge.rru == 1.5  # 9000 B evaluated → 3 blocks, eventually consistent
    assert strip_to_key_condition(params) == {
        "TableName": "main",
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": s("C#1")},
    }


def test_the_report_flags_a_scan_loudly() -> None:
    m = Meter({"main": "MainTable"})
    m.record(Call("dynamodb", "GetItem", charges=[TableCharge("main", rru=0.5, items=1)]))
    m.record(Call("dynamodb", "Scan", charges=[TableCharge("main", rru=12, items=300)]))
    m.record(Call("sqs", "SendMessageBatch", messages=10))
    totals = m.totals()
    assert (totals.calls, totals.dynamodb_calls, totals.rru, totals.scans) == (3, 2, 12.5, 1)
    report = m.report()
    assert "!!! 1 DynamoDB Scan call(s) on MainTable !!!" in report
    assert "dynamodb.GetItem [MainTable]" in report


# ------------------------------------------------ the hooks see PynamoDB's and boto3's clients


def test_pynamodb_and_boto3_calls_are_metered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stubbed clients (no sockets): PynamoDB builds its own botocore client, boto3 another."""
    import boto3
    from botocore.stub import Stubber
    from pynamodb.attributes import UnicodeAttribute
    from pynamodb.models import Model

    from benchmarks.meter import meter

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)

    class Thing(Model):
        class Meta:
            table_name = "things"
            region = "eu-west-1"

        pk = UnicodeAttribute(hash_key=True)
        name = UnicodeAttribute()

    dynamodb = Thing._get_connection().connection.client
    sqs = boto3.client("sqs", region_name="eu-west-1")
    with Stubber(dynamodb) as ddb_stub, Stubber(sqs) as sqs_stub, meter() as m:
        ddb_stub.add_response("get_item", {"Item": {"pk": s("a"), "name": s("x" * 5000)}})
        ddb_stub.add_response("get_item", {})
        sqs_stub.add_response("send_message_batch", {"Successful": [], "Failed": []})
        assert Thing.get("a", consistent_read=True).name == "x" * 5000
        with pytest.raises(Thing.DoesNotExist):
            Thing.get("b")
        sqs.send_message_batch(QueueUrl="https://sqs/q", Entries=[{"Id": "0", "MessageBody": "{}"}])
    rows = {(r.service, r.operation): r for r in m.rows()}
    get = rows[("dynamodb", "GetItem")]
    assert (get.calls, get.rru) == (2, 2 + 0.5)  # 5 KB strongly consistent; a miss, eventually
    assert rows[("sqs", "SendMessageBatch")].calls == 1
    assert m.totals().calls == 3
