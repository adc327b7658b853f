"""Deploy template.yaml into moto's CloudFormation and describe what came out.

Works against a moto server (`deploy(endpoint_url="http://127.0.0.1:PORT")`) and inside an
in-process `moto.mock_aws()` (`deploy()`), so integration tests create their tables, queues and
functions from the real template instead of hand-written copies.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from infra import aws
from infra import template as sam
from infra.template import DEFAULT_REGION, TEMPLATE_PATH, Route, ScheduleSpec

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient

STACK_NAME = "trigly-local"
ARTIFACT_BUCKET = "trigly-local-artifacts"
ARTIFACT_KEY = "code.zip"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


class DeployError(RuntimeError):
    """The stack did not reach CREATE_COMPLETE."""


@dataclass(frozen=True)
class DeployedFunction:
    logical_id: str
    name: str
    arn: str
    handler: str  # e.g. functions/webhook/app.handler
    environment: Mapping[str, str]  # resolved, as moto stored it
    timeout: int
    memory_size: int


@dataclass(frozen=True)
class DeployedQueue:
    logical_id: str
    url: str
    arn: str
    visibility_timeout: int
    dead_letter_arn: str | None  # from the RedrivePolicy
    dead_letter_url: str | None
    max_receive_count: int | None


@dataclass(frozen=True)
class QueueMapping:
    """A deployed SQS event source mapping (disabled in moto; the local stack polls instead)."""

    function: str  # logical id
    uuid: str
    queue_url: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool
    dead_letter_url: str | None
    dead_letter_arn: str | None
    max_receive_count: int | None


@dataclass(frozen=True)
class Schedule:
    name: str
    function: str  # logical id
    expression: str
    timezone: str | None
    input: str | None
    enabled: bool
    arn: str
    dead_letter_url: str | None
    maximum_retry_attempts: int


@dataclass(frozen=True)
class DeployedStack:
    stack_name: str
    region: str
    account_id: str
    endpoint_url: str | None
    outputs: Mapping[str, str]
    physical_ids: Mapping[str, str]  # logical id → physical id (resources moto skipped are absent)
    functions: Mapping[str, DeployedFunction]  # by logical id
    queues: Mapping[str, DeployedQueue]  # by logical id
    routes: tuple[Route, ...]
    schedules: tuple[Schedule, ...]
    queue_mappings: tuple[QueueMapping, ...]
    sam_template: Mapping[str, Any] = field(repr=False)
    cfn_template: Mapping[str, Any] = field(repr=False)

    def environment(self) -> dict[str, str]:
        """The variables every function sees alike, for a process hosting all of them at once.

        A variable whose value differs between functions (POWERTOOLS_SERVICE_NAME) takes the
        template's Globals value when that is a literal, and is left out otherwise.
        """
        envs = [dict(f.environment) for f in self.functions.values()]
        if not envs:
            return {}
        union: dict[str, str] = {}
        globals_env = (
            sam.function_globals(self.sam_template).get("Environment", {}).get("Variables", {})
        )
        for key in sorted({k for env in envs for k in env}):
            values = {env.get(key) for env in envs}
            if len(values) == 1 and None not in values:
                union[key] = envs[0][key]
            elif isinstance(globals_env.get(key), str):
                union[key] = globals_env[key]
        return union

    def function_by_name(self, name: str) -> DeployedFunction:
        for function in self.functions.values():
            if name in {function.name, function.arn}:
                return function
        raise KeyError(name)


def code_zip() -> bytes:
    """A placeholder artifact: moto wants code bytes to create a function, it never runs them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            "Trigly local stack: handlers run in process from the repository, not from here.\n",
        )
    return buffer.getvalue()


