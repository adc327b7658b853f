"""What moto cannot show (it skips alarms, the HTTP API and schedules), read from the template.

Checks run on the template as written where intent lives there (Globals, alarms, log groups)
and on the translated CloudFormation where SAM generates it (roles, policies, functions).
"""

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from infra import template as sam
from infra.local import schedule

POWERTOOLS_GLOBALS = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
}
# Read-only verbs; anything else on Resource "*" is a write the role could do anywhere.
READ_VERBS = ("Get", "List", "Describe", "BatchGet", "Query", "Scan", "Head", "Lookup")
# AWS offers no resource-level permission for these, so "*" is the only possible resource.
ONLY_ON_ANY_RESOURCE = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# Managed policies SAM attaches itself (logs, X-Ray, SQS polling); anything else is a choice
# to review here.
SAM_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def dead_letter_queues(sam_template: dict[str, Any]) -> dict[str, str]:
    """Queue logical id → what sends it failures (a queue's redrive or a schedule)."""
    found: dict[str, str] = {}
    for logical_id, queue in sam.resources_of_type(sam_template, "AWS::SQS::Queue").items():
        redrive = queue.get("Properties", {}).get("RedrivePolicy")
        if redrive and (dlq := sam.logical_id_of(redrive.get("deadLetterTargetArn"))):
            found[dlq] = f"redrive of {logical_id}"
    for spec in sam.schedules(sam_template):
        if spec.dead_letter_queue:
            found[spec.dead_letter_queue] = f"schedule {spec.name}"
    for function_id, props in sam.functions(sam_template).items():
        config = props.get("DeadLetterQueue") or {}
        if config.get("Type") == "SQS" and (target := sam.logical_id_of(config.get("TargetArn"))):
            found[target] = f"async failures of {function_id}"
    return found


