"""Bulk onboarding against moto with the template deployed: the CLI path, the API path (upload to
S3, start, chunks on the import queue), dry run vs commit, re-runs, invalid rows."""

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from infra.deploy import DeployedStack
from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_ingest_and_api import api, ingest, only_customer
from tests.support import FakeLambdaContext, customer_event, sqs_event
from trigly.cli import main
from trigly.imports import jobs

HEADER = (
    "Код клиента;Фамилия;Имя;Отчество;Телефон;E-mail;Дата рождения;Город;Регион;"
    "VIN;Марка;Модель;Год выпуска;Госномер;Дата покупки;Цена продажи;"
    "Дата последнего визита;Пробег;Комментарий"
)
ROWS = [
    # line 2: a customer with a car bought here and its last visit
    'C-1;Иванов;Иван;Иванович;"8 (912) 345-67-89, +7 903 111-22-33";IVAN@Mail.RU;12.04.1985;'
    'Москва;Москва;XTA210740C1234567;Lada;Granta;2012;А123ВС777;15.03.2012;"350 000,00";'
    '20.11.2024;"123 456 км";"звонить вечером,\nпосле 18"',
    # line 4 (the quoted comment above spans two lines): the same person, a second car
    'C-1;Иванов;Иван;Иванович;"8 (912) 345-67-89, +7 903 111-22-33";IVAN@Mail.RU;12.04.1985;'
    "Москва;Москва;NZE141-1234567;Toyota;Corolla Axio;2010;;;;01.02.2023;187400;",
    # line 5: dirty contacts and an unreadable VIN
    "C-2;Петрова;Анна;;12;anna@;31.02.1990;Казань;Татарстан;BADVIN;Kia;Rio;2020;;;;05.06.2024;;",
]


