"""The ingest-cost benchmark's labels: which kind of item each DynamoDB request addressed."""

from benchmarks.ingest_cost import item_kind, touched

T = "T#ten_1"


def test_item_kinds_follow_the_key_design() -> None:
    assert item_kind(f"{T}#C#cus_1", "#PROFILE") == "customer profile"
    assert item_kind(f"{T}#C#cus_1", "VISIT#8204841100000#RO-1") == "customer VISIT#"
    assert item_kind(f"{T}#C#cus_1", "CAR#XWEPH81ADK0000007") == "customer CAR#"
    assert item_kind(f"{T}#V#XWEPH81ADK0000007", "CAR") == "car record"
    assert item_kind(f"{T}#V#XWEPH81ADK0000007", "VISIT#1#RO-1") == "car VISIT#"
    assert item_kind(f"{T}#XID#con_1#C-1", "LOOKUP") == "lookup by DMS/source id"
    assert item_kind(f"{T}#XID#anon#web-1", "LOOKUP") == "lookup by anonymous id"
    assert item_kind(f"{T}#PHONE#+79160000007", "LOOKUP") == "lookup by phone"
    assert item_kind(f"{T}#EMAIL#a@b.ru", "LOOKUP") == "lookup by email"
    assert item_kind(f"{T}#EVT#con_1#e-1") == "event claim"
    assert item_kind("CONNECTOR#con_1", "CONNECTOR") == "connector"
    assert item_kind("APIKEY#abc", "APIKEY") == "API key"
    assert item_kind(f"{T}#STOCK", "STK-1") == "stock car"
    assert item_kind(T, "TENANT") == "tenant"
    assert item_kind("DUEMARK#DUE#2026-11-27T07#5", "MARK") == "due bucket marker"
    assert item_kind("DUEMARK#WATERMARK", "TICK") == "due watermark"


def test_a_query_names_the_collection_it_reads() -> None:
    params = {
        "TableName": "main",
        "KeyConditionExpression": "#0 = :0 AND begins_with (#1, :1)",
        "ExpressionAttributeNames": {"#0": "pk", "#1": "sk"},
        "ExpressionAttributeValues": {":0": {"S": f"{T}#C#cus_1"}, ":1": {"S": "WEB#"}},
    }
    assert touched("Query", params) == "customer collection"
    assert touched("Query", {**params, "ExpressionAttributeValues": {":0": {"S": "TENANTS"}}}) == (
        "tenant directory"
    )


def test_an_index_query_names_the_partition_without_its_tenant_and_time() -> None:
    due = {"KeyConditionExpression": "#0 = :0", "IndexName": "due"}
    triggers = {**due, "ExpressionAttributeValues": {":0": {"S": f"{T}#LIFE#2026-11-20"}}}
    assert touched("Query", triggers) == "due index T#{tenant}#LIFE#{time}"
    runs = {**due, "ExpressionAttributeValues": {":0": {"S": "DUE#2026-11-27T07#5"}}}
    assert touched("Query", runs) == "due index DUE#{time}"  # every shard of the hour


def test_a_batch_names_each_kind_once() -> None:
    pk = {"S": f"{T}#C#cus_1"}
    params = {
        "RequestItems": {
            "main": [
                {"PutRequest": {"Item": {"pk": pk, "sk": {"S": "WEB#1#e1"}, "doc": {"S": "{}"}}}},
                {"PutRequest": {"Item": {"pk": pk, "sk": {"S": "WEB#2#e2"}, "doc": {"S": "{}"}}}},
                {"DeleteRequest": {"Key": {"pk": pk, "sk": {"S": "#PROFILE"}}}},
            ]
        }
    }
    assert touched("BatchWriteItem", params) == "customer WEB#, customer profile"
    claim = {"TableName": "idem", "Item": {"pk": {"S": f"{T}#EVT#con_1#e-1"}}}
    assert touched("PutItem", claim) == "event claim"
