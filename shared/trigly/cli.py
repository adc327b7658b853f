"""`trigly`: operator commands against a deployed stack (or the local one).

    trigly tenant create "Автомир" --stack trigly-prod [--country RU] [--timezone Europe/Moscow]

prints the new tenant's id, its first API key and a connector with its webhook secret (each shown
once).

    trigly import base.csv --tenant ten_... --connector con_... [--dry-run] [--stack trigly-prod]

imports a customer base (CSV or JSON Lines, docs/imports.md) through webhook intake, with a
progress bar on stderr, and prints the report (new, existing, duplicates, invalid) as JSON.

    trigly keys rotate-links --stack trigly-prod [--revoke-previous]

adds a new current link key (customer links, tracking, callback secrets); links signed before keep
working until they expire, unless `--revoke-previous` (a leaked key): ADR 0014.

    trigly analytics rebuild --tenant ten_... [--stack trigly-prod]

recomputes the tenant's analytics view from the tables (a new column, or after a bug), with a
progress bar on stderr: a parallel Scan finds the tenant's customers, each is projected again,
then the tenant is compacted (ADR 0022). An operator's command: the Scan reads the whole table.

`--stack` reads the table and queue names from the CloudFormation stack's outputs; without it
they come from the TRIGLY_* environment variables, as in a Lambda function.
"""

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

STACK_OUTPUTS = {
    "MainTableName": "TRIGLY_MAIN_TABLE",
    "IdempotencyTableName": "TRIGLY_IDEMPOTENCY_TABLE",
    "RejectedEventsTableName": "TRIGLY_REJECTED_EVENTS_TABLE",
    "IngestQueueUrl": "TRIGLY_INGEST_QUEUE_URL",
    "ArchiveBucketName": "TRIGLY_ARCHIVE_BUCKET",
    "EventBusName": "TRIGLY_EVENT_BUS",
    "OutboundQueueUrl": "TRIGLY_OUTBOUND_QUEUE_URL",
    "LinkSigningSecretArn": "TRIGLY_LINK_SECRET_ARN",
    "AnalyticsQueueUrl": "TRIGLY_ANALYTICS_QUEUE_URL",
}


def _use_stack(stack_name: str) -> None:
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    for output, variable in STACK_OUTPUTS.items():
        if output in outputs:  # a stack from before an output existed lacks it
            os.environ[variable] = outputs[output]


def _create_tenant(args: argparse.Namespace) -> dict[str, Any]:
    from trigly.platform import tenancy

    tenant = tenancy.create_tenant(args.name, default_country=args.country, timezone=args.timezone)
    if args.sandbox:
        from trigly.messaging.settings import change_settings

        change_settings(tenant.tenant_id, {"sandbox": True})
    key = tenancy.issue_api_key(tenant.tenant_id, "first key")
    connector = tenancy.create_connector(tenant.tenant_id, args.connector)
    return {
        "tenant_id": tenant.tenant_id,
        "api_key": key.api_key,
        "connector_id": connector.connector_id,
        "webhook_secret": connector.secret,
    }


def _rotate_link_keys(args: argparse.Namespace) -> dict[str, Any]:
    from trigly.platform import tokens

    current = tokens.rotate_link_key(revoke_previous=args.revoke_previous)
    return {"current_key": current, "previous_revoked": args.revoke_previous}


def _count_lines(path: Path) -> int:
    with path.open("rb") as file:
        return sum(block.count(b"\n") for block in iter(lambda: file.read(1 << 20), b""))


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        yield from iter(lambda: file.read(1 << 20), b"")


