"""The analytics view against moto: every path that changes a customer sends a change notice,
the projection writes change files, compaction folds them into Parquet, and `open_view` shows
the live rows (ADR 0022)."""

import copy
import gzip
import json
import re
import threading
from datetime import time, timedelta
from typing import Any

import boto3
import pytest

from functions.analytics.app import handler as projection_handler
from functions.compaction.app import handler as compaction_handler
from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_callbacks import call
from tests.integration.test_customer_pages import MSK, known_customer, page, preferences_path
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.integration.test_journeys import booking_path, one_post_workshop
from tests.integration.test_messages import send, work_sms_queue
from tests.support import (
    FakeLambdaContext,
    customer_event,
    days_ahead,
    sqs_event,
)
from tests.unit.test_event_catalogue import CATALOGUE, MINIMAL
from trigly.analytics import compaction, files, notices
from trigly.analytics.projection import project
from trigly.analytics.view import open_view
from trigly.platform import clock
from trigly.platform.settings import get_settings
from trigly.store.customers import load_profile

SMS_CONSENT = {
    "sms": {
        "service": True,
        "marketing": True,
        "at": "2026-01-10T10:00:00+03:00",
        "source": "анкета",
    }
}


def notices_sent(stack: DeployedStack) -> dict[str, set[str]]:
    """Take every notice waiting in the analytics queue: tenant → customers named."""
    sqs = boto3.client("sqs")
    url = stack.queues["AnalyticsQueue"].url
    found: dict[str, set[str]] = {}
    while received := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in received:
            tenant_id, customer_ids = notices.parse(message["Body"])
            found.setdefault(tenant_id, set()).update(customer_ids)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def noticed(stack: DeployedStack, dealer: TenantFixture) -> set[str]:
    return notices_sent(stack).get(dealer.tenant.tenant_id, set())


def project_waiting(stack: DeployedStack) -> int:
    """Hand the waiting notices to the projection function, as Lambda's poller would."""
    sqs = boto3.client("sqs")
    queue = stack.queues["AnalyticsQueue"]
    handled = 0
    while received := sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10).get(
        "Messages"
    ):
        result = projection_handler(
            sqs_event([m["Body"] for m in received], queue.arn), FakeLambdaContext()
        )
        assert result == {"batchItemFailures": []}
        for message in received:
            sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
        handled += len(received)
    return handled


def rows(tenant_id: str, sql: str) -> list[tuple[Any, ...]]:
    with open_view(tenant_id) as con:
        return con.sql(sql).fetchall()


def analytics_keys(stack: DeployedStack, tenant_id: str) -> list[str]:
    s3 = boto3.client("s3")
    keys = files.list_keys(s3, stack.outputs["ArchiveBucketName"], "analytics/")
    return [k for k in keys if f"tenant={tenant_id}" in k]


def change_tables(stack: DeployedStack, key: str) -> set[str]:
    """The tables one change file holds rows of."""
    body = boto3.client("s3").get_object(Bucket=stack.outputs["ArchiveBucketName"], Key=key)
    lines = gzip.decompress(body["Body"].read()).decode().splitlines()
    return {json.loads(line)["table"] for line in lines}


# ---------------------------------------------------------------- notices, path by path


