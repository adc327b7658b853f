"""What each worker's cold start leaves for later (ADR 0019): libraries its usual call does not
need are imported by the function that needs them. Each handler is imported in a fresh
interpreter with the store's models (what its first call imports first, as
`benchmarks.cold_start` measures it), so what another test imported does not count."""

import gc
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

import functions
from trigly.messaging import caps, policy
from trigly.platform.startup import init_phase

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


# Handler → the first-party pydantic models its import builds: the others (events, customer
# records, vehicles, messages, journey steps) are built by the first call that reads them
# (`DeferredModel`). The journey worker's playbooks are journeys, validated at import.
BUILT_ON_IMPORT = {
    "webhook": [],
    "ingest": [],
    "journeys": ["trigly.journeys.definition.Journey"],
}

_BUILT = """
import functions.{handler}.app, trigly.store.models
from pydantic import BaseModel

def every(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from every(sub)

print(' '.join(sorted({{
    f"{{m.__module__}}.{{m.__qualname__}}" for m in every(BaseModel)
    if m.__module__.startswith("trigly.") and m.__pydantic_complete__
}})))
"""


@pytest.mark.parametrize("handler", sorted(BUILT_ON_IMPORT))
def test_a_handler_import_builds_no_model_its_call_does_not_read(handler: str) -> None:
    code = _BUILT.format(handler=handler)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == BUILT_ON_IMPORT[handler]


def test_a_deferred_model_is_built_by_its_first_validation() -> None:
    code = (
        "from trigly.ingest.messages import QueuedEvent\n"
        "before = QueuedEvent.__pydantic_complete__\n"
        "QueuedEvent.model_validate({'event_id': 'e-1', 'stamp': 's', 'event': {}})\n"
        "print(before, QueuedEvent.__pydantic_complete__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]


def test_the_cap_ledger_keeps_the_longest_window_and_a_day() -> None:
    assert policy.THIRTY_DAYS + timedelta(days=1) == caps.KEPT


def test_every_provider_reads_back_through_its_own_model() -> None:
    from trigly.channels import credentials

    providers = {p for ps in credentials.PROVIDERS.values() for p in ps}
    assert set(credentials._BY_PROVIDER) == providers
    for provider, model in credentials._BY_PROVIDER.items():
        assert model.model_fields["provider"].annotation.__args__ == (provider,)  # type: ignore[union-attr]


HANDLERS = sorted(p.parent.name for p in Path(functions.__file__).parent.glob("*/app.py"))


@pytest.mark.parametrize("handler", HANDLERS)
def test_a_handler_imports_with_the_collector_paused_and_resumes_it(handler: str) -> None:
    code = (
        "import gc, sys\n"
        f"import functions.{handler}.app\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 10_000)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True"]


def test_the_init_phase_resumes_the_collector_when_the_import_fails() -> None:
    assert gc.isenabled()
    with pytest.raises(ImportError), init_phase():
        assert not gc.isenabled()
        import trigly.no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert gc.isenabled()