def alarmed_queues(sam_template: dict[str, Any]) -> set[str]:
    """Queues with an alarm on visible messages that notifies someone."""
    alarmed: set[str] = set()
    for alarm in sam.resources_of_type(sam_template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("Namespace") != "AWS/SQS" or not props.get("AlarmActions"):
            continue
        if props.get("MetricName") != "ApproximateNumberOfMessagesVisible":
            continue
        for dimension in props.get("Dimensions", []):
            if dimension["Name"] == "QueueName" and (q := sam.logical_id_of(dimension["Value"])):
                alarmed.add(q)
    return alarmed


def test_every_dead_letter_queue_has_an_alarm(sam_template: dict[str, Any]) -> None:
    # Given every queue that receives failures (redrive targets, schedule DLQs)
    dlqs = dead_letter_queues(sam_template)
    assert dlqs, "the template declares dead-letter queues"
    # Then each has an alarm on visible messages with an action
    missing = {q: why for q, why in dlqs.items() if q not in alarmed_queues(sam_template)}
    assert missing == {}


def log_groups_by_function(sam_template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for log_group in sam.resources_of_type(sam_template, "AWS::Logs::LogGroup").values():
        name = log_group["Properties"].get("LogGroupName")
        text = name.get("Fn::Sub") if isinstance(name, dict) else name
        if isinstance(text, str) and (m := re.fullmatch(r"/aws/lambda/\$\{(\w+)\}", text)):
            found[m[1]] = log_group["Properties"]
    return found


def test_every_function_has_an_explicit_log_group_with_retention(
    sam_template: dict[str, Any],
) -> None:
    # Without one, Lambda creates a log group that keeps personal data forever
    groups = log_groups_by_function(sam_template)

    for function_id in sam.functions(sam_template):
        assert function_id in groups, f"{function_id} has no /aws/lambda/ log group"
        assert "RetentionInDays" in groups[function_id], function_id


def lambda_functions(cfn_template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in sam.resources_of_type(
            cfn_template, "AWS::Lambda::Function"
        ).items()
    }


def test_every_function_runs_python_312_on_arm64(cfn_template: dict[str, Any]) -> None:
    # moto stores every function as x86_64, so this is read from the translated template
    functions = lambda_functions(cfn_template)
    assert functions

    for logical_id, props in functions.items():
        assert props["Runtime"] == "python3.12", logical_id
        assert props["Architectures"] == ["arm64"], logical_id


def test_powertools_is_configured_once_in_globals(sam_template: dict[str, Any]) -> None:
    variables = sam.function_globals(sam_template)["Environment"]["Variables"]

    assert set(variables) >= POWERTOOLS_GLOBALS


def test_every_function_names_its_own_service(cfn_template: dict[str, Any]) -> None:
    services = [
        props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for props in lambda_functions(cfn_template).values()
    ]

    assert len(set(services)) == len(services)


def test_every_handler_is_an_app_module_under_functions(sam_template: dict[str, Any]) -> None:
    # One artifact for all functions: functions/<name>/app.handler over the same package
    for function_id, props in sam.functions(sam_template).items():
        handler = props["Handler"]
        match = re.fullmatch(r"functions/(\w+)/app\.handler", handler)
        assert match, f"{function_id}: {handler}"
        assert (sam.REPO_ROOT / "functions" / match[1]).is_dir(), handler


def policy_statements(cfn_template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every identity-policy statement of the translated template, with where it sits."""
    for logical_id, role in sam.resources_of_type(cfn_template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in as_list(policy["PolicyDocument"]["Statement"]):
                yield f"{logical_id}/{policy['PolicyName']}", statement
    for type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for logical_id, policy in sam.resources_of_type(cfn_template, type_).items():
            for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"]):
                yield logical_id, statement


def is_write(action: str) -> bool:
    verb = action.split(":", 1)[-1]
    return not verb.startswith(READ_VERBS)


def test_no_statement_allows_every_action(cfn_template: dict[str, Any]) -> None:
    statements = list(policy_statements(cfn_template))
    assert statements

    for where, statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        for action in as_list(statement.get("Action", [])):
            assert action != "*" and not action.endswith(":*"), f"{where}: {action}"


def test_no_statement_allows_a_write_on_every_resource(cfn_template: dict[str, Any]) -> None:
    for where, statement in policy_statements(cfn_template):
        if statement.get("Effect") != "Allow" or "*" not in as_list(statement.get("Resource")):
            continue
        writes = {
            a for a in as_list(statement.get("Action", [])) if is_write(a)
        } - ONLY_ON_ANY_RESOURCE
        assert writes == set(), f"{where} allows {sorted(writes)} on every resource"


def test_roles_attach_only_the_managed_policies_sam_needs(cfn_template: dict[str, Any]) -> None:
    for logical_id, role in sam.resources_of_type(cfn_template, "AWS::IAM::Role").items():
        attached = set(role["Properties"].get("ManagedPolicyArns", []))
        assert attached <= SAM_MANAGED_POLICIES, logical_id


@pytest.mark.parametrize(
    "output",
    [
        "ApiUrl",
        "MainTableName",
        "IdempotencyTableName",
        "RejectedEventsTableName",
        "IngestQueueUrl",
        "IngestDLQUrl",
        "ArchiveBucketName",
    ],
)
def test_outputs_name_what_tests_and_operators_need(
    sam_template: dict[str, Any], output: str
) -> None:
    assert output in sam_template["Outputs"]


def test_schedules_fire_no_more_often_than_every_15_minutes(
    sam_template: dict[str, Any],
) -> None:
    # CONTRACT §5: due work is read by time range, so a finer tick only costs invocations
    specs = sam.schedules(sam_template)
    assert specs

    for spec in specs:
        recurrence = schedule.parse(spec.expression, spec.timezone)
        assert schedule.shortest_interval(recurrence) >= timedelta(minutes=15), spec.name


def test_http_routes_are_read_from_the_template(sam_template: dict[str, Any]) -> None:
    # The local gateway serves exactly these; a typo here would be a 404 locally and on AWS
    keys = {(r.route_key, r.function) for r in sam.routes(sam_template)}

    assert keys == {
        ("POST /v1/webhooks/{connector_id}", "WebhookFunction"),
        ("ANY /v1/{proxy+}", "ApiFunction"),
        ("GET /openapi.json", "ApiFunction"),
        ("GET /docs", "ApiFunction"),
        ("GET /l/{token}", "ApiFunction"),
        ("POST /l/{token}", "ApiFunction"),
        ("GET /l/c/{token}", "ApiFunction"),
        ("GET /l/o/{token}", "ApiFunction"),
    }


def test_schedule_names_resolve_to_what_is_deployed(sam_template: dict[str, Any]) -> None:
    # A name written with !Sub is resolved with the parameters' defaults, as CloudFormation would
    names = [spec.name for spec in sam.schedules(sam_template)]

    assert all(isinstance(n, str) and "${" not in n for n in names)
    assert len(set(names)) == len(names)
    staged = [spec.name for spec in sam.schedules(sam_template, {"Stage": "prod"})]
    assert staged != names or not any("dev" in n for n in names)


def test_the_archive_bucket_keeps_merge_snapshots_while_undo_is_offered(
    sam_template: dict[str, Any],
) -> None:
    from trigly.profiles.merge import UNDO_DAYS

    bucket = sam_template["Resources"]["ArchiveBucket"]["Properties"]
    rules = bucket["LifecycleConfiguration"]["Rules"]
    # every rule is for one prefix: none may expire snapshots with the rejected bodies
    kept = {rule["Prefix"]: rule["ExpirationInDays"] for rule in rules}
    assert len(kept) == len(rules)
    assert kept["merges/"] > UNDO_DAYS
    assert kept["rejected/"] == 30 and kept["imports/"] == 30
