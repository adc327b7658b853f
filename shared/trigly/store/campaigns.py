"""Campaigns (CONTRACT §6): the campaign item (definition and sending state, versioned), the
audience as it was when sending started (pages of customer ids), the counters of what its
messages reached, the tenant's marketing settings, and segments as campaigns see them."""

import json
import zlib
from collections.abc import Iterator, Mapping
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from trigly.platform import aws
from trigly.platform.settings import get_settings
from trigly.store import due_hours, keys
from trigly.store.conditions import held
from trigly.store.models import (
    AudiencePageItem,
    CampaignItem,
    MarketingSettingsItem,
    bind,
)

COUNT_SHARDS = 4  # counter items per variant: a fast send spreads its ADDs over them


class StaleCampaign(Exception):
    """The campaign changed since it was read."""


def _sk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def _own_pk(tenant_id: str, campaign_id: str) -> str:
    return f"T#{tenant_id}#CMP#{campaign_id}"


def load(tenant_id: str, campaign_id: str) -> tuple[str, int] | None:
    """(document, version) of a campaign."""
    bind()
    try:
        item = CampaignItem.get(keys.tenant(tenant_id), _sk(campaign_id), consistent_read=True)
    except DoesNotExist:
        return None
    return item.doc, int(item.version or 0)


def save(
    tenant_id: str, campaign_id: str, doc: str, version: int | None, due: datetime | None
) -> int:
    """Optimistic (None: create, only if new); `due` puts it on the `due` index (the hourly
    tick looks at it then), None takes it off. Returns the new version."""
    bind()
    item = CampaignItem(keys.tenant(tenant_id), _sk(campaign_id), doc=doc)
    if due is not None:
        # The campaign id stands in for the customer: it spreads campaigns over the shards.
        item.due_pk, item.due_sk = due_hours.place(due, tenant_id, campaign_id, _sk(campaign_id))
    if version is not None:
        item.version = version
    if not held(item.save):
        raise StaleCampaign(campaign_id)
    return int(item.version or 0)


def listed(tenant_id: str, limit: int = 100) -> Iterator[str]:
    bind()
    for item in CampaignItem.query(
        keys.tenant(tenant_id),
        CampaignItem.sk.startswith("CAMPAIGN#"),
        scan_index_forward=False,
        limit=limit,
    ):
        yield item.doc


# --- the audience when sending started --------------------------------------------------------


def put_pages(tenant_id: str, campaign_id: str, first: int, pages: list[list[str]]) -> None:
    """Pages `first`, `first + 1`... (BatchWriteItem: 25 a request)."""
    bind()
    with AudiencePageItem.batch_write() as batch:
        for number, customer_ids in enumerate(pages, start=first):
            batch.save(
                AudiencePageItem(
                    _own_pk(tenant_id, campaign_id), f"PAGE#{number:07d}", customer_ids=customer_ids
                )
            )


def get_page(tenant_id: str, campaign_id: str, number: int) -> tuple[list[str], set[str]]:
    """The page's customer ids and the phases that finished it."""
    bind()
    item = AudiencePageItem.get(
        _own_pk(tenant_id, campaign_id), f"PAGE#{number:07d}", consistent_read=True
    )
    return [str(c) for c in item.customer_ids], set(item.done or ())


def finish_page(tenant_id: str, campaign_id: str, number: int, phase: str) -> bool:
    """Mark the page's fan-out done for a phase; False when it already was (a redelivery)."""
    bind()
    item = AudiencePageItem(_own_pk(tenant_id, campaign_id), f"PAGE#{number:07d}")
    return held(
        lambda: item.update(
            actions=[AudiencePageItem.done.add({phase})],
            condition=AudiencePageItem.pk.exists() & ~AudiencePageItem.done.contains(phase),
        )
    )


