"""Bulk import over real HTTP against the local stack: the presigned upload really goes to the
stack's S3 (moto) over HTTP, the import queue's steps run in the stack's consumers."""

import uuid

import httpx
import pytest

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e


def test_a_csv_uploaded_through_the_presigned_url_is_imported_and_reported(
    local_stack: LocalStack,
) -> None:
    # Given a dealer export with fresh customer codes (the stack is shared between tests)
    run = uuid.uuid4().hex[:6]
    vin = f"XTA210740C{uuid.uuid4().int % 10**7:07d}"
    content = (
        "Код клиента;Фамилия;Имя;Телефон;VIN;Марка;Модель;Год выпуска;"
        "Дата последнего визита;Пробег\n"
        f"E-{run}-1;Орлова;Мария;8 (926) 700-{run[:2]}-01;;;;;;\n"
        f"E-{run}-2;Соколов;Олег;;{vin};"
        "Lada;Vesta;2018;12.05.2024;58 000\n"
        f"E-{run}-3;Никитин;;;NOT-A-VIN;Kia;Rio;2015;;\n"
    ).encode("cp1251")
    # When an import is created and the file is PUT to its upload URL over HTTP
    created = local_stack.client.post(
        "/v1/imports",
        json={"format": "csv", "connector_id": local_stack.connector_id},
        headers=local_stack.auth(),
    )
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["upload_url"].startswith(local_stack.aws_endpoint_url)
    uploaded = httpx.put(job["upload_url"], content=content, timeout=30)
    assert uploaded.status_code == 200, uploaded.text
    # And it is started and the stack's queues drained
    started = local_stack.client.post(f"/v1/imports/{job['id']}/start", headers=local_stack.auth())
    assert started.status_code == 202
    local_stack.advance()
    # Then the import is done and its report counts what the file held
    answer = local_stack.client.get(f"/v1/imports/{job['id']}", headers=local_stack.auth())
    assert answer.status_code == 200
    done = answer.json()
    assert done["status"] == "done", done
    report = done["report"]
    assert report["lines"] == 3
    assert report["by_type"]["customer.upserted"]["accepted"] == 3
    assert report["by_type"]["vehicle.registered"]["invalid"] == 1
    assert report["invalid"]["examples"][0]["line"] == 4
    assert report["invalid"]["examples"][0]["errors"][0]["column"] == "VIN"
    # And the customers are there, as if their DMS had sent them by webhook
    found = local_stack.client.get(
        "/v1/customers", params={"external_id": f"E-{run}-2"}, headers=local_stack.auth()
    ).json()["items"]
    assert len(found) == 1
    profile = local_stack.client.get(
        f"/v1/customers/{found[0]['id']}", headers=local_stack.auth()
    ).json()
    assert profile["vehicles"][0]["model"] == "Vesta"
    assert profile["visits"][0]["mileage_km"] == 58000
    # And another tenant cannot see the import
    other = local_stack.client.get(f"/v1/imports/{job['id']}", headers=local_stack.auth("other"))
    assert other.status_code == 404
