"""The analytics view in the template: Glue tables equal to `trigly.analytics.schema`, and every
function that writes the main table may send change notices (ADR 0022)."""

from typing import Any

from infra import template as sam
from infra.glue import logical_id
from trigly.analytics.schema import TABLES

WRITES = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
}


def _statements(props: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for policy in props.get("Policies") or []:
        if isinstance(policy, dict):
            found.extend(policy.get("Statement") or [])
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _names(resource: Any) -> set[str]:
    return {name for r in _as_list(resource) if (name := sam.logical_id_of(r))}


def test_glue_tables_have_the_schema_columns_and_the_snapshot_layout() -> None:
    template = sam.load()
    glue = sam.resources_of_type(template, "AWS::Glue::Table")
    assert set(glue) == {logical_id(t) for t in TABLES}
    for table in TABLES:
        given = glue[logical_id(table)]["Properties"]["TableInput"]
        assert given["Name"] == table.name
        columns = [(c["Name"], c["Type"]) for c in given["StorageDescriptor"]["Columns"]]
        assert columns == [(c.name, c.glue_type) for c in table.columns]
        assert given["PartitionKeys"] == [{"Name": "tenant", "Type": "string"}]
        assert given["Parameters"]["projection.tenant.type"] == "injected"
        location = given["StorageDescriptor"]["Location"]["Fn::Sub"]
        assert location == f"s3://${{ArchiveBucket}}/analytics/snapshot/{table.name}/"
        assert "ParquetHiveSerDe" in given["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]


def test_every_writer_of_the_main_table_may_send_change_notices() -> None:
    template = sam.load()
    env = sam.function_globals(template)["Environment"]["Variables"]
    assert sam.logical_id_of(env["TRIGLY_ANALYTICS_QUEUE_URL"]) == "AnalyticsQueue"
    writers = []
    for function_id, props in sam.functions(template).items():
        statements = _statements(props)
        writes_main = any(
            set(_as_list(s["Action"])) & WRITES and "MainTable" in _names(s["Resource"])
            for s in statements
        )
        if not writes_main:
            continue
        writers.append(function_id)
        assert any(
            "sqs:SendMessage" in _as_list(s["Action"]) and "AnalyticsQueue" in _names(s["Resource"])
            for s in statements
        ), f"{function_id} writes customers but cannot send change notices"
    assert {"IngestFunction", "ApiFunction", "JourneyFunction", "FeedbackFunction"} <= set(writers)


def test_the_projection_reads_customers_writes_change_files_and_asks_for_compaction() -> None:
    props = sam.functions(sam.load())["AnalyticsFunction"]
    actions = sorted(a for s in _statements(props) for a in _as_list(s["Action"]))
    assert actions == ["dynamodb:Query", "s3:PutObject", "sqs:SendMessage"]


def test_the_projection_batches_notices_within_the_freshness_budget() -> None:
    # ADR 0022: notice flush (a few s) + the window + the projection (~3 s) within 60 s, and long
    # enough that a day's notices (~35 s apart for 10,000 customers) share projections.
    props = sam.functions(sam.load())["AnalyticsFunction"]
    [source] = [e["Properties"] for e in props["Events"].values() if e["Type"] == "SQS"]
    window = source["MaximumBatchingWindowInSeconds"]
    assert window > 35 and window + 5 + 3 <= 60
    assert source["BatchSize"] == 100