def test_every_ingested_event_type_notices_its_customer(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    ingest(
        dealer,
        drain,
        customer_event(
            "ev-0", "C-1", first_name="Олег", phones=["89161234567"], emails=["lead@example.ru"]
        ),
    )
    customer_id = only_customer(dealer, external_id="C-1")["id"]
    assert noticed(stack, dealer) == {customer_id}
    for number, event_type in enumerate(CATALOGUE, 1):
        data = copy.deepcopy(MINIMAL[event_type])
        if event_type == "customer.upserted":
            data["city"] = "Тверь"  # a change: an upsert that changes nothing writes nothing
        event = {
            "id": f"ev-{number}",
            "type": event_type,
            "occurred_at": clock.now().isoformat(),
            "data": data,
        }
        ingest(dealer, drain, event)
        found = noticed(stack, dealer)
        if event_type == "inventory.changed":
            continue  # stock, no customer's data
        if event_type in ("lead.created", "call.tracked"):
            # Matched by contact: whoever the event reached is a customer of this tenant.
            assert found, event_type
            for named in found:
                assert load_profile(dealer.tenant.tenant_id, named) is not None
            continue
        assert customer_id in found, event_type


def test_a_message_its_delivery_and_a_click_notice_the_customer(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
    public_url: str,
) -> None:
    business_clock.move_to(days_ahead(1, time(12), MSK))  # outside quiet hours
    ingest(
        dealer,
        drain,
        customer_event(
            "mc-1", "MC-1", first_name="Нина", phones=["8 916 400 00 07"], consents=SMS_CONSENT
        ),
    )
    customer_id = only_customer(dealer, external_id="MC-1")["id"]
    noticed(stack, dealer)
    status, sent = send(
        dealer,
        customer_id=customer_id,
        purpose="service",
        text="Ваш автомобиль готов: https://dealer.example/ready",
        channel="sms",
        idempotency_key="mc:1",
    )
    assert status == 202
    assert noticed(stack, dealer) == {customer_id}  # the message stored, queued
    assert work_sms_queue(stack)
    assert noticed(stack, dealer) == {customer_id}  # sent (the channel worker)
    from trigly.channels.sandbox import outbox

    [delivered] = [
        m for m in outbox(dealer.tenant.tenant_id) if m["meta"]["message_id"] == sent["id"]
    ]
    [tracked] = [
        link["url"] for link in delivered["meta"]["links"] if link["purpose"] == "tracking"
    ]
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"
    status, _, _ = call("GET", tracked.removeprefix(public_url), headers={"User-Agent": iphone})
    assert status in (302, 303)
    assert noticed(stack, dealer) == {customer_id}  # clicked (the API's link route)


def test_a_booking_notices_the_customer(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    business_clock: clock.AdjustableClock,
) -> None:
    location = one_post_workshop(dealer)
    link = booking_path(dealer, drain, business_clock.now(), location)
    customer_id = only_customer(dealer, external_id="K-5")["id"]
    noticed(stack, dealer)
    slots = re.findall(r'name="slot" value="([^"]+)"', page("GET", link)[1])
    assert page("POST", link, {"slot": slots[-1]})[0] == 303
    assert noticed(stack, dealer) == {customer_id}


def test_a_consent_saved_in_the_preference_centre_notices_the_customer(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    customer_id, _ = known_customer(dealer, drain, "AN-1")
    noticed(stack, dealer)
    form = {"shown": ["sms.service", "sms.marketing"], "sms.service": "yes"}
    assert page("POST", preferences_path(dealer, customer_id), form)[0] == 200
    assert noticed_and_projected(stack, dealer) == {customer_id}
    consents = "SELECT consent_sms_marketing, consent_sms_service FROM customers"
    assert rows(dealer.tenant.tenant_id, consents) == [(False, True)]


# ---------------------------------------------------------------- through to the view


def test_notices_projection_compaction_and_the_view_agree(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    tenant_id = dealer.tenant.tenant_id
    now = clock.now()
    sold_at = (now - timedelta(days=400)).isoformat()
    ingest(
        dealer,
        drain,
        customer_event(
            "v-1",
            "V-1",
            first_name="Анна",
            phones=["89160000001"],
            city="Тула",
            consents=SMS_CONSENT,
        ),
        customer_event("v-2", "V-2", first_name="Борис", phones=["89160000002"], city="Казань"),
        {
            "id": "v-3",
            "type": "vehicle.sold",
            "occurred_at": sold_at,
            "data": {
                "deal_id": "D-V3",
                "customer_external_id": "V-1",
                "vin": "XWEFF41BBNR000901",
                "make": "Kia",
                "model": "Rio",
                "year": now.year - 1,
                "sold_at": sold_at,
                "price": 1_500_000,
                "condition": "new",
            },
        },
    )
    anna = only_customer(dealer, external_id="V-1")["id"]
    assert project_waiting(stack) >= 1
    # One change file a projection, every table's rows in it
    changes = [k for k in analytics_keys(stack, tenant_id) if "/changes/" in k]
    assert changes and all(k.count("/") == 3 for k in changes)
    assert set().union(*(change_tables(stack, k) for k in changes)) >= {
        "customers",
        "cars",
        "purchases",
    }
    # Visible from the change files alone, before any compaction
    assert rows(tenant_id, "SELECT city FROM customers ORDER BY city") == [("Казань",), ("Тула",)]
    assert rows(tenant_id, "SELECT customer_id, make, model, current FROM cars") == [
        (anna, "Kia", "Rio", True)
    ]
    assert rows(tenant_id, "SELECT customer_id, price FROM purchases") == [(anna, 1_500_000.0)]
    # The projection asked for the tenant's compaction, minutes from now (SQS holds it)
    sqs = boto3.client("sqs")
    queue = stack.queues["AnalyticsCompactionQueue"]
    held = sqs.get_queue_attributes(
        QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]["ApproximateNumberOfMessagesDelayed"]
    assert int(held) >= 1
    # Compaction folds the change files into a snapshot and deletes them; the view is the same
    request = sqs_event([json.dumps({"tenant_id": tenant_id})], queue.arn)
    assert compaction_handler(request, FakeLambdaContext()) == {"batchItemFailures": []}
    keys = analytics_keys(stack, tenant_id)
    assert not [k for k in keys if "/changes/" in k]
    assert len([k for k in keys if k.endswith(".parquet")]) == 6
    assert rows(tenant_id, "SELECT city FROM customers ORDER BY city") == [("Казань",), ("Тула",)]
    assert rows(tenant_id, "SELECT count(*) FROM cars") == [(1,)]
    # A later change wins over the snapshot, read from its change file
    ingest(dealer, drain, customer_event("v-4", "V-1", city="Москва"))
    project_waiting(stack)
    assert rows(tenant_id, "SELECT city FROM customers ORDER BY city") == [("Казань",), ("Москва",)]
    assert rows(tenant_id, "SELECT count(*) FROM cars") == [(1,)]
    # Asked again minutes after a compaction, the function postpones: one snapshot per burst
    before = analytics_keys(stack, tenant_id)
    assert compaction_handler(request, FakeLambdaContext()) == {"batchItemFailures": []}
    assert analytics_keys(stack, tenant_id) == before
    # Another tenant's view is its own
    assert rows("ten_nobody", "SELECT count(*) FROM customers") == [(0,)]


def test_merge_and_undo_follow_in_the_view(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    tenant_id = dealer.tenant.tenant_id
    ingest(
        dealer,
        drain,
        customer_event("mg-1", "MG-1", first_name="Ирина", phones=["89160000011"]),
        customer_event("mg-2", "MG-2", first_name="Ира", phones=["89160000012"]),
    )
    survivor = only_customer(dealer, external_id="MG-1")["id"]
    duplicate = only_customer(dealer, external_id="MG-2")["id"]
    project_waiting(stack)
    status, merged = api(
        "POST",
        f"/v1/customers/{survivor}/merge",
        dealer.api_key,
        body={"duplicate_id": duplicate, "reason": "одна клиентка"},
    )
    assert status == 200
    assert noticed_and_projected(stack, dealer) >= {survivor, duplicate}
    assert rows(tenant_id, "SELECT customer_id FROM customers") == [(survivor,)]
    status, _ = api("POST", f"/v1/customers/{survivor}/merges/{merged['id']}/undo", dealer.api_key)
    assert status == 200
    assert noticed_and_projected(stack, dealer) >= {survivor, duplicate}
    assert sorted(rows(tenant_id, "SELECT customer_id FROM customers")) == sorted(
        [(survivor,), (duplicate,)]
    )


def noticed_and_projected(stack: DeployedStack, dealer: TenantFixture) -> set[str]:
    """The customers the waiting notices name (peeked, then projected)."""
    sqs = boto3.client("sqs")
    url = stack.queues["AnalyticsQueue"].url
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    named: set[str] = set()
    for message in received.get("Messages", []):
        tenant_id, ids = notices.parse(message["Body"])
        if tenant_id == dealer.tenant.tenant_id:
            named.update(ids)
    project_waiting(stack)
    return named


def test_erasure_leaves_no_row_and_no_file_naming_the_customer(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    tenant_id = dealer.tenant.tenant_id
    ingest(
        dealer,
        drain,
        customer_event("er-1", "ER-1", first_name="Зоя", phones=["89160000021"], city="Эрейзбург"),
        customer_event("er-2", "ER-2", first_name="Яна", phones=["89160000022"], city="Остаётся"),
    )
    erased = only_customer(dealer, external_id="ER-1")["id"]
    project_waiting(stack)
    compaction.compact_tenant(tenant_id)
    assert rows(tenant_id, "SELECT count(*) FROM customers") == [(2,)]
    assert api("DELETE", f"/v1/customers/{erased}", dealer.api_key)[0] == 204
    assert erased in noticed_and_projected(stack, dealer)
    # Gone from the view at once (the tombstone in the change file)...
    assert rows(tenant_id, "SELECT city FROM customers") == [("Остаётся",)]
    # ...and from every file once compacted
    compaction.compact_tenant(tenant_id)
    assert rows(tenant_id, "SELECT city FROM customers") == [("Остаётся",)]
    text = analytics_text(stack, tenant_id)
    assert "Эрейзбург" not in text and "Остаётся" in text


def analytics_text(stack: DeployedStack, tenant_id: str) -> str:
    """Every analytics file of the tenant as text (Parquet read back by DuckDB)."""
    import duckdb

    s3 = boto3.client("s3")
    bucket = stack.outputs["ArchiveBucketName"]
    out = []
    for key in analytics_keys(stack, tenant_id):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if key.endswith(".gz"):
            out.append(gzip.decompress(body).decode())
        elif key.endswith(".parquet"):
            path = f"/tmp/analytics-text-{threading.get_ident()}.parquet"
            with open(path, "wb") as file:
                file.write(body)
            out.append(
                json.dumps(
                    duckdb.sql(f"SELECT * FROM '{path}'").fetchall(),
                    default=str,
                    ensure_ascii=False,
                )
            )
        else:
            out.append(body.decode())
    return "\n".join(out)


def test_a_projection_during_a_compaction_is_neither_lost_nor_doubled(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant_id = dealer.tenant.tenant_id
    ingest(
        dealer,
        drain,
        customer_event("cc-1", "CC-1", first_name="Пётр", phones=["89160000031"], city="Пермь"),
        customer_event("cc-2", "CC-2", first_name="Павел", phones=["89160000032"], city="Псков"),
    )
    petr = only_customer(dealer, external_id="CC-1")["id"]
    pavel = only_customer(dealer, external_id="CC-2")["id"]
    project_waiting(stack)
    ingest(dealer, drain, customer_event("cc-3", "CC-1", city="Пенза"))
    notices_sent(stack)
    # While the compaction writes its snapshot, a projection of Пётр's change lands
    s3 = boto3.client("s3")
    during: list[str] = []

    def project_meanwhile(params: dict[str, Any], **_: Any) -> None:
        if params["Key"] == files.manifest_key(tenant_id) and not during:
            during.append(project(tenant_id, [petr]).version)

    from trigly.platform import aws

    aws.s3().meta.events.register("before-parameter-build.s3.PutObject", project_meanwhile)
    try:
        done = compaction.compact_tenant(tenant_id)
    finally:
        aws.s3().meta.events.unregister("before-parameter-build.s3.PutObject", project_meanwhile)
    assert during and done.folded >= 1
    # The change written meanwhile is not folded and not deleted: it waits for the next run
    pending = files.change_files(s3, get_settings().archive_bucket, tenant_id)
    assert pending and all(during[0] in k for k in pending)
    assert sorted(rows(tenant_id, "SELECT customer_id, city FROM customers")) == sorted(
        [(petr, "Пенза"), (pavel, "Псков")]
    )
    # The next compaction folds it exactly once
    again = compaction.compact_tenant(tenant_id)
    assert again.folded == len(pending) and again.rows["customers"] == 2
    assert sorted(rows(tenant_id, "SELECT customer_id, city FROM customers")) == sorted(
        [(petr, "Пенза"), (pavel, "Псков")]
    )
    assert files.change_files(s3, get_settings().archive_bucket, tenant_id) == []


def test_rebuild_recomputes_the_view_from_the_tables_with_a_progress_bar(
    stack: DeployedStack,
    dealer: TenantFixture,
    other_dealer: TenantFixture,
    drain: IngestDrain,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from trigly.analytics.rows import json_row
    from trigly.analytics.schema import CUSTOMERS
    from trigly.cli import main

    tenant_id = dealer.tenant.tenant_id
    ingest(
        dealer,
        drain,
        *[
            customer_event(f"rb-{n}", f"RB-{n}", first_name="Вера", phones=[f"8916000004{n}"])
            for n in range(3)
        ],
    )
    ingest(other_dealer, drain, customer_event("rb-x", "RB-X", phones=["89160000049"]))
    notices_sent(stack)  # as if the view had missed them all
    # and a row of a customer the tables no longer hold (from before the view knew erasures)
    ghost = json_row(
        CUSTOMERS, {"customer_id": "cus_ghost", "version": "00000000000000000000000001"}
    )
    boto3.client("s3").put_object(
        Bucket=stack.outputs["ArchiveBucketName"],
        Key=files.change_key(tenant_id, "00000000000000000000000001"),
        Body=files.change_body({"customers": [ghost]}),
    )
    assert rows(tenant_id, "SELECT customer_id FROM customers") == [("cus_ghost",)]
    assert main(["analytics", "rebuild", "--tenant", tenant_id]) == 0
    out, err = capsys.readouterr()
    rebuilt = json.loads(out)
    assert rebuilt["customers"] == 3 and rebuilt["rows"]["customers"] == 3
    assert "3/3" in err and "customer" in err  # tqdm's bar on stderr
    mine = {only_customer(dealer, external_id=f"RB-{n}")["id"] for n in range(3)}
    assert {c for (c,) in rows(tenant_id, "SELECT customer_id FROM customers")} == mine
    assert [k for k in analytics_keys(stack, tenant_id) if "/changes/" in k] == []
    with pytest.raises(SystemExit, match="ten_nope"):
        main(["analytics", "rebuild", "--tenant", "ten_nope", "--no-progress"])


def test_a_compaction_during_a_projection_sees_its_version_whole_or_not_at_all(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain
) -> None:
    tenant_id = dealer.tenant.tenant_id
    sold_at = (clock.now() - timedelta(days=30)).isoformat()
    ingest(
        dealer,
        drain,
        customer_event("hw-1", "HW-1", first_name="Лев", phones=["89160000051"], city="Орёл"),
        {
            "id": "hw-2",
            "type": "vehicle.sold",
            "occurred_at": sold_at,
            "data": {
                "deal_id": "D-HW",
                "customer_external_id": "HW-1",
                "vin": "XWEFF41BBNR000951",
                "make": "Kia",
                "model": "Ceed",
                "year": clock.now().year,
                "sold_at": sold_at,
                "price": 2_000_000,
                "condition": "new",
            },
        },
    )
    lev = only_customer(dealer, external_id="HW-1")["id"]
    notices_sent(stack)
    # The projection has read the tables, not yet written its change file, when a compaction runs
    ran: list[compaction.Compacted] = []

    def compact_meanwhile(params: dict[str, Any], **_: Any) -> None:
        if "/changes/" in params["Key"] and not ran:
            ran.append(compaction.compact_tenant(tenant_id, force=True))

    from trigly.platform import aws

    aws.s3().meta.events.register("before-parameter-build.s3.PutObject", compact_meanwhile)
    try:
        project(tenant_id, [lev])
    finally:
        aws.s3().meta.events.unregister("before-parameter-build.s3.PutObject", compact_meanwhile)
    assert ran and ran[0].folded == 0
    # One PUT wrote the whole version: the customer and the car are in the view together
    [written] = [k for k in analytics_keys(stack, tenant_id) if "/changes/" in k]
    assert change_tables(stack, written) == {"customers", "cars", "purchases"}
    assert rows(tenant_id, "SELECT customer_id, city FROM customers") == [(lev, "Орёл")]
    assert rows(tenant_id, "SELECT customer_id, model FROM cars") == [(lev, "Ceed")]
    assert compaction.compact_tenant(tenant_id).folded == 1
    assert rows(tenant_id, "SELECT customer_id, model FROM cars") == [(lev, "Ceed")]


def test_a_notice_sqs_refused_fails_nothing_and_goes_with_the_next_invocation(
    stack: DeployedStack, dealer: TenantFixture, drain: IngestDrain, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_id, _ = known_customer(dealer, drain, "AN-2")
    noticed(stack, dealer)
    url = stack.queues["AnalyticsQueue"].url
    monkeypatch.setenv(notices.QUEUE_URL_VARIABLE, url + "-gone")
    form = {"shown": ["sms.service", "sms.marketing"], "sms.service": "yes"}
    assert page("POST", preferences_path(dealer, customer_id), form)[0] == 200  # answered
    assert notices.pending() == {dealer.tenant.tenant_id: {customer_id}}
    monkeypatch.setenv(notices.QUEUE_URL_VARIABLE, url)
    assert page("GET", preferences_path(dealer, customer_id))[0] == 200  # writes nothing
    assert noticed(stack, dealer) == {customer_id}
