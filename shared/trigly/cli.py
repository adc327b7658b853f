"""`trigly`: operator commands against a deployed stack (or the local one).

    trigly tenant create "Автомир" --stack trigly-prod [--country RU] [--timezone Europe/Moscow]

prints the new tenant's id, its first API key and a connector with its webhook secret (each shown
once). `--stack` reads the table and queue names from the CloudFormation stack's outputs; without
it they come from the TRIGLY_* environment variables, as in a Lambda function.
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence

STACK_OUTPUTS = {
    "MainTableName": "TRIGLY_MAIN_TABLE",
    "IdempotencyTableName": "TRIGLY_IDEMPOTENCY_TABLE",
    "RejectedEventsTableName": "TRIGLY_REJECTED_EVENTS_TABLE",
    "IngestQueueUrl": "TRIGLY_INGEST_QUEUE_URL",
    "ArchiveBucketName": "TRIGLY_ARCHIVE_BUCKET",
    "EventBusName": "TRIGLY_EVENT_BUS",
    "OutboundQueueUrl": "TRIGLY_OUTBOUND_QUEUE_URL",
}


def _use_stack(stack_name: str) -> None:
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    for output, variable in STACK_OUTPUTS.items():
        os.environ[variable] = outputs[output]


def _create_tenant(args: argparse.Namespace) -> dict[str, str]:
    from trigly.platform import tenancy

    tenant = tenancy.create_tenant(args.name, default_country=args.country, timezone=args.timezone)
    key = tenancy.issue_api_key(tenant.tenant_id, "first key")
    connector = tenancy.create_connector(tenant.tenant_id, args.connector)
    return {
        "tenant_id": tenant.tenant_id,
        "api_key": key.api_key,
        "connector_id": connector.connector_id,
        "webhook_secret": connector.secret,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trigly", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", help="CloudFormation stack to read resource names from")
    commands = parser.add_subparsers(dest="command", required=True)
    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(
        dest="action", required=True
    )
    create = tenant.add_parser("create", help="create a tenant with an API key and a connector")
    create.add_argument("name")
    create.add_argument("--country", default="RU", help="default country for phone numbers")
    create.add_argument("--timezone", default="Europe/Moscow")
    create.add_argument("--connector", default="DMS", help="name of the first inbound connector")
    create.set_defaults(run=_create_tenant)
    args = parser.parse_args(argv)
    if args.stack:
        _use_stack(args.stack)
    json.dump(args.run(args), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
