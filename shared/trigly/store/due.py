"""What falls due in an hour, for the hourly tick (access patterns 7, 8): held messages and
waiting journey runs share the `due` index's hour buckets (`DUE#{UTC hour}`), so the tick reads
each hour with one Query, whatever kinds of work wait in it."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from trigly.platform import aws
from trigly.platform.clock import isoformat
from trigly.platform.settings import get_settings
from trigly.store import due_hours
from trigly.store.journeys import RunRef
from trigly.store.messages import MessageRef


@dataclass
class DueWork:
    messages: list[MessageRef] = field(default_factory=list)  # held messages
    runs: list[RunRef] = field(default_factory=list)  # journey runs whose wait ended
    fallbacks: list[MessageRef] = field(default_factory=list)  # sent messages to look at again


def due_work(now: datetime) -> DueWork:
    """Held messages and journey runs due by `now` in this hour's and the last hour's buckets."""
    found = DueWork()
    client = aws.dynamodb()
    table = get_settings().main_table
    for bucket in due_hours.marked([now - timedelta(hours=1), now]):
        start: dict[str, object] | None = None
        while True:
            page = client.query(
                TableName=table,
                IndexName="due",
                KeyConditionExpression="due_pk = :bucket AND due_sk <= :until",
                ExpressionAttributeValues={
                    ":bucket": {"S": bucket},
                    ":until": {"S": f"{isoformat(now)}#~"},
                },
                ProjectionExpression="due_sk, kind",
                **({"ExclusiveStartKey": start} if start else {}),  # type: ignore[arg-type]
            )
            for item in page.get("Items", []):
                _, tenant_id, customer_id, sk = item["due_sk"]["S"].split("#", 3)
                if item["kind"]["S"] == "message":
                    found.messages.append(MessageRef(tenant_id, customer_id, sk))
                elif item["kind"]["S"] == "enrollment":
                    found.runs.append(RunRef(tenant_id, customer_id, sk))
                elif item["kind"]["S"] == "fallback":
                    found.fallbacks.append(MessageRef(tenant_id, customer_id, sk))
            start = page.get("LastEvaluatedKey")  # type: ignore[assignment]
            if not start:
                break
    return found
