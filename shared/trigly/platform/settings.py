"""Settings from the environment the SAM template sets, validated once per container.

Read by hand rather than with pydantic-settings: every function reads its settings on its first
call, and pydantic-settings (with the pydantic it loads) was 70–90 ms of each function's cold
start (ADR 0019). The rules are pydantic-settings' as the product used them: `TRIGLY_` prefix,
names case-insensitive, JSON for the mappings, pydantic's words for booleans.
"""

import json
import os
from dataclasses import MISSING, dataclass, field, fields
from functools import lru_cache
from typing import Any

PREFIX = "TRIGLY_"
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


class SettingsError(ValueError):
    """The environment misses a setting or holds one that cannot be read (names every problem)."""


@dataclass(frozen=True)
class Settings:
    """Every setting the product reads; names mirror `template.yaml`'s `Globals` variables.

    A field's `min` metadata is its minimum length (a required setting has no default).
    """

    main_table: str = field(metadata={"min": 3})
    idempotency_table: str = field(metadata={"min": 3})
    rejected_events_table: str = field(metadata={"min": 3})
    ingest_queue_url: str = field(metadata={"min": 8})
    archive_bucket: str = field(metadata={"min": 3})
    event_bus: str = field(metadata={"min": 1})
    outbound_queue_url: str = field(metadata={"min": 8})
    # {"sms": "<queue url>", "email": …}: one queue per channel (JSON in the environment).
    channel_queue_urls: dict[str, str] = field(metadata={"min": 1})
    stage: str = "dev"
    # The SES-verified From address; empty: email has no provider (sandbox tenants record it).
    email_sender: str = ""
    # Customer links: their base URL, and the Secrets Manager secret holding the link key ring.
    public_url: str = ""
    link_secret_arn: str = ""
    # The suppression list's own hashing key (never rotated: ADR 0014).
    suppression_key_arn: str = ""
    # Provider base URLs by provider name ({"telegram": "http://127.0.0.1:8081"}): local fakes
    # and benchmarks only; unset on AWS, where every provider uses its public API.
    provider_endpoints: dict[str, str] = field(default_factory=dict)
    # URLs tenants supply (connector outbound URLs) may be http and private or loopback: the
    # local stack only, where receivers run on 127.0.0.1. Never set on AWS (`platform.egress`).
    outbound_allow_private: bool = False
    # Delivery feedback: the queue SES events (through SNS) and sandbox delivery reports go to,
    # and the SES configuration set whose event destination publishes them.
    feedback_queue_url: str = ""
    ses_configuration_set: str = ""

    # Journeys: the queue that starts and advances runs (bus events, date triggers, due steps).
    journey_queue_url: str = ""
    analytics_compaction_queue_url: str = ""  # compaction requests (ADR 0022)

    # How long accepted event ids are remembered (a DMS resending older events is a duplicate).
    idempotency_days: int = 30
    # Rejected events stay listable and replayable this long (the archive bucket matches it).
    rejected_retention_days: int = 30

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> "Settings":
        """The settings in `environ` (default: the process's), or a SettingsError naming each
        missing or unreadable one by its variable."""
        source = os.environ if environ is None else environ
        # Case-insensitive, as pydantic-settings reads them (`trigly_stage` sets `stage`).
        variables = {name.lower(): value for name, value in source.items()}
        values: dict[str, Any] = {}
        problems: list[str] = []
        for setting in fields(cls):
            variable = f"{PREFIX}{setting.name.upper()}"
            raw = variables.get(variable.lower())
            if raw is None:
                if setting.default is MISSING and setting.default_factory is MISSING:
                    problems.append(f"{variable}: missing")
                continue
            try:
                value = _parse(setting.type, raw)
            except ValueError as exc:
                problems.append(f"{variable}: {exc}")
                continue
            minimum = setting.metadata.get("min", 0)
            if isinstance(value, str | dict) and len(value) < minimum:
                problems.append(f"{variable}: shorter than {minimum}")
                continue
            values[setting.name] = value
        if problems:
            raise SettingsError("Settings from the environment: " + "; ".join(problems))
        return cls(**values)


def _parse(kind: Any, raw: str) -> str | bool | int | dict[str, str]:
    if kind is str or kind == "str":
        return raw
    if kind is bool or kind == "bool":
        word = raw.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ValueError("not a boolean (true/false, 1/0, yes/no, on/off)")
    if kind is int or kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ValueError("not an integer") from None
    try:
        document = json.loads(raw)
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(document, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in document.items()
    ):
        raise ValueError("not a JSON object of strings")
    return document


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The validated settings of this container; tests that change the environment clear it."""
    return Settings.from_environment()
