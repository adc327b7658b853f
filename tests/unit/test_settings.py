"""Settings read from the environment by hand (ADR 0019): the rules pydantic-settings applied."""

import pytest

from trigly.platform.settings import Settings, SettingsError

REQUIRED = {
    "TRIGLY_MAIN_TABLE": "main",
    "TRIGLY_IDEMPOTENCY_TABLE": "idem",
    "TRIGLY_REJECTED_EVENTS_TABLE": "rej",
    "TRIGLY_INGEST_QUEUE_URL": "https://sqs/ingest",
    "TRIGLY_ARCHIVE_BUCKET": "bucket",
    "TRIGLY_EVENT_BUS": "bus",
    "TRIGLY_OUTBOUND_QUEUE_URL": "https://sqs/outbound",
    "TRIGLY_CHANNEL_QUEUE_URLS": '{"sms": "https://sqs/sms"}',
}


def test_required_settings_and_defaults() -> None:
    settings = Settings.from_environment(REQUIRED)
    assert settings.main_table == "main"
    assert settings.channel_queue_urls == {"sms": "https://sqs/sms"}
    assert settings.stage == "dev"
    assert settings.provider_endpoints == {}
    assert settings.outbound_allow_private is False
    assert settings.idempotency_days == 30


def test_names_are_case_insensitive_and_values_typed() -> None:
    environ = {
        **REQUIRED,
        "trigly_stage": "prod",
        "TRIGLY_OUTBOUND_ALLOW_PRIVATE": "True",
        "TRIGLY_IDEMPOTENCY_DAYS": "7",
        "TRIGLY_PROVIDER_ENDPOINTS": '{"telegram": "http://127.0.0.1:8081"}',
    }
    settings = Settings.from_environment(environ)
    assert settings.stage == "prod"
    assert settings.outbound_allow_private is True
    assert settings.idempotency_days == 7
    assert settings.provider_endpoints == {"telegram": "http://127.0.0.1:8081"}
    for word, meaning in (("0", False), ("off", False), ("yes", True), ("1", True)):
        environ["TRIGLY_OUTBOUND_ALLOW_PRIVATE"] = word
        assert Settings.from_environment(environ).outbound_allow_private is meaning


def test_every_problem_is_named_by_its_variable() -> None:
    environ = {
        **REQUIRED,
        "TRIGLY_MAIN_TABLE": "m",
        "TRIGLY_CHANNEL_QUEUE_URLS": "{}",
        "TRIGLY_OUTBOUND_ALLOW_PRIVATE": "maybe",
        "TRIGLY_IDEMPOTENCY_DAYS": "a month",
        "TRIGLY_PROVIDER_ENDPOINTS": '{"telegram": 8081}',
    }
    del environ["TRIGLY_EVENT_BUS"]
    with pytest.raises(SettingsError) as raised:
        Settings.from_environment(environ)
    message = str(raised.value)
    for variable in (
        "TRIGLY_MAIN_TABLE: shorter than 3",
        "TRIGLY_EVENT_BUS: missing",
        "TRIGLY_CHANNEL_QUEUE_URLS: shorter than 1",
        "TRIGLY_OUTBOUND_ALLOW_PRIVATE: not a boolean",
        "TRIGLY_IDEMPOTENCY_DAYS: not an integer",
        "TRIGLY_PROVIDER_ENDPOINTS: not a JSON object of strings",
    ):
        assert variable in message


def test_settings_are_frozen() -> None:
    settings = Settings.from_environment(REQUIRED)
    with pytest.raises(AttributeError):
        settings.stage = "prod"  # type: ignore[misc]
