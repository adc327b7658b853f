"""template.yaml, translated by aws-sam-translator and deployed into moto's CloudFormation.

These read the resources back through the AWS APIs, so they check what the stack creates, not
what the YAML says.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.deploy import DeployedStack, deploy

pytestmark = [
    # moto skips the HTTP API, schedules, alarms and a few policies (asserted from the template
    # in test_template.py) and says so once per resource.
    pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning"),
]

TABLE_OUTPUTS = ("MainTableName", "IdempotencyTableName", "RejectedEventsTableName")


@dataclass(frozen=True)
class Deployed:
    stack: DeployedStack
    dynamodb: Any
    sqs: Any
    lambda_: Any
    s3: Any


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    # Given the template deployed into an in-process moto
    with mock_aws():
        stack = deploy()
        session = boto3.session.Session(region_name=stack.region)
        yield Deployed(
            stack=stack,
            dynamodb=session.client("dynamodb"),
            sqs=session.client("sqs"),
            lambda_=session.client("lambda"),
            s3=session.client("s3"),
        )


def describe_table(deployed: Deployed, output: str) -> dict[str, Any]:
    table: dict[str, Any] = deployed.dynamodb.describe_table(
        TableName=deployed.stack.outputs[output]
    )["Table"]
    return table


def keys(schema: list[dict[str, str]]) -> dict[str, str]:
    return {k["KeyType"]: k["AttributeName"] for k in schema}


def test_stack_creates_every_table_on_demand(deployed: Deployed) -> None:
    # When each table named in the outputs is described
    modes = {
        output: describe_table(deployed, output)["BillingModeSummary"]["BillingMode"]
        for output in TABLE_OUTPUTS
    }
    # Then all three exist and bill per request
    assert modes == dict.fromkeys(TABLE_OUTPUTS, "PAY_PER_REQUEST")


def test_tables_have_the_documented_keys(deployed: Deployed) -> None:
    schemas = {
        output: keys(describe_table(deployed, output)["KeySchema"]) for output in TABLE_OUTPUTS
    }

    assert schemas == {
        "MainTableName": {"HASH": "pk", "RANGE": "sk"},
        "IdempotencyTableName": {"HASH": "pk"},
        "RejectedEventsTableName": {"HASH": "pk", "RANGE": "sk"},
    }


def test_main_table_has_the_sparse_due_index(deployed: Deployed) -> None:
    indexes = {
        index["IndexName"]: index
        for index in describe_table(deployed, "MainTableName")["GlobalSecondaryIndexes"]
    }

    assert set(indexes) == {"due"}
    assert keys(indexes["due"]["KeySchema"]) == {"HASH": "due_pk", "RANGE": "due_sk"}
    # Keys and the item's kind: a write that keeps an item's due key costs the index nothing.
    assert indexes["due"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["kind"],
    }


@pytest.mark.parametrize("output", TABLE_OUTPUTS)
def test_tables_expire_items_by_expires_at(deployed: Deployed, output: str) -> None:
    ttl = deployed.dynamodb.describe_time_to_live(TableName=deployed.stack.outputs[output])

    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }


@pytest.mark.parametrize("output", TABLE_OUTPUTS)
def test_tables_have_point_in_time_recovery(deployed: Deployed, output: str) -> None:
    backups = deployed.dynamodb.describe_continuous_backups(
        TableName=deployed.stack.outputs[output]
    )["ContinuousBackupsDescription"]

    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


@pytest.mark.parametrize("output", TABLE_OUTPUTS)
def test_tables_are_encrypted_with_kms(deployed: Deployed, output: str) -> None:
    sse = describe_table(deployed, output).get("SSEDescription", {})

    assert sse.get("Status") == "ENABLED"
    assert sse.get("SSEType") == "KMS"


def queue_attributes(deployed: Deployed, logical_id: str) -> dict[str, str]:
    attributes: dict[str, str] = deployed.sqs.get_queue_attributes(
        QueueUrl=deployed.stack.physical_ids[logical_id], AttributeNames=["All"]
    )["Attributes"]
    return attributes


def test_ingest_queue_redrives_to_its_dlq_after_five_receives(deployed: Deployed) -> None:
    redrive = json.loads(queue_attributes(deployed, "IngestQueue")["RedrivePolicy"])
    dlq_arn = queue_attributes(deployed, "IngestDLQ")["QueueArn"]

    assert redrive == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}


def test_ingest_queue_visibility_outlasts_six_function_timeouts(deployed: Deployed) -> None:
    # Given Lambda's advice: visibility >= 6 x the function timeout, so throttled retries
    # never hand a batch in flight to a second invocation
    timeout = deployed.stack.functions["IngestFunction"].timeout
    visibility = int(queue_attributes(deployed, "IngestQueue")["VisibilityTimeout"])

    assert visibility >= 6 * timeout


def test_every_subscribed_queue_has_a_dead_letter_queue(deployed: Deployed) -> None:
    # Poison messages must end somewhere an alarm watches, never retry forever
    assert deployed.stack.queue_mappings
    for mapping in deployed.stack.queue_mappings:
        assert mapping.dead_letter_arn, mapping.queue_arn
        assert mapping.max_receive_count is not None


def test_ingest_function_consumes_the_queue_with_partial_batch_failures(
    deployed: Deployed,
) -> None:
    ingest = deployed.stack.functions["IngestFunction"]
    mappings = deployed.lambda_.list_event_source_mappings(FunctionName=ingest.name)[
        "EventSourceMappings"
    ]
    queue_arn = queue_attributes(deployed, "IngestQueue")["QueueArn"]

    [mapping] = [m for m in mappings if m["EventSourceArn"] == queue_arn]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 25


def test_deploy_disables_sqs_mappings_so_moto_never_runs_docker(deployed: Deployed) -> None:
    # The local stack polls the queues itself; an enabled mapping would make moto try Docker
    for mapping in deployed.stack.queue_mappings:
        state = deployed.lambda_.get_event_source_mapping(UUID=mapping.uuid)["State"]
        assert state == "Disabled"


def test_function_environment_names_resources_that_exist(deployed: Deployed) -> None:
    # When the handlers read their settings from the environment the template gives them
    env = deployed.stack.environment()
    # Then each names a live resource of the stack
    for variable in (
        "TRIGLY_MAIN_TABLE",
        "TRIGLY_IDEMPOTENCY_TABLE",
        "TRIGLY_REJECTED_EVENTS_TABLE",
    ):
        deployed.dynamodb.describe_table(TableName=env[variable])
    deployed.sqs.get_queue_attributes(QueueUrl=env["TRIGLY_INGEST_QUEUE_URL"])
    deployed.s3.head_bucket(Bucket=env["TRIGLY_ARCHIVE_BUCKET"])


def test_functions_carry_their_handler_and_service_name(deployed: Deployed) -> None:
    functions = deployed.stack.functions

    assert {f.handler for f in functions.values()} == {
        f"functions/{name}/app.handler"
        for name in (
            "webhook",
            "ingest",
            "api",
            "scheduler",
            "outbound",
            "imports",
            "channels",
            "feedback",
            "journeys",
            "analytics",
            "compaction",
        )
    }
    services = {f.environment["POWERTOOLS_SERVICE_NAME"] for f in functions.values()}
    assert services == {
        "webhook",
        "ingest",
        "api",
        "scheduler",
        "outbound",
        "imports",
        "channels",
        "feedback",
        "journeys",
        "analytics",
        "analytics-compaction",
    }


def test_moto_redrives_a_message_received_max_receive_count_times(deployed: Deployed) -> None:
    # Given a message on the ingest queue that every consumer fails (made visible again at once,
    # as the local stack does)
    [mapping] = [m for m in deployed.stack.queue_mappings if m.function == "IngestFunction"]
    sqs = deployed.sqs
    sqs.send_message(QueueUrl=mapping.queue_url, MessageBody='{"poison": true}')
    assert mapping.max_receive_count is not None
    # When it is received maxReceiveCount times
    for _ in range(mapping.max_receive_count):
        [message] = sqs.receive_message(QueueUrl=mapping.queue_url)["Messages"]
        sqs.change_message_visibility(
            QueueUrl=mapping.queue_url,
            ReceiptHandle=message["ReceiptHandle"],
            VisibilityTimeout=0,
        )
    # Then the next receive finds nothing and the message waits in the DLQ
    assert "Messages" not in sqs.receive_message(QueueUrl=mapping.queue_url)
    assert mapping.dead_letter_url is not None
    [dead] = sqs.receive_message(QueueUrl=mapping.dead_letter_url)["Messages"]
    assert dead["Body"] == '{"poison": true}'
