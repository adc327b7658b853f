"""The SAM template as data: load it, translate it to CloudFormation, read its event wiring.

Everything here is pure (no AWS calls), so template tests and the local stack read the same
routes, schedules and queue subscriptions the deployed stack gets.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from infra.aws import REGION

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
DEFAULT_REGION = REGION

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
# SAM's implicit API when an HttpApi event names no ApiId.
IMPLICIT_HTTP_API = "ServerlessHttpApi"

Template = dict[str, Any]


@dataclass(frozen=True)
class Route:
    """One HttpApi event: `METHOD path` → function, as API Gateway would route it."""

    method: str  # GET, POST, ..., or ANY
    path: str  # "/v1/webhooks/{connector_id}", "/v1/{proxy+}" or "$default"
    function: str  # logical id
    event: str  # the event's name under the function's Events
    api: str  # logical id of the HttpApi

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class ScheduleSpec:
    """One ScheduleV2 (EventBridge Scheduler) or Schedule (EventBridge rule) event."""

    name: str
    function: str
    expression: str  # rate(...), cron(...) or at(...)
    timezone: str | None
    input: str | None  # the JSON text the target receives; None → the service's default event
    enabled: bool
    dead_letter_queue: str | None  # logical id of the queue failed invocations go to
    maximum_retry_attempts: int
    kind: Literal["ScheduleV2", "Schedule"]


@dataclass(frozen=True)
class SqsSubscription:
    """One SQS event: the function's event source mapping on a queue."""

    function: str
    event: str
    queue: str  # logical id, or the ARN when the queue lives outside the stack
    batch_size: int
    report_batch_item_failures: bool
    enabled: bool
    batching_window_s: int = 0


def load(path: Path = TEMPLATE_PATH) -> Template:
    """The SAM template with its short-form tags (!Ref, !Sub, !GetAtt) as JSON intrinsics."""
    from samtranslator.yaml_helper import yaml_parse  # type: ignore[import-untyped]

    parsed: Template = yaml_parse(path.read_text(encoding="utf-8"))
    return parsed


