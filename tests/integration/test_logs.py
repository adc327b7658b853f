"""Logs carry ids and counts, never a customer's phone, email or name."""

import io
import logging
from collections.abc import Iterator

import pytest

from tests.integration.conftest import IngestDrain, TenantFixture
from tests.integration.test_ingest_and_api import api, ingest
from tests.support import customer_event
from trigly.platform.observability import logger


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the product logs, formatted exactly as Powertools writes it to CloudWatch."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    level = logger.log_level
    logger.setLevel(logging.INFO)  # as deployed (a benchmark in the same worker may quiet it)
    logger.addHandler(handler)
    yield buffer
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_no_pii_reaches_the_logs(
    dealer: TenantFixture, drain: IngestDrain, log_lines: io.StringIO
) -> None:
    # Given a customer with a name, a phone and an email, and a rejected event carrying a phone
    event = customer_event(
        "pii-1",
        "DMS-PII",
        first_name="Евлампия",
        last_name="Скворцова",
        phones=["8 (915) 777-12-34"],
        emails=["evlampia.skvortsova@example.ru"],
    )
    bad = customer_event("pii-2", "DMS-PII", phones=["8 (915) 777-12-34"], region="nowhere")
    # When it goes through the webhook, the ingest worker and the API
    ingest(dealer, drain, event, bad)
    status, found = api("GET", "/v1/customers", dealer.api_key, query={"phone": "89157771234"})
    assert status == 200 and found["items"]
    # Then the logs (which did record the work) hold none of it
    logs = log_lines.getvalue()
    assert "webhook received" in logs and "customer upserted" in logs
    for secret in ("Евлампия", "Скворцова", "7771234", "777-12-34", "evlampia", dealer.api_key):
        assert secret not in logs
