"""Rights of the data subject: export, then erasure that leaves no phone or email in clear."""

import gzip
import json
import tempfile
import zlib
from typing import Any, cast

import boto3
import pytest

from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_analytics_view import project_waiting, rows
from tests.integration.test_imports import drain_imports
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.integration.test_messages import send, work_sms_queue
from tests.integration.test_webhook import encode, post
from tests.support import customer_event
from trigly.analytics.compaction import compact_tenant
from trigly.channels.sandbox import outbox
from trigly.imports import jobs
from trigly.store import dictionaries

PHONE_RAW, PHONE = "8 (917) 246-80-13", "+79172468013"
EMAIL = "zinaida.erasable@example.ru"
PUSH_TOKEN = "fErAsE0n1y:APA91bE" + "z" * 140
CITY = "Эрейзинск"  # her city: in the analytics view until she is erased


def _readable(value: Any) -> Any:
    """Attribute values as text, compressed documents unpacked, so nothing hides from the check."""
    if isinstance(value, dict):
        return {k: _readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    if isinstance(value, bytes):
        try:  # with the preset dictionary a stream names, if any (the car record's)
            return dictionaries.decompress(value)
        except (zlib.error, KeyError):
            return value.decode(errors="replace")
    return value


def everything_stored(stack: DeployedStack) -> str:
    """Every item of every table and every archived object, as text (tests may Scan)."""
    dynamodb = boto3.client("dynamodb")
    dump = []
    for name in ("MainTableName", "IdempotencyTableName", "RejectedEventsTableName"):
        for page in dynamodb.get_paginator("scan").paginate(TableName=stack.outputs[name]):
            dump.append(json.dumps(_readable(page["Items"]), ensure_ascii=False))
    s3 = boto3.client("s3")
    bucket = stack.outputs["ArchiveBucketName"]
    for listed in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()
        dump.append(_object_text(listed["Key"], body))
    return "\n".join(dump)


def _object_text(key: str, body: bytes) -> str:
    """An archived object as text: the analytics view's gzipped NDJSON and Parquet unpacked."""
    if key.endswith(".gz"):
        return gzip.decompress(body).decode()
    if key.endswith(".parquet"):
        import duckdb

        with tempfile.NamedTemporaryFile(suffix=".parquet") as file:
            file.write(body)
            file.flush()
            found = duckdb.sql(f"SELECT * FROM read_parquet('{file.name}')").fetchall()
        return json.dumps(found, default=str, ensure_ascii=False)
    return body.decode()


OTHER_PERSON = customer_event("er-6", "DMS-OTHER", first_name="Другой", phones=["89170000999"])


def find(dealer: TenantFixture, **query: str) -> list[dict[str, Any]]:
    status, found = api("GET", "/v1/customers", dealer.api_key, query=query)
    assert status == 200
    return cast(list[dict[str, Any]], found["items"])


def uploaded_import(stack: DeployedStack, dealer: TenantFixture, *events: dict[str, Any]) -> str:
    """An API import with its JSON Lines file uploaded, not started yet; returns its id."""
    body = {"format": "jsonl", "connector_id": dealer.connector_id}
    status, created = api("POST", "/v1/imports", dealer.api_key, body=body)
    assert status == 201
    boto3.client("s3").put_object(
        Bucket=stack.outputs["ArchiveBucketName"],
        Key=jobs.object_key(dealer.tenant.tenant_id, created["id"]),
        Body="".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events).encode(),
    )
    return cast(str, created["id"])


