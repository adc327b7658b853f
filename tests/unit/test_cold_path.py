"""What each worker's cold start leaves for later (ADR 0019): libraries its usual call does not
need are imported by the function that needs them. Each handler is imported in a fresh
interpreter with the store's models (what its first call imports first, as
`benchmarks.cold_start` measures it), so what another test imported does not count."""

import subprocess
import sys
from datetime import timedelta

import pytest

from trigly.messaging import caps, policy

# Handler → modules its import must not load (each is used only off the usual path).
NOT_ON_IMPORT = {
    "webhook": ("pydantic_settings", "vininfo", "ulid", "email_validator", "phonenumbers"),
    "ingest": ("pydantic_settings", "vininfo", "ulid", "email_validator", "phonenumbers"),
    "channels": ("pydantic_settings", "vininfo", "ulid", "trigly.messaging.policy", "jinja2"),
    "journeys": (
        "pydantic_settings",
        "vininfo",
        "email_validator",
        "phonenumbers",
        "jinja2",
        "babel",
        "trigly.journeys.advancing",
        "trigly.lifecycle.milestones",
        "trigly.profiles.model",
        "trigly.profiles.records",
        "trigly.messaging.intent",
    ),
    "scheduler": ("pydantic", "pydantic_settings", "trigly.scheduling.tick"),
}


@pytest.mark.parametrize("handler", sorted(NOT_ON_IMPORT))
def test_a_handler_import_leaves_what_its_usual_call_does_not_need(handler: str) -> None:
    code = (
        f"import sys, functions.{handler}.app, trigly.store.models\n"
        f"print(' '.join(m for m in {NOT_ON_IMPORT[handler]!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == []


def test_the_cap_ledger_keeps_the_longest_window_and_a_day() -> None:
    assert policy.THIRTY_DAYS + timedelta(days=1) == caps.KEPT


def test_every_provider_reads_back_through_its_own_model() -> None:
    from trigly.channels import credentials

    providers = {p for ps in credentials.PROVIDERS.values() for p in ps}
    assert set(credentials._BY_PROVIDER) == providers
    for provider, model in credentials._BY_PROVIDER.items():
        assert model.model_fields["provider"].annotation.__args__ == (provider,)  # type: ignore[union-attr]