def _wait_for_stack(cloudformation: Any, stack_name: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        stack: dict[str, Any] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status == "CREATE_COMPLETE":
            return stack
        if not status.endswith("IN_PROGRESS"):
            events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
            reasons = [
                f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
                for e in events
                if e.get("ResourceStatus", "").endswith("FAILED")
            ]
            raise DeployError(f"stack {stack_name} ended {status}: {'; '.join(reasons)}")
        if time.monotonic() > deadline:
            raise DeployError(f"stack {stack_name} still {status} after {timeout_s:.0f} s")
        time.sleep(0.1)


def _for_moto(cfn: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the translated template that moto's CloudFormation reads as AWS would.

    moto's table model reads SSESpecification with the API's key (`Enabled`), not
    CloudFormation's (`SSEEnabled`), and so drops SSE; give it both, with the template's value.
    """
    patched: dict[str, Any] = json.loads(json.dumps(cfn))
    for table in sam.resources_of_type(patched, "AWS::DynamoDB::Table").values():
        sse = table.get("Properties", {}).get("SSESpecification")
        if sse and "SSEEnabled" in sse:
            sse.setdefault("Enabled", sse["SSEEnabled"])
    return patched


def _apply_table_settings(
    dynamodb: DynamoDBClient, cfn: Mapping[str, Any], physical: Mapping[str, str]
) -> None:
    """Apply what moto's CloudFormation ignores on AWS::DynamoDB::Table: TTL and PITR."""
    for logical_id, table in sam.resources_of_type(cfn, "AWS::DynamoDB::Table").items():
        props = table.get("Properties", {})
        name = physical[logical_id]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr and pitr.get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )


def _create_skipped_secrets(
    secretsmanager: Any,
    lambda_client: LambdaClient,
    cfn: Mapping[str, Any],
    physical: dict[str, str],
    stack_name: str,
) -> None:
    """moto's CloudFormation skips AWS::SecretsManager::Secret and drops the environment
    variables that `!Ref` it: create each secret (a generated value, as GenerateSecretString does)
    and give the functions their variables back."""
    import secrets

    skipped = {
        logical_id: secretsmanager.create_secret(
            Name=f"{stack_name}-{logical_id}", SecretString=secrets.token_urlsafe(48)
        )["ARN"]
        for logical_id in sam.resources_of_type(cfn, "AWS::SecretsManager::Secret")
        if logical_id not in physical
    }
    physical.update(skipped)
    for logical_id, function in sam.resources_of_type(cfn, "AWS::Lambda::Function").items():
        variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
        missing = {
            name: skipped[value["Ref"]]
            for name, value in variables.items()
            if isinstance(value, dict) and value.get("Ref") in skipped
        }
        if missing and logical_id in physical:
            name = physical[logical_id]
            current = lambda_client.get_function_configuration(FunctionName=name)
            env = current.get("Environment", {}).get("Variables", {})
            lambda_client.update_function_configuration(
                FunctionName=name, Environment={"Variables": {**env, **missing}}
            )


def _functions(
    lambda_client: LambdaClient, cfn: Mapping[str, Any], physical: Mapping[str, str]
) -> dict[str, DeployedFunction]:
    found: dict[str, DeployedFunction] = {}
    for logical_id in sam.resources_of_type(cfn, "AWS::Lambda::Function"):
        config = lambda_client.get_function_configuration(FunctionName=physical[logical_id])
        found[logical_id] = DeployedFunction(
            logical_id=logical_id,
            name=config["FunctionName"],
            arn=config["FunctionArn"],
            handler=config["Handler"],
            environment=MappingProxyType(dict(config.get("Environment", {}).get("Variables", {}))),
            timeout=config["Timeout"],
            memory_size=config["MemorySize"],
        )
    return found


def _queues(
    sqs: SQSClient, cfn: Mapping[str, Any], physical: Mapping[str, str]
) -> dict[str, DeployedQueue]:
    attributes: dict[str, Mapping[str, str]] = {}
    for logical_id in sam.resources_of_type(cfn, "AWS::SQS::Queue"):
        described = sqs.get_queue_attributes(
            QueueUrl=physical[logical_id],
            AttributeNames=["QueueArn", "RedrivePolicy", "VisibilityTimeout"],
        )
        attributes[logical_id] = {str(k): v for k, v in described["Attributes"].items()}
    url_by_arn = {attrs["QueueArn"]: physical[lid] for lid, attrs in attributes.items()}
    found: dict[str, DeployedQueue] = {}
    for logical_id, attrs in attributes.items():
        redrive = json.loads(attrs["RedrivePolicy"]) if attrs.get("RedrivePolicy") else {}
        dlq_arn = redrive.get("deadLetterTargetArn")
        dlq_url = None
        if dlq_arn:
            dlq_url = (
                url_by_arn.get(dlq_arn)
                or sqs.get_queue_url(QueueName=dlq_arn.rsplit(":", 1)[-1])["QueueUrl"]
            )
        found[logical_id] = DeployedQueue(
            logical_id=logical_id,
            url=physical[logical_id],
            arn=attrs["QueueArn"],
            visibility_timeout=int(attrs.get("VisibilityTimeout", 30)),
            dead_letter_arn=dlq_arn,
            dead_letter_url=dlq_url,
            max_receive_count=int(redrive["maxReceiveCount"]) if redrive else None,
        )
    return found


def _queue_mappings(
    lambda_client: LambdaClient,
    sqs: SQSClient,
    functions: Mapping[str, DeployedFunction],
    queues: Mapping[str, DeployedQueue],
) -> list[QueueMapping]:
    """Disable every SQS mapping moto created and describe it for the local stack's pollers.

    Enabled, moto tries to run the function in Docker on every SendMessage (slow, noisy, hides
    messages for the visibility timeout); the local stack delivers the batches itself.
    """
    queue_by_arn = {q.arn: q for q in queues.values()}
    mappings: list[QueueMapping] = []
    for function in functions.values():
        listed = lambda_client.list_event_source_mappings(FunctionName=function.name)
        for esm in listed["EventSourceMappings"]:
            source = esm.get("EventSourceArn", "")
            if ":sqs:" not in source:
                continue
            lambda_client.update_event_source_mapping(UUID=esm["UUID"], Enabled=False)
            queue = queue_by_arn.get(source)
            url = (
                queue.url
                if queue
                else sqs.get_queue_url(QueueName=source.rsplit(":", 1)[-1])["QueueUrl"]
            )
            mappings.append(
                QueueMapping(
                    function=function.logical_id,
                    uuid=esm["UUID"],
                    queue_url=url,
                    queue_arn=source,
                    batch_size=int(esm.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in esm.get("FunctionResponseTypes", []),
                    dead_letter_url=queue.dead_letter_url if queue else None,
                    dead_letter_arn=queue.dead_letter_arn if queue else None,
                    max_receive_count=queue.max_receive_count if queue else None,
                )
            )
    return mappings


def _schedules(
    specs: list[ScheduleSpec], queues: Mapping[str, DeployedQueue], region: str, account: str
) -> list[Schedule]:
    def dead_letter_url(spec: ScheduleSpec) -> str | None:
        queue = queues.get(spec.dead_letter_queue or "")
        return queue.url if queue else None

    return [
        Schedule(
            name=spec.name,
            function=spec.function,
            expression=spec.expression,
            timezone=spec.timezone,
            input=spec.input,
            enabled=spec.enabled,
            arn=f"arn:aws:scheduler:{region}:{account}:schedule/default/{spec.name}",
            dead_letter_url=dead_letter_url(spec),
            maximum_retry_attempts=spec.maximum_retry_attempts,
        )
        for spec in specs
    ]


def deploy(
    endpoint_url: str | None = None,
    *,
    template_path: Path = TEMPLATE_PATH,
    stack_name: str = STACK_NAME,
    parameters: Mapping[str, str] | None = None,
    region: str = DEFAULT_REGION,
    timeout_s: float = 120.0,
) -> DeployedStack:
    """Translate template.yaml, create it as a CloudFormation stack in moto, describe it."""
    session = aws.session(region)
    s3 = session.client("s3", endpoint_url=endpoint_url)
    cloudformation = session.client("cloudformation", endpoint_url=endpoint_url)
    lambda_client = session.client("lambda", endpoint_url=endpoint_url)
    sqs = session.client("sqs", endpoint_url=endpoint_url)

    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    s3.put_object(Bucket=ARTIFACT_BUCKET, Key=ARTIFACT_KEY, Body=code_zip())

    sam_template = sam.load(template_path)
    cfn_template = sam.translate(
        sam_template,
        code_uri=f"s3://{ARTIFACT_BUCKET}/{ARTIFACT_KEY}",
        parameters=parameters,
        region=region,
    )
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(_for_moto(cfn_template)),
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()
        ],
        Capabilities=CAPABILITIES,  # type: ignore[arg-type]  # literal strings of the enum
    )
    stack = _wait_for_stack(cloudformation, stack_name, timeout_s)

    physical: dict[str, str] = {}
    paginator = cloudformation.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_name):
        for summary in page["StackResourceSummaries"]:
            if summary.get("PhysicalResourceId"):
                physical[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]

    _apply_table_settings(
        session.client("dynamodb", endpoint_url=endpoint_url), cfn_template, physical
    )
    _create_skipped_secrets(
        session.client("secretsmanager", endpoint_url=endpoint_url),
        lambda_client,
        cfn_template,
        physical,
        stack_name,
    )
    functions = _functions(lambda_client, cfn_template, physical)
    queues = _queues(sqs, cfn_template, physical)
    mappings = _queue_mappings(lambda_client, sqs, functions, queues)
    account = next(iter(functions.values())).arn.split(":")[4] if functions else "123456789012"
    pseudo = {
        **(parameters or {}),
        "AWS::StackName": stack_name,
        "AWS::Region": region,
        "AWS::AccountId": account,
    }

    return DeployedStack(
        stack_name=stack_name,
        region=region,
        account_id=account,
        endpoint_url=endpoint_url,
        outputs=MappingProxyType(
            {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        ),
        physical_ids=MappingProxyType(physical),
        functions=MappingProxyType(functions),
        queues=MappingProxyType(queues),
        routes=tuple(sam.routes(sam_template)),
        schedules=tuple(_schedules(sam.schedules(sam_template, pseudo), queues, region, account)),
        queue_mappings=tuple(mappings),
        sam_template=sam_template,
        cfn_template=cfn_template,
    )