def _import(args: argparse.Namespace) -> dict[str, Any]:
    from tqdm import tqdm

    from trigly.imports.report import ImportReport
    from trigly.imports.runner import Importer
    from trigly.imports.source import ImportFileError, Reader, format_for, open_stream
    from trigly.platform import clock, tenancy
    from trigly.platform.errors import NotFound

    path = Path(args.file)
    if not path.is_file():
        raise SystemExit(f"trigly import: no such file: {path}")
    try:
        tenant = tenancy.get_tenant(args.tenant)
        tenancy.get_connector(tenant.tenant_id, args.connector)
    except NotFound as exc:
        raise SystemExit(f"trigly import: {exc.detail} (tenant {args.tenant})") from exc
    exported_at = datetime.fromisoformat(args.exported_at) if args.exported_at else None
    if exported_at is not None and exported_at.tzinfo is None:
        raise SystemExit(
            "trigly import: --exported-at needs an offset, e.g. 2026-11-20T00:00+03:00"
        )
    try:
        layout, found = open_stream(_blocks(path), args.format or format_for(path.name))
    except ImportFileError as exc:
        raise SystemExit(f"trigly import: {exc}") from exc
    now = clock.now()
    reader = Reader(layout, timezone=tenant.timezone, exported_at=exported_at)
    with tqdm(
        total=_count_lines(path),
        initial=layout.data_line - 1,
        unit="line",
        desc="dry run" if args.dry_run else "import",
        disable=args.no_progress,
    ) as bar:

        def progress(line: int) -> None:
            bar.update(max(0, line - bar.n))

        importer = Importer(
            tenant,
            args.connector,
            dry_run=args.dry_run,
            report=ImportReport(layout.format, args.dry_run),
            received_at=now,
            columns=reader.columns if layout.format == "csv" else None,
            progress=progress,
        )
        importer.add(reader.rows(found))
        report = importer.finish()
        bar.update(max(0, (bar.total or 0) - bar.n))
    report.unknown_columns = list(reader.columns.unknown)
    return report.as_json()


def _rebuild_analytics(args: argparse.Namespace) -> dict[str, Any]:
    from tqdm import tqdm

    from trigly.analytics.rebuild import rebuild
    from trigly.platform import tenancy
    from trigly.platform.errors import NotFound

    try:
        tenancy.get_tenant(args.tenant)
    except NotFound as exc:
        raise SystemExit(f"trigly analytics rebuild: {exc.detail} (tenant {args.tenant})") from exc
    with tqdm(unit="customer", desc="scanning", disable=args.no_progress) as bar:

        def found(total: int) -> None:
            bar.reset(total=total)
            bar.set_description("projecting")

        def progress(customers: int) -> None:
            bar.update(customers)

        done = rebuild(args.tenant, found=found, progress=progress, segments=args.segments)
    return {
        "tenant_id": done.tenant_id,
        "customers": done.customers,
        "snapshot_version": done.compacted.version,
        "rows": done.compacted.rows,
        "snapshot_bytes": done.compacted.snapshot_bytes,
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
    create.add_argument(
        "--sandbox",
        action="store_true",
        help="channels without a provider record to the outbox (trials; never real customers)",
    )
    create.set_defaults(run=_create_tenant)
    bulk = commands.add_parser(
        "import", help="import customers, cars and history from CSV or JSON Lines (docs/imports.md)"
    )
    bulk.add_argument("file", help="a .csv (dealer export) or .jsonl (one contract event a line)")
    bulk.add_argument("--tenant", required=True, help="tenant id")
    bulk.add_argument("--connector", required=True, help="the DMS connector the ids belong to")
    bulk.add_argument("--format", choices=["csv", "jsonl"], help="default: from the file")
    bulk.add_argument("--dry-run", action="store_true", help="report only; nothing is written")
    bulk.add_argument(
        "--exported-at", help="when the file was exported (ISO 8601 with offset): dates its rows"
    )
    bulk.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    bulk.add_argument("--stack", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    bulk.set_defaults(run=_import)
    keys = commands.add_parser("keys", help="rotate keys (ADR 0014)").add_subparsers(
        dest="action", required=True
    )
    rotate = keys.add_parser("rotate-links", help="a new current key for customer links")
    rotate.add_argument(
        "--revoke-previous", action="store_true", help="links signed so far stop working (a leak)"
    )
    rotate.set_defaults(run=_rotate_link_keys)
    analytics = commands.add_parser(
        "analytics", help="the analytics view (ADR 0022)"
    ).add_subparsers(dest="action", required=True)
    rebuild = analytics.add_parser(
        "rebuild", help="recompute a tenant's analytics view from the tables"
    )
    rebuild.add_argument("--tenant", required=True, help="tenant id")
    rebuild.add_argument("--segments", type=int, default=8, help="parallel Scan segments")
    rebuild.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    rebuild.add_argument("--stack", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    rebuild.set_defaults(run=_rebuild_analytics)
    args = parser.parse_args(argv)
    if args.stack:
        _use_stack(args.stack)
    json.dump(args.run(args), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