def test_export_then_erase_leaves_no_contact_in_clear(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a customer with contacts and consents, and a rejected event that repeats the phone
    consents = {"email": {"marketing": True, "at": "2026-10-01T10:00:00+03:00", "source": "site"}}
    ingest(
        dealer,
        drain,
        customer_event(
            "er-1",
            "DMS-ER",
            first_name="Зинаида",
            phones=[PHONE_RAW],
            emails=[EMAIL],
            consents=consents,
            city=CITY,
        ),
    )
    post(dealer, encode(customer_event("er-2", "DMS-ER", phones=[PHONE_RAW], region="nowhere")))
    big = customer_event("er-3", "DMS-ER", emails=[EMAIL], notes="x" * (300 * 1024))
    post(dealer, encode(big))
    customer = only_customer(dealer, phone=PHONE)
    # and a push device the dealer's app registered
    device = f"/v1/customers/{customer['id']}/devices/{PUSH_TOKEN}"
    assert api("PUT", device, dealer.api_key, body={"platform": "ios"})[0] == 200
    # and a message the sandbox provider recorded in the tenant's outbox
    status, _ = send(
        dealer,
        customer_id=customer["id"],
        purpose="transactional",
        text="Ваш автомобиль готов",
        channel="sms",
        idempotency_key="er:ready",
    )
    assert status == 202
    work_sms_queue(stack)
    assert [m["to"] for m in outbox(dealer.tenant.tenant_id)] == [PHONE]
    # and a second card of hers (another first name, so not joined) merged in: a snapshot
    ingest(dealer, drain, customer_event("er-4", "DMS-ER-2", first_name="Зина", phones=[PHONE]))
    [second] = [c for c in find(dealer, phone=PHONE) if c["id"] != customer["id"]]
    merge = {"duplicate_id": second["id"], "reason": "одна клиентка"}
    assert (
        api("POST", f"/v1/customers/{customer['id']}/merge", dealer.api_key, body=merge)[0] == 200
    )
    # and two uploaded import files not yet started, one of them with her in it
    with_her = uploaded_import(
        stack, dealer, OTHER_PERSON, customer_event("er-5", "DMS-ER", emails=[EMAIL.upper()])
    )
    without_her = uploaded_import(stack, dealer, OTHER_PERSON)
    # and the analytics view holds her, in change files and in a compacted snapshot
    project_waiting(stack)
    compact_tenant(dealer.tenant.tenant_id)
    assert rows(dealer.tenant.tenant_id, "SELECT city FROM customers") == [(CITY,)]
    stored = everything_stored(stack)
    assert PHONE in stored and EMAIL in stored and EMAIL.upper() in stored
    assert PUSH_TOKEN in stored and CITY in stored

    # When the dealer exports, then erases the customer
    status, exported = api("GET", f"/v1/customers/{customer['id']}/export", dealer.api_key)
    assert status == 200
    assert exported["profile"]["phones"][0]["value"] == PHONE
    assert [entry["channel"] for entry in exported["consent_ledger"]] == ["email"]
    assert api("DELETE", f"/v1/customers/{customer['id']}", dealer.api_key)[0] == 204
    # the import worker looks through both kept files, a record per message here (as if each
    # took all of an invocation's time: the next message goes on where the last one stopped)
    monkeypatch.setattr(jobs, "FORGET_SECONDS", 0.0)
    assert drain_imports(stack) == 4

    # Then the profile is gone, search finds nothing, and nothing stored holds the contacts
    assert api("GET", f"/v1/customers/{customer['id']}", dealer.api_key)[0] == 404
    assert api("GET", "/v1/customers", dealer.api_key, query={"phone": PHONE})[1]["items"] == []
    assert api("DELETE", f"/v1/customers/{customer['id']}", dealer.api_key)[0] == 404
    # the analytics view drops her at once, and its files once compacted
    project_waiting(stack)
    assert rows(dealer.tenant.tenant_id, "SELECT count(*) FROM customers") == [(0,)]
    compact_tenant(dealer.tenant.tenant_id)
    stored = everything_stored(stack)
    for trace in (PHONE, PHONE_RAW, EMAIL, EMAIL.upper(), "Зинаида", PUSH_TOKEN, CITY):
        assert trace not in stored
    assert outbox(dealer.tenant.tenant_id) == []
    # the import that named her is stopped and says why; the other one waits as it was
    stopped = api("GET", f"/v1/imports/{with_her}", dealer.api_key)[1]
    assert stopped["status"] == "failed" and "erased" in stopped["error"]
    assert api("GET", f"/v1/imports/{without_her}", dealer.api_key)[1]["status"] == (
        "awaiting_upload"
    )
    assert "Другой" in stored  # the other file is still there


def test_another_tenant_cannot_erase_or_export(
    dealer: TenantFixture, other_dealer: TenantFixture, drain: IngestDrain
) -> None:
    ingest(dealer, drain, customer_event("er-4", "DMS-ER2", phones=["89170000001"]))
    customer = only_customer(dealer, external_id="DMS-ER2")
    assert api("DELETE", f"/v1/customers/{customer['id']}", other_dealer.api_key)[0] == 404
    assert api("GET", f"/v1/customers/{customer['id']}/export", other_dealer.api_key)[0] == 404
    assert api("GET", f"/v1/customers/{customer['id']}", dealer.api_key)[0] == 200