def resources_of_type(template: Mapping[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == type_
    }


def functions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Serverless functions by logical id (their Properties, Globals not merged)."""
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in resources_of_type(template, SERVERLESS_FUNCTION).items()
    }


def function_globals(template: Mapping[str, Any]) -> dict[str, Any]:
    return dict(template.get("Globals", {}).get("Function", {}))


def with_code_uri(template: Mapping[str, Any], code_uri: str) -> Template:
    """A copy whose every function ships `code_uri` (SAM wants an s3:// URI to translate)."""
    result: Template = copy.deepcopy(dict(template))
    globals_ = result.get("Globals", {}).get("Function", {})
    if "CodeUri" in globals_:
        globals_["CodeUri"] = code_uri
    for resource in resources_of_type(result, SERVERLESS_FUNCTION).values():
        props = resource.setdefault("Properties", {})
        if "InlineCode" not in props and ("CodeUri" in props or "CodeUri" not in globals_):
            props["CodeUri"] = code_uri
    return result


def translate(
    template: Mapping[str, Any],
    *,
    code_uri: str,
    parameters: Mapping[str, Any] | None = None,
    region: str = DEFAULT_REGION,
) -> Template:
    """Translate SAM → CloudFormation the way the `AWS::Serverless` transform does.

    Managed policy names resolve from the map bundled with aws-sam-translator, so no IAM call is
    needed (moto's IAM lists only a subset of AWS managed policies).
    """
    from samtranslator.internal.managed_policies import (  # type: ignore[import-untyped]
        get_bundled_managed_policy_map,
    )
    from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
    from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]

    from infra.aws import session

    def managed_policies() -> dict[str, str]:
        return get_bundled_managed_policy_map("aws") or {}

    # The session only tells the translator the region (AWS::Region, AWS::Partition).
    translator = Translator(None, Parser(), boto_session=session(region))
    translated: Template = translator.translate(
        with_code_uri(template, code_uri),
        parameter_values=dict(parameters or {}),
        get_managed_policy_map=managed_policies,
    )
    translator.metrics.publish()  # to its dummy publisher; unpublished metrics warn at exit
    return translated


def logical_id_of(value: Any) -> str | None:
    """The resource a `Ref`/`GetAtt` points at, or None for a literal."""
    if isinstance(value, Mapping):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            name = target[0] if isinstance(target, list) else str(target).split(".", 1)[0]
            return str(name)
    return None


def parameter_values(
    template: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The template's parameters with their defaults, then `overrides` (pseudo ones included)."""
    values: dict[str, Any] = {
        "AWS::Region": REGION,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    for name, spec in (template.get("Parameters") or {}).items():
        if "Default" in spec:
            values[name] = spec["Default"]
    values.update(overrides or {})
    return values


def resolve(value: Any, parameters: Mapping[str, Any]) -> Any:
    """A literal, a `Ref` to a parameter or an `Fn::Sub` over parameters, as a plain value.

    Anything naming a resource (whose value exists only once deployed) stays as it is.
    """
    if isinstance(value, Mapping):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            text = value["Fn::Sub"]
            names = re.findall(r"\$\{([^}!]+)\}", text)
            if all(name in parameters for name in names):
                for name in names:
                    text = text.replace("${" + name + "}", str(parameters[name]))
                return text
    return value


def _events(template: Mapping[str, Any], type_: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for function_id, props in functions(template).items():
        for event_name, event in (props.get("Events") or {}).items():
            if event.get("Type") == type_:
                yield function_id, event_name, dict(event.get("Properties") or {})


def routes(template: Mapping[str, Any]) -> list[Route]:
    """Every HttpApi event. An event without Path/Method is the API's `$default` route."""
    found: list[Route] = []
    for function_id, event_name, props in _events(template, "HttpApi"):
        path = str(props.get("Path", "$default"))
        method = str(props.get("Method", "ANY")).upper()
        if method in {"X-AMAZON-APIGATEWAY-ANY-METHOD", "*"}:
            method = "ANY"
        api = logical_id_of(props.get("ApiId")) or IMPLICIT_HTTP_API
        found.append(Route(method, path, function_id, event_name, api))
    return found


def _as_input(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value)


def _enabled(props: Mapping[str, Any]) -> bool:
    if "State" in props:
        return str(props["State"]).upper() == "ENABLED"
    return bool(props.get("Enabled", True))


def schedules(
    template: Mapping[str, Any], parameters: Mapping[str, Any] | None = None
) -> list[ScheduleSpec]:
    """Every ScheduleV2 and Schedule event, named as SAM names the deployed schedule."""
    values = parameter_values(template, parameters)
    found: list[ScheduleSpec] = []
    for kind, key in (("ScheduleV2", "ScheduleExpression"), ("Schedule", "Schedule")):
        for function_id, event_name, raw in _events(template, kind):
            props = {name: resolve(value, values) for name, value in raw.items()}
            dead_letter = props.get("DeadLetterConfig") or {}
            retry = props.get("RetryPolicy") or {}
            found.append(
                ScheduleSpec(
                    name=str(props.get("Name") or f"{function_id}{event_name}"),
                    function=function_id,
                    expression=str(props[key]),
                    timezone=props.get("ScheduleExpressionTimezone"),
                    input=_as_input(props.get("Input")),
                    enabled=_enabled(props),
                    dead_letter_queue=logical_id_of(dead_letter.get("Arn")),
                    # Scheduler retries 185 times by default, EventBridge rules likewise.
                    maximum_retry_attempts=int(retry.get("MaximumRetryAttempts", 185)),
                    kind=kind,  # type: ignore[arg-type]  # one of the two literals above
                )
            )
    return found


def sqs_subscriptions(template: Mapping[str, Any]) -> list[SqsSubscription]:
    found: list[SqsSubscription] = []
    for function_id, event_name, props in _events(template, "SQS"):
        queue = logical_id_of(props["Queue"]) or str(props["Queue"])
        found.append(
            SqsSubscription(
                function=function_id,
                event=event_name,
                queue=queue,
                batch_size=int(props.get("BatchSize", 10)),
                report_batch_item_failures="ReportBatchItemFailures"
                in (props.get("FunctionResponseTypes") or []),
                enabled=bool(props.get("Enabled", True)),
                batching_window_s=int(props.get("MaximumBatchingWindowInSeconds", 0)),
            )
        )
    return found


@cache
def _cached_translation(path: Path, code_uri: str, region: str) -> Template:
    return translate(load(path), code_uri=code_uri, region=region)


def translated(
    path: Path = TEMPLATE_PATH,
    *,
    code_uri: str = "s3://trigly-local-artifacts/code.zip",
    region: str = DEFAULT_REGION,
) -> Template:
    """The translated template with default parameters (cached: it is pure but takes ~0.3 s)."""
    return copy.deepcopy(_cached_translation(path, code_uri, region))