def csv_file(tmp_path: Path, *rows: str, name: str = "base.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def run_cli(
    capsys: pytest.CaptureFixture[str], dealer: TenantFixture, path: Path, *extra: str
) -> dict[str, Any]:
    code = main(
        [
            "import",
            str(path),
            "--tenant",
            dealer.tenant.tenant_id,
            "--connector",
            dealer.connector_id,
            "--no-progress",
            *extra,
        ]
    )
    assert code == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def queued(stack: DeployedStack, queue: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=stack.queues[queue].url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def profile(dealer: TenantFixture, **query: str) -> dict[str, Any]:
    found = only_customer(dealer, **query)
    status, body = api("GET", f"/v1/customers/{found['id']}", dealer.api_key)
    assert status == 200
    return body  # type: ignore[no-any-return]


def test_a_dry_run_reports_what_the_commit_then_does_and_writes_nothing(
    dealer: TenantFixture,
    drain: IngestDrain,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a dealer's export: one customer on two car rows, one customer with dirty data
    path = csv_file(tmp_path, *ROWS)
    # When it is dry-run
    dry = run_cli(capsys, dealer, path, "--dry-run")
    # Then the report counts per event type, and nothing was written or queued
    assert dry["dry_run"] is True and dry["lines"] == 3 and dry["events"] == 9
    assert dry["by_type"]["customer.upserted"] == {
        "new": 2,
        "existing": 0,
        "duplicates": 1,
        "invalid": 0,
        "accepted": 0,
    }
    assert dry["by_type"]["vehicle.sold"]["new"] == 1
    assert dry["by_type"]["vehicle.registered"] == {
        "new": 1,
        "existing": 0,
        "duplicates": 0,
        "invalid": 1,
        "accepted": 0,
    }
    assert dry["by_type"]["service_order.closed"]["new"] == 2
    assert dry["by_type"]["service_order.closed"]["invalid"] == 1
    assert dry["duplicates"] == {"in_file": 1, "already_imported": 0}
    assert dry["invalid_contacts"]["phones"] == 1 and dry["invalid_contacts"]["emails"] == 1
    assert dry["unknown_columns"] == ["Комментарий"]
    assert api("GET", "/v1/customers", dealer.api_key, query={"external_id": "C-1"})[1] == {
        "items": [],
        "cursor": None,
    }
    assert api("GET", "/v1/rejected-events", dealer.api_key)[1]["items"] == []
    assert queued(drain.stack, "IngestQueue") == 0

    # When the same file is committed
    done = run_cli(capsys, dealer, path)
    assert not drain()["batchItemFailures"]
    # Then the counts match the dry run's, plus what was accepted
    assert done["totals"] == {**dry["totals"], "accepted": dry["totals"]["new"]}
    # And the customer has both cars, the bought one with its sale and the visits
    ivan = profile(dealer, external_id="C-1")
    assert ivan["phones"] == [
        {"value": "+79123456789", "status": "ok"},
        {"value": "+79031112233", "status": "ok"},
    ]
    assert ivan["birth_date"] == "1985-04-12" and ivan["region"] == "RU-MOW"
    assert sorted(v["vin"] for v in ivan["vehicles"]) == ["NZE141-1234567", "XTA210740C1234567"]
    assert len(ivan["visits"]) == 2
    # And dirty contacts are kept, flagged invalid
    anna = profile(dealer, external_id="C-2")
    assert anna["phones"] == [{"value": "12", "status": "invalid"}]
    assert anna["emails"] == [{"value": "anna@", "status": "invalid"}]
    assert "birth_date" not in anna or anna["birth_date"] is None


def test_running_the_same_import_again_changes_nothing(
    dealer: TenantFixture,
    drain: IngestDrain,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a committed import, applied
    path = csv_file(tmp_path, *ROWS)
    first = run_cli(capsys, dealer, path)
    assert not drain()["batchItemFailures"]
    before = [profile(dealer, external_id=x) for x in ("C-1", "C-2")]
    rejected_before = api("GET", "/v1/rejected-events", dealer.api_key)[1]["items"]
    assert len(rejected_before) == 2
    # When the very same file is imported again
    again = run_cli(capsys, dealer, path)
    assert not drain()["batchItemFailures"]
    # Then the report says duplicates and previously rejected events; nothing was accepted
    assert again["totals"]["accepted"] == 0 and again["totals"]["new"] == 0
    assert again["totals"]["existing"] == 0
    assert again["totals"]["duplicates"] == first["totals"]["accepted"] + 1
    assert again["duplicates"]["already_imported"] == first["totals"]["accepted"]
    assert again["totals"]["invalid"] == 2 and again["invalid"]["previously_rejected"] == 2
    # And the profiles and the rejected events are exactly as they were
    assert [profile(dealer, external_id=x) for x in ("C-1", "C-2")] == before
    assert api("GET", "/v1/rejected-events", dealer.api_key)[1]["items"] == rejected_before


def test_invalid_rows_are_reported_with_line_numbers_columns_and_replayable_rejections(
    dealer: TenantFixture,
    drain: IngestDrain,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given rows with no customer code and a sale in the far future
    path = csv_file(
        tmp_path,
        ";Безымянный;;;89031112233;;;;;;;;;;;;;;",
        "C-9;Сидоров;Пётр;;;;;;;XW8ZZZ61ZEG012345;Skoda;Rapid;2014;;15.03.2099;1000000;;;",
    )
    # When it is imported
    report = run_cli(capsys, dealer, path)
    assert not drain()["batchItemFailures"]
    # Then each invalid event names its line, the event field and the file's column
    examples = {(e["line"], e["type"]): e for e in report["invalid"]["examples"]}
    nameless = examples[(2, "customer.upserted")]
    assert nameless["errors"] == [
        {"field": "data.external_id", "column": "Код клиента", "message": "Field required"}
    ]
    future_sale = examples[(3, "vehicle.sold")]
    assert {e["field"] for e in future_sale["errors"]} >= {"data.sold_at"}
    assert future_sale["errors"][-1]["column"] == "Дата покупки", future_sale
    # And the rejections are kept for replay, like a webhook's
    status, stored = api("GET", f"/v1/rejected-events/{nameless['rejection_id']}", dealer.api_key)
    assert status == 200 and stored["errors"][0]["field"] == "data.external_id"
    assert report["totals"]["invalid"] == 2 and report["totals"]["accepted"] == 1


def test_json_lines_events_dedupe_with_webhooks_and_count_existing_customers(
    dealer: TenantFixture,
    drain: IngestDrain,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a customer the DMS already sent by webhook
    ingest(dealer, drain, customer_event("dms-1", "K-1", first_name="Ольга"))
    path = tmp_path / "events.jsonl"
    lines = [
        json.dumps(customer_event("dms-1", "K-1", first_name="Ольга")),  # the same event
        json.dumps(customer_event("dms-2", "K-1", city="Тверь")),  # an update
        json.dumps(customer_event("dms-3", "K-2", first_name="Пётр")),  # a new customer
        json.dumps(customer_event("dms-4", "K-3", region="Moscow")),  # invalid
        "{not json",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # When it is imported
    report = run_cli(capsys, dealer, path)
    assert not drain()["batchItemFailures"]
    # Then the webhook's event is a duplicate, K-1 existing, K-2 new, two lines invalid
    assert report["format"] == "jsonl"
    assert report["by_type"]["customer.upserted"] == {
        "new": 1,
        "existing": 1,
        "duplicates": 1,
        "invalid": 1,
        "accepted": 2,
    }
    assert report["invalid"]["unreadable_lines"] == 1
    assert {e["line"] for e in report["invalid"]["examples"]} == {4, 5}
    assert profile(dealer, external_id="K-1")["city"] == "Тверь"


def drain_imports(stack: DeployedStack) -> int:
    """Hands the import queue to the import handler one message at a time (its BatchSize)."""
    from functions.imports.app import handler

    sqs = boto3.client("sqs")
    queue = stack.queues["ImportQueue"]
    handled = 0
    while True:
        received = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=1).get(
            "Messages", []
        )
        if not received:
            return handled
        [message] = received
        result = handler(sqs_event([message["Body"]], queue.arn), FakeLambdaContext())
        assert result == {"batchItemFailures": []}
        sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
        handled += 1


def test_the_api_imports_a_large_file_uploaded_to_s3_in_chunks(
    stack: DeployedStack,
    dealer: TenantFixture,
    drain: IngestDrain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given chunks of two records, so three rows make two chunks
    monkeypatch.setattr(jobs, "CHUNK_RECORDS", 2)
    body = {"format": "csv", "connector_id": dealer.connector_id, "dry_run": False}
    status, created = api("POST", "/v1/imports", dealer.api_key, body=body)
    assert status == 201 and created["status"] == "awaiting_upload"
    # When the file is PUT to the presigned URL (moto intercepts the request in process)
    content = ("\n".join([HEADER, *ROWS]) + "\n").encode("cp1251")
    assert requests.put(created["upload_url"], data=content, timeout=10).status_code == 200
    # And the import is started and its queue drained
    status, started = api("POST", f"/v1/imports/{created['id']}/start", dealer.api_key)
    assert status == 202 and started["status"] == "queued"
    assert drain_imports(stack) == 3  # split, then two chunks
    # Then the job is done with the CLI's report
    status, job = api("GET", f"/v1/imports/{created['id']}", dealer.api_key)
    assert status == 200 and job["status"] == "done"
    assert job["chunks"] == {"total": 2, "done": 2}
    report = job["report"]
    assert report["lines"] == 3 and report["events"] == 9
    assert report["totals"]["accepted"] == 6 and report["totals"]["invalid"] == 2
    assert report["duplicates"]["in_file"] == 1
    assert {e["line"] for e in report["invalid"]["examples"]} == {5}
    # And the file, full of people's contacts, is gone with the job done
    listed = boto3.client("s3").list_objects_v2(
        Bucket=stack.outputs["ArchiveBucketName"],
        Prefix=jobs.object_key(dealer.tenant.tenant_id, created["id"]),
    )
    assert listed.get("KeyCount", 0) == 0
    # And the events were applied like webhooks (a Windows-1251 file read right)
    assert not drain()["batchItemFailures"]
    assert profile(dealer, external_id="C-1")["last_name"] == "Иванов"
    # And the list shows it, newest first
    status, listing = api("GET", "/v1/imports", dealer.api_key)
    assert listing["items"][0]["id"] == created["id"]
    assert listing["items"][0]["totals"]["accepted"] == 6


def test_a_redelivered_chunk_is_not_counted_twice(
    stack: DeployedStack, dealer: TenantFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a dry-run import split into two chunks
    monkeypatch.setattr(jobs, "CHUNK_RECORDS", 2)
    body = {"format": "csv", "connector_id": dealer.connector_id, "dry_run": True}
    created = api("POST", "/v1/imports", dealer.api_key, body=body)[1]
    content = ("\n".join([HEADER, *ROWS]) + "\n").encode()
    boto3.client("s3").put_object(
        Bucket=stack.outputs["ArchiveBucketName"],
        Key=jobs.object_key(dealer.tenant.tenant_id, created["id"]),
        Body=content,
    )
    api("POST", f"/v1/imports/{created['id']}/start", dealer.api_key)
    sqs = boto3.client("sqs")
    queue = stack.queues["ImportQueue"]
    [split] = sqs.receive_message(QueueUrl=queue.url)["Messages"]
    jobs.handle(split["Body"])
    sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=split["ReceiptHandle"])
    chunks = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10)["Messages"]
    assert len(chunks) == 2
    # When the first chunk is delivered twice (SQS is at least once)
    jobs.handle(chunks[0]["Body"])
    jobs.handle(chunks[0]["Body"])
    jobs.handle(chunks[1]["Body"])
    # Then the job counts each chunk once and nothing was written
    job = api("GET", f"/v1/imports/{created['id']}", dealer.api_key)[1]
    assert job["status"] == "done" and job["report"]["lines"] == 3
    assert job["report"]["totals"]["accepted"] == 0
    assert (
        api("GET", "/v1/customers", dealer.api_key, query={"external_id": "C-1"})[1]["items"] == []
    )


def test_the_import_api_refuses_what_it_cannot_do(
    dealer: TenantFixture, other_dealer: TenantFixture
) -> None:
    # A connector of another tenant is a field error
    status, problem = api(
        "POST",
        "/v1/imports",
        dealer.api_key,
        body={"format": "csv", "connector_id": other_dealer.connector_id},
    )
    assert status == 422 and problem["errors"][0]["field"] == "connector_id"
    # Starting before the upload is a conflict; another tenant's import is not found
    created = api(
        "POST",
        "/v1/imports",
        dealer.api_key,
        body={"format": "jsonl", "connector_id": dealer.connector_id},
    )[1]
    assert api("POST", f"/v1/imports/{created['id']}/start", dealer.api_key)[0] == 409
    assert api("GET", f"/v1/imports/{created['id']}", other_dealer.api_key)[0] == 404
    assert api("POST", "/v1/imports", dealer.api_key, body={"format": "xls"})[0] == 422
