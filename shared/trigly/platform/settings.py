"""Settings from the environment the SAM template sets, validated once per container."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting the product reads; names mirror `template.yaml`'s `Globals` variables."""

    model_config = SettingsConfigDict(env_prefix="TRIGLY_", frozen=True)

    stage: str = "dev"
    main_table: str = Field(min_length=3)
    idempotency_table: str = Field(min_length=3)
    rejected_events_table: str = Field(min_length=3)
    ingest_queue_url: str = Field(min_length=8)
    archive_bucket: str = Field(min_length=3)
    event_bus: str = Field(min_length=1)
    outbound_queue_url: str = Field(min_length=8)
    # {"sms": "<queue url>", "email": …}: one queue per channel (JSON in the environment).
    channel_queue_urls: dict[str, str] = Field(min_length=1)
    # The SES-verified From address; empty: email has no provider (sandbox tenants record it).
    email_sender: str = ""
    # Customer links: their base URL, and the Secrets Manager secret holding the link key ring.
    public_url: str = ""
    link_secret_arn: str = ""
    # The suppression list's own hashing key (never rotated: ADR 0014).
    suppression_key_arn: str = ""
    # Provider base URLs by provider name ({"telegram": "http://127.0.0.1:8081"}): local fakes
    # and benchmarks only; unset on AWS, where every provider uses its public API.
    provider_endpoints: dict[str, str] = Field(default_factory=dict)
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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The validated settings of this container; tests that change the environment clear it."""
    return Settings()