def count_finished(tenant_id: str, campaign_id: str, phase: str) -> int:
    """Count one more finished page of the phase; the count after it (ADD, UPDATED_NEW)."""
    answer = aws.dynamodb().update_item(
        TableName=get_settings().main_table,
        Key={"pk": {"S": _own_pk(tenant_id, campaign_id)}, "sk": {"S": "PROGRESS"}},
        UpdateExpression="SET #kind = :kind ADD #done :one",
        ExpressionAttributeNames={"#kind": "kind", "#done": f"done_{phase}"},
        ExpressionAttributeValues={":kind": {"S": "campaign_progress"}, ":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW",
    )
    return int(answer["Attributes"][f"done_{phase}"]["N"])


def status_of(tenant_id: str, campaign_id: str) -> str | None:
    """A campaign's status, for the send path re-deciding one of its held messages."""
    loaded = load(tenant_id, campaign_id)
    if loaded is None:
        return None
    status = json.loads(loaded[0]).get("status")
    return str(status) if status else None


def pages_done(tenant_id: str, campaign_id: str, phase: str) -> set[int]:
    """The page numbers whose fan-out finished in the phase (one Query of the campaign's own
    partition, keys and the `done` set only)."""
    bind()
    done: set[int] = set()
    for item in AudiencePageItem.query(
        _own_pk(tenant_id, campaign_id),
        AudiencePageItem.sk.startswith("PAGE#"),
        attributes_to_get=["pk", "sk", "kind", "done"],
    ):
        if item.done and phase in item.done:
            done.add(int(item.sk.removeprefix("PAGE#")))
    return done


# --- counters ---------------------------------------------------------------------------------


def add_counts(
    tenant_id: str, campaign_id: str, variant: str, customer_id: str, deltas: Mapping[str, int]
) -> None:
    """ADD the deltas to one of the variant's counter items (one UpdateItem, 1 WRU)."""
    changes = {name: n for name, n in deltas.items() if n}
    if not changes:
        return
    shard = zlib.crc32(customer_id.encode()) % COUNT_SHARDS
    names = {f"#c{i}": name for i, name in enumerate(changes)}
    values = {f":c{i}": {"N": str(n)} for i, n in enumerate(changes.values())}
    aws.dynamodb().update_item(
        TableName=get_settings().main_table,
        Key={
            "pk": {"S": _own_pk(tenant_id, campaign_id)},
            "sk": {"S": f"COUNT#{variant}#{shard}"},
        },
        UpdateExpression="SET #kind = :kind ADD "
        + ", ".join(f"{n} {v}" for n, v in zip(names, values, strict=True)),
        ExpressionAttributeNames={"#kind": "kind", **names},
        ExpressionAttributeValues={":kind": {"S": "campaign_count"}, **values},
    )


def counts(tenant_id: str, campaign_id: str) -> dict[str, dict[str, int]]:
    """Every counter by variant (`-` for messages without one: holdout, global control),
    summed over the shards: one Query of the counter items."""
    bind()
    client = aws.dynamodb()
    found: dict[str, dict[str, int]] = {}
    begin: dict[str, object] | None = None
    while True:
        page = client.query(
            TableName=get_settings().main_table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :count)",
            ExpressionAttributeValues={
                ":pk": {"S": _own_pk(tenant_id, campaign_id)},
                ":count": {"S": "COUNT#"},
            },
            ConsistentRead=True,
            **({"ExclusiveStartKey": begin} if begin else {}),  # type: ignore[arg-type]
        )
        for item in page.get("Items", []):
            variant = item["sk"]["S"].split("#")[1]
            into = found.setdefault(variant, {})
            for name, value in item.items():
                if "N" in value:
                    into[name] = into.get(name, 0) + int(value["N"])
        begin = page.get("LastEvaluatedKey")  # type: ignore[assignment]
        if not begin:
            return found


# --- the tenant's marketing settings ------------------------------------------------------------


def load_marketing_settings(tenant_id: str) -> str | None:
    bind()
    try:
        return MarketingSettingsItem.get(keys.tenant(tenant_id), "SETTINGS#MARKETING").doc
    except DoesNotExist:
        return None


def save_marketing_settings(tenant_id: str, doc: str) -> None:
    bind()
    MarketingSettingsItem(keys.tenant(tenant_id), "SETTINGS#MARKETING", doc=doc).save()
